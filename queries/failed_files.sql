-- failed_files: the trail files, digest files and LookupEvents syncs that could not all be read, as
-- the ledger last recorded them, when they can hold events of the window: their delivery folder
-- (AWSLogs/.../CloudTrail[-Digest]/REGION/YYYY/MM/DD/) is between $first_day and $last_day (the window's
-- days, widened by a day each way: 'YYYY/MM/DD'), or they have none.
WITH failed AS (
    SELECT source, coalesce(error, '') AS error,
           regexp_extract(source, '/CloudTrail(-Digest)?/[^/]+/(\d{4}/\d{2}/\d{2})/[^/]+$', 2) AS delivered
    FROM ingest_files
    WHERE status = 'failed' AND kind IN ('trail', 'api', 'digest')
)
SELECT source, error
FROM failed
WHERE delivered = '' OR delivered BETWEEN $first_day AND $last_day
ORDER BY source;
