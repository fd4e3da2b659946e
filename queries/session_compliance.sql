-- session_compliance: per profile, how many issuances in the window were tracked, untracked and
-- orphaned, whether the policy required a tracked server session, and whether that left a gap.
--   compliance_rate = tracked / all successful issuances (1.0 when there were none)
--   has_gap         = the policy required a tracked session for an issuance that was not tracked
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
        bool_or(policy_required) AS policy_required,
        count(*) FILTER (WHERE class = 'tracked') AS tracked_count,
        count(*) FILTER (WHERE class IN ('untracked_sentinel', 'non_sentinel_format', 'no_source_identity')) AS untracked_count,
        count(*) FILTER (WHERE class = 'orphaned') AS orphaned_count,
        count(*) AS issuance_count,
        count(*) FILTER (WHERE policy_required AND class <> 'tracked') AS required_untracked_count,
        count(*) FILTER (WHERE len(flags) > 0) AS flagged_count
    FROM windowed
    GROUP BY profile
),
named AS (
    SELECT profile FROM required_profiles WHERE $profile = '' OR profile = $profile
)
SELECT
    coalesce(p.profile, n.profile) AS profile,
    CASE WHEN p.profile IS NULL THEN $has_policy ELSE p.policy_required END AS policy_required,
    coalesce(p.tracked_count, 0) AS tracked_count,
    coalesce(p.untracked_count, 0) AS untracked_count,
    coalesce(p.orphaned_count, 0) AS orphaned_count,
    coalesce(p.issuance_count, 0) AS issuance_count,
    coalesce(p.flagged_count, 0) AS flagged_count,
    CASE WHEN coalesce(p.issuance_count, 0) = 0 THEN 1.0
         ELSE p.tracked_count::DOUBLE / p.issuance_count END AS compliance_rate,
    coalesce(p.required_untracked_count, 0) > 0 AS has_gap
FROM per_profile p
FULL OUTER JOIN named n USING (profile)
ORDER BY profile;
