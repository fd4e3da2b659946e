-- account_org: the organization whose trail folder (AWSLogs/o-ID/ACCOUNT/CloudTrail/) holds a log
-- file of $account; no row, or '', when its log files are in an account trail's folder.
SELECT regexp_extract(source, '/AWSLogs/(o-[a-z0-9]{10,32})/\d{12}/CloudTrail/', 1)
FROM ingest_files
WHERE kind = 'trail' AND contains(source, '/' || $account || '/CloudTrail/')
LIMIT 1;
