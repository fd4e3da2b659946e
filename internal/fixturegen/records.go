package main

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ---- issuance records ----

func sessionName(is issuance) string {
	switch {
	case strings.HasPrefix(is.caller, "web:"):
		return "GitHubActions"
	case strings.HasPrefix(is.caller, "chain:"):
		return "sentinel-" + strings.TrimPrefix(is.caller, "chain:")
	case strings.HasPrefix(is.agent, "sentinel"):
		return "sentinel-" + is.caller
	case is.agent == "cli":
		return is.caller + "-cli"
	default:
		return is.caller + "-script"
	}
}

// creds are what an issuance hands out; activity records are built from them.
type creds struct {
	is      issuance
	role    role
	key     string
	session string
	at      time.Time
}

func (c creds) userIdentity() obj {
	sc := obj{
		{"sessionIssuer", obj{{"type", "Role"}, {"principalId", roleID(c.role)}, {"arn", c.role.arn}, {"accountId", c.role.acct}, {"userName", c.role.name}}},
		{"webIdFederationData", obj{}},
		{"attributes", obj{{"creationDate", c.at.Format(ctTime)}, {"mfaAuthenticated", "false"}}},
	}
	if strings.HasPrefix(c.is.caller, "web:") {
		sc = sc.set("webIdFederationData", obj{{"federatedProvider", oidcProvider}, {"attributes", obj{}}})
	}
	if c.is.si != "" {
		sc = append(sc, kv{"sourceIdentity", c.is.si})
	}
	return obj{
		{"type", "AssumedRole"},
		{"principalId", roleID(c.role) + ":" + c.session},
		{"arn", assumedARN(c.role, c.session)},
		{"accountId", c.role.acct},
		{"accessKeyId", c.key},
		{"sessionContext", sc},
	}
}

const oidcProvider = "arn:aws:iam::444444444444:oidc-provider/token.actions.githubusercontent.com"
const ghSubject = "repo:sentinel-audit/app:ref:refs/heads/main"

func (g *gen) addIssuance(is issuance) {
	r, ok := roles[is.role]
	if !ok {
		fail(fmt.Errorf("%s: unknown role %s", is.label, is.role))
	}
	at := ts(is.at)
	sess := sessionName(is)
	key := "ASIA" + b32(16, "asia", is.label)
	name := "AssumeRole"
	var ui obj
	var ip string
	crossAccount := true
	switch {
	case strings.HasPrefix(is.caller, "web:"):
		name = "AssumeRoleWithWebIdentity"
		crossAccount = false
		ip = ciIP
		ui = obj{{"type", "WebIdentityUser"}, {"principalId", oidcProvider + ":sts.amazonaws.com:" + ghSubject}, {"userName", ghSubject}, {"identityProvider", oidcProvider}}
	case strings.HasPrefix(is.caller, "chain:"):
		u := strings.TrimPrefix(is.caller, "chain:")
		ip = users[u]
		hop := creds{is: issuance{si: is.si}, role: roles["SentinelJump"], key: "ASIA" + b32(16, "asia", is.label, "first-hop"),
			session: "sentinel-" + u, at: at.Add(-27 * time.Second)}
		ui = hop.userIdentity()
	default:
		ip = users[is.caller]
		ui = iamUser(is.caller, false)
	}
	if ip == "" {
		fail(fmt.Errorf("%s: unknown caller %s", is.label, is.caller))
	}

	params := obj{{"roleArn", r.arn}, {"roleSessionName", sess}, {"durationSeconds", 3600}}
	if is.si != "" {
		params = append(params, kv{"sourceIdentity", is.si})
	}
	var resp any
	if !is.failed {
		re := obj{{"credentials", obj{{"accessKeyId", key}, {"sessionToken", sessionToken(is.label)}, {"expiration", at.Add(time.Hour).Format(awsExp)}}}}
		if name == "AssumeRoleWithWebIdentity" {
			re = append(re, kv{"subjectFromWebIdentityToken", ghSubject})
		}
		re = append(re, kv{"assumedRoleUser", obj{{"assumedRoleId", roleID(r) + ":" + sess}, {"arn", assumedARN(r, sess)}}})
		if name == "AssumeRoleWithWebIdentity" {
			re = append(re, kv{"provider", oidcProvider}, kv{"audience", "sts.amazonaws.com"})
		}
		if is.si != "" {
			re = append(re, kv{"sourceIdentity", is.si})
		}
		resp = re
	}

	rec := obj{
		{"eventVersion", "1.08"},
		{"userIdentity", ui},
		{"eventTime", at.Format(ctTime)},
		{"eventSource", "sts.amazonaws.com"},
		{"eventName", name},
		{"awsRegion", useast1},
		{"sourceIPAddress", ip},
		{"userAgent", agents[is.agent]},
	}
	if is.failed {
		rec = append(rec,
			kv{"errorCode", "AccessDenied"},
			kv{"errorMessage", fmt.Sprintf("User: arn:aws:iam::%s:user/%s is not authorized to perform: sts:AssumeRole on resource: %s", identAcct, is.caller, r.arn)})
	}
	rec = append(rec,
		kv{"requestParameters", params},
		kv{"responseElements", resp},
		kv{"requestID", uuid4("request", is.label)},
		kv{"eventID", uuid4("event", is.label)},
		kv{"readOnly", true},
		kv{"resources", []any{obj{{"accountId", r.acct}, {"type", "AWS::IAM::Role"}, {"ARN", r.arn}}}},
		kv{"eventType", "AwsApiCall"},
		kv{"managementEvent", true},
		kv{"recipientAccountId", r.acct},
	)
	if crossAccount {
		rec = append(rec, kv{"sharedEventID", uuid4("shared", is.label)})
	}
	rec = append(rec,
		kv{"eventCategory", "Management"},
		kv{"tlsDetails", tls("sts.amazonaws.com")},
	)
	g.add(&event{label: is.label, rec: rec, acct: r.acct, region: useast1, at: at, sinks: sinks(is.in)})

	if is.failed {
		return
	}
	c := creds{is: is, role: r, key: key, session: sess, at: at}
	for i, cl := range is.calls {
		label := fmt.Sprintf("%s.%d", is.label, i+1)
		region := cl.region
		if region == "" {
			region = useast1
		}
		in := cl.in
		if in == "" {
			in = is.in
		}
		d, err := time.ParseDuration(cl.after)
		must(err)
		if d <= 0 || d >= time.Hour {
			fail(fmt.Errorf("%s: call outside the 1h credential lifetime", label))
		}
		rec := apiRecord(apiCall{label: label, api: cl.api, acct: r.acct, region: region, at: at.Add(d),
			ui: c.userIdentity(), ip: callerIP(is), agent: agents[is.tool], denied: cl.denied, caller: assumedARN(r, sess)})
		g.add(&event{label: label, rec: rec, acct: r.acct, region: region, at: at.Add(d), sinks: sinks(in)})
	}
}

func callerIP(is issuance) string {
	if strings.HasPrefix(is.caller, "web:") {
		return ciIP
	}
	return users[strings.TrimPrefix(is.caller, "chain:")]
}

func iamUser(user string, console bool) obj {
	ui := obj{
		{"type", "IAMUser"},
		{"principalId", "AIDA" + b32(17, "aida", user)},
		{"arn", "arn:aws:iam::" + identAcct + ":user/" + user},
		{"accountId", identAcct},
		{"accessKeyId", "AKIA" + b32(16, "akia", user)},
		{"userName", user},
	}
	if console {
		ui = ui.set("accessKeyId", "ASIA"+b32(16, "console", user))
		ui = append(ui, kv{"sessionContext", obj{{"attributes", obj{{"creationDate", "2026-11-02T09:58:30Z"}, {"mfaAuthenticated", "true"}}}}})
	}
	return ui
}

// ---- unrelated records ----

func (g *gen) addOther(o other) {
	at := ts(o.at)
	region := o.region
	if region == "" {
		region = useast1
	}
	var rec obj
	switch o.kind {
	case "ConsoleLogin":
		ui := iamUser(o.user, false).del("accessKeyId")
		rec = obj{
			{"eventVersion", "1.09"},
			{"userIdentity", ui},
			{"eventTime", at.Format(ctTime)},
			{"eventSource", "signin.amazonaws.com"},
			{"eventName", "ConsoleLogin"},
			{"awsRegion", region},
			{"sourceIPAddress", users[o.user]},
			{"userAgent", agents["browser"]},
			{"requestParameters", nil},
			{"responseElements", obj{{"ConsoleLogin", "Success"}}},
			{"additionalEventData", obj{
				{"LoginTo", "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_4f2a9c0d1e3b5a7c"},
				{"MobileVersion", "No"},
				{"MFAIdentifier", "arn:aws:iam::" + identAcct + ":mfa/" + o.user},
				{"MFAUsed", "Yes"},
			}},
			{"eventID", uuid4("event", o.label)},
			{"readOnly", false},
			{"eventType", "AwsConsoleSignIn"},
			{"managementEvent", true},
			{"recipientAccountId", o.acct},
			{"eventCategory", "Management"},
			{"tlsDetails", tls("us-east-1.signin.aws.amazon.com")},
		}
	case "console":
		rec = apiRecord(apiCall{label: o.label, api: o.api, acct: o.acct, region: region, at: at,
			ui: iamUser(o.user, true), ip: users[o.user], agent: agents["console"], caller: "arn:aws:iam::" + identAcct + ":user/" + o.user})
		rec = rec.after("tlsDetails", "sessionCredentialFromConsole", "true")
	case "service":
		rec = apiRecord(apiCall{label: o.label, api: o.api, acct: o.acct, region: region, at: at,
			ui: obj{{"type", "AWSService"}, {"invokedBy", o.invokedBy}}, ip: o.invokedBy, agent: o.invokedBy})
		rec = rec.del("tlsDetails")
	default:
		fail(fmt.Errorf("%s: unknown kind %s", o.label, o.kind))
	}
	g.add(&event{label: o.label, rec: rec, acct: o.acct, region: region, at: at, sinks: sinks(o.in)})
}

// ---- service calls ----

type apiCall struct {
	label, api, acct, region string
	at                       time.Time
	ui                       obj
	ip, agent, caller        string
	denied                   bool
}

// apiRecord builds the CloudTrail record of one service call, shaped like the real service's.
func apiRecord(c apiCall) obj {
	svc, action, _ := strings.Cut(c.api, ":")
	source := svc + ".amazonaws.com"
	host := svc + "." + c.region + ".amazonaws.com"
	ver := map[string]string{"s3": "1.10", "ec2": "1.09"}[svc]
	if ver == "" {
		ver = "1.08"
	}
	readOnly, data := true, false
	var params, resp, extra any
	var resources []any
	requestID := uuid4("request", c.label)
	denyCode, denyMsg := "AccessDenied", fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %%s because no identity-based policy allows the %s action", c.caller, c.api, c.api)
	denyOn := ""

	switch c.api {
	case "s3:ListBuckets", "s3:GetObject", "s3:PutObject", "s3:DeleteObject":
		b := s3Bucket(c.acct, c.region)
		key := s3Key(action)
		requestID = alnumUpper(16, "s3req", c.label)
		host = "s3." + c.region + ".amazonaws.com"
		c.agent = "[" + c.agent + "]" // S3 wraps the user agent in brackets
		if action == "ListBuckets" {
			params = obj{{"Host", host}}
		} else {
			data = true
			host = b + ".s3." + c.region + ".amazonaws.com"
			params = obj{{"bucketName", b}, {"Host", host}, {"key", key}}
			resources = []any{
				obj{{"type", "AWS::S3::Object"}, {"ARN", "arn:aws:s3:::" + b + "/" + key}},
				obj{{"accountId", c.acct}, {"type", "AWS::S3::Bucket"}, {"ARN", "arn:aws:s3:::" + b}},
			}
		}
		in, out := 0, 0
		switch action {
		case "ListBuckets":
			out = 612
		case "GetObject":
			out = 48213
		case "PutObject":
			readOnly = false
			in = 18034
			resp = obj{{"x-amz-server-side-encryption", "AES256"}, {"x-amz-version-id", alnumMixed(32, "ver", c.label)}}
		case "DeleteObject":
			readOnly = false
		}
		extra = obj{{"SignatureVersion", "SigV4"}, {"CipherSuite", "TLS_AES_128_GCM_SHA256"}, {"bytesTransferredIn", in},
			{"AuthenticationMethod", "AuthHeader"}, {"x-amz-id-2", base64.StdEncoding.EncodeToString(sum("amzid2", c.label))}, {"bytesTransferredOut", out}}
		denyMsg = "Access Denied"
	case "ec2:DescribeInstances":
		params = obj{{"instancesSet", obj{}}, {"filterSet", obj{}}}
		denyCode, denyMsg = "Client.UnauthorizedOperation", "You are not authorized to perform this operation."
	case "ec2:DescribeInstanceStatus":
		params = obj{{"instancesSet", obj{{"items", []any{obj{{"instanceId", "i-0" + hex.EncodeToString(sum("i", c.label))[:16]}}}}}}, {"filterSet", obj{}}, {"includeAllInstances", false}}
	case "iam:ListRoles", "iam:ListUsers", "iam:GetAccountSummary":
		host = "iam.amazonaws.com"
		denyOn = "arn:aws:iam::" + c.acct + ":role/"
	case "iam:PutRolePolicy":
		host = "iam.amazonaws.com"
		readOnly = false
		params = obj{{"roleName", "ProdReadOnly"}, {"policyName", "debug-temp"},
			{"policyDocument", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}}
		denyOn = "role ProdReadOnly"
	case "iam:CreateAccessKey":
		host = "iam.amazonaws.com"
		readOnly = false
		params = obj{{"userName", "svc-deploy"}}
		resp = obj{{"accessKey", obj{{"accessKeyId", "AKIA" + b32(16, "newkey", c.label)}, {"status", "Active"}, {"userName", "svc-deploy"},
			{"createDate", c.at.Add(time.Second).Format(awsExp)}}}}
		denyOn = "user svc-deploy"
	case "kms:Decrypt":
		k := kmsKey(c.acct, c.region)
		params = obj{{"encryptionAlgorithm", "SYMMETRIC_DEFAULT"}}
		resources = []any{obj{{"accountId", c.acct}, {"type", "AWS::KMS::Key"}, {"ARN", k}}}
		denyCode = "AccessDeniedException"
		denyMsg = fmt.Sprintf("User: %s is not authorized to perform: kms:Decrypt on this resource because the resource does not exist in this Region, no resource-based policies allow access, or a resource-based policy explicitly denies access", c.caller)
	case "kms:GenerateDataKey":
		k := kmsKey(c.acct, c.region)
		params = obj{{"keySpec", "AES_256"}, {"encryptionContext", obj{{"aws:cloudtrail:arn", "arn:aws:cloudtrail:us-east-1:" + identAcct + ":trail/" + trailName}}}, {"keyId", k}}
		resources = []any{obj{{"accountId", c.acct}, {"type", "AWS::KMS::Key"}, {"ARN", k}}}
	case "dynamodb:GetItem":
		data = true
		t := "arn:aws:dynamodb:" + c.region + ":" + c.acct + ":table/" + ddbTable(c.acct)
		params = obj{{"tableName", ddbTable(c.acct)}, {"key", obj{{"pk", "ORDER#" + strconv.Itoa(1000+int(sum("pk", c.label)[0]))}}}, {"consistentRead", false}}
		resources = []any{obj{{"accountId", c.acct}, {"type", "AWS::DynamoDB::Table"}, {"ARN", t}}}
		denyCode = "AccessDeniedException"
		denyOn = t
	case "secretsmanager:GetSecretValue":
		s := "arn:aws:secretsmanager:" + c.region + ":" + c.acct + ":secret:app/db-password-" + alnumMixed(6, "secret", c.acct)
		params = obj{{"secretId", s}}
		denyOn = s
	default:
		fail(fmt.Errorf("%s: no shape for %s", c.label, c.api))
	}

	rec := obj{
		{"eventVersion", ver},
		{"userIdentity", c.ui},
		{"eventTime", c.at.Format(ctTime)},
		{"eventSource", source},
		{"eventName", action},
		{"awsRegion", c.region},
		{"sourceIPAddress", c.ip},
		{"userAgent", c.agent},
	}
	if c.denied {
		if strings.Contains(denyMsg, "%s") {
			denyMsg = fmt.Sprintf(denyMsg, denyOn)
		}
		rec = append(rec, kv{"errorCode", denyCode}, kv{"errorMessage", denyMsg})
		resp = nil
	}
	rec = append(rec, kv{"requestParameters", params}, kv{"responseElements", resp})
	if extra != nil {
		rec = append(rec, kv{"additionalEventData", extra})
	}
	rec = append(rec, kv{"requestID", requestID}, kv{"eventID", uuid4("event", c.label)}, kv{"readOnly", readOnly})
	if resources != nil {
		rec = append(rec, kv{"resources", resources})
	}
	category := "Management"
	if data {
		category = "Data"
	}
	rec = append(rec,
		kv{"eventType", "AwsApiCall"},
		kv{"managementEvent", !data},
		kv{"recipientAccountId", c.acct},
		kv{"eventCategory", category},
		kv{"tlsDetails", tls(host)},
	)
	return rec
}

func s3Bucket(acct, region string) string {
	name := map[string]string{prodAcct: "acme-prod-reports", stgAcct: "acme-staging-artifacts", devAcct: "acme-dev-scratch"}[acct]
	if region != useast1 {
		name += "-euw1"
	}
	return name
}

func s3Key(action string) string {
	switch action {
	case "PutObject":
		return "builds/2026-11/app.tar.gz"
	case "DeleteObject":
		return "audit/2026-11/access-log.json"
	}
	return "reports/2026-11/revenue.csv"
}

func ddbTable(acct string) string {
	return map[string]string{prodAcct: "orders", stgAcct: "orders-staging", devAcct: "scratch-items"}[acct]
}

func kmsKey(acct, region string) string {
	return "arn:aws:kms:" + region + ":" + acct + ":key/" + uuid4("kms", acct, region)
}

func tls(host string) obj {
	return obj{{"tlsVersion", "TLSv1.3"}, {"cipherSuite", "TLS_AES_128_GCM_SHA256"}, {"clientProvidedHostHeader", host}}
}

func roleID(r role) string { return "AROA" + b32(17, "aroa", r.arn) }

func assumedARN(r role, session string) string {
	return "arn:aws:sts::" + r.acct + ":assumed-role/" + r.name + "/" + session
}

func sessionToken(label string) string {
	var b []byte
	for i := 0; i < 4; i++ {
		b = append(b, sum("token", label, strconv.Itoa(i))...)
	}
	return "IQoJb3JpZ2luX2VjE" + base64.StdEncoding.EncodeToString(b)
}
