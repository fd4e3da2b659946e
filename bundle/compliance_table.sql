-- export_compliance: the session_compliance query's rows, in its order, staged for COPY.
CREATE OR REPLACE TABLE export_compliance (
    profile VARCHAR,
    policy_required BOOLEAN,
    tracked_count BIGINT,
    untracked_count BIGINT,
    orphaned_count BIGINT,
    unverified_count BIGINT,
    issuance_count BIGINT,
    flagged_count BIGINT,
    compliance_rate DOUBLE,
    has_gap BOOLEAN
)
