-- profile_rules: per profile, the policy rules that decided its issuances in the window: the rule
-- (NULL: none matched, the default deny), its effect and reason as the policy evaluation recorded
-- them for each issuance's profile, user, mode and time (policy_tables.sql), and how many issuances
-- each decided, most first. No row without a policy.
SELECT profile, policy_rule, policy_effect, coalesce(policy_reason, '') AS policy_reason, count(*) AS issuances
FROM issuances
WHERE event_time >= $since AND event_time < $until
  AND ($profile = '' OR profile = $profile)
  AND policy_effect IS NOT NULL
GROUP BY ALL
ORDER BY profile, issuances DESC, policy_rule NULLS LAST;
