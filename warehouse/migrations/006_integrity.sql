-- CloudTrail log file integrity (log file validation). digests: one row per digest file ingest
-- read, where it was found as CloudTrail's object (bucket, object_key: for a local copy, the
-- bucket and key prefix its own content names), its stream (account, region, trail, home
-- region), its inflated JSON (body; audits parse it) and the SHA-256 of it, why it could not be
-- read (problem), and its S3 signature metadata with what checking it gave:
--   signature_status  valid | bad | unknown_key (no listed key has its fingerprint and time) |
--                     not_checked (no metadata: a local copy; or no public keys at hand)
CREATE TABLE digests (
    source              VARCHAR PRIMARY KEY,
    bucket              VARCHAR NOT NULL,
    object_key          VARCHAR NOT NULL,
    account             VARCHAR NOT NULL,
    region              VARCHAR NOT NULL,
    trail               VARCHAR NOT NULL,
    home_region         VARCHAR NOT NULL,
    start_time          TIMESTAMPTZ,
    end_time            TIMESTAMPTZ NOT NULL,
    sha256              VARCHAR,
    body                VARCHAR,
    problem             VARCHAR,
    signature           VARCHAR,
    signature_algorithm VARCHAR,
    signature_status    VARCHAR NOT NULL,
    run                 BIGINT NOT NULL
);
-- CloudTrail's public keys (ListPublicKeys), kept so that audits check signatures offline.
CREATE TABLE public_keys (
    fingerprint VARCHAR PRIMARY KEY,
    value       BLOB NOT NULL,
    valid_from  TIMESTAMPTZ,
    valid_until TIMESTAMPTZ,
    region      VARCHAR NOT NULL,
    fetched_at  TIMESTAMPTZ NOT NULL
);
-- The SHA-256 of a trail log file's inflated bytes, computed as ingest reads it, which its digest
-- must list; gzip_members > 1 flags bytes after the first gzip member (CloudTrail writes one).
ALTER TABLE ingest_files ADD COLUMN content_sha256 VARCHAR;
ALTER TABLE ingest_files ADD COLUMN gzip_members INTEGER;
