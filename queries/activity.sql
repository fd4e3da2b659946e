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
-- The earliest issuance of each source identity, chosen once per identity rather than once per
-- call (a window over every call joined with every issuance of its identity was most of the cost).
first_minted AS (
    SELECT source_identity_kind, source_identity_id,
           arg_min(issuance_event_id, (issued_at, issuance_event_id)) AS issuance_event_id
    FROM minted
    WHERE source_identity_id IS NOT NULL
    GROUP BY ALL
),
-- One pass over the events: a call made with a minted key is that issuance's activity, issuance
-- calls included; any other call is tied by its source identity, unless it is itself an issuance
-- (its own issuance record, not activity of the session whose identity it carries).
linked AS (
    SELECT c.*,
           k.issuance_event_id AS by_key,
           CASE WHEN NOT is_issuance_call(c.event_source, c.event_name) THEN i.issuance_event_id END AS by_identity
    FROM events c
    LEFT JOIN minted k ON c.access_key_id = k.issued_access_key_id
    LEFT JOIN first_minted i
      ON c.source_identity_kind = i.source_identity_kind AND c.source_identity_id = i.source_identity_id
    WHERE c.access_key_id IS NOT NULL
)
SELECT * EXCLUDE (by_key, by_identity),
       coalesce(by_key, by_identity) AS issuance_event_id,
       CASE WHEN by_key IS NOT NULL THEN 'access_key' ELSE 'source_identity' END AS link
FROM linked
WHERE by_key IS NOT NULL OR by_identity IS NOT NULL;
