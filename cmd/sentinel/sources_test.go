package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/sentinel-audit/sentinel/internal/emulator/cloudtrail"
	"github.com/sentinel-audit/sentinel/internal/emulator/objectstore"
	"github.com/sentinel-audit/sentinel/internal/emulator/sts"
	"github.com/sentinel-audit/sentinel/internal/testenv"
	"github.com/sentinel-audit/sentinel/verdict"
)

const bucket = "acme-org-cloudtrail"

// awsEnv is the environment of a run against stand-ins: static credentials and a region.
func awsEnv(extra ...string) []string {
	return append([]string{"AWS_ACCESS_KEY_ID=AKIATESTTESTTESTTEST", "AWS_SECRET_ACCESS_KEY=test-secret", "AWS_REGION=us-east-1"}, extra...)
}

// s3WithTrail starts an S3 stand-in holding the fixture trail (digests, with their signatures as
// S3 metadata, and Insights included).
func s3WithTrail(t *testing.T) (*objectstore.Server, string) {
	t.Helper()
	return s3WithTrailFrom(t, filepath.Join(repoRoot(t), fixtures, "trail"), fixtureSignatures(t))
}

// fixtureSignatures are the digests' x-amz-meta-signature by key, which a local copy cannot keep
// (testdata/fixtures/digest-signatures.json).
func fixtureSignatures(t *testing.T) map[string]string {
	t.Helper()
	var manifest struct {
		Bucket     string            `json:"bucket"`
		Signatures map[string]string `json:"signatures"`
	}
	data, err := os.ReadFile(filepath.Join(repoRoot(t), fixtures, "digest-signatures.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &manifest); err != nil || manifest.Bucket != bucket {
		t.Fatalf("digest-signatures.json: bucket %q, %v", manifest.Bucket, err)
	}
	return manifest.Signatures
}

// s3WithTrailFrom starts an S3 stand-in holding the trail under root as CloudTrail delivered it:
// each digest with its signature (signatures, by key) as S3 metadata.
func s3WithTrailFrom(t *testing.T, root string, signatures map[string]string) (*objectstore.Server, string) {
	t.Helper()
	store, endpoint := objectstore.StartWith(t, bucket)
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		key := filepath.ToSlash(rel)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if sig, ok := signatures[key]; ok {
			return store.PutWithMetadata(bucket, key, data, map[string]string{"signature": sig, "signature-algorithm": "SHA256withRSA"})
		}
		return store.Put(bucket, key, data)
	})
	if err != nil {
		t.Fatal(err)
	}
	return store, endpoint
}

// complianceJSON is the session-compliance report of a warehouse over the fixture window.
func complianceReport(t *testing.T, wh string) string {
	t.Helper()
	r := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "session-compliance",
		"--since", since, "--until", until, "--format", "json")
	if r.code > 1 {
		t.Fatalf("report: %s", r.stderr)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatal(err)
	}
	// The Evidence, and so the reasons of the verdict, say how and when each warehouse got its
	// evidence (LookupEvents speaks for the caller's account only); the answers must agree.
	delete(v, "policy")
	delete(v, "evidence")
	delete(v["verdict"].(map[string]any), "reasons")
	out, _ := json.Marshal(v)
	return string(out)
}

// directoryWarehouse ingests the fixture trail and sessions from disk: the reference.
func directoryWarehouse(t *testing.T) string {
	t.Helper()
	wh := filepath.Join(t.TempDir(), "wh")
	sentinel(t, nil, "--warehouse", wh, "ingest", "--source", fixtures+"/trail", "--sessions-file", fixtures+"/sessions").mustExit(t, 0)
	return wh
}

func TestS3SourceMatchesDirectory(t *testing.T) {
	store, endpoint := s3WithTrail(t)
	wh := filepath.Join(t.TempDir(), "wh")
	r := sentinel(t, awsEnv(), "--warehouse", wh, "ingest", "--source", "s3://"+bucket, "--endpoint-url", endpoint,
		"--sessions-file", fixtures+"/sessions").mustExit(t, 0)
	if !strings.Contains(r.stdout, "19 files read") || !strings.Contains(r.stdout, "62 events stored, 1 duplicate") {
		t.Fatalf("summary: %s\n%s", r.stdout, r.stderr)
	}
	if got, want := complianceReport(t, wh), complianceReport(t, directoryWarehouse(t)); got != want {
		t.Fatalf("S3 and directory sources disagree:\n%s\n%s", got, want)
	}
	gets := store.Gets()
	r = sentinel(t, awsEnv(), "--warehouse", wh, "ingest", "--source", "s3://"+bucket, "--endpoint-url", endpoint).mustExit(t, 0)
	// The re-run lists each region prefix from the day before where the first run's listing
	// ended (the 210 objects of those days), and reads none of them.
	if !strings.Contains(r.stdout, "nothing new: 210 files unchanged") || store.Gets() != gets {
		t.Fatalf("re-run fetched %d objects: %s", store.Gets()-gets, r.stdout)
	}
	if n := scalar(t, wh, `SELECT count(*) FROM ingest_files WHERE source LIKE 's3://`+bucket+`/AWSLogs/o-a1b2c3d4e5/%' AND etag IS NOT NULL`); n != 17+1344 {
		t.Fatalf("ledger keys S3 objects by bucket/key/etag: %v rows", n)
	}
}

func TestS3ListsOnlyTheWindowsDays(t *testing.T) {
	store, endpoint := s3WithTrail(t)
	wh := filepath.Join(t.TempDir(), "wh")
	r := sentinel(t, awsEnv(), "--warehouse", wh, "ingest", "--source", "s3://"+bucket, "--endpoint-url", endpoint,
		"--since", "2026-11-05T00:00:00Z", "--until", "2026-11-06T00:00:00Z", "--regions", "us-east-1", "--accounts", "222222222222").mustExit(t, 0)
	// Only 222222222222/us-east-1, folders 11/05 and 11/06 (the late-delivery margin) are read, of
	// the log files and of the digests that vouch for them (24 a day).
	if n := scalar(t, wh, `SELECT count(*) FROM ingest_files WHERE NOT regexp_matches(source, '/222222222222/CloudTrail(-Digest)?/us-east-1/2026/11/0[56]/')`); n != 0 {
		t.Fatalf("%v objects outside the listed prefixes were read:\n%s", n, r.stdout)
	}
	if n := scalar(t, wh, `SELECT count(*) FROM digests`); n != 48 {
		t.Fatalf("%v digests read, want 48:\n%s", n, r.stdout)
	}
	if store.Gets() == 0 || scalar(t, wh, `SELECT count(*) FROM events_all`) == 0 {
		t.Fatalf("nothing read: %s", r.stdout)
	}
}

func TestS3FailingObjectIsReportedAndTheRestLands(t *testing.T) {
	store, endpoint := s3WithTrail(t)
	store.Inject(objectstore.Fault{KeyContains: "222222222222_CloudTrail_us-east-1_20261104", Status: 403})
	// A 500 heals within the run (SlowDown's 503 too, paced: TestS3FaultsNeverLoseOrDuplicate).
	store.Inject(objectstore.Fault{KeyContains: "111111111111_CloudTrail_us-east-1", Status: 500, Times: 2})
	wh := filepath.Join(t.TempDir(), "wh")
	r := sentinel(t, awsEnv(), "--warehouse", wh, "ingest", "--source", "s3://"+bucket, "--endpoint-url", endpoint).mustExit(t, 1)
	if !strings.Contains(r.stderr, "failed: s3://"+bucket+"/AWSLogs/o-a1b2c3d4e5/222222222222/CloudTrail/us-east-1/2026/11/04/") ||
		!strings.Contains(r.stderr, "AccessDenied") {
		t.Fatalf("stderr: %s", r.stderr)
	}
	failed := scalar(t, wh, `SELECT count(*) FROM ingest_files WHERE status = 'failed'`)
	if failed == 0 || !strings.Contains(r.stdout, fmt.Sprintf("%d failed", int(failed))) {
		t.Fatalf("summary %s, failed rows %v", r.stdout, failed)
	}
	stored := scalar(t, wh, `SELECT count(*) FROM events_all`)
	store.Clear()
	r = sentinel(t, awsEnv(), "--warehouse", wh, "ingest", "--source", "s3://"+bucket, "--endpoint-url", endpoint).mustExit(t, 0)
	if !strings.Contains(r.stdout, fmt.Sprintf("%d files read", int(failed))) {
		t.Fatalf("retry summary: %s", r.stdout)
	}
	if all := scalar(t, wh, `SELECT count(*) FROM events_all`); all != 62 || stored >= all {
		t.Fatalf("after the retry %v events (first run %v), want 62", all, stored)
	}
}

func TestS3InterruptedRunResumesToTheSameWarehouse(t *testing.T) {
	store, endpoint := s3WithTrail(t)
	store.Inject(objectstore.Fault{KeyContains: "_CloudTrail_", Delay: 150 * time.Millisecond})
	wh := filepath.Join(t.TempDir(), "wh")
	cmd := exec.Command(binary, "--warehouse", wh, "ingest", "--source", "s3://"+bucket, "--endpoint-url", endpoint,
		"--sessions-file", fixtures+"/sessions", "--workers", "1", "--s3-concurrency", "1", "--checkpoint", "1")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(awsEnv(), "HOME="+t.TempDir(), "PATH="+os.Getenv("PATH"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for store.GetsOf("_CloudTrail_") < 6 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	partial := scalar(t, wh, `SELECT count(*) FROM ingest_files WHERE status = 'ok' AND kind = 'trail'`)
	if partial == 0 || partial >= 17 {
		t.Fatalf("the kill should land mid-run: %v files committed\n%s", partial, out.String())
	}
	store.Clear()
	r := sentinel(t, awsEnv(), "--warehouse", wh, "ingest", "--source", "s3://"+bucket, "--endpoint-url", endpoint,
		"--sessions-file", fixtures+"/sessions").mustExit(t, 0)
	if strings.Contains(r.stdout, "17 files read") {
		t.Fatalf("the resumed run re-read everything: %s", r.stdout)
	}
	if n := scalar(t, wh, `SELECT count(*) FROM events_all`); n != 62 {
		t.Fatalf("events_all = %v after resuming, want 62 (no loss, no duplicates)", n)
	}
	if n := scalar(t, wh, `SELECT count(*) FROM ingest_runs WHERE status = 'interrupted'`); n != 1 {
		t.Fatalf("interrupted runs = %v", n)
	}
	if got, want := complianceReport(t, wh), complianceReport(t, directoryWarehouse(t)); got != want {
		t.Fatalf("resumed warehouse differs:\n%s\n%s", got, want)
	}
}

func TestS3SessionsExportIsOneSnapshot(t *testing.T) {
	store, endpoint := s3WithTrail(t)
	data, err := os.ReadFile(filepath.Join(repoRoot(t), fixtures, "sessions", "snapshot-2026-11-06.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	prefix := "exports/AWSDynamoDB/01763000000000-abcdef12/"
	store.Put(bucket, prefix+"manifest-summary.json", []byte(`{"version":"2020-06-30","exportArn":"arn:aws:dynamodb:us-east-1:111111111111:table/sentinel-sessions/export/01763000000000-abcdef12","exportTime":"2026-11-06T20:00:00Z","itemCount":8,"outputFormat":"DYNAMODB_JSON"}`))
	store.Put(bucket, prefix+"manifest-files.json", []byte(`{"itemCount":8,"dataFileS3Key":"`+prefix+`data/part-1.json.gz"}`))
	store.Put(bucket, prefix+"data/part-1.json.gz", data)
	wh := filepath.Join(t.TempDir(), "wh")
	r := sentinel(t, awsEnv(), "--warehouse", wh, "ingest", "--sessions-file", "s3://"+bucket+"/exports/", "--endpoint-url", endpoint).mustExit(t, 0)
	if !strings.Contains(r.stdout, "1 session snapshot (8 items)") {
		t.Fatalf("summary: %s\n%s", r.stdout, r.stderr)
	}
	rows := query(t, wh, `SELECT strftime(taken_at, '%Y-%m-%dT%H:%M:%SZ') AS taken FROM snapshots`)
	if len(rows) != 1 || rows[0]["taken"] != "2026-11-06T20:00:00Z" {
		t.Fatalf("snapshot time from the export manifest: %v", rows)
	}
}

// lookupEventsWithTrail starts the LookupEvents and STS stand-ins, the former serving the
// fixture trail; their endpoints go to the binary as AWS_ENDPOINT_URL_CLOUDTRAIL / _STS.
func lookupEventsWithTrail(t *testing.T, opts cloudtrail.Options) (*cloudtrail.Server, []string) {
	t.Helper()
	return lookupEventsOf(t, opts, "111111111111")
}

// lookupEventsOf is lookupEventsWithTrail with credentials of account: LookupEvents shows the
// events of the credentials' account.
func lookupEventsOf(t *testing.T, opts cloudtrail.Options, account string) (*cloudtrail.Server, []string) {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC) }
	}
	le := cloudtrail.New(opts)
	if _, err := le.LoadArchiveDir(filepath.Join(repoRoot(t), fixtures, "trail")); err != nil {
		t.Fatal(err)
	}
	ctEndpoint, stopCT, err := le.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopCT)
	st := sts.New(sts.Options{})
	st.SetCaller("AKIATESTTESTTESTTEST", "arn:aws:iam::"+account+":user/auditor", account, "AIDAAUDITOR")
	stsEndpoint, stopSTS, err := st.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopSTS)
	return le, awsEnv("AWS_ENDPOINT_URL_CLOUDTRAIL="+ctEndpoint, "AWS_ENDPOINT_URL_STS="+stsEndpoint)
}

func TestAPISourceMatchesDirectory(t *testing.T) {
	le, env := lookupEventsWithTrail(t, cloudtrail.Options{})
	wh := filepath.Join(t.TempDir(), "wh")
	r := sentinel(t, env, "--warehouse", wh, "ingest", "--source", "api", "--regions", "us-east-1,eu-west-1",
		"--since", since, "--until", until, "--sessions-file", fixtures+"/sessions").mustExit(t, 0)
	if !strings.Contains(r.stdout, "62 events stored") {
		t.Fatalf("summary: %s\n%s", r.stdout, r.stderr)
	}
	if got, want := complianceReport(t, wh), complianceReport(t, directoryWarehouse(t)); got != want {
		t.Fatalf("API and directory sources disagree:\n%s\n%s", got, want)
	}
	if n := scalar(t, wh, `SELECT count(*) FROM watermarks WHERE account = '111111111111' AND watermark = '2026-11-08T00:00:00Z'`); n != 2 {
		t.Fatalf("watermarks: %v", query(t, wh, `SELECT * FROM watermarks`))
	}
	served := le.Stats().EventsServed
	r = sentinel(t, env, "--warehouse", wh, "ingest", "--source", "api", "--regions", "us-east-1,eu-west-1",
		"--since", since, "--until", until).mustExit(t, 0)
	if !strings.Contains(r.stdout, "0 events stored") || le.Stats().EventsServed-served > 10 {
		t.Fatalf("incremental run fetched %d events again: %s", le.Stats().EventsServed-served, r.stdout)
	}
	// Events seen by both the API and the archives are stored once.
	sentinel(t, nil, "--warehouse", wh, "ingest", "--source", fixtures+"/trail").mustExit(t, 0)
	if n := scalar(t, wh, `SELECT count(*) FROM events_all`); n != 62 {
		t.Fatalf("events_all = %v after ingesting the same events from the archives", n)
	}
}

// TestLookupEventsOfSomeRegionsAreNeverCompliant: LookupEvents of us-east-1 and eu-west-1 of
// prod-readonly's account leave out the other regions, through whose STS endpoints an issuance
// would be logged there alone: INCONCLUSIVE. Synced in every region enabled by default, the same
// evidence is COMPLIANT.
func TestLookupEventsOfSomeRegionsAreNeverCompliant(t *testing.T) {
	_, env := lookupEventsOf(t, cloudtrail.Options{RequestsPerSecond: -1}, "222222222222")
	wh := filepath.Join(t.TempDir(), "wh")
	audit := func(code int) verdictJSON {
		t.Helper()
		r := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "session-compliance",
			"--since", since, "--until", until, "--profile", "prod-readonly", "--format", "json").mustExit(t, code)
		var rep complianceJSON
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatal(err)
		}
		return rep.Verdict
	}
	sentinel(t, env, "--warehouse", wh, "ingest", "--source", "api", "--regions", "us-east-1,eu-west-1",
		"--since", since, "--until", until, "--sessions-file", fixtures+"/sessions").mustExit(t, 0)
	if v := audit(3); v.codes() != "regions_not_synced" ||
		!strings.Contains(v.Reasons[0].Message, "the evidence of account 222222222222 is LookupEvents of eu-west-1, us-east-1 only") ||
		!strings.Contains(v.Reasons[0].Action, "--regions "+strings.Join(verdict.DefaultRegions, ",")) {
		t.Fatalf("verdict %+v", v)
	}
	sentinel(t, env, "--warehouse", wh, "ingest", "--source", "api", "--regions", strings.Join(verdict.DefaultRegions, ","),
		"--since", since, "--until", until).mustExit(t, 0)
	if v := audit(0); v.Result != "COMPLIANT" {
		t.Fatalf("verdict %+v", v)
	}
}

func TestAPISourceWarnings(t *testing.T) {
	_, env := lookupEventsWithTrail(t, cloudtrail.Options{})
	wh := filepath.Join(t.TempDir(), "wh")
	r := sentinel(t, env, "--warehouse", wh, "ingest", "--source", "api", "--regions", "eu-west-1", "--since", "200d").mustExit(t, 0)
	for _, want := range []string{"leaves out us-east-1", "reaches past LookupEvents' 90-day history"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q: %s", want, r.stderr)
		}
	}
}

func TestAPIThrottledSyncCompletes(t *testing.T) {
	le, env := lookupEventsWithTrail(t, cloudtrail.Options{RequestsPerSecond: 1, Burst: 1})
	base := time.Date(2026, 11, 7, 0, 0, 0, 0, time.UTC)
	for i := range 450 {
		rec := fmt.Sprintf(`{"eventVersion":"1.08","eventID":"bulk-%04d","eventTime":"%s","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","recipientAccountId":"111111111111"}`,
			i, base.Add(time.Duration(i)*time.Second).Format(time.RFC3339))
		if err := le.AddRecords("us-east-1", []byte(rec)); err != nil {
			t.Fatal(err)
		}
	}
	wh := filepath.Join(t.TempDir(), "wh")
	r := sentinel(t, env, "--warehouse", wh, "ingest", "--source", "api", "--regions", "us-east-1", "--since", since, "--until", until).mustExit(t, 0)
	if le.Stats().Throttled == 0 {
		t.Fatalf("the stand-in never throttled: %+v", le.Stats())
	}
	if n := scalar(t, wh, `SELECT count(*) FROM events_all WHERE event_id LIKE 'bulk-%'`); n != 450 {
		t.Fatalf("%v bulk events stored: %s %s", n, r.stdout, r.stderr)
	}
}

func TestSessionsTableScan(t *testing.T) { testenv.EachDynamoDB(t, testSessionsTableScan) }

func testSessionsTableScan(t *testing.T, endpoint string) {
	table := fmt.Sprintf("sentinel-sessions-%d", time.Now().UnixNano())
	createSessionsTable(t, endpoint, table)
	wh := filepath.Join(t.TempDir(), "wh")
	env := awsEnv("AWS_ENDPOINT_URL_DYNAMODB=" + endpoint)
	r := sentinel(t, env, "--warehouse", wh, "ingest", "--sessions-table", table, "--scan-segments", "3").mustExit(t, 0)
	if !strings.Contains(r.stdout, "1 session snapshot (8 items)") {
		t.Fatalf("summary: %s\n%s", r.stdout, r.stderr)
	}
	sentinel(t, env, "--warehouse", wh, "ingest", "--sessions-table", table, "--consistent-read").mustExit(t, 0)
	if n := scalar(t, wh, `SELECT count(*) FROM snapshots`); n != 2 {
		t.Fatalf("every scan is a snapshot of its own: %v", n)
	}
	if n := scalar(t, wh, `SELECT count(*) FROM sessions WHERE status = 'revoked' AND revoked_reason = 'laptop reported stolen'`); n != 1 {
		t.Fatalf("revoked session: %v", query(t, wh, `SELECT id, status, revoked_reason FROM sessions`))
	}
	r = sentinel(t, env, "--warehouse", wh, "ingest", "--sessions-table", "no-such-table").mustExit(t, 1)
	if !strings.Contains(r.stderr, "scan no-such-table") || !strings.Contains(r.stderr, "ResourceNotFoundException") {
		t.Fatalf("stderr: %s", r.stderr)
	}
}

// createSessionsTable makes a session table in dynalite holding the items of the fixture
// snapshot-2026-11-06 (DynamoDB JSON), through the real SDK client.
func createSessionsTable(t *testing.T, endpoint, table string) {
	t.Helper()
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIATESTTESTTESTTEST", "test-secret", "")))
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	_, err = db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(repoRoot(t), fixtures, "sessions", "snapshot-2026-11-06.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(zr)
	for dec.More() {
		var line struct{ Item map[string]json.RawMessage }
		if err := dec.Decode(&line); err != nil {
			t.Fatal(err)
		}
		item := map[string]types.AttributeValue{}
		for k, raw := range line.Item {
			item[k] = attributeValue(t, raw)
		}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
}

// attributeValue converts one DynamoDB JSON value ({"S": "x"}, {"N": "1"}, ...).
func attributeValue(t *testing.T, raw json.RawMessage) types.AttributeValue {
	t.Helper()
	var v map[string]json.RawMessage
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	for typ, val := range v {
		var s string
		switch typ {
		case "S":
			json.Unmarshal(val, &s)
			return &types.AttributeValueMemberS{Value: s}
		case "N":
			json.Unmarshal(val, &s)
			return &types.AttributeValueMemberN{Value: s}
		case "BOOL":
			var b bool
			json.Unmarshal(val, &b)
			return &types.AttributeValueMemberBOOL{Value: b}
		case "NULL":
			return &types.AttributeValueMemberNULL{Value: true}
		case "M":
			var m map[string]json.RawMessage
			json.Unmarshal(val, &m)
			out := map[string]types.AttributeValue{}
			for k, x := range m {
				out[k] = attributeValue(t, x)
			}
			return &types.AttributeValueMemberM{Value: out}
		case "L":
			var l []json.RawMessage
			json.Unmarshal(val, &l)
			var out []types.AttributeValue
			for _, x := range l {
				out = append(out, attributeValue(t, x))
			}
			return &types.AttributeValueMemberL{Value: out}
		}
		t.Fatalf("unsupported DynamoDB JSON type %s", typ)
	}
	t.Fatalf("empty DynamoDB JSON value %s", raw)
	return nil
}

// TestS3FaultsNeverLoseOrDuplicate: resets, truncated and slow bodies, 5xx and SlowDown answers,
// with every request 30 ms late and the default 64 reads in flight, either heal within the run
// (retries) or fail the object clearly; the next run completes, and the warehouse then holds
// exactly the events of a clean run.
func TestS3FaultsNeverLoseOrDuplicate(t *testing.T) {
	store, endpoint := s3WithTrail(t)
	store.SetLatency(30 * time.Millisecond)
	store.Inject(objectstore.Fault{KeyContains: "222222222222_CloudTrail_us-east-1_20261103", Status: http.StatusServiceUnavailable, Times: 2})
	store.Inject(objectstore.Fault{KeyContains: "222222222222_CloudTrail_us-east-1_20261102", Reset: true, Times: 2})
	store.Inject(objectstore.Fault{KeyContains: "033333333333_CloudTrail", Truncate: true, Times: 1})
	store.Inject(objectstore.Fault{KeyContains: "444444444444_CloudTrail_", Delay: 300 * time.Millisecond})
	store.Inject(objectstore.Fault{KeyContains: "111111111111_CloudTrail", Status: 500, Times: 3})
	wh := filepath.Join(t.TempDir(), "wh")
	first := sentinel(t, awsEnv(), "--warehouse", wh, "ingest", "--source", "s3://"+bucket, "--endpoint-url", endpoint)
	if first.code != 0 && first.code != 1 {
		t.Fatalf("first run: exit %d\n%s", first.code, first.stderr)
	}
	if first.code == 1 && !strings.Contains(first.stderr, "failed: s3://"+bucket+"/") {
		t.Fatalf("a failed object must be named: %s", first.stderr)
	}
	store.Clear()
	sentinel(t, awsEnv(), "--warehouse", wh, "ingest", "--source", "s3://"+bucket, "--endpoint-url", endpoint).mustExit(t, 0)
	if n := scalar(t, wh, `SELECT count(*) FROM events_all`); n != 62 {
		t.Fatalf("events_all = %v, want exactly the 62 of a clean run", n)
	}
	if n := scalar(t, wh, `SELECT count(*) FROM ingest_files WHERE status <> 'ok'`); n != 0 {
		t.Fatalf("%v objects still not ok", n)
	}
}

// TestS3KilledAtRandomPointsConverges kills an ingest from S3 (every request 30 ms late, the
// default reads in flight, a commit after every file) at 50 random points (the seed is logged);
// after a final run the warehouse holds exactly the events of an uninterrupted run, each object
// is in the ledger once, and the listing marks (recorded only by a run that completed) are there.
func TestS3KilledAtRandomPointsConverges(t *testing.T) {
	store, endpoint := s3WithTrail(t)
	store.SetLatency(30 * time.Millisecond)
	wh := filepath.Join(t.TempDir(), "wh")
	home := t.TempDir()
	killAtRandomPoints(t, 50, 600*time.Millisecond, func() *exec.Cmd {
		cmd := exec.Command(binary, "--warehouse", wh, "ingest", "--source", "s3://"+bucket, "--endpoint-url", endpoint, "--checkpoint", "1")
		cmd.Env = append(awsEnv(), "HOME="+home, "PATH="+os.Getenv("PATH"))
		return cmd
	})
	sentinel(t, awsEnv(), "--warehouse", wh, "ingest", "--source", "s3://"+bucket, "--endpoint-url", endpoint).mustExit(t, 0)
	if n := scalar(t, wh, `SELECT count(*) FROM events_all`); n != 62 {
		t.Fatalf("events_all = %v, want 62", n)
	}
	if n := scalar(t, wh, `SELECT count(*) FROM ingest_files WHERE status <> 'ok' AND kind <> 'insight'`); n != 0 {
		t.Fatalf("%v objects not ok", n)
	}
	if n := scalar(t, wh, `SELECT count(*) FROM ingest_files`); n != scalar(t, wh, `SELECT count(DISTINCT source) FROM ingest_files`) {
		t.Fatal("the ledger has an object twice")
	}
	if n := scalar(t, wh, `SELECT sum(rows) FROM lake_files WHERE dataset = 'events'`); n != 62 {
		t.Fatalf("the registry counts %v event rows, want 62", n)
	}
	if n := scalar(t, wh, `SELECT count(*) FROM catalog.s3_listings`); n == 0 {
		t.Fatal("the completed run recorded no listing marks")
	}
}

// killAtRandomPoints starts n commands one after another and kills each (SIGKILL) 50 ms plus a
// random part of spread after its start; the seed of the points is logged, to replay a failure.
func killAtRandomPoints(t *testing.T, n int, spread time.Duration, command func() *exec.Cmd) {
	t.Helper()
	seed := time.Now().UnixNano()
	rnd := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("kill points from seed %d", seed)
	for i := range n {
		delay := 50*time.Millisecond + time.Duration(rnd.Int64N(int64(spread)))
		cmd := command()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		t.Logf("kill %d after %v", i, delay)
	}
}

// TestKilledAtRandomPointsConverges kills the ingest at random points (the seed is logged, to
// replay a failure); after a final run the
// warehouse holds exactly the events of an uninterrupted run, and the ledger agrees with the lake.
func TestKilledAtRandomPointsConverges(t *testing.T) {
	src := t.TempDir()
	copyTree(t, filepath.Join(repoRoot(t), fixtures, "trail"), filepath.Join(src, "trail"))
	copyTree(t, filepath.Join(repoRoot(t), fixtures, "handoff"), filepath.Join(src, "handoff"))
	wh := filepath.Join(t.TempDir(), "wh")
	killAtRandomPoints(t, 5, 700*time.Millisecond, func() *exec.Cmd {
		cmd := exec.Command(binary, "--warehouse", wh, "ingest", "--source", src, "--workers", "1", "--checkpoint", "1")
		cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
		return cmd
	})
	sentinel(t, nil, "--warehouse", wh, "ingest", "--source", src).mustExit(t, 0)
	if n := scalar(t, wh, `SELECT count(*) FROM events_all`); n != 74 {
		t.Fatalf("events_all = %v, want 74", n)
	}
	if n := scalar(t, wh, `SELECT count(*) FROM (SELECT path FROM lake_files) f`); n != scalar(t, wh, `SELECT count(DISTINCT path) FROM lake_files`) {
		t.Fatal("lake registry has duplicates")
	}
	if n := scalar(t, wh, `SELECT sum(rows) FROM lake_files WHERE dataset = 'events'`); n != 74 {
		t.Fatalf("the registry counts %v event rows, want 74", n)
	}
	for _, dataset := range []string{"events", "issuances"} {
		files, _ := filepath.Glob(filepath.Join(wh, "lake", dataset, "*", "*.parquet"))
		if reg := scalar(t, wh, `SELECT count(*) FROM lake_files WHERE dataset = '`+dataset+`'`); int(reg) != len(files) {
			t.Fatalf("%d %s files on disk, %v registered", len(files), dataset, reg)
		}
	}
	if n := scalar(t, wh, `SELECT count(*) FROM lake_files e LEFT JOIN lake_files i ON i.dataset = 'issuances'
		AND i.path = replace(e.path, 'lake/events/', 'lake/issuances/') WHERE e.dataset = 'events' AND i.path IS NULL`); n != 0 {
		t.Fatalf("%v events files without their issuances file", n)
	}
}

// TestConcurrentIngestAndQueries: a second ingest is refused (or waits with --wait) while one
// runs, and queries during the run see committed state only.
func TestConcurrentIngestAndQueries(t *testing.T) {
	store, endpoint := s3WithTrail(t)
	// Log files arrive slowly (digests hold no events: they are read at once).
	store.Inject(objectstore.Fault{KeyContains: "_CloudTrail_", Delay: 120 * time.Millisecond})
	wh := filepath.Join(t.TempDir(), "wh")
	sentinel(t, nil, "--warehouse", wh, "ingest", "--sessions-file", fixtures+"/sessions").mustExit(t, 0)
	cmd := exec.Command(binary, "--warehouse", wh, "ingest", "--source", "s3://"+bucket, "--endpoint-url", endpoint, "--workers", "1", "--checkpoint", "1")
	cmd.Env = append(awsEnv(), "HOME="+t.TempDir(), "PATH="+os.Getenv("PATH"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	for store.GetsOf("_CloudTrail_") < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	r := sentinel(t, nil, "--warehouse", wh, "ingest", "--source", fixtures+"/handoff").mustExit(t, 2)
	if !strings.Contains(r.stderr, "warehouse is locked by another ingest") || !strings.Contains(r.stderr, "--wait") {
		t.Fatalf("second ingest: %s", r.stderr)
	}
	// While the first run commits file by file, every read sees whole files only: the event count
	// is always the sum of the committed files' rows.
	for range 3 {
		rows := query(t, wh, `SELECT (SELECT count(*) FROM events_all) AS events, (SELECT coalesce(sum(stored), 0) FROM ingest_files WHERE kind = 'trail') AS ledger`)
		if fmt.Sprint(rows[0]["events"]) != fmt.Sprint(rows[0]["ledger"]) {
			t.Fatalf("a reader saw rows the ledger does not account for: %v", rows)
		}
	}
	waited := sentinel(t, nil, "--warehouse", wh, "ingest", "--source", fixtures+"/handoff", "--wait").mustExit(t, 0)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("first ingest: %v", err)
	}
	if !strings.Contains(waited.stdout, "4 files read") {
		t.Fatalf("waiting ingest: %s", waited.stdout)
	}
	if n := scalar(t, wh, `SELECT count(*) FROM events_all`); n != 74 {
		t.Fatalf("events_all = %v, want 74", n)
	}
}

// throttlingProxy stands in front of dynalite and answers the first n Scan calls (all of them when
// n < 0) with DynamoDB's ProvisionedThroughputExceededException, as a table over its capacity does.
func throttlingProxy(t *testing.T, target string, n int) (string, *atomic.Int64) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	var throttled atomic.Int64
	var remaining atomic.Int64
	remaining.Store(int64(n))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".Scan") && (n < 0 || remaining.Add(-1) >= 0) {
			throttled.Add(1)
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &throttled
}

// TestSessionsTableScanSurvivesThroughputErrors: throttled Scan pages are retried with backoff and
// the snapshot is complete; a table that never stops throttling fails clearly, naming it.
func TestSessionsTableScanSurvivesThroughputErrors(t *testing.T) {
	testenv.EachDynamoDB(t, testSessionsTableScanSurvivesThroughputErrors)
}

func testSessionsTableScanSurvivesThroughputErrors(t *testing.T, endpoint string) {
	table := fmt.Sprintf("sentinel-sessions-%d", time.Now().UnixNano())
	createSessionsTable(t, endpoint, table)
	proxyURL, throttled := throttlingProxy(t, endpoint, 4)
	wh := filepath.Join(t.TempDir(), "wh")
	r := sentinel(t, awsEnv("AWS_ENDPOINT_URL_DYNAMODB="+proxyURL), "--warehouse", wh, "ingest", "--sessions-table", table, "--scan-segments", "2").mustExit(t, 0)
	if throttled.Load() != 4 || !strings.Contains(r.stdout, "1 session snapshot (8 items)") {
		t.Fatalf("throttled %d times; summary %s\n%s", throttled.Load(), r.stdout, r.stderr)
	}
	alwaysURL, _ := throttlingProxy(t, endpoint, -1)
	r = sentinel(t, awsEnv("AWS_ENDPOINT_URL_DYNAMODB="+alwaysURL, "AWS_MAX_ATTEMPTS=2"), "--warehouse", wh, "ingest", "--sessions-table", table).mustExit(t, 1)
	if !strings.Contains(r.stderr, "scan "+table) || !strings.Contains(r.stderr, "ProvisionedThroughputExceededException") {
		t.Fatalf("stderr: %s", r.stderr)
	}
	if n := scalar(t, wh, `SELECT count(*) FROM snapshots`); n != 1 {
		t.Fatalf("a failed scan must not store a snapshot: %v snapshots", n)
	}
}

// TestS3RegionsLeftOutAreNeverCompliant: an S3 trail ingested with --regions us-east-1 leaves
// out the eu-west-1 folders it found, where AssumeRole through STS's eu-west-1 endpoint is
// logged. prod-readonly, COMPLIANT on the whole trail, is INCONCLUSIVE on that warehouse (the
// Evidence names what was left out) until a listing without --regions reads them.
func TestS3RegionsLeftOutAreNeverCompliant(t *testing.T) {
	_, endpoint := s3WithTrail(t)
	wh := filepath.Join(t.TempDir(), "wh")
	env := awsEnv("AWS_ENDPOINT_URL_S3="+endpoint, "AWS_ENDPOINT_URL_CLOUDTRAIL="+keysEndpoint(t))
	ingest := func(args ...string) {
		t.Helper()
		sentinel(t, env, append([]string{"--warehouse", wh, "ingest", "--source", "s3://" + bucket,
			"--sessions-file", fixtures + "/sessions"}, args...)...).mustExit(t, 0)
	}
	audit := func(code int) complianceJSON {
		t.Helper()
		r := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "session-compliance",
			"--since", since, "--until", until, "--profile", "prod-readonly", "--format", "json").mustExit(t, code)
		var rep complianceJSON
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("%v\n%s", err, r.stdout)
		}
		return rep
	}
	ingest("--regions", "us-east-1")
	if got := query(t, wh, `SELECT string_agg(account || ' ' || region, ', ' ORDER BY account) AS l FROM left_out WHERE source = 's3://`+bucket+`'`); got[0]["l"] != "222222222222 eu-west-1, 444444444444 eu-west-1" {
		t.Fatalf("left out: %v", got)
	}
	rep := audit(3)
	if rep.Verdict.Result != "INCONCLUSIVE" || rep.Verdict.codes() != "regions_left_out" ||
		!strings.Contains(rep.Verdict.Reasons[0].Message, "(222222222222 eu-west-1)") ||
		!strings.Contains(rep.Verdict.Reasons[0].Action, "sentinel ingest --source s3://"+bucket+"` without --regions") {
		t.Fatalf("verdict %+v", rep.Verdict)
	}
	r := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "session-compliance",
		"--since", since, "--until", until, "--profile", "prod-readonly").mustExit(t, 3)
	if !strings.Contains(r.stdout, "  Left out: 222222222222 eu-west-1 of s3://"+bucket+" (ingest --regions)") {
		t.Fatalf("the Evidence does not name the region left out:\n%s", r.stdout)
	}
	ingest()
	if n := scalar(t, wh, `SELECT count(*) FROM left_out`); n != 0 {
		t.Fatalf("%v regions still left out after a listing read them all", n)
	}
	if rep := audit(0); rep.Verdict.Result != "COMPLIANT" {
		t.Fatalf("verdict %+v", rep.Verdict)
	}
}
