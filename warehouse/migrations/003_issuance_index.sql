-- The issuance index: the successful credential issuances of the lake's events files (the rows
-- issuances.sql selects), so that audit commands read about 8 % of the events instead of scanning
-- them all. Lake files are immutable, so a file is indexed once, when the writer that registered it
-- finishes; readers read the files not indexed yet (a crashed run's) from the lake, and rows of
-- files no longer registered (compacted away) are ignored by readers and deleted by the next writer.
CREATE TABLE issuance_index_files (path VARCHAR PRIMARY KEY);
CREATE TABLE issuance_index (
    path VARCHAR NOT NULL, -- the lake file, as in lake_files
    event_id VARCHAR NOT NULL,
    event_time TIMESTAMPTZ NOT NULL,
    event_name VARCHAR,
    aws_region VARCHAR,
    recipient_account_id VARCHAR,
    source_ip_address VARCHAR,
    user_agent VARCHAR,
    identity_type VARCHAR,
    identity_arn VARCHAR,
    identity_user_name VARCHAR,
    role_arn VARCHAR,
    role_session_name VARCHAR,
    issued_access_key_id VARCHAR,
    source_identity VARCHAR,
    source_identity_kind VARCHAR,
    source_identity_id VARCHAR,
    source_identity_user VARCHAR
);
