-- The catalog: what the lake holds and how it got there. Views over the lake are created by each
-- reader (views.sql) so the warehouse directory can be moved or copied freely.

CREATE TABLE ingest_runs (
    run            BIGINT PRIMARY KEY,   -- increasing run number; lake rows carry it as ingest_run
    started_at     TIMESTAMPTZ NOT NULL,
    finished_at    TIMESTAMPTZ,
    command        VARCHAR NOT NULL,     -- the sources and window of the run, as the user gave them
    status         VARCHAR NOT NULL,     -- running | ok | partial (some files failed) | failed
    files_read     BIGINT NOT NULL DEFAULT 0,
    files_skipped  BIGINT NOT NULL DEFAULT 0,
    files_failed   BIGINT NOT NULL DEFAULT 0,
    events_stored  BIGINT NOT NULL DEFAULT 0,
    events_duplicate BIGINT NOT NULL DEFAULT 0,
    events_out_of_window BIGINT NOT NULL DEFAULT 0,
    snapshot_items BIGINT NOT NULL DEFAULT 0
);

-- The ledger: one row per source object ever seen (a file, an S3 object, a table scan).
CREATE TABLE ingest_files (
    source         VARCHAR PRIMARY KEY,  -- file:///abs/path, s3://bucket/key, dynamodb://table
    kind           VARCHAR NOT NULL,     -- trail | snapshot | digest | insight
    size           BIGINT,
    mtime          TIMESTAMPTZ,
    etag           VARCHAR,
    status         VARCHAR NOT NULL,     -- ok | failed | skipped
    error          VARCHAR,              -- why it failed or was skipped
    events         BIGINT NOT NULL DEFAULT 0, -- records read from the object in its last read
    stored         BIGINT NOT NULL DEFAULT 0,
    duplicates     BIGINT NOT NULL DEFAULT 0,
    out_of_window  BIGINT NOT NULL DEFAULT 0,
    window_start   TIMESTAMPTZ,          -- the event-time window the object was read with (NULL = open)
    window_end     TIMESTAMPTZ,
    first_run      BIGINT NOT NULL,
    last_run       BIGINT NOT NULL,
    ingested_at    TIMESTAMPTZ NOT NULL
);

-- Every immutable Parquet file of the lake. Readers see exactly these files, so a file being
-- written (or left behind by a crash) is never visible.
CREATE TABLE lake_files (
    path           VARCHAR PRIMARY KEY,  -- relative to the warehouse directory
    dataset        VARCHAR NOT NULL,     -- events | session_snapshots
    partition_date DATE NOT NULL,
    rows           BIGINT NOT NULL,
    bytes          BIGINT NOT NULL,
    run            BIGINT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);

-- One row per snapshot of the session table (a sessions file or a table scan).
CREATE TABLE snapshots (
    snapshot_id    VARCHAR PRIMARY KEY,
    source         VARCHAR NOT NULL,
    taken_at       TIMESTAMPTZ NOT NULL,
    items          BIGINT NOT NULL,
    run            BIGINT NOT NULL
);

-- API sync positions: the newest event time fetched per source/account/region.
CREATE TABLE watermarks (
    source         VARCHAR NOT NULL,
    account        VARCHAR NOT NULL,
    region         VARCHAR NOT NULL,
    watermark      TIMESTAMPTZ NOT NULL,
    updated_run    BIGINT NOT NULL,
    PRIMARY KEY (source, account, region)
);
