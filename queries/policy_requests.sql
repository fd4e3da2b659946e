-- policy_requests: the distinct requests the policy is asked to decide for the issuances in the
-- window: profile, user and mode as the policy sees them (unknown = ''), the time class, and the
-- earliest issuance time of each (any of its times gets the same decision).
SELECT b.profile,
       coalesce(b."user", '') AS "user",
       coalesce(b.mode, '') AS mode,
       coalesce(i.time_class, m.time_class, '') AS time_class,
       min(b.event_time) AS at
FROM issuances_base b
LEFT JOIN policy_minutes m ON m.minute_us = policy_minute(b.event_time)
LEFT JOIN policy_instants i ON i.at_us = epoch_us(b.event_time)
WHERE b.event_time >= $since AND b.event_time < $until
GROUP BY ALL;
