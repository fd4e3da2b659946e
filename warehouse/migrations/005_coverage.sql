-- What the ingested event files speak for, per kind of source, account and region: the audits'
-- Evidence (from the oldest to the newest event read). kind: trail (files in a trail's
-- AWSLogs/.../CloudTrail/ layout) | file (other event files: saved LookupEvents output, CloudWatch
-- Logs exports, JSON lines...). API syncs speak through their watermarks instead.
CREATE TABLE coverage (
    kind         VARCHAR NOT NULL,
    account      VARCHAR NOT NULL,
    region       VARCHAR NOT NULL,
    oldest_event TIMESTAMPTZ NOT NULL,
    newest_event TIMESTAMPTZ NOT NULL,
    last_run     BIGINT NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (kind, account, region)
);
-- A catalog that already has events gets its coverage from them once, when a writer next opens
-- it (Writer.backfillCoverage).
CREATE TABLE coverage_backfill AS
SELECT count(*) > 0 AS needed FROM lake_files WHERE dataset = 'events';
