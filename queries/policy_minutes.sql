-- policy_minutes: the whole UTC minutes that issuances in the window fall in, for their time classes.
SELECT DISTINCT policy_minute(event_time) AS minute_us
FROM issuances_base
WHERE event_time >= $since AND event_time < $until;
