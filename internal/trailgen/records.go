package trailgen

import (
	"strconv"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/sourceid"
)

// account is one account of the organization with its roles and resources.
type account struct {
	id      string
	label   string // prod, staging, ...
	roles   [3]role
	buckets [3]string
	tables  [3]string
	secrets [2]string
}

type role struct {
	name    string
	profile string
	arn     string
	id      string // AROA...
}

var accountLabels = []string{"prod", "staging", "dev", "security"}

// Roles of every account: <Label>Admin, <Label>ReadOnly, <Label>Deploy, picked with these weights.
var (
	roleSuffixes = [3]string{"Admin", "ReadOnly", "Deploy"}
	roleProfiles = [3]string{"", "-readonly", "-deploy"}
	roleWeights  = [3]int{30, 45, 25}
)

func makeAccounts(ids []string, seed uint64) []account {
	out := make([]account, len(ids))
	for i, id := range ids {
		a := &out[i]
		a.id = id
		a.label = "acct" + strconv.Itoa(i+1)
		if i < len(accountLabels) {
			a.label = accountLabels[i]
		}
		title := strings.ToUpper(a.label[:1]) + a.label[1:]
		for j := range a.roles {
			r := &a.roles[j]
			r.name = title + roleSuffixes[j]
			r.profile = a.label + roleProfiles[j]
			r.arn = "arn:aws:iam::" + id + ":role/" + r.name
			v := mix(salt(seed, tagStatic) + uint64(i)<<8 + uint64(j))
			r.id = string(appendKeyID(nil, "AROA", v, mix(v)))
		}
		a.buckets = [3]string{a.label + "-data-" + id, a.label + "-logs-" + id, a.label + "-artifacts-" + id}
		a.tables = [3]string{a.label + "-orders", a.label + "-customers", a.label + "-feature-flags"}
		a.secrets = [2]string{a.label + "/db/password", a.label + "/api/token"}
	}
	return out
}

// user is an IAM user of the identity account (the first account).
type user struct {
	name string
	ip   string
}

var users = func() []user {
	names := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
		"mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yasmin",
		"jane.doe@example.com", "svc-deploy"}
	out := make([]user, len(names))
	for i, n := range names {
		ip := "198.51.100." + strconv.Itoa(10+i*7)
		if i%3 == 2 {
			ip = "203.0.113." + strconv.Itoa(20+i*5)
		}
		out[i] = user{name: n, ip: ip}
	}
	return out
}()

// agents are the tools that use the issued credentials.
var agents = []string{
	"aws-cli/2.15.30 Python/3.11.8 Darwin/23.4.0 exe/x86_64 prompt/off command/s3.cp",
	"Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69",
	"APN/1.0 HashiCorp/1.0 Terraform/1.13.3 (+https://www.terraform.io) terraform-provider-aws/6.14.1 aws-sdk-go-v2/1.39.2 os/linux lang/go#1.24.6",
	"aws-sdk-go-v2/1.48.0 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64",
	"aws-cli/2.31.4 md/awscrt#0.27.6 ua/2.1 os/linux#6.8.0-1031-aws md/arch#x86_64 lang/python#3.13.7 m/E,b",
}

const (
	sentinelAgent = "aws-sdk-go-v2/1.48.0 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/sts#1.51.9 m/E app/sentinel#0.9.0"
	oktaAgent     = "okta-aws-cli/2.5.0 aws-sdk-go-v2/1.36.3 ua/2.1 os/macos lang/go#1.24.2 md/GOOS#darwin md/GOARCH#arm64 api/sts#1.33.19"
	cipherSuite   = "TLS_AES_128_GCM_SHA256"
)

// generator writes records. Each worker has its own.
type generator struct {
	p    *plan
	w    jw
	cur  int // session whose info is cached; -1 for none
	info sessionInfo
	arn  []byte // scratch: the resource an activity call is about
}

// sessionInfo is what every record of one role session repeats.
type sessionInfo struct {
	s              *session
	acct           *account
	role           *role
	user           *user
	sessionID      string // kind s id, or kind r request id
	sourceIdentity string
	sessionName    string
	accessKey      string // the issued key
	assumedARN     string
	identity       []byte // the activity records' userIdentity object
}

func newGenerator(p *plan) *generator {
	return &generator{p: p, cur: -1, w: jw{b: make([]byte, 0, 4096)}}
}

// file produces the records of fp in order, passing each with its event time to sink.
func (g *generator) file(fp filePlan, sink func(rec []byte, t int64) error) error {
	p := g.p
	regions := len(p.cfg.Regions)
	list := p.byAccount[fp.account]
	pos, skip, left, ordinal := fp.pos, fp.skip, fp.n, fp.ordinal
	for left > 0 {
		si := int(list[pos])
		iss := 0
		if fp.region == p.issueRegion {
			iss = 1
		}
		c := int(p.counts[si*regions+fp.region])
		for e := skip; e < c+iss && left > 0; e++ {
			var t int64
			if e < iss {
				t = g.issuance(si, ordinal)
			} else {
				t = g.activity(si, fp.region, e-iss, c, ordinal)
			}
			if err := sink(g.w.b, t); err != nil {
				return err
			}
			left--
			ordinal++
		}
		pos++
		skip = 0
	}
	return nil
}

// id is a per-purpose bijection of i: distinct i give distinct ids.
func (p *plan) id(tag uint64, i int64) uint64 { return mix(salt(p.seed, tag) ^ uint64(i)) }

func (g *generator) session(si int) *sessionInfo {
	if g.cur == si {
		return &g.info
	}
	p := g.p
	s := &p.sessions[si]
	in := &g.info
	*in = sessionInfo{s: s, acct: &p.accounts[s.account], user: &users[s.user], identity: in.identity[:0]}
	in.role = &in.acct.roles[s.role]
	k := p.id(tagAccessKey, int64(si))
	in.accessKey = string(appendKeyID(nil, "ASIA", k, mix(k)))
	u := in.user.name
	switch s.class {
	case classTracked, classOrphaned:
		in.sessionID = string(appendHex(nil, p.id(tagSessionID, int64(si)), 16))
	case classUntracked, classFailed:
		in.sessionID = string(appendHex(nil, p.id(tagRequestID, int64(si)), 16))
	}
	in.sessionName = "sentinel-" + sourceid.SanitizeUser(u)
	switch s.class {
	case classTracked:
		if s.variant%10 == 0 {
			in.sourceIdentity = "sentinel-" + in.sessionID // the short form
		} else {
			in.sourceIdentity, _ = sourceid.Mint(sourceid.KindSession, in.sessionID, u)
		}
	case classOrphaned:
		in.sourceIdentity, _ = sourceid.Mint(sourceid.KindSession, in.sessionID, u)
	case classUntracked:
		in.sourceIdentity, _ = sourceid.Mint(sourceid.KindRequest, in.sessionID, u)
	case classFailed:
		if s.variant%2 == 0 {
			in.sourceIdentity, _ = sourceid.Mint(sourceid.KindRequest, in.sessionID, u)
		}
	case classForeign:
		in.sessionName = "okta-" + sourceid.SanitizeUser(u)
		in.sourceIdentity = foreignIdentity(s.variant, u, p.id(tagSessionID, int64(si)))
	case classNone:
		in.sessionName = sourceid.SanitizeUser(u)
		if s.variant%2 == 0 {
			in.sessionName = "botocore-session-" + strconv.FormatInt(s.at, 10)
		}
	}
	if len(in.sessionName) > 64 {
		in.sessionName = in.sessionName[:64]
	}
	in.assumedARN = "arn:aws:sts::" + in.acct.id + ":assumed-role/" + in.role.name + "/" + in.sessionName

	w := jw{b: in.identity}
	w.b = append(w.b, '{')
	w.str("type", "AssumedRole")
	w.str("principalId", in.role.id+":"+in.sessionName)
	w.str("arn", in.assumedARN)
	w.str("accountId", in.acct.id)
	w.str("accessKeyId", in.accessKey)
	w.obj("sessionContext")
	w.obj("sessionIssuer")
	w.str("type", "Role")
	w.str("principalId", in.role.id)
	w.str("arn", in.role.arn)
	w.str("accountId", in.acct.id)
	w.str("userName", in.role.name)
	w.end()
	w.raw("webIdFederationData", "{}")
	w.obj("attributes")
	w.time("creationDate", s.at)
	w.str("mfaAuthenticated", strconv.FormatBool(s.variant%5 == 0))
	w.end()
	if in.sourceIdentity != "" {
		w.str("sourceIdentity", in.sourceIdentity)
	}
	w.end()
	w.end()
	in.identity = w.b
	g.cur = si
	return in
}

// foreignIdentity is a SourceIdentity set by something other than Sentinel, some of them close
// to Sentinel's grammar on purpose.
func foreignIdentity(variant uint8, user string, v uint64) string {
	u := sourceid.SanitizeUser(user)
	switch variant % 5 {
	case 0:
		return "okta-" + strings.ReplaceAll(u, "@", "_at_") + "@example.com"
	case 1:
		return u
	case 2:
		return "sentinel-x-" + string(appendHex(nil, v, 16)) // unknown kind
	case 3:
		return "sentinel-s-" + string(appendHex(nil, v, 15)) + "-" + u // id one digit short
	default:
		return "SENTINEL-S-" + strings.ToUpper(string(appendHex(nil, v, 16))) // wrong case
	}
}

// issuance writes session si's AssumeRole record into g.w.b and returns its time.
func (g *generator) issuance(si int, ordinal int64) int64 {
	in := g.session(si)
	s := in.s
	r := newRNG(g.p.seed, tagIssuance, uint64(si), 0)
	ident := &g.p.accounts[0]
	w := &g.w
	w.b = append(w.b[:0], '{')
	w.str("eventVersion", "1.08")
	w.obj("userIdentity")
	w.str("type", "IAMUser")
	uid := mix(salt(g.p.seed, tagStatic) + 0xfff00 + uint64(s.user))
	w.open("principalId")
	w.b = appendKeyID(w.b, "AIDA", uid, mix(uid+1))
	w.closeStr()
	w.str("arn", "arn:aws:iam::"+ident.id+":user/"+in.user.name)
	w.str("accountId", ident.id)
	w.open("accessKeyId")
	w.b = appendKeyID(w.b, "AKIA", mix(uid+2), mix(uid+3))
	w.closeStr()
	w.str("userName", in.user.name)
	w.end()
	w.time("eventTime", s.at)
	w.str("eventSource", "sts.amazonaws.com")
	w.str("eventName", "AssumeRole")
	w.str("awsRegion", g.p.cfg.Regions[g.p.issueRegion])
	w.str("sourceIPAddress", in.user.ip)
	agent := sentinelAgent
	switch s.class {
	case classNone:
		agent = agents[s.agent]
	case classForeign:
		agent = oktaAgent
	}
	w.str("userAgent", agent)
	duration := int64(3600)
	if s.class == classNone && s.variant%4 == 1 {
		duration = 43200
	}
	if s.class == classFailed {
		w.str("errorCode", "AccessDenied")
		w.str("errorMessage", "User: arn:aws:iam::"+ident.id+":user/"+in.user.name+" is not authorized to perform: sts:AssumeRole on resource: "+in.role.arn)
	}
	w.obj("requestParameters")
	w.str("roleArn", in.role.arn)
	w.str("roleSessionName", in.sessionName)
	w.int("durationSeconds", duration)
	if in.sourceIdentity != "" {
		w.str("sourceIdentity", in.sourceIdentity)
	}
	w.end()
	if s.class == classFailed {
		w.null("responseElements")
	} else {
		w.obj("responseElements")
		w.obj("credentials")
		w.str("accessKeyId", in.accessKey)
		w.open("sessionToken")
		w.b = append(w.b, "IQoJb3JpZ2luX2Vj"...)
		w.b = appendBase64(w.b, &r, 228)
		w.closeStr()
		w.open("expiration")
		w.b = time.Unix(s.at+duration, 0).UTC().AppendFormat(w.b, "Jan 2, 2006, 3:04:05 PM")
		w.closeStr()
		w.end()
		w.obj("assumedRoleUser")
		w.str("assumedRoleId", in.role.id+":"+in.sessionName)
		w.str("arn", in.assumedARN)
		w.end()
		if in.sourceIdentity != "" {
			w.str("sourceIdentity", in.sourceIdentity)
		}
		w.end()
	}
	w.open("requestID")
	w.b = appendUUID(w.b, r.next(), r.next())
	w.closeStr()
	g.eventID(ordinal)
	w.boolean("readOnly", true)
	w.arr("resources")
	w.elem()
	w.str("accountId", in.acct.id)
	w.str("type", "AWS::IAM::Role")
	w.str("ARN", in.role.arn)
	w.end()
	w.endArr()
	w.str("eventType", "AwsApiCall")
	w.boolean("managementEvent", true)
	w.str("recipientAccountId", in.acct.id)
	if in.acct.id != ident.id {
		w.open("sharedEventID")
		w.b = appendUUID(w.b, r.next(), r.next())
		w.closeStr()
	}
	w.str("eventCategory", "Management")
	g.tls("sts.amazonaws.com")
	w.end()
	return s.at
}

func (g *generator) eventID(ordinal int64) {
	g.w.open("eventID")
	g.w.b = appendUUID(g.w.b, g.p.id(tagEventID, ordinal), mix(uint64(ordinal)^g.p.seed))
	g.w.closeStr()
}

func (g *generator) tls(host string) {
	w := &g.w
	w.obj("tlsDetails")
	w.str("tlsVersion", "TLSv1.3")
	w.str("cipherSuite", cipherSuite)
	w.str("clientProvidedHostHeader", host)
	w.end()
}

// The calls role sessions make.
const (
	callS3GetObject = iota
	callS3PutObject
	callS3ListBuckets
	callS3DeleteObject
	callEC2DescribeInstances
	callEC2DescribeSecurityGroups
	callEC2StopInstances
	callIAMListRoles
	callIAMGetRole
	callIAMPutRolePolicy
	callIAMCreateAccessKey
	callKMSDecrypt
	callKMSGenerateDataKey
	callDDBGetItem
	callDDBPutItem
	callDDBQuery
	callSTSGetCallerIdentity
	callSMGetSecretValue
	numCalls
)

type call struct {
	service  string // IAM action prefix; eventSource is service + ".amazonaws.com"
	name     string
	weight   int
	readOnly bool
	data     bool   // a data event
	global   bool   // recorded in us-east-1 only
	version  string // the eventVersion its records usually carry
	denied   string // errorCode when access is denied
}

var calls = [numCalls]call{
	callS3GetObject:               {"s3", "GetObject", 160, true, true, false, "1.10", "AccessDenied"},
	callS3PutObject:               {"s3", "PutObject", 60, false, true, false, "1.10", "AccessDenied"},
	callS3ListBuckets:             {"s3", "ListBuckets", 40, true, false, false, "1.10", "AccessDenied"},
	callS3DeleteObject:            {"s3", "DeleteObject", 10, false, true, false, "1.10", "AccessDenied"},
	callEC2DescribeInstances:      {"ec2", "DescribeInstances", 100, true, false, false, "1.10", "Client.UnauthorizedOperation"},
	callEC2DescribeSecurityGroups: {"ec2", "DescribeSecurityGroups", 40, true, false, false, "1.10", "Client.UnauthorizedOperation"},
	callEC2StopInstances:          {"ec2", "StopInstances", 8, false, false, false, "1.10", "Client.UnauthorizedOperation"},
	callIAMListRoles:              {"iam", "ListRoles", 40, true, false, true, "1.08", "AccessDenied"},
	callIAMGetRole:                {"iam", "GetRole", 30, true, false, true, "1.08", "AccessDenied"},
	callIAMPutRolePolicy:          {"iam", "PutRolePolicy", 5, false, false, true, "1.08", "AccessDenied"},
	callIAMCreateAccessKey:        {"iam", "CreateAccessKey", 3, false, false, true, "1.08", "AccessDenied"},
	callKMSDecrypt:                {"kms", "Decrypt", 100, true, false, false, "1.08", "AccessDeniedException"},
	callKMSGenerateDataKey:        {"kms", "GenerateDataKey", 50, true, false, false, "1.08", "AccessDeniedException"},
	callDDBGetItem:                {"dynamodb", "GetItem", 80, true, true, false, "1.08", "AccessDenied"},
	callDDBPutItem:                {"dynamodb", "PutItem", 30, false, true, false, "1.08", "AccessDenied"},
	callDDBQuery:                  {"dynamodb", "Query", 40, true, true, false, "1.08", "AccessDenied"},
	callSTSGetCallerIdentity:      {"sts", "GetCallerIdentity", 60, true, false, false, "1.08", ""},
	callSMGetSecretValue:          {"secretsmanager", "GetSecretValue", 50, true, false, false, "1.10", "AccessDenied"},
}

var callWeights = func() []int {
	w := make([]int, numCalls)
	for i, c := range calls {
		w[i] = c.weight
	}
	return w
}()

var eventSources = func() [numCalls]string {
	var s [numCalls]string
	for i, c := range calls {
		s[i] = c.service + ".amazonaws.com"
	}
	return s
}()

const policyDocument = `"{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": [\"s3:GetObject\", \"s3:PutObject\"],\n      \"Resource\": \"arn:aws:s3:::*\"\n    }\n  ]\n}"`

var objectPrefixes = []string{"reports/daily/", "exports/customers/", "builds/service-api/", "raw/events/", "backups/postgres/"}
var objectSuffixes = []string{".parquet", ".csv.gz", ".tar.gz", ".json", ".dump"}

// activity writes the j-th of the c calls that session si made in region reg into g.w.b and
// returns its time.
func (g *generator) activity(si, reg, j, c int, ordinal int64) int64 {
	in := g.session(si)
	s, a := in.s, in.acct
	region := g.p.cfg.Regions[reg]
	r := newRNG(g.p.seed, tagActivity, uint64(si), uint64(reg)<<32|uint64(j))
	t := s.at + 1 + int64(j+1)*int64(s.span)/int64(c+1)
	k := pickWeighted(&r, callWeights)
	if calls[k].global && region != "us-east-1" {
		k = callEC2DescribeInstances
	}
	cl := &calls[k]
	version := cl.version
	if r.chance(0.15) {
		version = "1.09"
	}
	denied := cl.denied != "" && r.chance(errorRate)

	// What the call is about.
	var bucket, objectKey, table, name string
	g.arn = g.arn[:0]
	switch cl.service {
	case "s3":
		bucket = a.buckets[r.intn(len(a.buckets))]
		if k != callS3ListBuckets {
			b := []byte(objectPrefixes[r.intn(len(objectPrefixes))])
			b = time.Unix(t, 0).UTC().AppendFormat(b, "2006/01/02/")
			b = append(b, "part-"...)
			b = strconv.AppendInt(b, int64(r.intn(100000)), 10)
			b = append(b, objectSuffixes[r.intn(len(objectSuffixes))]...)
			objectKey = string(b)
			g.arn = append(append(append(g.arn, "arn:aws:s3:::"...), bucket...), '/')
			g.arn = append(g.arn, objectKey...)
		}
	case "iam":
		switch k {
		case callIAMGetRole, callIAMPutRolePolicy:
			name = a.roles[r.intn(len(a.roles))].name
			g.arn = append(g.arn, "arn:aws:iam::"+a.id+":role/"+name...)
		case callIAMCreateAccessKey:
			name = users[r.intn(len(users))].name
			g.arn = append(g.arn, "arn:aws:iam::"+a.id+":user/"+name...)
		default:
			g.arn = append(g.arn, "arn:aws:iam::"+a.id+":role/"...)
		}
	case "kms":
		g.arn = append(g.arn, "arn:aws:kms:"+region+":"+a.id+":key/"...)
		kv := mix(salt(g.p.seed, tagStatic) + uint64(s.account)<<16 + uint64(reg)<<8 + uint64(r.intn(3)))
		g.arn = appendUUID(g.arn, kv, mix(kv))
	case "dynamodb":
		table = a.tables[r.intn(len(a.tables))]
		g.arn = append(g.arn, "arn:aws:dynamodb:"+region+":"+a.id+":table/"+table...)
	case "secretsmanager":
		name = a.secrets[r.intn(len(a.secrets))]
		g.arn = append(g.arn, "arn:aws:secretsmanager:"+region+":"+a.id+":secret:"+name+"-"...)
		g.arn = appendAlnum(g.arn, &r, alnumDigits, 6)
	}

	w := &g.w
	w.b = append(w.b[:0], '{')
	w.str("eventVersion", version)
	w.raw("userIdentity", "")
	w.b = append(w.b, in.identity...)
	w.time("eventTime", t)
	w.str("eventSource", eventSources[k])
	w.str("eventName", cl.name)
	w.str("awsRegion", region)
	w.str("sourceIPAddress", in.user.ip)
	w.str("userAgent", agents[s.agent])
	if denied {
		w.str("errorCode", cl.denied)
		w.open("errorMessage")
		switch cl.service {
		case "s3":
			w.b = append(w.b, "Access Denied"...)
		case "ec2":
			w.b = append(w.b, "You are not authorized to perform this operation. User: "+in.assumedARN+" is not authorized to perform: ec2:"+cl.name+" because no identity-based policy allows the ec2:"+cl.name+" action"...)
		default:
			w.b = append(w.b, "User: "+in.assumedARN+" is not authorized to perform: "+cl.service+":"+cl.name+" on resource: "...)
			w.b = append(w.b, g.arn...)
			w.b = append(w.b, " because no identity-based policy allows the "+cl.service+":"+cl.name+" action"...)
		}
		w.closeStr()
	}

	host := cl.service + "." + region + ".amazonaws.com"
	switch k {
	case callS3GetObject, callS3PutObject, callS3DeleteObject:
		host = bucket + ".s3." + region + ".amazonaws.com"
		w.obj("requestParameters")
		w.str("bucketName", bucket)
		w.str("Host", host)
		w.str("key", objectKey)
		if k == callS3PutObject {
			w.str("x-amz-server-side-encryption", "aws:kms")
		}
		w.end()
		if k == callS3PutObject && !denied {
			w.obj("responseElements")
			w.str("x-amz-server-side-encryption", "aws:kms")
			w.open("x-amz-version-id")
			w.b = appendAlnum(w.b, &r, alnumDigits, 32)
			w.closeStr()
			w.end()
		} else {
			w.null("responseElements")
		}
		g.s3Extra(&r, k, denied)
	case callS3ListBuckets:
		host = "s3." + region + ".amazonaws.com"
		w.obj("requestParameters")
		w.str("Host", host)
		w.end()
		w.null("responseElements")
		g.s3Extra(&r, k, denied)
	case callEC2DescribeInstances:
		w.obj("requestParameters")
		w.raw("instancesSet", "{}")
		if r.chance(0.3) {
			w.raw("filterSet", `{"items":[{"name":"instance-state-name","valueSet":{"items":[{"value":"running"}]}}]}`)
		} else {
			w.raw("filterSet", "{}")
		}
		w.end()
		w.null("responseElements")
	case callEC2DescribeSecurityGroups:
		w.obj("requestParameters")
		w.raw("securityGroupSet", "{}")
		w.raw("securityGroupIdSet", "{}")
		w.raw("filterSet", "{}")
		w.end()
		w.null("responseElements")
	case callEC2StopInstances:
		id := "i-0" + string(appendHex(nil, r.next(), 16))
		w.obj("requestParameters")
		w.raw("instancesSet", `{"items":[{"instanceId":"`+id+`"}]}`)
		w.boolean("force", false)
		w.end()
		if denied {
			w.null("responseElements")
		} else {
			w.obj("responseElements")
			w.open("requestId")
			w.b = appendUUID(w.b, r.next(), r.next())
			w.closeStr()
			w.raw("instancesSet", `{"items":[{"instanceId":"`+id+`","currentState":{"code":64,"name":"stopping"},"previousState":{"code":16,"name":"running"}}]}`)
			w.end()
		}
	case callIAMListRoles:
		host = "iam.amazonaws.com"
		w.null("requestParameters")
		w.null("responseElements")
	case callIAMGetRole:
		host = "iam.amazonaws.com"
		w.obj("requestParameters")
		w.str("roleName", name)
		w.end()
		w.null("responseElements")
	case callIAMPutRolePolicy:
		host = "iam.amazonaws.com"
		w.obj("requestParameters")
		w.str("roleName", name)
		w.str("policyName", "inline-s3-access")
		w.raw("policyDocument", policyDocument)
		w.end()
		w.null("responseElements")
	case callIAMCreateAccessKey:
		host = "iam.amazonaws.com"
		w.obj("requestParameters")
		w.str("userName", name)
		w.end()
		if denied {
			w.null("responseElements")
		} else {
			w.obj("responseElements")
			w.obj("accessKey")
			w.open("accessKeyId")
			w.b = appendKeyID(w.b, "AKIA", r.next(), r.next())
			w.closeStr()
			w.str("status", "Active")
			w.str("userName", name)
			w.open("createDate")
			w.b = time.Unix(t, 0).UTC().AppendFormat(w.b, "Jan 2, 2006, 3:04:05 PM")
			w.closeStr()
			w.end()
			w.end()
		}
	case callKMSDecrypt, callKMSGenerateDataKey:
		w.obj("requestParameters")
		if k == callKMSGenerateDataKey {
			w.strB("keyId", g.arn)
			w.str("keySpec", "AES_256")
		}
		w.obj("encryptionContext")
		w.str("aws:s3:arn", "arn:aws:s3:::"+a.buckets[r.intn(len(a.buckets))])
		w.end()
		w.str("encryptionAlgorithm", "SYMMETRIC_DEFAULT")
		w.end()
		w.null("responseElements")
	case callDDBGetItem, callDDBPutItem, callDDBQuery:
		w.obj("requestParameters")
		w.str("tableName", table)
		pk := strconv.Itoa(100000 + r.intn(900000))
		switch k {
		case callDDBGetItem:
			w.raw("key", `{"pk":"ID#`+pk+`","sk":"META"}`)
			w.boolean("consistentRead", r.chance(0.3))
			w.str("projectionExpression", "#n0, #n1, updatedAt")
		case callDDBPutItem:
			w.raw("key", `{"pk":"ID#`+pk+`","sk":"META"}`)
			w.str("conditionExpression", "attribute_not_exists(pk)")
		default:
			w.str("keyConditionExpression", "pk = :pk AND begins_with(sk, :prefix)")
			w.int("limit", 100)
			w.boolean("scanIndexForward", false)
		}
		w.end()
		w.null("responseElements")
	case callSTSGetCallerIdentity:
		w.null("requestParameters")
		w.null("responseElements")
	case callSMGetSecretValue:
		w.obj("requestParameters")
		w.strB("secretId", g.arn)
		w.end()
		w.null("responseElements")
	}

	w.open("requestID")
	if cl.service == "s3" {
		w.b = appendAlnum(w.b, &r, upperAlnum, 16)
	} else {
		w.b = appendUUID(w.b, r.next(), r.next())
	}
	w.closeStr()
	g.eventID(ordinal)
	w.boolean("readOnly", cl.readOnly)
	switch cl.service {
	case "s3":
		w.arr("resources")
		if objectKey != "" {
			w.elem()
			w.str("type", "AWS::S3::Object")
			w.strB("ARN", g.arn)
			w.end()
		}
		w.elem()
		w.str("accountId", a.id)
		w.str("type", "AWS::S3::Bucket")
		w.str("ARN", "arn:aws:s3:::"+bucket)
		w.end()
		w.endArr()
	case "kms", "dynamodb":
		w.arr("resources")
		w.elem()
		w.str("accountId", a.id)
		if cl.service == "kms" {
			w.str("type", "AWS::KMS::Key")
		} else {
			w.str("type", "AWS::DynamoDB::Table")
		}
		w.strB("ARN", g.arn)
		w.end()
		w.endArr()
	}
	w.str("eventType", "AwsApiCall")
	w.boolean("managementEvent", !cl.data)
	w.str("recipientAccountId", a.id)
	if version != "1.08" && s.agent == 2 && cl.service != "iam" {
		// Terraform runs in CI, inside a VPC: calls go through interface endpoints.
		w.open("vpcEndpointId")
		w.b = append(w.b, "vpce-0"...)
		w.b = appendHex(w.b, mix(uint64(s.account)<<8|uint64(reg)|g.p.seed), 16)
		w.closeStr()
		w.str("vpcEndpointAccountId", a.id)
	}
	if cl.data {
		w.str("eventCategory", "Data")
	} else {
		w.str("eventCategory", "Management")
	}
	g.tls(host)
	w.end()
	return t
}

// s3Extra writes S3's additionalEventData.
func (g *generator) s3Extra(r *rng, k int, denied bool) {
	w := &g.w
	w.obj("additionalEventData")
	w.str("SignatureVersion", "SigV4")
	w.str("CipherSuite", cipherSuite)
	in, out := int64(0), int64(0)
	if !denied {
		switch k {
		case callS3GetObject:
			out = int64(512 + r.intn(8<<20))
		case callS3PutObject:
			in = int64(512 + r.intn(8<<20))
		case callS3ListBuckets:
			out = int64(2000 + r.intn(6000))
		}
	}
	w.int("bytesTransferredIn", in)
	w.str("AuthenticationMethod", "AuthHeader")
	w.open("x-amz-id-2")
	w.b = appendBase64(w.b, r, 57)
	w.closeStr()
	w.int("bytesTransferredOut", out)
	w.end()
}
