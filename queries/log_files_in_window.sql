-- log_files_in_window: the trail log files the ledger holds whose delivery day
-- (AWSLogs/.../CloudTrail/REGION/YYYY/MM/DD/) is between $first_day and $last_day ('YYYY/MM/DD'),
-- with the SHA-256 of their inflated bytes ('' when they could not be read) and their gzip
-- member count.
SELECT source, coalesce(content_sha256, ''), coalesce(gzip_members, 0)
FROM ingest_files
WHERE kind = 'trail'
  AND regexp_extract(source, '/CloudTrail/[^/]+/(\d{4}/\d{2}/\d{2})/[^/]+$', 1) BETWEEN $first_day AND $last_day
ORDER BY source;
