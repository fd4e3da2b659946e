-- session_activity: what each non-tracked issuance in the window did with its credentials, and with
-- $flagged also each tracked one that is flagged (tracked in name only: issuances_base.sql; the
-- activity command and the evidence report list those with the rest).
--   write_calls     calls recorded as not read-only (readOnly false)
--   error_calls     calls that failed (errorCode set)
--   sensitive_calls the distinct calls that change access or data protection, or read secrets:
--                   Delete*, Put*Policy, Attach*Policy, Create*Key, CreateAccessKey, CreateUser,
--                   CreateLoginProfile, UpdateAssumeRolePolicy, PassRole, StopLogging, DeleteTrail,
--                   ScheduleKeyDeletion, DisableKey, PutBucketAcl, AuthorizeSecurityGroupIngress,
--                   GetSecretValue, Decrypt (as service:Call, most frequent first)
WITH scoped AS (
    SELECT *
    FROM issuances
    WHERE (class <> 'tracked' OR ($flagged AND len(flags) > 0))
      AND event_time >= $since AND event_time < $until
      AND ($profile = '' OR profile = $profile)
),
-- Only the columns used: activity has every column of events, some computed from the raw record.
calls AS (
    SELECT a.issuance_event_id, a.event_id, a.event_time, a.event_source, a.event_name, a.read_only, a.error_code,
           regexp_matches(a.event_name,
               '^(Delete.*|Put.*Policy|Attach.*Policy|Create.*Key|CreateAccessKey|CreateUser|CreateLoginProfile|UpdateAssumeRolePolicy|PassRole|StopLogging|ScheduleKeyDeletion|DisableKey|PutBucketAcl|AuthorizeSecurityGroupIngress|GetSecretValue|Decrypt)$')
               AS sensitive
    FROM activity a
    WHERE a.issuance_event_id IN (SELECT event_id FROM scoped)
),
-- What each issuance's calls add up to, grouped by the issuance alone (its columns are joined to
-- the 36k-odd sums after, not carried through the grouping of every call).
per_issuance AS (
    SELECT issuance_event_id,
           count(*) AS event_count,
           count(DISTINCT event_source) AS service_count,
           count(*) FILTER (WHERE read_only = false) AS write_calls,
           count(*) FILTER (WHERE error_code IS NOT NULL) AS error_calls,
           min(event_time) AS first_activity,
           max(event_time) AS last_activity
    FROM calls
    GROUP BY issuance_event_id
),
sensitive AS (
    SELECT issuance_event_id,
           list(call ORDER BY n DESC, call) AS sensitive_calls
    FROM (SELECT issuance_event_id, split_part(event_source, '.', 1) || ':' || event_name AS call, count(*) AS n
          FROM calls WHERE sensitive GROUP BY ALL)
    GROUP BY issuance_event_id
)
SELECT
    s.event_id AS issuance_event_id,
    s.event_time AS issued_at,
    s.profile,
    s."user",
    s.class AS category,
    s.account_id,
    s.role_arn,
    s.source_identity,
    coalesce(c.event_count, 0) AS event_count,
    coalesce(c.service_count, 0) AS service_count,
    coalesce(c.write_calls, 0) AS write_calls,
    coalesce(c.error_calls, 0) AS error_calls,
    c.first_activity,
    c.last_activity,
    coalesce(x.sensitive_calls, []) AS sensitive_calls,
    s.flags
FROM scoped s
LEFT JOIN per_issuance c ON c.issuance_event_id = s.event_id
LEFT JOIN sensitive x ON x.issuance_event_id = s.event_id
ORDER BY issued_at, issuance_event_id;
