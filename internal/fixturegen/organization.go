package main

// ---------------------------------------------------------------------------------------------
// The organization
// ---------------------------------------------------------------------------------------------

const (
	org       = "o-a1b2c3d4e5"
	identAcct = "111111111111" // IAM users live here
	prodAcct  = "222222222222"
	stgAcct   = "033333333333" // leading zero: always a JSON string
	devAcct   = "444444444444"
	useast1   = "us-east-1"
	euwest1   = "eu-west-1"
	bucket    = "acme-org-cloudtrail"
	trailName = "org-trail"
)

type role struct{ arn, acct, name string }

var roles = map[string]role{
	"ProdAdmin":     {"arn:aws:iam::222222222222:role/ProdAdmin", prodAcct, "ProdAdmin"},
	"ProdReadOnly":  {"arn:aws:iam::222222222222:role/ProdReadOnly", prodAcct, "ProdReadOnly"},
	"StagingDeploy": {"arn:aws:iam::033333333333:role/StagingDeploy", stgAcct, "StagingDeploy"},
	"DevAdmin":      {"arn:aws:iam::444444444444:role/DevAdmin", devAcct, "DevAdmin"},
	"CIRunner":      {"arn:aws:iam::444444444444:role/service-role/CIRunner", devAcct, "CIRunner"},
	// First hop of bob's role chain (R2). Its own issuance is deliberately NOT in the fixtures.
	"SentinelJump": {"arn:aws:iam::111111111111:role/SentinelJump", identAcct, "SentinelJump"},
}

// users are IAM users in the identity account; ip is where they call from.
var users = map[string]string{
	"alice": "198.51.100.23",
	"bob":   "203.0.113.7",
	"carol": "192.0.2.44",
	"dave":  "198.51.100.99",
}

const ciIP = "203.0.113.200"

// agents are the user agents of the tools in the story.
var agents = map[string]string{
	"sentinel":     "aws-sdk-go-v2/1.48.0 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/sts#1.51.9 m/E app/sentinel#0.9.0",
	"sentinel-old": "aws-sdk-go-v2/1.36.3 ua/2.1 os/darwin lang/go#1.24.2 md/GOOS#darwin md/GOARCH#arm64 api/sts#1.33.19 m/E app/sentinel#0.7.2",
	"cli":          "aws-cli/2.31.4 md/awscrt#0.27.6 ua/2.1 os/linux#6.8.0-1017-aws md/arch#x86_64 lang/python#3.13.7 md/pyimpl#CPython m/E cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off",
	"boto3":        "Boto3/1.40.55 md/Botocore#1.40.55 ua/2.1 os/macos#24.6.0 md/arch#arm64 lang/python#3.12.7 md/pyimpl#CPython m/Z,b cfg/retry-mode#legacy Botocore/1.40.55",
	"terraform":    "APN/1.0 HashiCorp/1.0 Terraform/1.13.4 (+https://www.terraform.io) terraform-provider-aws/6.19.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.39.2 ua/2.1 os/linux lang/go#1.24.8 md/GOOS#linux md/GOARCH#amd64",
	"gha":          "configure-aws-credentials-for-github-actions",
	"console":      "AWS Internal",
	"browser":      "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
}

// Session ids (session record primary keys). S8..S10 never issue anything.
const (
	s1       = "3f9a1c0d7e2b4a61"
	s2       = "8c4e2f1a9b0d3e72"
	s3       = "0d1e2f3a4b5c6d7e"
	s4       = "b7a6c5d4e3f21098"
	s5       = "5e6f7a8b9c0d1e2f"
	s6       = "c0ffee1234567890"
	s7       = "d00dfeed5a5a5a5a"
	s8       = "e1e2e3e4e5e6e7e8"
	s9       = "f0f1f2f3f4f5f6f7"
	s10      = "0a1b2c3d4e5f6a7b"
	orphanID = "deadbeefcafe0042" // kind s, but no session record ever had this id
)

// ---------------------------------------------------------------------------------------------
// Static files
// ---------------------------------------------------------------------------------------------

const awsConfig = `[default]
region = us-east-1
output = json

[profile identity]
region = us-east-1

[profile prod]
role_arn = arn:aws:iam::222222222222:role/ProdAdmin
source_profile = identity
region = us-east-1
duration_seconds = 3600
role_session_name = sentinel

[profile prod-readonly]
role_arn = arn:aws:iam::222222222222:role/ProdReadOnly
source_profile = identity
region = eu-west-1

[profile staging]
role_arn = arn:aws:iam::033333333333:role/StagingDeploy
source_profile = identity
region = us-east-1
duration_seconds = 3600

[profile dev]
role_arn = arn:aws:iam::444444444444:role/DevAdmin
source_profile = identity
region = us-east-1

# Same role as dev on purpose: the role -> profile lookup is ambiguous.
[profile sandbox]
role_arn = arn:aws:iam::444444444444:role/DevAdmin
source_profile = identity
region = eu-west-1
`

const policyYAML = `version: "1"
rules:
  - name: prod-tracked
    effect: require_server_session
    conditions:
      profiles: [prod, prod-readonly]
    session_table: sentinel-sessions
    reason: "production credentials must come from a tracked, revocable server session"

  - name: staging-server
    effect: require_server
    conditions:
      profiles: [staging]
    reason: "staging credentials go through the credential server"

  - name: dev-open
    effect: allow
    conditions:
      profiles: [dev, sandbox]
    reason: "development accounts are open"

# No catch-all rule: anything else (e.g. the CIRunner role) falls through to the default deny.
`
