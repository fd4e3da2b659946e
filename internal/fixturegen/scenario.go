package main

// ---------------------------------------------------------------------------------------------
// Scenario: issuances and the calls made with the issued credentials
// ---------------------------------------------------------------------------------------------

// Sinks say where a record is stored: "trail" (the S3 archive) and the handoff files "lookup"
// (lookup-events-dev.json), "cw" (cloudwatch-staging.json.gz), "export" (export.jsonl) and
// "bare" (bare-array.json). A record in several sinks is the same record (same eventID).

type issuance struct {
	label  string // P* prod, R* prod-readonly, T* staging, D* dev, C* CIRunner, PF failed
	class  string // the classification the audit must find (documentation only)
	role   string
	caller string // IAM user name, "chain:<user>" (AssumedRole caller) or "web:github"
	si     string // SourceIdentity; "" = none anywhere
	at     string
	agent  string // user agent of the issuing call
	tool   string // user agent of the calls made with the credentials
	in     string // sinks of the issuance record; calls default to the same
	failed bool   // AccessDenied: issues nothing
	copyTo string // also logged in this account's folder (cross-account copy, new eventID)
	calls  []call
}

type call struct {
	api    string // service:Action
	after  string // offset from the issuance
	region string // default us-east-1
	denied bool
	in     string // default: the issuance's sinks
}

var issuances = []issuance{
	// ---- prod: arn:aws:iam::222222222222:role/ProdAdmin ----
	{label: "P1", class: "tracked", role: "ProdAdmin", caller: "alice", si: "sentinel-s-" + s1 + "-alice",
		at: "2026-11-02T10:05:12Z", agent: "sentinel", tool: "cli", in: "trail", copyTo: identAcct,
		calls: []call{
			{api: "s3:ListBuckets", after: "2m3s"},
			{api: "s3:GetObject", after: "6m40s"},
			{api: "ec2:DescribeInstances", after: "11m15s", region: euwest1},
			{api: "kms:Decrypt", after: "14m50s", region: euwest1},
		}},
	{label: "P2", class: "tracked", role: "ProdAdmin", caller: "bob", si: "sentinel-" + s2, // short form
		at: "2026-11-02T14:20:03Z", agent: "sentinel-old", tool: "boto3", in: "trail",
		calls: []call{
			{api: "ec2:DescribeInstances", after: "1m30s"},
			{api: "dynamodb:GetItem", after: "4m12s"}, // delivered twice (exact duplicate)
			{api: "s3:PutObject", after: "9m45s", denied: true},
		}},
	{label: "P3", class: "tracked", role: "ProdAdmin", caller: "alice", si: "sentinel-s-" + s3 + "-alice",
		at: "2026-11-03T08:15:02Z", agent: "sentinel", tool: "cli", in: "trail",
		calls: []call{
			{api: "iam:ListRoles", after: "3m"},
			{api: "s3:GetObject", after: "5m20s"},
			{api: "secretsmanager:GetSecretValue", after: "8m1s"},
		}},
	{label: "P4", class: "tracked", role: "ProdAdmin", caller: "bob", si: "sentinel-s-" + s4 + "-bob",
		at: "2026-11-04T10:12:44Z", agent: "sentinel", tool: "cli", in: "trail", // after S4 was revoked
		calls: []call{
			{api: "s3:ListBuckets", after: "2m"},
			{api: "iam:ListRoles", after: "3m30s"},
			{api: "secretsmanager:GetSecretValue", after: "6m10s", denied: true},
			{api: "s3:GetObject", after: "9m", region: euwest1},
		}},
	{label: "P5", class: "orphaned", role: "ProdAdmin", caller: "carol", si: "sentinel-s-" + orphanID + "-carol",
		at: "2026-11-04T16:40:00Z", agent: "sentinel", tool: "cli", in: "trail",
		calls: []call{
			{api: "s3:ListBuckets", after: "1m45s"},
			{api: "kms:Decrypt", after: "4m"},
		}},
	{label: "P6", class: "untracked_sentinel", role: "ProdAdmin", caller: "alice", si: "sentinel-r-1234abcd5678ef90-alice",
		at: "2026-11-05T07:45:10Z", agent: "sentinel", tool: "cli", in: "trail",
		calls: []call{
			{api: "iam:ListRoles", after: "1m"},
			{api: "iam:PutRolePolicy", after: "3m22s", in: "trail export"},
			{api: "iam:CreateAccessKey", after: "5m48s", in: "trail export"},
			{api: "s3:DeleteObject", after: "8m", denied: true},
		}},
	{label: "PF", class: "failed (not an issuance)", role: "ProdAdmin", caller: "carol", si: "sentinel-r-77aa88bb99cc00dd-carol",
		at: "2026-11-05T12:58:07Z", agent: "sentinel", in: "trail", failed: true},
	{label: "P7", class: "no_source_identity", role: "ProdAdmin", caller: "dave", // aws sts assume-role by hand
		at: "2026-11-05T13:02:33Z", agent: "cli", tool: "cli", in: "trail",
		calls: []call{
			{api: "s3:ListBuckets", after: "40s"},
			{api: "s3:DeleteObject", after: "2m5s", in: "trail export"},
			{api: "iam:CreateAccessKey", after: "3m30s", denied: true, in: "trail export"},
		}},

	// ---- prod-readonly: arn:aws:iam::222222222222:role/ProdReadOnly ----
	{label: "R1", class: "tracked", role: "ProdReadOnly", caller: "alice", si: "sentinel-s-" + s5 + "-alice",
		at: "2026-11-03T23:41:05Z", agent: "sentinel", tool: "boto3", in: "trail",
		calls: []call{
			{api: "s3:ListBuckets", after: "2m57s"},
			{api: "dynamodb:GetItem", after: "10m25s"},
			{api: "kms:Decrypt", after: "17m35s"}, // 23:58:40; re-delivered late as R1.3L
			{api: "ec2:DescribeInstances", after: "29m", region: euwest1},
		}},
	{label: "R2", class: "tracked", role: "ProdReadOnly", caller: "chain:bob", si: "sentinel-s-" + s6 + "-bob",
		at: "2026-11-04T08:31:07Z", agent: "sentinel", tool: "cli", in: "trail",
		calls: []call{
			{api: "s3:GetObject", after: "2m", in: "trail bare"},
			{api: "iam:ListRoles", after: "5m", in: "bare"},
			{api: "kms:Decrypt", after: "7m30s", denied: true, in: "bare"},
		}},

	// ---- staging: arn:aws:iam::033333333333:role/StagingDeploy ----
	{label: "T1", class: "tracked", role: "StagingDeploy", caller: "carol", si: "sentinel-s-" + s7 + "-carol",
		at: "2026-11-03T11:30:15Z", agent: "sentinel", tool: "terraform", in: "trail cw",
		calls: []call{
			{api: "s3:PutObject", after: "2m", in: "trail"},
			{api: "ec2:DescribeInstances", after: "4m30s"},
			{api: "s3:GetObject", after: "6m", in: "trail"},
		}},
	{label: "T2", class: "untracked_sentinel", role: "StagingDeploy", caller: "carol", si: "sentinel-r-ab12cd34ef560789-carol",
		at: "2026-11-04T14:05:00Z", agent: "sentinel", tool: "cli", in: "trail",
		calls: []call{
			{api: "s3:PutObject", after: "1m10s"},
			{api: "s3:ListBuckets", after: "3m"},
		}},
	{label: "T3", class: "untracked_sentinel", role: "StagingDeploy", caller: "bob", si: "sentinel-r-9f8e7d6c5b4a3921-bob",
		at: "2026-11-05T10:20:30Z", agent: "sentinel", tool: "cli", in: "cw", // only in the CloudWatch handoff
		calls: []call{
			{api: "ec2:DescribeInstances", after: "2m20s", region: euwest1},
			{api: "secretsmanager:GetSecretValue", after: "4m"},
		}},
	{label: "T4", class: "non_sentinel_format", role: "StagingDeploy", caller: "carol", si: "okta-carol@example.com",
		at: "2026-11-05T16:45:00Z", agent: "boto3", tool: "boto3", in: "trail",
		calls: []call{
			{api: "s3:ListBuckets", after: "1m", in: "trail cw"},
			{api: "dynamodb:GetItem", after: "3m"},
		}},

	// ---- dev AND sandbox: arn:aws:iam::444444444444:role/DevAdmin ----
	{label: "D1", class: "no_source_identity", role: "DevAdmin", caller: "dave",
		at: "2026-11-02T16:10:00Z", agent: "cli", tool: "cli", in: "trail lookup",
		calls: []call{
			{api: "ec2:DescribeInstances", after: "1m"},
			{api: "s3:ListBuckets", after: "2m30s"},
		}},
	{label: "D2", class: "no_source_identity", role: "DevAdmin", caller: "alice",
		at: "2026-11-04T11:11:11Z", agent: "boto3", tool: "boto3", in: "trail lookup",
		calls: []call{
			{api: "dynamodb:GetItem", after: "2m", in: "trail"},
			{api: "kms:Decrypt", after: "4m", region: euwest1, in: "trail"},
			{api: "s3:PutObject", after: "6m", denied: true, in: "trail"},
		}},
	{label: "D3", class: "non_sentinel_format", role: "DevAdmin", caller: "carol", si: "sentinel-x-0123",
		at: "2026-11-06T09:30:00Z", agent: "boto3", tool: "boto3", in: "lookup", // only in lookup-events
		calls: []call{
			{api: "s3:ListBuckets", after: "1m"},
			{api: "iam:ListRoles", after: "3m"},
		}},

	// ---- a role in no config: arn:aws:iam::444444444444:role/service-role/CIRunner ----
	{label: "C1", class: "no_source_identity", role: "CIRunner", caller: "web:github",
		at: "2026-11-05T20:15:00Z", agent: "gha", tool: "cli", in: "export", // only in export.jsonl
		calls: []call{
			{api: "s3:PutObject", after: "30s"},
			{api: "s3:GetObject", after: "1m"},
			{api: "dynamodb:GetItem", after: "1m40s"},
		}},
}

// other are events unrelated to any issued credentials.
type other struct {
	label, kind, api, user, acct, region, invokedBy, at, in string
}

var others = []other{
	{label: "U1", kind: "ConsoleLogin", user: "alice", acct: identAcct, at: "2026-11-02T09:58:30Z", in: "trail bare"},
	{label: "U2", kind: "console", user: "alice", acct: identAcct, api: "iam:GetAccountSummary", at: "2026-11-02T10:00:02Z", in: "trail"},
	{label: "U3", kind: "console", user: "alice", acct: identAcct, api: "iam:ListUsers", at: "2026-11-02T10:01:10Z", in: "trail"},
	{label: "U4", kind: "service", acct: prodAcct, api: "kms:GenerateDataKey", invokedBy: "cloudtrail.amazonaws.com", at: "2026-11-03T03:00:12Z", in: "trail"},
	{label: "U5", kind: "service", acct: devAcct, region: euwest1, api: "ec2:DescribeInstanceStatus", invokedBy: "autoscaling.amazonaws.com", at: "2026-11-04T11:20:00Z", in: "trail"},
}

// deliveries overrides when a record reaches the trail (default: eventTime + 6 minutes).
var deliveries = map[string][]string{
	"P2.2":  {"2026-11-02T14:30:15Z", "2026-11-03T02:10:00Z"}, // exact duplicate in two trail files
	"R1.3":  {"2026-11-03T23:59:40Z"},                         // original, lands in 2026/11/03
	"R1.3L": {"2026-11-04T06:40:00Z"},                         // late correction, lands in 2026/11/04
}

// lateCorrections: label of the corrected record -> label of the original it supersedes.
var lateCorrections = map[string]string{"R1.3L": "R1.3"}

type quirk struct {
	label, what string
	apply       func(obj) obj
}

// quirks are the format drift real trails have, each applied to one named record.
var quirks = []quirk{
	{"D1", "eventVersion 1.05 (old format: no tlsDetails)", version("1.05")},
	{"D1.1", "eventVersion 1.05; readOnly is the STRING \"true\"", func(r obj) obj { return version("1.05")(r).set("readOnly", "true") }},
	{"D1.2", "eventVersion 1.05", version("1.05")},
	{"U4", "eventVersion 1.05 AWS-service event", version("1.05")},
	{"T2", "requestParameters.durationSeconds is the STRING \"3600\"", func(r obj) obj {
		return r.set("requestParameters", r.obj("requestParameters").set("durationSeconds", "3600"))
	}},
	{"R1.1", "responseElements key absent (other read-only calls carry null)", func(r obj) obj { return r.del("responseElements") }},
	{"P5.2", "userAgent absent", func(r obj) obj { return r.del("userAgent") }},
	{"P3.3", "eventVersion 1.11 and an unknown top-level field \"futureField\"", func(r obj) obj {
		return version("1.11")(r).after("tlsDetails", "futureField", obj{{"introducedIn", "1.12"}, {"note", "unknown to every parser"}})
	}},
	{"C1", "eventVersion 1.11", version("1.11")},
	{"P6.2", "\"EventName\":\"Spoof\" after the real \"eventName\" (keys are case-sensitive; eventName wins)", func(r obj) obj {
		return r.after("eventName", "EventName", "Spoof")
	}},
}

// ---------------------------------------------------------------------------------------------
// Session table snapshots
// ---------------------------------------------------------------------------------------------

type session struct {
	id, user, profile, server, status   string
	started, expires, lastAccess        string
	requests                            int
	si                                  string
	revokedAt, revokedBy, revokedReason string
	clientVersion                       string
}

// snapshot1 is the table on 2026-11-03T20:00:00Z, snapshot2 on 2026-11-06T20:00:00Z.
// ttl = expires_at + 1h (Sentinel's setting), so S3 and S8 are TTL-deleted before snapshot 2.
var snapshot1 = []session{
	{id: s1, user: "alice", profile: "prod", server: "srv-alice-mbp-7f3a", status: "active", started: "2026-11-02T10:04:58Z", expires: "2026-11-09T10:04:58Z", lastAccess: "2026-11-03T17:40:12Z", requests: 41, si: "sentinel-s-" + s1 + "-alice", clientVersion: "0.9.0"},
	{id: s2, user: "bob", profile: "prod", server: "srv-bob-linux-21c9", status: "active", started: "2026-11-02T14:19:51Z", expires: "2026-11-09T14:19:51Z", lastAccess: "2026-11-03T16:02:44Z", requests: 18, si: "sentinel-" + s2, clientVersion: "0.7.2"},
	{id: s3, user: "alice", profile: "prod", server: "srv-alice-mbp-7f3a", status: "active", started: "2026-11-03T08:14:40Z", expires: "2026-11-03T20:14:40Z", lastAccess: "2026-11-03T12:30:00Z", requests: 7, si: "sentinel-s-" + s3 + "-alice", clientVersion: "0.9.0"},
	{id: s4, user: "bob", profile: "prod", server: "srv-bob-linux-21c9", status: "active", started: "2026-11-03T15:02:10Z", expires: "2026-11-10T15:02:10Z", lastAccess: "2026-11-03T15:02:10Z", requests: 0, si: "sentinel-s-" + s4 + "-bob", clientVersion: "0.9.0"},
	{id: s5, user: "alice", profile: "prod-readonly", server: "srv-alice-mbp-7f3a", status: "active", started: "2026-11-03T09:00:05Z", expires: "2026-11-10T09:00:05Z", lastAccess: "2026-11-03T19:12:00Z", requests: 5, si: "sentinel-s-" + s5 + "-alice", clientVersion: "0.9.0"},
	{id: s6, user: "bob", profile: "prod-readonly", server: "srv-jump-bastion-03", status: "active", started: "2026-11-03T16:45:00Z", expires: "2026-11-10T16:45:00Z", lastAccess: "2026-11-03T16:45:00Z", requests: 0, si: "sentinel-s-" + s6 + "-bob", clientVersion: "0.9.0"},
	{id: s7, user: "carol", profile: "staging", server: "srv-carol-wsl-88e0", status: "active", started: "2026-11-03T11:29:58Z", expires: "2026-11-10T11:29:58Z", lastAccess: "2026-11-03T11:36:15Z", requests: 3, si: "sentinel-s-" + s7 + "-carol", clientVersion: "0.9.0"},
	{id: s8, user: "dave", profile: "dev", server: "srv-dave-desk-0b44", status: "expired", started: "2026-11-03T07:00:00Z", expires: "2026-11-03T19:30:00Z", lastAccess: "2026-11-03T07:00:00Z", requests: 0, si: "sentinel-s-" + s8 + "-dave", clientVersion: "0.9.0"},
	{id: s9, user: "carol", profile: "staging", server: "srv-carol-wsl-88e0", status: "revoked", started: "2026-11-03T13:00:00Z", expires: "2026-11-10T13:00:00Z", lastAccess: "2026-11-03T13:00:00Z", requests: 0, si: "sentinel-s-" + s9 + "-carol", revokedAt: "2026-11-03T13:40:00Z", revokedBy: "carol", revokedReason: "session ended early by user", clientVersion: "0.9.0"},
}

var snapshot2 = []session{
	{id: s1, user: "alice", profile: "prod", server: "srv-alice-mbp-7f3a", status: "active", started: "2026-11-02T10:04:58Z", expires: "2026-11-09T10:04:58Z", lastAccess: "2026-11-06T18:12:09Z", requests: 97, si: "sentinel-s-" + s1 + "-alice", clientVersion: "0.9.0"},
	{id: s2, user: "bob", profile: "prod", server: "srv-bob-linux-21c9", status: "active", started: "2026-11-02T14:19:51Z", expires: "2026-11-09T14:19:51Z", lastAccess: "2026-11-05T09:15:00Z", requests: 30, si: "sentinel-" + s2, clientVersion: "0.7.2"},
	// S3 is gone: TTL-deleted at 2026-11-03T21:14:40Z.
	{id: s4, user: "bob", profile: "prod", server: "srv-bob-linux-21c9", status: "revoked", started: "2026-11-03T15:02:10Z", expires: "2026-11-10T15:02:10Z", lastAccess: "2026-11-04T10:12:44Z", requests: 1, si: "sentinel-s-" + s4 + "-bob", revokedAt: "2026-11-04T09:30:00Z", revokedBy: "alice", revokedReason: "laptop reported stolen", clientVersion: "0.9.0"},
	{id: s5, user: "alice", profile: "prod-readonly", server: "srv-alice-mbp-7f3a", status: "active", started: "2026-11-03T09:00:05Z", expires: "2026-11-10T09:00:05Z", lastAccess: "2026-11-04T00:10:05Z", requests: 9, si: "sentinel-s-" + s5 + "-alice", clientVersion: "0.9.0"},
	{id: s6, user: "bob", profile: "prod-readonly", server: "srv-jump-bastion-03", status: "active", started: "2026-11-03T16:45:00Z", expires: "2026-11-10T16:45:00Z", lastAccess: "2026-11-04T08:38:37Z", requests: 4, si: "sentinel-s-" + s6 + "-bob", clientVersion: "0.9.0"},
	{id: s7, user: "carol", profile: "staging", server: "srv-carol-wsl-88e0", status: "active", started: "2026-11-03T11:29:58Z", expires: "2026-11-10T11:29:58Z", lastAccess: "2026-11-05T08:00:00Z", requests: 12, si: "sentinel-s-" + s7 + "-carol", clientVersion: "0.9.0"},
	// S8 is gone: TTL-deleted at 2026-11-03T20:30:00Z.
	{id: s9, user: "carol", profile: "staging", server: "srv-carol-wsl-88e0", status: "revoked", started: "2026-11-03T13:00:00Z", expires: "2026-11-10T13:00:00Z", lastAccess: "2026-11-03T13:00:00Z", requests: 0, si: "sentinel-s-" + s9 + "-carol", revokedAt: "2026-11-03T13:40:00Z", revokedBy: "carol", revokedReason: "session ended early by user", clientVersion: "0.9.0"},
	{id: s10, user: "dave", profile: "prod", server: "srv-dave-desk-0b44", status: "active", started: "2026-11-06T15:00:00Z", expires: "2026-11-13T15:00:00Z", lastAccess: "2026-11-06T15:00:00Z", requests: 0, si: "sentinel-s-" + s10 + "-dave", clientVersion: "0.9.1"},
}
