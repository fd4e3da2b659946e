-- activity: every call made with credentials an issuance minted, linked to that issuance.
--   link = 'access_key'      userIdentity.accessKeyId is the issuance's new access key
--   link = 'source_identity' a role-chained session whose own issuance is not in the warehouse,
--                            tied by the Sentinel SourceIdentity it carries (it propagates through
--                            role chaining) to the earliest issuance with that identity
-- Issuance records themselves are not activity (a chained AssumeRole made with minted credentials
-- is both an issuance of its own and activity of the session that made it: it is kept here).
CREATE OR REPLACE VIEW activity AS
-- NOT MATERIALIZED: a CTE read twice is otherwise computed once with every column, and every
-- column of events includes those decoded from the raw record (1M events: 25-45 s instead of 3 s).
WITH minted AS NOT MATERIALIZED (
    SELECT event_id AS issuance_event_id, issued_access_key_id, source_identity_kind, source_identity_id, event_time AS issued_at
    FROM issuances_base
    WHERE issued_access_key_id IS NOT NULL
),
calls AS NOT MATERIALIZED (
    SELECT * FROM events
    WHERE access_key_id IS NOT NULL
      AND NOT (is_issuance_call(event_source, event_name)
               AND access_key_id NOT IN (SELECT issued_access_key_id FROM minted))
),
by_key AS (
    SELECT c.*, m.issuance_event_id, 'access_key' AS link
    FROM calls c JOIN minted m ON c.access_key_id = m.issued_access_key_id
),
by_identity AS (
    SELECT c.*, m.issuance_event_id, 'source_identity' AS link
    FROM calls c JOIN minted m
      ON c.source_identity_kind = m.source_identity_kind AND c.source_identity_id = m.source_identity_id
    WHERE c.access_key_id NOT IN (SELECT issued_access_key_id FROM minted)
    QUALIFY row_number() OVER (PARTITION BY c.event_id ORDER BY m.issued_at, m.issuance_event_id) = 1
)
SELECT * FROM by_key
UNION ALL BY NAME
SELECT * FROM by_identity;
