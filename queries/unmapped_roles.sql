-- unmapped_roles: the roles issued in the window that map to no profile (no AWS or Sentinel config
-- entry names them, no session record), with their issuances by who called AssumeRole*:
--   iam_user      an IAM user
--   federated     a SAML, web identity or federated (GetFederationToken) user
--   assumed_role  a role session (role chaining)
--   aws_service   an AWS service
--   other         anyone else (root, another account, unknown)
-- not_tracked counts the issuances not tracked, or flagged (issuances_base.sql).
-- service_linked marks service-linked roles (AWSServiceRoleFor*, path /aws-service-role/):
-- with AWS-service callers they are reported apart, as an organization's services assume roles
-- all day.
SELECT
    role_arn,
    coalesce(account_id, '') AS account_id,
    count(*) AS issuances,
    count(*) FILTER (WHERE caller_type = 'IAMUser') AS iam_user,
    count(*) FILTER (WHERE caller_type IN ('SAMLUser', 'WebIdentityUser', 'FederatedUser')) AS federated,
    count(*) FILTER (WHERE caller_type = 'AssumedRole') AS assumed_role,
    count(*) FILTER (WHERE caller_type = 'AWSService') AS aws_service,
    count(*) FILTER (WHERE caller_type IS NULL
                        OR caller_type NOT IN ('IAMUser', 'SAMLUser', 'WebIdentityUser', 'FederatedUser', 'AssumedRole', 'AWSService')) AS other,
    count(*) FILTER (WHERE class <> 'tracked' OR len(flags) > 0) AS not_tracked,
    coalesce(bool_or(policy_required), false) AS policy_required,
    starts_with(role_name, 'AWSServiceRoleFor') OR contains(role_arn, ':role/aws-service-role/') AS service_linked
FROM issuances
WHERE profile_source = 'role_name'
  AND role_arn IS NOT NULL
  AND event_time >= $since AND event_time < $until
  AND ($profile = '' OR profile = $profile)
GROUP BY ALL
ORDER BY account_id, role_arn;
