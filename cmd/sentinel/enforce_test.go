package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	stsemu "github.com/sentinel-audit/sentinel/internal/emulator/sts"
	"github.com/sentinel-audit/sentinel/internal/testenv"
)

// The enforce stack: alice's base credentials are those of profile base in the shared
// credentials file; the environment holds the security team's static credentials.
const (
	enfAliceKey     = "AKIAALICEEXAMPLE0001"
	enfAliceSecret  = "alice-secret"
	enfAliceARN     = "arn:aws:iam::111122223333:user/alice"
	enfSecopsKey    = "AKIASECOPSEXAMPLE001"
	enfSecopsSecret = "secops-secret"
	enfSecopsARN    = "arn:aws:iam::111122223333:user/secops"
	enfProdRole     = "arn:aws:iam::111122223333:role/prod-admin"
	enfDevRole      = "arn:aws:iam::111122223333:role/dev"
	enfStagingRole  = "arn:aws:iam::111122223333:role/staging"
)

// enforceStack is the STS emulator, a fresh session table in dynalite, an AWS config file, a
// policy and the environment that points sentinel at them.
type enforceStack struct {
	sts *stsemu.Server
	// stsOffset is how far the emulator's clock runs ahead of the real one (nanoseconds).
	stsOffset atomic.Int64
	stsURL    string
	db        *dynamodb.Client
	table     string
	awsConfig string
	policy    string
	env       []string
	dir       string
}

// newEnforceStack builds the stack on the DynamoDB stand-in at ddbURL.
func newEnforceStack(t *testing.T, ddbURL string) *enforceStack {
	t.Helper()
	s := &enforceStack{dir: t.TempDir()}
	s.sts = stsemu.New(stsemu.Options{AllowAnyRole: true, Now: func() time.Time { return time.Now().Add(time.Duration(s.stsOffset.Load())) }})
	s.sts.SetCaller(enfAliceKey, enfAliceARN, "", "")
	s.sts.SetCaller(enfSecopsKey, enfSecopsARN, "", "")
	var stop func()
	var err error
	if s.stsURL, stop, err = s.sts.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	s.db = dynamodb.NewFromConfig(enfAWSConfig(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ddbURL) })
	s.table = enfCreateTable(t, s.db)
	s.awsConfig = enfWrite(t, s.dir, "aws-config", `[profile base]
region = us-east-1

[profile prod]
role_arn = `+enfProdRole+`
source_profile = base

[profile staging]
role_arn = `+enfStagingRole+`
source_profile = base

[profile dev]
role_arn = `+enfDevRole+`
credential_source = Environment
`)
	credentialsFile := enfWrite(t, s.dir, "aws-credentials", "[base]\naws_access_key_id = "+enfAliceKey+"\naws_secret_access_key = "+enfAliceSecret+"\n")
	s.policy = enfWrite(t, s.dir, "policy.yaml", `version: "1"
rules:
  - name: prod-tracked
    effect: require_server_session
    conditions: {profiles: [prod]}
    session_table: `+s.table+`
    reason: prod access must be revocable
  - name: dev-open
    effect: allow
    conditions: {profiles: [dev]}
`)
	s.env = []string{
		"AWS_ACCESS_KEY_ID=" + enfSecopsKey, "AWS_SECRET_ACCESS_KEY=" + enfSecopsSecret, "AWS_REGION=us-east-1",
		"AWS_ENDPOINT_URL_STS=" + s.stsURL, "AWS_ENDPOINT_URL_DYNAMODB=" + ddbURL,
		"AWS_CONFIG_FILE=" + s.awsConfig, "AWS_SHARED_CREDENTIALS_FILE=" + credentialsFile,
	}
	return s
}

func enfAWSConfig() aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(enfSecopsKey, enfSecopsSecret, "")}
}

func enfWrite(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// enfCreateTable creates a session table through the SDK and waits until it is active.
func enfCreateTable(t *testing.T, db *dynamodb.Client) string {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("sentinel-sessions-e2e-%d", time.Now().UnixNano())
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:             aws.String(name),
		AttributeDefinitions:  []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:             []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)},
	})
	if err != nil {
		t.Fatalf("create table: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err == nil && out.Table.TableStatus == types.TableStatusActive {
			return name
		}
		if time.Now().After(deadline) {
			t.Fatalf("table %s not active after 10s: %v", name, err)
		}
	}
}

// buildChildcreds builds enforce/testdata/childcreds, the SDK program run under sentinel exec.
func buildChildcreds(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "childcreds")
	build := exec.Command("go", "build", "-o", bin, "./enforce/testdata/childcreds")
	build.Dir = repoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build childcreds: %v\n%s", err, out)
	}
	return bin
}

// sentinelAsync runs the binary in the background; wait for it with awaitSentinel.
func sentinelAsync(t *testing.T, env []string, args ...string) <-chan result {
	ch := make(chan result, 1)
	go func() { ch <- sentinel(t, env, args...) }()
	return ch
}

func awaitSentinel(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("sentinel did not finish within 30s")
		return result{}
	}
}

// awaitFile waits for a file the child writes and returns its content.
func awaitFile(t *testing.T, path string, running <-chan result) string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if data, err := os.ReadFile(path); err == nil && len(data) > 0 {
			return string(data)
		}
		select {
		case r := <-running:
			t.Fatalf("sentinel exited %d before the command wrote %s\nstdout:\n%s\nstderr:\n%s", r.code, path, r.stdout, r.stderr)
		default:
		}
	}
	t.Fatalf("no %s after 20s", path)
	return ""
}

// sessionsJSON is what `sentinel server-sessions --format json` prints.
type sessionsJSON []struct {
	ID             string `json:"id"`
	User           string `json:"user"`
	Profile        string `json:"profile"`
	Status         string `json:"status"`
	RequestCount   int    `json:"request_count"`
	SourceIdentity string `json:"source_identity"`
	RevokedBy      string `json:"revoked_by"`
	RevokedReason  string `json:"revoked_reason"`
	RevokedAt      string `json:"revoked_at"`
}

func TestEnforceEndToEnd(t *testing.T) {
	child := buildChildcreds(t)
	testenv.EachDynamoDB(t, func(t *testing.T, ddbURL string) { testEnforceEndToEnd(t, newEnforceStack(t, ddbURL), child) })
}

func testEnforceEndToEnd(t *testing.T, s *enforceStack, child string) {

	t.Run("denials_are_exact_and_issue_nothing", func(t *testing.T) {
		head := `denied: rule "prod-tracked" (require_server_session) issues credentials for profile "prod" only through the credential server with a tracked session: prod access must be revocable` + "\n"
		tests := []struct {
			args []string
			want string
		}{
			{[]string{"exec", "--policy", s.policy, "--profile", "prod", "--", child, "-x"},
				head + "plain exec cannot carry a tracked session; run instead:\n  sentinel exec --server --policy " + s.policy + " --profile prod -- " + child + " -x\n"},
			{[]string{"exec", "--server", "--no-session-tracking", "--policy", s.policy, "--profile", "prod", "--", child},
				head + "--no-session-tracking is refused: the rule requires a session record; run instead:\n  sentinel exec --server --policy " + s.policy + " --profile prod -- " + child + "\n"},
			{[]string{"credentials", "--policy", s.policy, "--profile", "prod"},
				head + "credential_process cannot carry a tracked session: each call is a one-shot issuance with no session record to track or revoke; run instead:\n  sentinel exec --server --policy " + s.policy + " --profile prod -- COMMAND\n"},
			{[]string{"credentials", "--policy", s.policy, "--profile", "staging"},
				`denied: no policy rule matches profile "staging" (user "alice", mode credential_process): default deny` + "\n"},
		}
		for _, tt := range tests {
			r := sentinel(t, s.env, tt.args...).mustExit(t, 1)
			if r.stderr != tt.want || r.stdout != "" {
				t.Errorf("sentinel %s\nstderr:\n%s\nwant:\n%s\nstdout: %q", strings.Join(tt.args, " "), r.stderr, tt.want, r.stdout)
			}
		}
		if n := len(s.sts.Issuances()); n != 0 {
			t.Errorf("%d issuances after denials", n)
		}
	})

	t.Run("credentials_prints_credential_process_json", func(t *testing.T) {
		r := sentinel(t, s.env, "credentials", "--policy", s.policy, "--profile", "dev").mustExit(t, 0)
		var got struct {
			Version                                   int
			AccessKeyID                               string `json:"AccessKeyId"`
			SecretAccessKey, SessionToken, Expiration string
		}
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("output %q: %v", r.stdout, err)
		}
		iss := s.sts.Issuances()
		last := iss[len(iss)-1]
		if _, err := time.Parse(time.RFC3339, got.Expiration); err != nil || got.Version != 1 || got.AccessKeyID != last.AccessKeyID ||
			got.SecretAccessKey == "" || got.SessionToken == "" || !strings.HasPrefix(last.SourceIdentity, "sentinel-r-") || !strings.HasSuffix(last.SourceIdentity, "-secops") ||
			last.RoleARN != enfDevRole || last.Caller.ARN != enfSecopsARN {
			t.Errorf("credentials %+v for issuance %+v", got, last)
		}
	})

	var sessionID string
	t.Run("server_session_is_tracked_and_revocable", func(t *testing.T) {
		ready, cont := filepath.Join(s.dir, "ready"), filepath.Join(s.dir, "continue")
		running := sentinelAsync(t, s.env, "exec", "--server", "--policy", s.policy, "--profile", "prod", "--", child, "-ready", ready, "-continue", cont)
		childPID := strings.TrimSpace(awaitFile(t, ready, running))
		token := processToken(t, childPID)

		r := sentinel(t, s.env, "server-sessions", "--session-table", s.table, "--format", "json").mustExit(t, 0)
		var list sessionsJSON
		if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
			t.Fatalf("server-sessions output %q: %v", r.stdout, err)
		}
		if len(list) != 1 || list[0].Status != "active" || list[0].Profile != "prod" || list[0].User != "alice" || list[0].RequestCount != 1 ||
			list[0].SourceIdentity != "sentinel-s-"+list[0].ID+"-alice" {
			t.Fatalf("sessions while running: %+v", list)
		}
		sessionID = list[0].ID

		r = sentinel(t, s.env, "server-revoke", sessionID, "--reason", "laptop lost", "--session-table", s.table).mustExit(t, 0)
		if !strings.HasPrefix(r.stdout, "revoked session "+sessionID+" (profile prod, user alice): its next credential request is denied") {
			t.Errorf("server-revoke: %q", r.stdout)
		}
		if err := os.WriteFile(cont, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		r = awaitSentinel(t, running).mustExit(t, 3)
		if strings.Contains(r.stdout+r.stderr, token) {
			t.Error("the credential server's token appears in sentinel's output")
		}
		iss := s.sts.Issuances()
		first := iss[len(iss)-1]
		if first.SourceIdentity != "sentinel-s-"+sessionID+"-alice" || first.RoleARN != enfProdRole || first.Caller.ARN != enfAliceARN {
			t.Errorf("server issuance %+v", first)
		}
		if r.stdout != "first fetch: "+first.AccessKeyID+" from CredentialsEndpointProvider\n" {
			t.Errorf("child stdout %q", r.stdout)
		}
		revoked := "session " + sessionID + " was revoked by " + enfSecopsARN
		for _, want := range []string{
			"childcreds: second fetch failed: ",
			"SessionRevoked: " + revoked,
			"sentinel: credential request refused (403 SessionRevoked): " + revoked,
			": laptop lost",
		} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}

		r = sentinel(t, s.env, "server-sessions", "--session-table", s.table, "--status", "revoked", "--format", "json").mustExit(t, 0)
		list = nil
		if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].ID != sessionID || list[0].RevokedBy != enfSecopsARN || list[0].RevokedReason != "laptop lost" ||
			list[0].RevokedAt == "" {
			t.Errorf("revoked sessions: %+v", list)
		}
		r = sentinel(t, s.env, "server-sessions", "--session-table", s.table).mustExit(t, 0)
		if !strings.HasPrefix(r.stdout, "ID ") || !strings.Contains(r.stdout, sessionID) || !strings.Contains(r.stdout, "laptop lost") {
			t.Errorf("server-sessions table:\n%s", r.stdout)
		}
		r = sentinel(t, s.env, "server-revoke", sessionID, "--reason", "again", "--session-table", s.table).mustExit(t, 2)
		if !strings.Contains(r.stderr, "revoke session "+sessionID+" in table "+s.table+": "+revoked) {
			t.Errorf("revoking twice: %s", r.stderr)
		}
	})

	t.Run("exec_forwards_signals_and_exits_with_the_command", func(t *testing.T) {
		ready := filepath.Join(s.dir, "pid")
		running := sentinelAsync(t, s.env, "exec", "--policy", s.policy, "--profile", "dev", "--", child, "-signals", "-ready", ready)
		pid, err := strconv.Atoi(awaitFile(t, ready, running))
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		r := awaitSentinel(t, running).mustExit(t, 40+int(syscall.SIGTERM))
		if r.stdout != "received terminated\n" {
			t.Errorf("child stdout %q", r.stdout)
		}
	})

	t.Run("audit_shows_the_server_session_tracked_and_a_plain_issuance_untracked", func(t *testing.T) {
		if sessionID == "" {
			t.Skip("no server session")
		}
		alice := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(enfAliceKey, enfAliceSecret, "")}
		client := awssts.NewFromConfig(alice, func(o *awssts.Options) { o.BaseEndpoint = aws.String(s.stsURL) })
		if _, err := client.AssumeRole(context.Background(), &awssts.AssumeRoleInput{
			RoleArn: aws.String(enfProdRole), RoleSessionName: aws.String("by-hand"),
		}); err != nil {
			t.Fatal(err)
		}
		trail := filepath.Join(s.dir, "trail")
		if err := s.sts.TrailArchive(trail); err != nil {
			t.Fatal(err)
		}
		sessions := enfDumpTable(t, s.db, s.table, filepath.Join(s.dir, "sessions.jsonl"))
		wh := filepath.Join(s.dir, "warehouse")
		sentinel(t, nil, "--warehouse", wh, "ingest", "--source", trail, "--sessions-file", sessions).mustExit(t, 0)
		r := sentinel(t, nil, "--warehouse", wh, "audit", "session-compliance", "--since", "1h", "--policy", s.policy,
			"--aws-config", s.awsConfig, "--format", "json").mustExit(t, 1)
		var rep struct {
			Profiles []struct {
				Profile        string `json:"profile"`
				PolicyRequired *bool  `json:"policy_required"`
				TrackedCount   int    `json:"tracked_count"`
				UntrackedCount int    `json:"untracked_count"`
				OrphanedCount  int    `json:"orphaned_count"`
				HasGap         bool   `json:"has_gap"`
			} `json:"profiles"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("report %q: %v", r.stdout, err)
		}
		found := false
		for _, p := range rep.Profiles {
			if p.Profile != "prod" {
				continue
			}
			found = true
			if p.TrackedCount != 1 || p.UntrackedCount != 1 || p.OrphanedCount != 0 || p.PolicyRequired == nil || !*p.PolicyRequired || !p.HasGap {
				t.Errorf("prod: %+v, want 1 tracked (the server session), 1 untracked (by hand), required, a gap", p)
			}
		}
		if !found {
			t.Errorf("no prod line in the report:\n%s", r.stdout)
		}
	})
}

// enfDumpTable scans the session table and writes its items as JSON lines (a snapshot).
func enfDumpTable(t *testing.T, db *dynamodb.Client, table, path string) string {
	t.Helper()
	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, item := range out.Items {
		var plain map[string]any
		if err := attributevalue.UnmarshalMap(item, &plain); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(plain)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(b))
	}
	return enfWrite(t, filepath.Dir(path), filepath.Base(path), strings.Join(lines, "\n")+"\n")
}

// processToken reads the credential server's token from the child's environment (where the SDKs
// read it), and checks that neither the child's nor sentinel's command line shows it.
func processToken(t *testing.T, childPID string) string {
	t.Helper()
	environ, err := os.ReadFile("/proc/" + childPID + "/environ")
	if err != nil {
		t.Skipf("no /proc on this system: %v", err)
	}
	token := ""
	for _, kv := range strings.Split(string(environ), "\x00") {
		if v, ok := strings.CutPrefix(kv, "AWS_CONTAINER_AUTHORIZATION_TOKEN="); ok {
			token = v
		}
	}
	if len(token) < 16 {
		t.Fatalf("the child has no credential server token (%q)", token)
	}
	stat, err := os.ReadFile("/proc/" + childPID + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	for _, pid := range []string{childPID, fields[1]} { // the child and its parent, sentinel
		cmdline, err := os.ReadFile("/proc/" + pid + "/cmdline")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(cmdline), token) {
			t.Errorf("process %s shows the token in its command line", pid)
		}
	}
	return token
}
