-- session_compliance: per profile, how many issuances in the window were tracked, untracked,
-- orphaned and unverified, whether the policy required a tracked server session, and whether that
-- left a gap.
--   compliance_rate    = tracked and not flagged / all successful issuances (1.0 when there
--                        were none)
--   has_gap            = the policy required a tracked session for an issuance proven not tracked
--                        (untracked or orphaned; an unverified one proves nothing), or flagged
--                        (tracked in name only: issued after its session's revocation, outside
--                        its lifetime, or for a role its session's profile does not name)
--   required_unverified = issuances the policy required to be tracked whose session could not be
--                        checked (they make the verdict INCONCLUSIVE unless a gap is proven)
--   profile_source     = config (the profile map attributed some of its issuances) | session (only
--                        session records did) | role_name (no profile: the role's name) | policy (a
--                        profile the policy names that no issuance has)
-- Profiles that a require_server_session rule names are listed even without issuances.
WITH windowed AS (
    SELECT *
    FROM issuances
    WHERE event_time >= $since AND event_time < $until
      AND ($profile = '' OR profile = $profile)
),
per_profile AS (
    SELECT
        profile,
        -- A profile some of whose issuances were attributed by a session record or the profile
        -- map is a profile; one known only by a role name is an unmapped role.
        CASE WHEN bool_and(profile_source = 'role_name') THEN 'role_name'
             WHEN bool_or(profile_source = 'config') THEN 'config'
             ELSE 'session' END AS profile_source,
        bool_or(policy_required) AS policy_required,
        count(*) FILTER (WHERE class = 'tracked') AS tracked_count,
        count(*) FILTER (WHERE class IN ('untracked_sentinel', 'non_sentinel_format', 'no_source_identity')) AS untracked_count,
        count(*) FILTER (WHERE class = 'orphaned') AS orphaned_count,
        count(*) FILTER (WHERE class = 'unverified') AS unverified_count,
        count(*) AS issuance_count,
        count(*) FILTER (WHERE policy_required AND (class NOT IN ('tracked', 'unverified') OR len(flags) > 0)) AS required_untracked_count,
        count(*) FILTER (WHERE policy_required AND class = 'unverified') AS required_unverified_count,
        count(*) FILTER (WHERE len(flags) > 0) AS flagged_count,
        count(*) FILTER (WHERE class = 'tracked' AND len(flags) = 0) AS compliant_count
    FROM windowed
    GROUP BY profile
),
named AS (
    SELECT profile FROM required_profiles WHERE $profile = '' OR profile = $profile
)
SELECT
    coalesce(p.profile, n.profile) AS profile,
    coalesce(p.profile_source, 'policy') AS profile_source,
    CASE WHEN p.profile IS NULL THEN $has_policy ELSE p.policy_required END AS policy_required,
    coalesce(p.tracked_count, 0) AS tracked_count,
    coalesce(p.untracked_count, 0) AS untracked_count,
    coalesce(p.orphaned_count, 0) AS orphaned_count,
    coalesce(p.unverified_count, 0) AS unverified_count,
    coalesce(p.issuance_count, 0) AS issuance_count,
    coalesce(p.flagged_count, 0) AS flagged_count,
    CASE WHEN coalesce(p.issuance_count, 0) = 0 THEN 1.0
         ELSE p.compliant_count::DOUBLE / p.issuance_count END AS compliance_rate,
    coalesce(p.required_untracked_count, 0) > 0 AS has_gap,
    coalesce(p.required_unverified_count, 0) AS required_unverified_count
FROM per_profile p
FULL OUTER JOIN named n USING (profile)
ORDER BY profile;
