package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sentinel-audit/sentinel/warehouse"
)

// warehouseLakeBytes is the size of the Parquet files of one lake dataset on disk.
func warehouseLakeBytes(t *testing.T, wh, dataset string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(filepath.Join(wh, "lake", dataset), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".parquet") {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestWarehouseInfoOnFixtures(t *testing.T) {
	wh := ingestFixtures(t)
	r := sentinel(t, nil, "--warehouse", wh, "warehouse", "info", "--format", "json").mustExit(t, 0)
	var info warehouse.Info
	if err := json.Unmarshal([]byte(r.stdout), &info); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if info.Warehouse != wh {
		t.Errorf("warehouse = %q, want %q", info.Warehouse, wh)
	}

	// The lake: 74 distinct events (duplicates are not written) in 5 daily partitions, 17 snapshot
	// items in 2, and the issuance index: the 18 successful issuance records (17 issuances and the
	// P1x copy), in an issuances file beside each events file (testdata/fixtures/README.md).
	type dataset struct {
		files, rows, partitions int64
		dates, times            string
	}
	wantDatasets := map[string]dataset{
		"events":            {5, 74, 5, "2026-11-02..2026-11-06", "2026-11-02T09:58:30Z..2026-11-06T09:33:00Z"},
		"session_snapshots": {2, 17, 2, "2026-11-03..2026-11-06", "2026-11-03T19:12:00Z..2026-11-06T18:12:09Z"},
		"issuances":         {5, 18, 5, "2026-11-02..2026-11-06", "2026-11-02T10:05:12Z..2026-11-06T09:30:00Z"},
	}
	if len(info.Datasets) != len(wantDatasets) {
		t.Fatalf("datasets = %+v", info.Datasets)
	}
	for _, d := range info.Datasets {
		w, ok := wantDatasets[d.Dataset]
		if !ok || d.FirstDate == nil || d.FirstTime == nil {
			t.Errorf("dataset %+v", d)
			continue
		}
		got := dataset{d.Files, d.Rows, d.Partitions, *d.FirstDate + ".." + *d.LastDate,
			d.FirstTime.Format("2006-01-02T15:04:05Z") + ".." + d.LastTime.Format("2006-01-02T15:04:05Z")}
		if got != w {
			t.Errorf("%s: got %+v, want %+v", d.Dataset, got, w)
		}
		if want := warehouseLakeBytes(t, wh, d.Dataset); d.Bytes != want {
			t.Errorf("%s: %d bytes, the lake files hold %d", d.Dataset, d.Bytes, want)
		}
	}

	// The ledger: 17 trail files + 4 hand-off files read (88 records, 74 stored, 14 duplicates),
	// 2 snapshot files (17 items), 1344 digest files read, 1 insight file skipped; all local files,
	// each kind under the folder its files share.
	abs, err := filepath.Abs(filepath.Join(repoRoot(t), fixtures))
	if err != nil {
		t.Fatal(err)
	}
	dir := "file://" + filepath.ToSlash(abs) + "/"
	org := dir + "trail/AWSLogs/o-a1b2c3d4e5/"
	wantSources := []warehouse.LedgerSource{
		{Kind: "trail", Scheme: "file", Prefix: dir, Files: 21, OK: 21, RecordsRead: 88, Stored: 74, Duplicates: 14},
		{Kind: "snapshot", Scheme: "file", Prefix: dir + "sessions/", Files: 2, OK: 2, RecordsRead: 17, Stored: 17},
		{Kind: "digest", Scheme: "file", Prefix: org, Files: 1344, OK: 1344},
		{Kind: "insight", Scheme: "file", Prefix: org + "222222222222/CloudTrail-Insight/us-east-1/2026/11/04/222222222222_CloudTrail-Insight_us-east-1_20261104T1215Z_Nqstj8LjSIsV9vc8.json.gz",
			Files: 1, Skipped: 1},
	}
	if len(info.Sources) != len(wantSources) {
		t.Fatalf("sources = %+v", info.Sources)
	}
	for i, w := range wantSources {
		if info.Sources[i] != w {
			t.Errorf("source %d: got %+v, want %+v", i, info.Sources[i], w)
		}
	}

	if info.Runs != 1 || info.LastRun == nil {
		t.Fatalf("runs = %d, last = %+v", info.Runs, info.LastRun)
	}
	last := *info.LastRun
	if last.Run != 1 || last.Status != "ok" || last.FilesRead != 23+1344 || last.FilesSkipped != 1 || last.FilesFailed != 0 ||
		last.EventsStored != 74 || last.Duplicates != 14 || last.SnapshotRows != 17 || last.FinishedAt == nil ||
		last.FinishedAt.Before(last.StartedAt) || !strings.Contains(last.Command, "--source "+fixtures+"/trail") ||
		last.Sources != "--source "+fixtures+"/trail --source "+fixtures+"/handoff --sessions-file "+fixtures+"/sessions" ||
		last.WindowStart != nil || last.WindowEnd != nil {
		t.Errorf("last run %+v", last)
	}

	s := info.Sessions
	if s.Snapshots != 2 || s.Items != 17 || s.SessionIDs != 10 || s.FirstTakenAt == nil || s.LastTakenAt == nil ||
		!s.FirstTakenAt.Before(*s.LastTakenAt) {
		t.Errorf("sessions %+v", s)
	}
	if info.Watermarks == nil || len(info.Watermarks) != 0 {
		t.Errorf("watermarks = %#v, want [] (no API sync)", info.Watermarks)
	}
}

func TestWarehouseInfoTable(t *testing.T) {
	wh := ingestFixtures(t)
	r := sentinel(t, nil, "--warehouse", wh, "warehouse", "info").mustExit(t, 0)
	for _, want := range []string{
		"Warehouse " + wh,
		"events                 5    74",
		"2026-11-02 .. 2026-11-06  2026-11-02T09:58:30Z .. 2026-11-06T09:33:00Z",
		"trail     file://     21    21       0        0            88      74          14",
		"digest    file://   1344  1344       0        0",
		"Ingest runs: 1",
		"Last run: 1, ok, started ",
		"1367 files read, 1 skipped, 0 failed; 74 events stored, 14 duplicate; 17 snapshot items",
		"Session history: 2 snapshots (17 items), 10 distinct session ids, taken 2026-11-03T19:12:00Z .. 2026-11-06T18:12:09Z",
		"API watermarks: none",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestWarehouseInfoErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nowhere")
	r := sentinel(t, nil, "--warehouse", missing, "warehouse", "info").mustExit(t, 2)
	if !strings.Contains(r.stderr, "no warehouse at "+missing) || !strings.Contains(r.stderr, "sentinel ingest") {
		t.Errorf("missing warehouse: %s", r.stderr)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("info created the warehouse directory")
	}
	wh := ingestFixtures(t)
	r = sentinel(t, nil, "--warehouse", wh, "warehouse", "info", "--format", "csv").mustExit(t, 2)
	if !strings.Contains(r.stderr, "--format csv: want table or json") {
		t.Errorf("csv: %s", r.stderr)
	}
}

func TestWarehouseDDLThroughTheBinary(t *testing.T) {
	for _, layout := range []string{"", "lake"} {
		args := []string{"warehouse", "ddl", "--engine", "athena", "--location", "s3://acme-audit/sentinel"}
		golden := "athena-export.sql"
		if layout != "" {
			args, golden = append(args, "--layout", layout), "athena-"+layout+".sql"
		}
		r := sentinel(t, nil, args...).mustExit(t, 0)
		want, err := os.ReadFile(filepath.Join(repoRoot(t), "ddl", "testdata", golden))
		if err != nil {
			t.Fatal(err)
		}
		if r.stdout != string(want) {
			t.Errorf("%s: output differs from ddl/testdata/%s:\n%s", strings.Join(args, " "), golden, r.stdout)
		}
	}
	r := sentinel(t, nil, "warehouse", "ddl", "--location", "s3://acme-audit/sentinel").mustExit(t, 2)
	if !strings.Contains(r.stderr, "sentinel: --engine is required: athena, trino or spark") || r.stdout != "" {
		t.Errorf("no --engine: %s", r.stderr)
	}
	r = sentinel(t, nil, "warehouse", "ddl", "--engine", "bigquery", "--location", "s3://acme-audit/sentinel").mustExit(t, 2)
	if !strings.Contains(r.stderr, `--engine "bigquery": want athena, trino or spark`) || r.stdout != "" {
		t.Errorf("bad engine: %q %q", r.stdout, r.stderr)
	}
}

func TestWarehouseInfoOnAnEmptyLake(t *testing.T) {
	// A warehouse whose only source was a digest file: a ledger, a run, and nothing in the lake.
	digests, err := filepath.Glob(filepath.Join(repoRoot(t), fixtures, "trail", "AWSLogs", "*", "*", "CloudTrail-Digest", "*", "*", "*", "*", "*.json.gz"))
	if err != nil || len(digests) == 0 {
		t.Fatalf("no digest fixture (%v)", err)
	}
	src := t.TempDir()
	data, err := os.ReadFile(digests[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, filepath.Base(digests[0])), data, 0o600); err != nil {
		t.Fatal(err)
	}
	wh := filepath.Join(t.TempDir(), "wh")
	sentinel(t, nil, "--warehouse", wh, "ingest", "--source", src).mustExit(t, 0)
	r := sentinel(t, nil, "--warehouse", wh, "warehouse", "info", "--format", "json").mustExit(t, 0)
	var info warehouse.Info
	if err := json.Unmarshal([]byte(r.stdout), &info); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	for _, d := range info.Datasets {
		if d.Files != 0 || d.Rows != 0 || d.Bytes != 0 || d.FirstDate != nil || d.FirstTime != nil {
			t.Errorf("empty lake dataset %+v", d)
		}
	}
	digest := "file://" + filepath.Join(src, filepath.Base(digests[0]))
	if len(info.Sources) != 1 || info.Sources[0] != (warehouse.LedgerSource{Kind: "digest", Scheme: "file", Prefix: digest, Files: 1, OK: 1}) {
		t.Errorf("sources %+v", info.Sources)
	}
	if info.Runs != 1 || info.Sessions != (warehouse.SessionHistory{}) {
		t.Errorf("runs %d, sessions %+v", info.Runs, info.Sessions)
	}
	table := sentinel(t, nil, "--warehouse", wh, "warehouse", "info").mustExit(t, 0).stdout
	if !strings.Contains(table, "events                 0     0   0 B           0  -      -") {
		t.Errorf("empty lake table:\n%s", table)
	}
}
