-- unfinished_runs: the ingest runs that did not finish (interrupted, failed, or killed while
-- running: the next writer marks those interrupted) over the audit window ($since, $until), whose
-- unread part no later run has read: no later run of the same sources finished (ok, or partial:
-- its failed files are reasons of their own) over their window's part in the audit window. What an
-- unfinished run had yet to read shows in no evidence span: trail files read out of key order leave
-- holes inside a region's span, and a region not reached yet shows nothing. NULL window ends are open.
WITH runs AS (
    SELECT run, started_at, status, command, coalesce(sources, command) AS sources,
           coalesce(window_start, '-infinity'::TIMESTAMPTZ) AS wstart,
           coalesce(window_end, 'infinity'::TIMESTAMPTZ) AS wend
    FROM ingest_runs
)
SELECT u.run, u.started_at, u.status, u.command, u.sources, nullif(u.wstart, '-infinity'::TIMESTAMPTZ), nullif(u.wend, 'infinity'::TIMESTAMPTZ)
FROM runs u
WHERE u.status IN ('interrupted', 'failed', 'running')
  AND u.sources <> ''
  AND u.wstart < $until AND u.wend > $since
  AND NOT EXISTS (
      SELECT 1 FROM runs d
      WHERE d.run > u.run AND d.status IN ('ok', 'partial') AND d.sources = u.sources
        AND d.wstart <= greatest(u.wstart, $since) AND d.wend >= least(u.wend, $until))
ORDER BY u.run;
