-- digests_in_window: the CloudTrail digest files that bear on the window, as ingest found them,
-- oldest first. Per stream (account, region, trail, home region; backfill digests apart):
--   the digests whose hour ends in the window or up to the listing horizon after it
--   ($horizon_end: they list the log files delivered at its end);
--   the first digest after those: its link proves the last of them, or shows them deleted;
--   the last digest ending at or before the window's start (context 'before', without its body):
--   it shows the trail delivered digests for the stream before the window.
WITH d AS (
    SELECT *, ends_with(object_key, '_backfill.json.gz') AS backfill FROM digests
), bounds AS (
    SELECT account, region, trail, home_region, backfill,
           max(end_time) FILTER (WHERE end_time <= $since) AS last_before,
           min(end_time) FILTER (WHERE end_time > $horizon_end) AS first_after
    FROM d
    GROUP BY ALL
)
SELECT source, bucket, object_key, account, region, trail, home_region, end_time,
       CASE WHEN end_time <= $since THEN 'before' ELSE '' END,
       coalesce(sha256, ''), CASE WHEN end_time <= $since THEN '' ELSE coalesce(body, '') END, coalesce(problem, ''),
       coalesce(signature, ''), coalesce(signature_algorithm, ''), signature_status
FROM d JOIN bounds USING (account, region, trail, home_region, backfill)
WHERE end_time = last_before
   OR end_time > $since AND end_time <= coalesce(first_after, $horizon_end)
ORDER BY account, region, trail, end_time, source;
