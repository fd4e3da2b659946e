-- Views every reader gets. {{events}} and {{session_snapshots}} become read_parquet() over the
-- committed lake files (or an empty schema file while the lake is empty); the rows of the
-- issuance_events view are the reader's query, described there.

CREATE VIEW ingest_runs AS SELECT * FROM catalog.ingest_runs;
CREATE VIEW ingest_files AS SELECT * FROM catalog.ingest_files;
CREATE VIEW lake_files AS SELECT * FROM catalog.lake_files;
CREATE VIEW snapshots AS SELECT * FROM catalog.snapshots;
CREATE VIEW watermarks AS SELECT * FROM catalog.watermarks;
-- The tables of later migrations read as empty in a catalog written before them (Reader.Outdated):
-- what the event files ingested speak for (005); CloudTrail digest files and public keys (006); the
-- regions of S3 trails that ingest --regions left out (008).
CREATE VIEW coverage AS SELECT * FROM {{coverage}};
CREATE VIEW digests AS SELECT * FROM {{digests}};
CREATE VIEW public_keys AS SELECT * FROM {{public_keys}};
CREATE VIEW left_out AS SELECT * FROM {{left_out}};

-- Every stored record, duplicates and superseded originals included. raw is the whole record:
-- the lake stores it without its eventID's value ({{raw}} puts it back, see warehouse.EventRow),
-- and the columns that are members of the record (warehouse.RawMembers: requestParameters,
-- requestID, ...) are taken from it. Lakes written by earlier versions also have some of those
-- as stored columns, which are ignored. The JSON conversions are projections: a query that does
-- not select those columns does not pay them.
CREATE VIEW events_all AS
SELECT COLUMNS(c -> c NOT IN ('raw', 'raw_event_id_at', {{raw_member_names}})),
       {{raw_members}},
       e.raw
FROM (SELECT * REPLACE ({{raw}} AS raw) FROM {{events}}) e;

-- The event ids that a later record corrects (its addendum.originalEventID).
CREATE VIEW superseded_events AS
SELECT DISTINCT addendum_original_event_id AS event_id
FROM events_all
WHERE addendum_original_event_id IS NOT NULL AND addendum_original_event_id <> event_id;

-- One row per eventID, with a record corrected by a later one (addendum.originalEventID) replaced
-- by the correction.
--
-- Invariant: the lake holds at most one row per event_id. Ingest drops every duplicate delivery
-- before it is written (ingest/seen.go: the event ids stored in the row's event-date partition and
-- those written earlier in the run), the writer lock keeps it the only writer, and `warehouse
-- compact` keeps one row per event_id. So this view does not de-duplicate: a window over every
-- event would cost more than all the audit queries together, and filters on the issuance columns
-- could not be pushed below it into the Parquet scan. Tests that ingest the fixtures (74 events,
-- 14 duplicate deliveries) fail if a duplicate reaches the lake.
CREATE VIEW events AS
SELECT * REPLACE (e.raw::JSON AS raw)
FROM events_all e
ANTI JOIN superseded_events s USING (event_id);

-- The successful credential issuances among events (warehouse/issuance_index.sql: AssumeRole*
-- without errorCode, with the columns issuances_base reads). The reader reads them from the
-- issuances files (the issuance index) of the events files that have one and from the events for
-- the others, so an audit command does not scan every event (at 10M events the scan would be most
-- of its time).
CREATE VIEW issuance_events AS
SELECT i.*
FROM ({{issuances}}) i
ANTI JOIN superseded_events s USING (event_id);

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
