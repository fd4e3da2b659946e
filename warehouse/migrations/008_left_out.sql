-- The trail folders the last listing of an S3 trail found but left out (--regions), per account
-- and region: their events are not in the warehouse, which the audits of those accounts say
-- (INCONCLUSIVE) until a listing reads the folder (and deletes its row here).
CREATE TABLE left_out (
    source     VARCHAR NOT NULL,
    account    VARCHAR NOT NULL,
    region     VARCHAR NOT NULL,
    last_run   BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, account, region)
);
