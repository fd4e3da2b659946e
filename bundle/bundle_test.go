package bundle

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/csv"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/sentinel-audit/sentinel/awsclient"
	"github.com/sentinel-audit/sentinel/ingest"
	"github.com/sentinel-audit/sentinel/internal/emulator/objectstore"
	"github.com/sentinel-audit/sentinel/reports"
	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/sentinel-audit/sentinel/window"
)

const fixtures = "../testdata/fixtures"

var exportWindow = window.Window{
	Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
	Until: time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC),
}

// exportWarehouse ingests the fixtures into a new warehouse.
func exportWarehouse(t *testing.T) string {
	t.Helper()
	wh := filepath.Join(t.TempDir(), "wh")
	_, err := ingest.Run(context.Background(), ingest.Options{Warehouse: wh,
		Sources: []string{fixtures + "/trail", fixtures + "/handoff"}, SessionsFiles: []string{fixtures + "/sessions"}})
	if err != nil {
		t.Fatal(err)
	}
	return wh
}

func exportInput(wh, to string) Input {
	policy := fixtures + "/policy.yaml"
	return Input{
		Evidence: reports.AuditViews(reports.AuditInput{Warehouse: wh, Window: exportWindow, PolicyPath: policy,
			AWSConfigPath: fixtures + "/aws-config"}, io.Discard),
		Window:     exportWindow,
		PolicyPath: policy,
		To:         to,
		Version:    "test",
		CreatedAt:  time.Date(2026, 11, 9, 12, 0, 0, 0, time.UTC),
	}
}

func runExport(t *testing.T, in Input) (*Manifest, string) {
	t.Helper()
	var out bytes.Buffer
	m, err := Write(context.Background(), in, &out)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	return m, out.String()
}

func runVerify(t *testing.T, in VerifyInput) (VerifyResult, string) {
	t.Helper()
	var out bytes.Buffer
	res, err := Verify(context.Background(), in, &out)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return res, out.String()
}

func engine(t *testing.T) *sql.DB {
	t.Helper()
	c, err := duckdb.NewConnector("", nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	t.Cleanup(func() { db.Close() })
	return db
}

// fingerprint is a count and a checksum over event_id of a query's rows.
func fingerprint(t *testing.T, db *sql.DB, from string, args ...any) (n int64, sum string) {
	t.Helper()
	q := `SELECT count(*), coalesce(md5(string_agg(event_id, ',' ORDER BY event_id)), '') FROM ` + from
	if err := db.QueryRow(q, args...).Scan(&n, &sum); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n, sum
}

// listFiles returns the files under dir, relative, with slashes.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func manifestPaths(m *Manifest) []string {
	out := []string{manifestName}
	for _, f := range m.Files {
		out = append(out, f.Path)
	}
	slices.Sort(out)
	return out
}

func TestParquetReadsBackAsTheWarehouse(t *testing.T) {
	wh := exportWarehouse(t)
	dir := filepath.Join(t.TempDir(), "export")
	m, line := runExport(t, exportInput(wh, dir))
	if !strings.HasPrefix(line, "export: 4 tables, ") || !strings.HasSuffix(line, " to "+dir+"\n") {
		t.Fatalf("summary: %q", line)
	}

	r, err := warehouse.OpenReader(context.Background(), wh)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	wantN, wantSum := fingerprint(t, r.DB(), `events WHERE event_time >= ? AND event_time < ?`, exportWindow.Since, exportWindow.Until)
	db := engine(t)
	gotN, gotSum := fingerprint(t, db, `read_parquet('`+dir+`/events/*/*.parquet', hive_partitioning = true)`)
	if wantN == 0 || gotN != wantN || gotSum != wantSum {
		t.Fatalf("exported events: %d rows (%s), warehouse: %d (%s)", gotN, gotSum, wantN, wantSum)
	}
	// The partition column comes back as a date and matches each event's time.
	var mismatched int64
	if err := db.QueryRow(`SELECT count(*) FROM read_parquet('` + dir + `/events/*/*.parquet', hive_partitioning = true)
		WHERE event_date <> (event_time AT TIME ZONE 'UTC')::DATE`).Scan(&mismatched); err != nil || mismatched != 0 {
		t.Fatalf("event_date partitions: %d mismatched, %v", mismatched, err)
	}

	perTable := map[string]int64{}
	for _, f := range m.Files {
		perTable[f.Table] += f.Rows
		if f.Query == "" || len(f.SHA256) != 64 || f.Bytes == 0 {
			t.Errorf("file entry %+v", f)
		}
	}
	if perTable["events"] != wantN || perTable["issuances"] != 17 || perTable["sessions"] != 10 || perTable["compliance"] == 0 {
		t.Fatalf("rows per table: %v (events in the window: %d)", perTable, wantN)
	}
	if m.Policy == nil || len(m.Policy.SHA256) != 64 || m.SentinelVersion != "test" || !m.Window.Since.Equal(exportWindow.Since) {
		t.Fatalf("manifest header: %+v", m)
	}
	if got := listFiles(t, dir); !slices.Equal(got, manifestPaths(m)) {
		t.Fatalf("files %v, manifest %v", got, manifestPaths(m))
	}
	if res, out := runVerify(t, VerifyInput{From: dir}); len(res.Problems) != 0 || !strings.HasPrefix(out, "verify: intact: ") {
		t.Fatalf("verify: %s", out)
	}
}

func TestCSVHasHeadersAndRowCounts(t *testing.T) {
	wh := exportWarehouse(t)
	for _, gz := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "csv")
		in := exportInput(wh, dir)
		in.Format, in.Gzip, in.Tables = CSV, gz, []string{"compliance", "events"}
		m, _ := runExport(t, in)
		ext := ".csv"
		if gz {
			ext = ".csv.gz"
		}
		want := map[string]string{"events": "events/events" + ext, "compliance": "compliance/compliance" + ext}
		if !slices.Equal(m.Tables, []string{"events", "compliance"}) || len(m.Files) != 2 {
			t.Fatalf("gzip=%v: tables %v, files %+v", gz, m.Tables, m.Files)
		}
		for _, f := range m.Files {
			if f.Path != want[f.Table] {
				t.Fatalf("gzip=%v: %s written as %s", gz, f.Table, f.Path)
			}
			data, err := os.ReadFile(filepath.Join(dir, f.Path))
			if err != nil {
				t.Fatal(err)
			}
			var body io.Reader = bytes.NewReader(data)
			if gz {
				zr, err := gzip.NewReader(body)
				if err != nil {
					t.Fatalf("%s is not gzip: %v", f.Path, err)
				}
				body = zr
			}
			records, err := csv.NewReader(body).ReadAll()
			if err != nil {
				t.Fatalf("%s: %v", f.Path, err)
			}
			header := records[0]
			switch f.Table {
			case "events":
				if header[0] != "event_id" || !slices.Contains(header, "event_date") || !slices.Contains(header, "raw") {
					t.Fatalf("events header %v", header)
				}
			case "compliance":
				wantHeader := []string{"profile", "policy_required", "tracked_count", "untracked_count", "orphaned_count",
					"unverified_count", "issuance_count", "flagged_count", "compliance_rate", "has_gap"}
				if !slices.Equal(header, wantHeader) {
					t.Fatalf("compliance header %v", header)
				}
			}
			if int64(len(records)-1) != f.Rows {
				t.Fatalf("%s: %d records, manifest says %d", f.Path, len(records)-1, f.Rows)
			}
		}
		if res, out := runVerify(t, VerifyInput{From: dir}); len(res.Problems) != 0 {
			t.Fatalf("gzip=%v verify: %s", gz, out)
		}
	}
}

func TestExportVerifyNamesTamperedMissingAndUnexpectedFiles(t *testing.T) {
	wh := exportWarehouse(t)
	dir := filepath.Join(t.TempDir(), "export")
	m, _ := runExport(t, exportInput(wh, dir))
	tampered, missing := m.Files[0].Path, m.Files[len(m.Files)-1].Path
	data, err := os.ReadFile(filepath.Join(dir, tampered))
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x01
	if err := os.WriteFile(filepath.Join(dir, tampered), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, missing)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "events", "extra.parquet"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, out := runVerify(t, VerifyInput{From: dir})
	for _, want := range []string{tampered + ": SHA-256 ", missing + ": missing", "events/extra.parquet: unexpected", "verify: NOT INTACT"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}
	if len(res.Problems) < 3 {
		t.Fatalf("problems: %v", res.Problems)
	}

	if err := os.Remove(filepath.Join(dir, manifestName)); err != nil {
		t.Fatal(err)
	}
	if res, out := runVerify(t, VerifyInput{From: dir}); len(res.Problems) != 1 || !strings.Contains(out, "manifest.json: missing") {
		t.Fatalf("without a manifest: %s", out)
	}
}

func TestExportReplacesThePreviousExportWhole(t *testing.T) {
	wh := exportWarehouse(t)
	dir := filepath.Join(t.TempDir(), "export")
	first, _ := runExport(t, exportInput(wh, dir))
	in := exportInput(wh, dir)
	in.Format, in.Tables = CSV, []string{"sessions", "events"}
	second, _ := runExport(t, in)
	if got := listFiles(t, dir); !slices.Equal(got, manifestPaths(second)) {
		t.Fatalf("after re-export: %v, want %v (first export: %v)", got, manifestPaths(second), manifestPaths(first))
	}
	if res, out := runVerify(t, VerifyInput{From: dir}); len(res.Problems) != 0 {
		t.Fatalf("verify: %s", out)
	}
	// The same window again: same files, nothing left over, no staging directories beside it.
	third, _ := runExport(t, in)
	if got := listFiles(t, dir); !slices.Equal(got, manifestPaths(third)) {
		t.Fatalf("after the third export: %v", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Fatalf("left beside the export: %v", entries)
	}
}

func TestExportRefusesADirectoryItDidNotWrite(t *testing.T) {
	wh := exportWarehouse(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Write(context.Background(), exportInput(wh, dir), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "notes.txt") {
		t.Fatalf("export into a directory with other files: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Fatal(err)
	}
}

func TestExportRejectsBadOptions(t *testing.T) {
	for name, in := range map[string]Input{
		"gzip with parquet": {Format: Parquet, Gzip: true, To: "x"},
		"unknown format":    {Format: "xml", To: "x"},
		"unknown table":     {Tables: []string{"events", "users"}, To: "x"},
		"no destination":    {},
	} {
		in.Window = exportWindow
		if _, err := Write(context.Background(), in, io.Discard); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// s3StandIn starts an S3 stand-in with upload faults and a bucket.
func s3StandIn(t *testing.T) (*objectstore.Server, *awsclient.Config) {
	t.Helper()
	store, endpoint := objectstore.StartWith(t, "evidence")
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIATESTTESTTESTTEST", "test-secret", "")}
	return store, &awsclient.Config{SDK: cfg, EndpointURL: endpoint, MaxAttempts: 2}
}

func s3Keys(t *testing.T, a *awsclient.Config, prefix string) []string {
	t.Helper()
	s := &s3Prefix{client: a.S3(), bucket: "evidence", prefix: prefix}
	keys, err := s.list(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

func TestExportToS3RoundTripAndReplace(t *testing.T) {
	wh := exportWarehouse(t)
	store, a := s3StandIn(t)
	if err := store.Put("evidence", "other/keep.txt", []byte("not ours")); err != nil {
		t.Fatal(err)
	}
	in := exportInput(wh, "s3://evidence/sentinel/2026-11")
	in.AWS = a
	first, line := runExport(t, in)
	if !strings.HasSuffix(line, " to s3://evidence/sentinel/2026-11\n") {
		t.Fatalf("summary %q", line)
	}
	if got := s3Keys(t, a, "sentinel/2026-11/"); !slices.Equal(got, manifestPaths(first)) {
		t.Fatalf("uploaded %v, manifest %v", got, manifestPaths(first))
	}
	if res, out := runVerify(t, VerifyInput{From: "s3://evidence/sentinel/2026-11/", AWS: a}); len(res.Problems) != 0 || res.Files != len(first.Files) {
		t.Fatalf("verify: %s", out)
	}

	in.Format, in.Gzip, in.Tables = CSV, true, []string{"issuances"}
	second, _ := runExport(t, in)
	if got := s3Keys(t, a, "sentinel/2026-11/"); !slices.Equal(got, manifestPaths(second)) {
		t.Fatalf("after re-export %v, want %v", got, manifestPaths(second))
	}
	if got := s3Keys(t, a, "other/"); !slices.Equal(got, []string{"keep.txt"}) {
		t.Fatalf("objects outside the prefix: %v", got)
	}
	if res, out := runVerify(t, VerifyInput{From: "s3://evidence/sentinel/2026-11", AWS: a}); len(res.Problems) != 0 {
		t.Fatalf("verify after re-export: %s", out)
	}

	// An object an export does not write makes the prefix off limits.
	if err := store.Put("evidence", "sentinel/2026-11/README", []byte("mine")); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(context.Background(), in, io.Discard); err == nil || !strings.Contains(err.Error(), "s3://evidence/sentinel/2026-11/README") {
		t.Fatalf("export over a foreign object: %v", err)
	}
}

func TestExportS3UploadFailureLeavesNoManifest(t *testing.T) {
	wh := exportWarehouse(t)
	store, a := s3StandIn(t)
	in := exportInput(wh, "s3://evidence/archive")
	in.AWS = a
	runExport(t, in) // an earlier, complete export: its manifest must not survive a failed re-export

	store.Inject(objectstore.Fault{Method: http.MethodPut, KeyContains: "sessions/", Status: 403})
	_, err := Write(context.Background(), in, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "upload s3://evidence/archive/sessions/sessions.parquet: the credentials lack a permission; ") ||
		!strings.Contains(err.Error(), ": AccessDenied") ||
		!strings.Contains(err.Error(), "manifest was not written") {
		t.Fatalf("failed upload: %v", err)
	}
	if slices.Contains(s3Keys(t, a, "archive/"), manifestName) {
		t.Fatal("a manifest is left after a failed upload")
	}
	if res, out := runVerify(t, VerifyInput{From: "s3://evidence/archive", AWS: a}); len(res.Problems) != 1 || !strings.Contains(out, "manifest.json: missing") {
		t.Fatalf("verify after a failed upload: %s", out)
	}

	store.Clear()
	m, _ := runExport(t, in)
	if got := s3Keys(t, a, "archive/"); !slices.Equal(got, manifestPaths(m)) {
		t.Fatalf("re-run after the failure: %v", got)
	}
	if res, out := runVerify(t, VerifyInput{From: "s3://evidence/archive", AWS: a}); len(res.Problems) != 0 {
		t.Fatalf("verify after the re-run: %s", out)
	}
}

func TestExportS3UploadsLargeFilesInParts(t *testing.T) {
	store, a := s3StandIn(t)
	staging := t.TempDir()
	big := make([]byte, 11<<20) // three parts of the uploader's 5 MiB
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(staging, "events"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(staging, "events", "big.bin"), big, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(staging, manifestName), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &s3Prefix{client: a.S3(), bucket: "evidence", prefix: "big/"}
	before := store.Puts()
	if err := s.publish(context.Background(), staging, &Manifest{Files: []File{{Path: "events/big.bin"}}}); err != nil {
		t.Fatal(err)
	}
	if n := store.Puts() - before; n != 4 { // three parts and the manifest
		t.Fatalf("%d PUTs, want 3 parts and the manifest", n)
	}
	local, err := s.fetch(context.Background(), "events/big.bin", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(local)
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("downloaded %d bytes (%v), uploaded %d", len(got), err, len(big))
	}
}

func TestExportThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
