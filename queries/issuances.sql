-- issuances: issuances_base plus what the policy required for each issuance at its moment: the
-- decision for its profile, user, mode and time class (policy_tables.sql). The policy columns are
-- NULL when no policy was given and for issuances outside the window the policy was evaluated for.
CREATE OR REPLACE VIEW issuances AS
SELECT b.*, d.policy_effect, d.policy_rule, d.policy_reason, d.policy_required
FROM issuances_base b
LEFT JOIN policy_minutes m ON m.minute_us = policy_minute(b.event_time)
LEFT JOIN policy_instants i ON i.at_us = epoch_us(b.event_time)
LEFT JOIN policy_decisions d
       ON d.profile = b.profile
      AND d."user" = coalesce(b."user", '')
      AND d.mode = coalesce(b.mode, '')
      AND d.time_class = coalesce(i.time_class, m.time_class, '')
      AND b.event_time >= d.since AND b.event_time < d.until;
