-- The successful credential issuances among the events of {{files}} (a read_parquet with
-- filename = true): the calls that mint role credentials (is_issuance_call: IssuanceEventNames)
-- without an errorCode, with the columns of IssuanceRow (the issuances dataset). Finish writes the issuances
-- files of events files written without one (compaction) with it; readers read the issuances of
-- events files that have none with it.
SELECT filename, event_id, event_time, event_name, aws_region, recipient_account_id, source_ip_address,
       user_agent, identity_type, identity_arn, identity_user_name, role_arn, role_session_name,
       issued_access_key_id, source_identity, source_identity_kind, source_identity_id, source_identity_user
FROM {{files}}
WHERE is_issuance_call(event_source, event_name)
  AND error_code IS NULL
