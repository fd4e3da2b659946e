-- scope: every profile the warehouse's issuances and session records know, with the accounts of
-- the roles its issuances in the window assumed (account NULL: none in the window) and whether
-- it is only a role's name (by_role_name: no profile map entry or session record names it).
-- The verdict checks the evidence of a profile's accounts: these, and those of the roles the
-- profile map gives it.
SELECT profile,
       CASE WHEN event_time >= $since AND event_time < $until THEN account_id END AS account_id,
       bool_and(profile_source = 'role_name') OVER (PARTITION BY profile) AS by_role_name
FROM issuances_base
UNION
SELECT profile, NULL, false
FROM sessions
WHERE profile IS NOT NULL;
