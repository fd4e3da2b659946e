package main

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/sentinel-audit/sentinel/internal/emulator/objectstore"
)

// export runs `sentinel export` over the fixture window with the fixture config.
func export(t *testing.T, env []string, wh string, args ...string) result {
	t.Helper()
	return sentinel(t, env, append([]string{"--warehouse", wh, "--config", fixtures + "/sentinel.yaml", "export",
		"--since", since, "--until", until}, args...)...)
}

type exportManifest struct {
	SentinelVersion string `json:"sentinel_version"`
	Policy          *struct {
		Path   string `json:"path"`
		SHA256 string `json:"sha256"`
	} `json:"policy"`
	Files []struct {
		Path  string `json:"path"`
		Table string `json:"table"`
		Rows  int64  `json:"rows"`
	} `json:"files"`
}

func readManifest(t *testing.T, dir string) exportManifest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m exportManifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// exportedFiles lists the files of dir (manifest included), relative, with slashes.
func exportedFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	})
	slices.Sort(out)
	return out
}

func (m exportManifest) paths() []string {
	out := []string{"manifest.json"}
	for _, f := range m.Files {
		out = append(out, f.Path)
	}
	slices.Sort(out)
	return out
}

var exportSummary = regexp.MustCompile(`^export: 4 tables, \d+ files, [\d,]+ rows, \d+\.\d MB to `)

func TestExportVerifyRoundTripAndTampering(t *testing.T) {
	wh := ingestFixtures(t)
	dir := filepath.Join(t.TempDir(), "evidence")
	r := export(t, nil, wh, "--to", dir).mustExit(t, 0)
	if !exportSummary.MatchString(r.stdout) || !strings.HasSuffix(r.stdout, " to "+dir+"\n") {
		t.Fatalf("summary: %q", r.stdout)
	}
	m := readManifest(t, dir)
	if m.SentinelVersion == "" || m.Policy == nil || !strings.HasSuffix(m.Policy.Path, "policy.yaml") || len(m.Policy.SHA256) != 64 {
		t.Fatalf("manifest: %+v", m)
	}
	r = sentinel(t, nil, "export", "verify", dir).mustExit(t, 0)
	if !strings.HasPrefix(r.stdout, "verify: intact: ") {
		t.Fatalf("verify: %s", r.stdout)
	}

	// The exported events, read back by DuckDB with Hive partitioning, are the warehouse's.
	warehouseSide := query(t, wh, `SELECT count(*) AS n, md5(string_agg(event_id, ',' ORDER BY event_id)) AS sum FROM events
		WHERE event_time >= TIMESTAMPTZ '`+since+`' AND event_time < TIMESTAMPTZ '`+until+`'`)[0]
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n float64
	var sum string
	if err := db.QueryRow(`SELECT count(*)::DOUBLE, md5(string_agg(event_id, ',' ORDER BY event_id))
		FROM read_parquet('`+dir+`/events/*/*.parquet', hive_partitioning = true)`).Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	if n != warehouseSide["n"] || sum != warehouseSide["sum"] {
		t.Fatalf("exported events %v (%s), warehouse %v (%s)", n, sum, warehouseSide["n"], warehouseSide["sum"])
	}

	// A flipped byte and a missing file make verify fail, naming both.
	var tampered, missing string
	for _, f := range m.Files {
		switch {
		case f.Table == "issuances":
			tampered = f.Path
		case f.Table == "sessions":
			missing = f.Path
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, tampered))
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/3] ^= 0x20
	if err := os.WriteFile(filepath.Join(dir, tampered), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, missing)); err != nil {
		t.Fatal(err)
	}
	r = sentinel(t, nil, "export", "verify", dir).mustExit(t, 1)
	for _, want := range []string{tampered + ": SHA-256", missing + ": missing", "verify: NOT INTACT"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("verify output lacks %q:\n%s", want, r.stdout)
		}
	}

	// Re-exporting the same window replaces the damaged export whole.
	export(t, nil, wh, "--to", dir, "--format", "csv", "--gzip").mustExit(t, 0)
	m = readManifest(t, dir)
	if got := exportedFiles(t, dir); !slices.Equal(got, m.paths()) {
		t.Fatalf("after re-export: %v, manifest %v", got, m.paths())
	}
	for _, f := range m.Files {
		if !strings.HasSuffix(f.Path, ".csv.gz") && f.Table != "report" {
			t.Fatalf("a file of the first export remains or is not CSV: %s", f.Path)
		}
	}
	sentinel(t, nil, "export", "verify", dir).mustExit(t, 0)
}

func TestExportCSVRowCountsMatchTheWarehouse(t *testing.T) {
	wh := ingestFixtures(t)
	dir := filepath.Join(t.TempDir(), "csv")
	export(t, nil, wh, "--to", dir, "--format", "csv", "--tables", "issuances,sessions", "--report=false").mustExit(t, 0)
	m := readManifest(t, dir)
	rows := map[string]int64{}
	for _, f := range m.Files {
		rows[f.Table] = f.Rows
		data, err := os.ReadFile(filepath.Join(dir, f.Path))
		if err != nil {
			t.Fatal(err)
		}
		header, _, _ := strings.Cut(string(data), "\n")
		if (f.Table == "issuances" && !strings.HasPrefix(header, "event_id,event_time,")) || (f.Table == "sessions" && !strings.Contains(header, "first_seen")) {
			t.Fatalf("%s header: %s", f.Path, header)
		}
	}
	if want := scalar(t, wh, `SELECT count(*) FROM sessions`); len(rows) != 2 || rows["sessions"] != int64(want) || rows["issuances"] != 17 {
		t.Fatalf("rows %v (sessions in the warehouse: %v)", rows, want)
	}
	sentinel(t, nil, "export", "verify", dir).mustExit(t, 0)
}

func TestExportRefusesBadInput(t *testing.T) {
	wh := ingestFixtures(t)
	notExport := t.TempDir()
	os.WriteFile(filepath.Join(notExport, "thesis.tex"), []byte("x"), 0o600)
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"no destination":        {nil, "--to is required"},
		"gzip with parquet":     {[]string{"--to", t.TempDir(), "--gzip"}, "--gzip is for CSV"},
		"unknown table":         {[]string{"--to", t.TempDir(), "--tables", "events,users"}, `unknown table "users"`},
		"someone else's folder": {[]string{"--to", notExport}, "thesis.tex"},
	} {
		r := export(t, nil, wh, c.args...).mustExit(t, 2)
		if !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: stderr %q lacks %q", name, r.stderr, c.want)
		}
	}
	if r := sentinel(t, nil, "export", "verify", filepath.Join(t.TempDir(), "none")).mustExit(t, 2); !strings.Contains(r.stderr, "no such file") {
		t.Errorf("verify of nothing: %s", r.stderr)
	}
}

func TestExportToS3AndVerify(t *testing.T) {
	wh := ingestFixtures(t)
	store, endpoint := objectstore.StartWith(t, "audit-evidence")
	to := "s3://audit-evidence/sentinel/2026-11"
	r := export(t, awsEnv(), wh, "--to", to, "--endpoint-url", endpoint).mustExit(t, 0)
	if !exportSummary.MatchString(r.stdout) || !strings.HasSuffix(r.stdout, " to "+to+"\n") {
		t.Fatalf("summary: %q", r.stdout)
	}
	r = sentinel(t, awsEnv(), "export", "verify", "--endpoint-url", endpoint, to).mustExit(t, 0)
	if !strings.HasPrefix(r.stdout, "verify: intact: ") {
		t.Fatalf("verify: %s", r.stdout)
	}

	// An upload that fails leaves no manifest: verify then finds none, and the error names the key.
	store.Inject(objectstore.Fault{Method: http.MethodPut, KeyContains: "compliance/", Status: 403})
	r = export(t, awsEnv(), wh, "--to", to, "--endpoint-url", endpoint, "--format", "csv").mustExit(t, 2)
	if !strings.Contains(r.stderr, "upload s3://audit-evidence/sentinel/2026-11/compliance/compliance.csv: the credentials lack a permission; ") || !strings.Contains(r.stderr, ": AccessDenied") {
		t.Fatalf("stderr: %s", r.stderr)
	}
	r = sentinel(t, awsEnv(), "export", "verify", "--endpoint-url", endpoint, to).mustExit(t, 1)
	if !strings.Contains(r.stdout, "manifest.json: missing") {
		t.Fatalf("verify after the failed upload: %s", r.stdout)
	}
	store.Clear()
	export(t, awsEnv(), wh, "--to", to, "--endpoint-url", endpoint, "--format", "csv").mustExit(t, 0)
	sentinel(t, awsEnv(), "export", "verify", "--endpoint-url", endpoint, to).mustExit(t, 0)
}
