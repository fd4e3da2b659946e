package main

import (
	"context"
	"encoding/json"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/sentinel-audit/sentinel/internal/emulator/cloudtrail"
	"github.com/sentinel-audit/sentinel/internal/testenv"
)

// TestUpstreamCommandLines: the command lines the upstream Sentinel's docs show work as their
// users mean them. With --region and --table an audit first syncs LookupEvents of the region and
// a scan of the table into the warehouse (its summary on stderr), then reports on stdout; --json
// is --format json. Against the LookupEvents and STS emulators and each DynamoDB stand-in.
func TestUpstreamCommandLines(t *testing.T) { testenv.EachDynamoDB(t, testUpstreamCommandLines) }

func testUpstreamCommandLines(t *testing.T, endpoint string) {
	now := time.Now().UTC()
	le, env := lookupEventsWithTrail(t, cloudtrail.Options{Now: func() time.Time { return time.Now().UTC() }})
	// Yesterday, P7 again: dave assumes ProdAdmin without a SourceIdentity, which the policy
	// requires to be a tracked server session.
	if err := le.AddRecords("us-east-1", reissued(t, "0732a074-bcbb-48ae-850f-d365fee37fb7", now.Add(-24*time.Hour))); err != nil {
		t.Fatal(err)
	}
	table := "sentinel-sessions-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	createSessionsTable(t, endpoint, table)
	putSession(t, endpoint, table, "0a1b2c3d4e5f6071", now.Add(-time.Hour))
	env = append(env, "AWS_ENDPOINT_URL_DYNAMODB="+endpoint)
	wh := filepath.Join(t.TempDir(), "wh")
	audit := func(args ...string) result {
		return sentinel(t, env, append([]string{"--warehouse", wh, "--config", fixtures + "/sentinel.yaml"}, args...)...)
	}

	t.Run("session_compliance", func(t *testing.T) {
		r := audit("audit", "session-compliance", "--since", "7d", "--region", "us-east-1", "--table", table).mustExit(t, 1)
		for _, want := range []string{"Session Compliance Report", "Result: GAPS FOUND — prod"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("report lacks %q:\n%s", want, r.stdout)
			}
		}
		if !strings.Contains(r.stderr, "1 event stored") || !strings.Contains(r.stderr, "1 session snapshot (9 items)") || strings.Contains(r.stdout, "ingest:") {
			t.Errorf("the sync's summary belongs on stderr:\nstdout %s\nstderr %s", r.stdout, r.stderr)
		}
	})
	t.Run("session_compliance_json", func(t *testing.T) {
		r := audit("audit", "session-compliance", "--since", "7d", "--region", "us-east-1", "--table", table, "--json").mustExit(t, 1)
		var rep complianceJSON
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("stdout is not the JSON report: %v\n%s", err, r.stdout)
		}
		if rep.ProfilesWithGaps != 1 || len(rep.Profiles) == 0 || rep.Profiles[0].Profile != "prod" || rep.Profiles[0].Untracked != 1 || !rep.Profiles[0].HasGap {
			t.Errorf("report %+v", rep)
		}
	})
	t.Run("untracked_sessions", func(t *testing.T) {
		r := audit("audit", "untracked-sessions", "--since", "7d", "--region", "us-east-1", "--table", table).mustExit(t, 1)
		if !strings.Contains(r.stdout, "no_source_identity") || !strings.Contains(r.stdout, "dave") {
			t.Errorf("report:\n%s", r.stdout)
		}
	})
	t.Run("untracked_sessions_without_sync_flags_reports_what_the_warehouse_holds", func(t *testing.T) {
		requests := le.Stats().Requests
		audit("audit", "untracked-sessions", "--since", "7d").mustExit(t, 1)
		if le.Stats().Requests != requests {
			t.Errorf("an audit without sync flags called LookupEvents")
		}
	})
	t.Run("server_sessions", func(t *testing.T) {
		for _, args := range [][]string{
			{"server-sessions", "--format", "csv", "--since", "30d"}, // the table from SENTINEL_SESSION_TABLE
			{"server-sessions", "--region", "us-east-1", "--table", table, "--since", "30d", "--format", "csv"},
		} {
			r := sentinel(t, append(env, "SENTINEL_SESSION_TABLE="+table), args...).mustExit(t, 0)
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			if len(lines) < 2 || !strings.HasPrefix(lines[0], "id,user,profile,") || !strings.HasPrefix(lines[1], "0a1b2c3d4e5f6071,") {
				t.Errorf("sentinel %s:\n%s%s", strings.Join(args, " "), r.stdout, r.stderr)
			}
		}
	})
}

// TestAuditSyncIsAnIngest: an audit's sync stores what `sentinel ingest --source api --regions R
// --sessions-table T` stores, so both give the same numbers over the fixtures' window; a sync
// that cannot read a source reports nothing (exit 2).
func TestAuditSyncIsAnIngest(t *testing.T) { testenv.EachDynamoDB(t, testAuditSyncIsAnIngest) }

func testAuditSyncIsAnIngest(t *testing.T, endpoint string) {
	_, env := lookupEventsWithTrail(t, cloudtrail.Options{})
	table := "sentinel-sessions-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	createSessionsTable(t, endpoint, table)
	env = append(env, "AWS_ENDPOINT_URL_DYNAMODB="+endpoint)
	window := []string{"--since", since, "--until", until}
	profiles := func(stdout string) string {
		var rep struct {
			Verdict  struct{ Result string } `json:"verdict"`
			Profiles json.RawMessage         `json:"profiles"`
		}
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("not the JSON report: %v\n%s", err, stdout)
		}
		return rep.Verdict.Result + " " + string(rep.Profiles)
	}

	synced := filepath.Join(t.TempDir(), "wh")
	r := sentinel(t, env, append([]string{"--warehouse", synced, "--config", fixtures + "/sentinel.yaml", "audit", "session-compliance",
		"--region", "us-east-1", "--regions", "us-east-1,eu-west-1", "--sessions-table", table, "--format", "json"}, window...)...).mustExit(t, 1)
	got := profiles(r.stdout)

	ingested := filepath.Join(t.TempDir(), "wh")
	sentinel(t, env, append([]string{"--warehouse", ingested, "ingest", "--source", "api", "--regions", "us-east-1,eu-west-1", "--sessions-table", table}, window...)...).mustExit(t, 0)
	r = sentinel(t, env, append([]string{"--warehouse", ingested, "--config", fixtures + "/sentinel.yaml", "audit", "session-compliance", "--format", "json"}, window...)...).mustExit(t, 1)
	if want := profiles(r.stdout); got != want {
		t.Fatalf("synced by the audit:\n%s\ningested:\n%s", got, want)
	}

	r = sentinel(t, env, append([]string{"--warehouse", synced, "--config", fixtures + "/sentinel.yaml", "audit", "untracked-sessions",
		"--region", "us-east-1", "--table", "no-such-table", "--json"}, window...)...).mustExit(t, 2)
	if r.stdout != "" || !strings.Contains(r.stderr, "failed: dynamodb://") || !strings.Contains(r.stderr, "ResourceNotFoundException") ||
		!strings.Contains(r.stderr, "sentinel: sync before the report: not every source could be read (see above), so nothing is reported") {
		t.Fatalf("stdout %q\nstderr %s", r.stdout, r.stderr)
	}
}

// reissued is the fixture trail's record id again at a new time, with a new event id and issued
// key: the same issuance, happening anew.
func reissued(t *testing.T, id string, at time.Time) []byte {
	t.Helper()
	var found map[string]any
	root := filepath.Join(repoRoot(t), fixtures, "trail")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found != nil || !strings.Contains(p, "/CloudTrail/") {
			return err
		}
		var file struct{ Records []map[string]any }
		if err := json.Unmarshal(testenv.ReadGzip(t, p), &file); err != nil {
			return err
		}
		for _, rec := range file.Records {
			if rec["eventID"] == id {
				found = rec
			}
		}
		return nil
	})
	if err != nil || found == nil {
		t.Fatalf("record %s: %v", id, err)
	}
	found["eventID"] = "11111111-2222-4333-8444-" + at.Format("150405000000")
	found["eventTime"] = at.Format(time.RFC3339)
	found["responseElements"].(map[string]any)["credentials"].(map[string]any)["accessKeyId"] = "ASIAREISSUED" + at.Format("20060102")
	b, err := json.Marshal(found)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// putSession adds an active session record started at started to the session table.
func putSession(t *testing.T, endpoint, table, id string, started time.Time) {
	t.Helper()
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIATESTTESTTESTTEST", "test-secret", "")))
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	ts := func(d time.Duration) types.AttributeValue { return s(started.Add(d).Format(time.RFC3339)) }
	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		"id": s(id), "user": s("alice"), "profile": s("prod"), "status": s("active"), "server_instance_id": s("0f0e0d0c0b0a0908"),
		"source_identity": s("sentinel-s-" + id + "-alice"), "started_at": ts(0), "last_access_at": ts(0), "expires_at": ts(time.Hour),
		"created_at": ts(0), "updated_at": ts(0), "request_count": &types.AttributeValueMemberN{Value: "1"},
		"ttl": &types.AttributeValueMemberN{Value: "4102444800"},
	}})
	if err != nil {
		t.Fatal(err)
	}
}
