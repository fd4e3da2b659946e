-- untracked_issuances: every issuance in the window that was not tracked, and every flagged one
-- (issued after its session's revocation, or outside its lifetime) tracked or not, oldest first,
-- with why, and what the policy required at that moment.
SELECT
    event_id, event_time, account_id, role_arn, profile, "user", source_ip_address, user_agent,
    source_identity, class AS category, reason, policy_required, policy_rule, flags
FROM issuances
WHERE (class <> 'tracked' OR len(flags) > 0)
  AND event_time >= $since AND event_time < $until
  AND ($profile = '' OR profile = $profile)
ORDER BY event_time, event_id;
