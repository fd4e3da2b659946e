-- issuances: issuances_base plus what the policy required for each issuance at its moment
-- (issuance_policy is filled by evaluating the policy for profile, user, time and mode; its
-- columns are NULL when no policy was given).
CREATE OR REPLACE VIEW issuances AS
SELECT b.*, p.policy_effect, p.policy_rule, p.policy_reason, p.policy_required
FROM issuances_base b
LEFT JOIN issuance_policy p USING (event_id);
