-- evidence: what the warehouse holds for each account and region, by kind of source, with when it
-- last grew:
--   trail  a trail's log files: from the oldest to the newest event read (the coverage table)
--   file   other event files handed over: the same
--   api    LookupEvents syncs: the range synced, from its start to its end (the watermarks)
SELECT kind, account, region, oldest_event AS evidence_from, newest_event AS evidence_until, updated_at AS last_ingest
FROM coverage
UNION ALL
SELECT 'api', w.account, w.region, coalesce(w.covered_from, w.watermark), w.watermark, coalesce(r.finished_at, r.started_at)
FROM watermarks w
LEFT JOIN ingest_runs r ON r.run = w.updated_run
ORDER BY account, region, kind;
