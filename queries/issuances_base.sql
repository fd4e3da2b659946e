-- issuances_base: every successful credential issuance (a call is_issuance_call names,
-- without errorCode), classified by its SourceIdentity against the
-- session history, with the profile and user it is attributed to.
--
-- One issuance per minted access key: the same call logged in two accounts (cross-account calls
-- in an organization trail) counts once, preferring the copy logged in the role's account.
--
-- class:
--   tracked             SourceIdentity kind "s" and a session record with that id exists in ANY snapshot
--   orphaned            kind "s", no snapshot ever held that session id, and a snapshot was taken while
--                       its record must have existed: from the issuance to an hour after it (a record
--                       is created before its first issuance and DynamoDB's TTL deletes it no earlier
--                       than its ttl, an hour after the credentials of the session expire; those
--                       credentials, or the ones a role-chained issuance was made with, were valid at
--                       the issuance)
--   unverified          kind "s", no snapshot ever held that session id, and none was taken in that hour:
--                       whether the record existed cannot be known
-- orphan_snapshot_at is the snapshot that proves an orphaned issuance: the first taken in that hour.
--   untracked_sentinel  kind "r": Sentinel issued it outside a tracked server session
--   non_sentinel_format SourceIdentity present but not Sentinel's grammar
--   no_source_identity  no SourceIdentity at all
-- profile: the session record's profile when tracked; else the profile whose role_arn is the
-- issued role (profile_roles, from the AWS and Sentinel config files); else the role name. A
-- session record whose profile names roles (profile_names) but not the issued one is another
-- profile's session: the issuance goes to the issued role's profile, flagged.
-- flags (on top of the class; each says the issuance did not go through the server session it
-- names, whose server issues only for its own profile's role, within its lifetime, and never
-- after its revocation):
--   issued_after_revocation     the session's latest state is revoked, at or before the issuance
--   outside_session_window      more than 5 minutes outside started_at..expires_at
--   session_of_another_profile  the session's profile does not name the issued role
-- (Audit commands create it as a TABLE — computed once for all their queries; `sentinel sql` as a view.)
CREATE OR REPLACE VIEW issuances_base AS
-- issuance_events (warehouse/views.sql) are the successful AssumeRole* events. Materialized: the
-- copies below read them again.
WITH issuances AS MATERIALIZED (
    SELECT * FROM issuance_events
),
-- The copies of a minted key other than the one kept (the copy logged in the role's account, then
-- the earliest, then the least event_id; event_id is unique: see the events view). Few keys have
-- copies, so only they are ranked: a window over every issuance with all its columns would cost
-- more than the rest of this view.
shared_keys AS (
    SELECT coalesce(issued_access_key_id, event_id) AS k
    FROM issuances
    GROUP BY k
    HAVING count(*) > 1
),
-- The first snapshot taken at or after each issuance that names a server session, for those whose
-- session no snapshot holds: taken within the hour, it proves the issuance orphaned. An ASOF join
-- of the ids and times alone (one with every column of the issuances sorted them all: most of
-- this view's time).
next_snapshot AS (
    SELECT i.event_id, sn.taken_at
    FROM (SELECT event_id, event_time FROM issuances WHERE source_identity_kind = 's') i
    ASOF JOIN snapshots sn ON i.event_time <= sn.taken_at
),
dropped AS (
    SELECT c.event_id
    FROM issuances c
    JOIN shared_keys sk ON sk.k = coalesce(c.issued_access_key_id, c.event_id)
    QUALIFY row_number() OVER (
        PARTITION BY sk.k
        ORDER BY (c.recipient_account_id IS NOT DISTINCT FROM split_part(c.role_arn, ':', 5)) DESC, c.event_time, c.event_id) > 1
)
SELECT
    e.event_id,
    e.event_time,
    e.event_name,
    e.aws_region,
    e.recipient_account_id,
    nullif(split_part(e.role_arn, ':', 5), '') AS account_id,
    e.role_arn,
    regexp_extract(e.role_arn, '[^/]+$') AS role_name,
    e.role_session_name,
    e.issued_access_key_id,
    e.identity_type AS caller_type,
    e.identity_arn AS caller_arn,
    e.source_ip_address,
    e.user_agent,
    e.source_identity,
    e.source_identity_kind,
    e.source_identity_id,
    CASE
        WHEN e.source_identity_kind = 's' AND s.id IS NOT NULL THEN 'tracked'
        WHEN e.source_identity_kind = 's' AND sn.taken_at <= e.event_time + INTERVAL 1 HOUR THEN 'orphaned'
        WHEN e.source_identity_kind = 's' THEN 'unverified'
        WHEN e.source_identity_kind = 'r' THEN 'untracked_sentinel'
        WHEN e.source_identity IS NOT NULL THEN 'non_sentinel_format'
        ELSE 'no_source_identity'
    END AS class,
    CASE
        WHEN s.id IS NOT NULL AND sp.profile IS NOT NULL AND spn.profile IS NULL THEN
            'server session ' || s.id || ' is in the session history, but it is a session of profile ' || s.profile || ', which does not name this role'
        WHEN e.source_identity_kind = 's' AND s.id IS NOT NULL THEN
            'server session ' || s.id || ' is in the session history'
        WHEN e.source_identity_kind = 's' AND sn.taken_at <= e.event_time + INTERVAL 1 HOUR THEN
            'SourceIdentity names server session ' || e.source_identity_id || ', but a snapshot taken while its record must have existed (orphan_snapshot_at) did not hold it, nor did any other'
        WHEN e.source_identity_kind = 's' THEN
            'SourceIdentity names server session ' || e.source_identity_id || ', which no snapshot holds, but no snapshot was taken within an hour after the issuance, while its record must have existed: it cannot be checked'
        WHEN e.source_identity_kind = 'r' THEN
            'issued by Sentinel outside a server session (request ' || e.source_identity_id || '), so it cannot be tracked or revoked'
        WHEN e.source_identity IS NOT NULL THEN
            'SourceIdentity "' || e.source_identity || '" is not Sentinel''s format: issued by another tool'
        ELSE 'no SourceIdentity: credentials were issued outside Sentinel'
    END AS reason,
    coalesce(CASE WHEN spn.profile IS NOT NULL OR sp.profile IS NULL THEN s.profile END,
             pr.profile, regexp_extract(e.role_arn, '[^/]+$'), '(unknown role)') AS profile,
    CASE
        WHEN s.profile IS NOT NULL AND (spn.profile IS NOT NULL OR sp.profile IS NULL) THEN 'session'
        WHEN pr.profile IS NOT NULL THEN 'config'
        ELSE 'role_name'
    END AS profile_source,
    coalesce(s."user", nullif(e.source_identity_user, ''), e.identity_user_name,
             regexp_extract(e.identity_arn, '[^/]+$'), e.role_session_name) AS "user",
    CASE WHEN e.source_identity_kind = 's' THEN 'server' END AS mode,
    s.id AS session_id,
    s.status AS session_status,
    s.started_at AS session_started_at,
    s.expires_at AS session_expires_at,
    s.first_seen AS session_first_seen,
    s.last_seen AS session_last_seen,
    CASE WHEN e.source_identity_kind = 's' AND sn.taken_at <= e.event_time + INTERVAL 1 HOUR THEN sn.taken_at END AS orphan_snapshot_at,
    list_filter([
        CASE WHEN s.status = 'revoked' AND coalesce(s.revoked_at, s.updated_at) <= e.event_time
             THEN 'issued_after_revocation' END,
        CASE WHEN e.event_time < s.started_at - INTERVAL 5 MINUTE OR e.event_time > s.expires_at + INTERVAL 5 MINUTE
             THEN 'outside_session_window' END,
        CASE WHEN s.id IS NOT NULL AND sp.profile IS NOT NULL AND spn.profile IS NULL
             THEN 'session_of_another_profile' END
    ], f -> f IS NOT NULL) AS flags
FROM issuances e
-- One equality (not "kind = 's' AND id = id"), so DuckDB plans a hash join, not a nested loop.
-- The dropped copies are filtered after the joins: DuckDB then builds the hash table on the
-- sessions, not on the issuances (a third of the time at 10M events).
LEFT JOIN sessions s ON s.id = CASE WHEN e.source_identity_kind = 's' THEN e.source_identity_id END
LEFT JOIN profile_roles pr ON pr.role_arn = e.role_arn
-- The session's profile, when it names roles (sp), and whether it names the issued one (spn).
LEFT JOIN (SELECT DISTINCT profile FROM profile_names) sp ON sp.profile = s.profile
LEFT JOIN profile_names spn ON spn.profile = s.profile AND spn.role_arn = e.role_arn
LEFT JOIN next_snapshot sn ON sn.event_id = CASE WHEN e.source_identity_kind = 's' AND s.id IS NULL THEN e.event_id END
WHERE e.event_id NOT IN (SELECT event_id FROM dropped);
