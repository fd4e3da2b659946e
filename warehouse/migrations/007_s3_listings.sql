-- How far ingest has listed each S3 region prefix of a trail (s3://BUCKET/.../CloudTrail/REGION/,
-- and CloudTrail-Digest/): every key from listed_from (a StartAfter key) up to last_key was listed
-- and everything listed was committed, so the next run lists from a day before last_key
-- (late deliveries arrive under later keys) instead of from the window's start.
CREATE TABLE s3_listings (
    prefix      VARCHAR PRIMARY KEY,
    listed_from VARCHAR NOT NULL,
    last_key    VARCHAR NOT NULL,
    updated_run BIGINT NOT NULL
);
