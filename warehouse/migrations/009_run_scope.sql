-- What each ingest run set out to read, apart from how the user typed it: its sources (the command
-- without its window; '' for runs that read nothing, such as compaction) and its event-time window
-- (NULL ends are open). A run that did not finish (interrupted, failed, killed) leaves part of its
-- sources unread, which no evidence span shows; a later run of the same sources that finishes over
-- the same time is what reads the rest (queries/unfinished_runs.sql).
ALTER TABLE ingest_runs ADD COLUMN sources VARCHAR;
ALTER TABLE ingest_runs ADD COLUMN window_start TIMESTAMPTZ;
ALTER TABLE ingest_runs ADD COLUMN window_end TIMESTAMPTZ;
-- Runs recorded before this migration: their command is "[audit ... sync: ]SOURCES window A to B"
-- (A and B RFC 3339 times, or "the beginning" and "the end": open).
UPDATE ingest_runs SET
    sources = CASE WHEN command = 'compact' THEN '' ELSE regexp_replace(regexp_replace(command, '^audit [a-z-]+ sync: ', ''), ' ?window (the beginning|\S+) to (the end|\S+)$', '') END,
    window_start = try_cast(regexp_extract(command, 'window (\S+) to ', 1) AS TIMESTAMPTZ),
    window_end = try_cast(regexp_extract(command, ' to (\S+)$', 1) AS TIMESTAMPTZ);
