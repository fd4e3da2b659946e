-- Views every reader gets. {{events}} and {{session_snapshots}} become read_parquet() over the
-- committed lake files (or an empty schema file while the lake is empty).

CREATE VIEW ingest_runs AS SELECT * FROM catalog.ingest_runs;
CREATE VIEW ingest_files AS SELECT * FROM catalog.ingest_files;
CREATE VIEW lake_files AS SELECT * FROM catalog.lake_files;
CREATE VIEW snapshots AS SELECT * FROM catalog.snapshots;
CREATE VIEW watermarks AS SELECT * FROM catalog.watermarks;

-- Every stored record, duplicates and superseded originals included.
CREATE VIEW events_all AS SELECT * FROM {{events}};

-- requestParameters and responseElements come from raw (lakes written before 0.2 also stored
-- them as columns; those are ignored).
-- One row per eventID: a duplicate delivery is stored once; a record corrected by a later one
-- (addendum.originalEventID) is replaced by the correction; among copies, the newest ingest wins.
CREATE VIEW events AS
WITH superseded AS (
    SELECT DISTINCT addendum_original_event_id AS event_id
    FROM events_all
    WHERE addendum_original_event_id IS NOT NULL AND addendum_original_event_id <> event_id
),
latest AS (
    SELECT *
    FROM events_all
    QUALIFY row_number() OVER (
        PARTITION BY event_id
        ORDER BY (addendum_original_event_id IS NOT NULL) DESC, ingest_run DESC, source_file DESC) = 1
)
SELECT COLUMNS(c -> c NOT IN ('raw', 'request_parameters', 'response_elements')),
       nullif(json_extract(l.raw, '$.requestParameters'), 'null') AS request_parameters,
       nullif(json_extract(l.raw, '$.responseElements'), 'null') AS response_elements,
       l.raw::JSON AS raw
FROM latest l
ANTI JOIN superseded s USING (event_id);

-- Every item of every snapshot ever ingested.
CREATE VIEW session_snapshots AS
SELECT * EXCLUDE (raw), raw::JSON AS raw FROM {{session_snapshots}};

-- The latest known state of every session id ever seen, with when it was first and last seen.
CREATE VIEW sessions AS
SELECT s.* EXCLUDE (snapshot_date, ingest_run), h.first_seen, h.last_seen, h.snapshot_count
FROM session_snapshots s
JOIN (SELECT id, min(taken_at) AS first_seen, max(taken_at) AS last_seen,
             count(DISTINCT snapshot_id) AS snapshot_count
      FROM session_snapshots GROUP BY id) h USING (id)
QUALIFY row_number() OVER (PARTITION BY s.id ORDER BY s.taken_at DESC, s.snapshot_id DESC) = 1;
