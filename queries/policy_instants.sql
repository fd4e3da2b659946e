-- policy_instants: the times of issuances in the window whose minute has no single time class
-- (it is not in policy_minutes), for their own time classes.
SELECT DISTINCT epoch_us(event_time) AS at_us
FROM issuances_base
WHERE event_time >= $since AND event_time < $until
  AND policy_minute(event_time) NOT IN (SELECT minute_us FROM policy_minutes);
