-- digests_in_window: the CloudTrail digest files whose hour ends in the window or in the two hours
-- after it (those list the log files delivered at its end), as ingest found them, oldest first.
SELECT source, bucket, object_key, account, region, trail, home_region, end_time,
       coalesce(sha256, ''), coalesce(body, ''), coalesce(problem, ''),
       coalesce(signature, ''), coalesce(signature_algorithm, ''), signature_status
FROM digests
WHERE end_time > $since AND end_time <= $until + INTERVAL 2 HOUR
ORDER BY account, region, trail, end_time, source;
