-- issuances_per_bucket: per profile and time bucket of the window, the issuances by class, for
-- the charts of the HTML report (compliance rate per day, or per hour for short windows).
--   bucket      = the bucket's number: floor((event_time - $origin) / $width), in microseconds;
--                 the report passes the window's start as $origin
--   the classes are counted as session_compliance.sql counts them, so a profile's buckets add up
--   to its line of that report; rate of a bucket = compliant (tracked and not flagged) / issuances
SELECT
    profile,
    ((epoch_us(event_time) - $origin_us) // $width_us)::BIGINT AS bucket,
    count(*) FILTER (WHERE class = 'tracked') AS tracked_count,
    count(*) FILTER (WHERE class IN ('untracked_sentinel', 'non_sentinel_format', 'no_source_identity')) AS untracked_count,
    count(*) FILTER (WHERE class = 'orphaned') AS orphaned_count,
    count(*) FILTER (WHERE class = 'unverified') AS unverified_count,
    count(*) AS issuance_count,
    count(*) FILTER (WHERE class = 'tracked' AND len(flags) = 0) AS compliant_count
FROM issuances
WHERE event_time >= $since AND event_time < $until
  AND ($profile = '' OR profile = $profile)
GROUP BY ALL
ORDER BY profile, bucket;
