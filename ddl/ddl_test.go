package ddl

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/ingest"
	"github.com/sentinel-audit/sentinel/queries"
	"github.com/sentinel-audit/sentinel/reports"
	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/sentinel-audit/sentinel/window"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const fixtures = "../testdata/fixtures"

// goldenLocation is the --location of the golden files.
const goldenLocation = "s3://acme-audit/sentinel"

func TestGolden(t *testing.T) {
	for _, engine := range []string{EngineAthena, EngineTrino, EngineSpark} {
		for _, layout := range []string{LayoutExport, LayoutLake} {
			t.Run(engine+"_"+layout, func(t *testing.T) {
				var out bytes.Buffer
				if err := Write(Input{Engine: engine, Location: goldenLocation + "/", Layout: layout}, &out); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("testdata", engine+"-"+layout+".sql")
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (go test ./ddl -update creates it)", err)
				}
				if !bytes.Equal(out.Bytes(), want) {
					t.Fatalf("%s differs from the golden file (go test ./ddl -update to accept):\n%s", path, out.String())
				}
			})
		}
	}
}

func TestDefaultsToTheExportLayout(t *testing.T) {
	var def, export bytes.Buffer
	if err := Write(Input{Engine: EngineTrino, Location: goldenLocation}, &def); err != nil {
		t.Fatal(err)
	}
	if err := Write(Input{Engine: EngineTrino, Location: goldenLocation, Layout: LayoutExport, Database: "sentinel"}, &export); err != nil {
		t.Fatal(err)
	}
	if def.String() != export.String() {
		t.Fatal("no --layout and no --database should be --layout export --database sentinel")
	}
}

func TestDatabase(t *testing.T) {
	var out bytes.Buffer
	if err := Write(Input{Engine: EngineTrino, Location: goldenLocation, Database: "audit_2026"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CREATE SCHEMA IF NOT EXISTS hive.audit_2026;", "CREATE TABLE IF NOT EXISTS hive.audit_2026.events (",
		"CALL hive.system.sync_partition_metadata('audit_2026', 'events', 'FULL');", "FROM hive.audit_2026.issuances i", "--database audit_2026"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out.String(), "sentinel.") {
		t.Error("output still names the default database")
	}
}

func TestRejectsBadInput(t *testing.T) {
	for name, tc := range map[string]struct {
		in   Input
		want string
	}{
		"unknown_engine":         {Input{Engine: "presto", Location: goldenLocation}, `--engine "presto": want athena, trino or spark`},
		"duckdb_is_not_offered":  {Input{Engine: "duckdb", Location: goldenLocation}, `--engine "duckdb"`},
		"unknown_layout":         {Input{Engine: EngineSpark, Location: goldenLocation, Layout: "raw"}, `--layout "raw": want export`},
		"no_location":            {Input{Engine: EngineAthena}, "--location is required"},
		"not_a_uri":              {Input{Engine: EngineTrino, Location: "/data/lake"}, `--location "/data/lake": want a URI`},
		"quote_in_location":      {Input{Engine: EngineTrino, Location: "s3://b/it's"}, "without spaces, quotes"},
		"athena_reads_only_s3":   {Input{Engine: EngineAthena, Location: "gs://bucket/p"}, "Athena reads only s3://"},
		"bucket_missing":         {Input{Engine: EngineSpark, Location: "s3:///"}, "name a bucket"},
		"database_not_lowercase": {Input{Engine: EngineAthena, Location: goldenLocation, Database: "Audit"}, `--database "Audit"`},
	} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			err := Write(tc.in, &out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if out.Len() > 0 {
				t.Fatalf("wrote output on error:\n%s", out.String())
			}
		})
	}
}

func TestTakesOtherFileSystemsForTrinoAndSpark(t *testing.T) {
	var out bytes.Buffer
	if err := Write(Input{Engine: EngineSpark, Location: "s3a://acme-audit/sentinel", Layout: LayoutLake}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "LOCATION 's3a://acme-audit/sentinel/lake/events';") {
		t.Fatalf("spark lake DDL:\n%s", out.String())
	}
}

// fixtureWarehouse ingests the bundled fixtures (trail archives, hand-off files, session snapshots)
// into a new warehouse and returns its directory.
func fixtureWarehouse(t *testing.T) string {
	t.Helper()
	wh := filepath.Join(t.TempDir(), "wh")
	_, err := ingest.Run(context.Background(), ingest.Options{Warehouse: wh,
		Sources: []string{fixtures + "/trail", fixtures + "/handoff"}, SessionsFiles: []string{fixtures + "/sessions"}})
	if err != nil {
		t.Fatal(err)
	}
	return wh
}

// auditConn ingests the fixtures into a new warehouse, opens it with the audit views prepared as
// the audit reports see them (the fixtures' policy and AWS config), and returns its database and a
// connection to it.
func auditConn(t *testing.T) (*sql.DB, *sql.Conn) {
	t.Helper()
	ctx := context.Background()
	db, closer, err := reports.AuditViews(reports.AuditInput{Warehouse: fixtureWarehouse(t), PolicyPath: fixtures + "/policy.yaml",
		AWSConfigPath: fixtures + "/aws-config"}, io.Discard)(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closer.Close() })
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return db, conn
}

// duckColumns describes the result columns of query as DDL columns, by name.
func duckColumns(t *testing.T, conn *sql.Conn, query string) map[string]string {
	t.Helper()
	rows, err := conn.QueryContext(context.Background(), `DESCRIBE `+query)
	if err != nil {
		t.Fatalf("DESCRIBE %s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		name, typ := fmt.Sprint(vals[0]), fmt.Sprint(vals[1])
		mapped, ok := map[string]sqlType{
			"VARCHAR": stringType, "JSON": stringType, "TIMESTAMP WITH TIME ZONE": timestampType, "BOOLEAN": booleanType,
			"BIGINT": bigintType, "INTEGER": integerType, "DOUBLE": doubleType, "DATE": dateType, "VARCHAR[]": stringArrayType,
		}[typ]
		if !ok {
			t.Errorf("%s: DuckDB column %s has type %s, which the DDL cannot express", query, name, typ)
			continue
		}
		out[name] = mapped.String()
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// columnTypes are a table's columns (partition included) by name.
func columnTypes(tb table) map[string]string {
	out := map[string]string{}
	for _, c := range tb.Columns {
		out[c.Name] = c.Type.String()
	}
	if tb.Partition != nil {
		out[tb.Partition.Name] = tb.Partition.Type.String()
	}
	return out
}

func sameColumns(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	var diffs []string
	for name, typ := range want {
		if got[name] != typ {
			diffs = append(diffs, fmt.Sprintf("%s: DDL %q, DuckDB %q", name, typ, got[name]))
		}
	}
	for name, typ := range got {
		if _, ok := want[name]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: only DuckDB has it (%s)", name, typ))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%s: the DDL's columns differ from DuckDB's:\n  %s", what, strings.Join(diffs, "\n  "))
	}
}

func tableNamed(t *testing.T, tables []table, name string) table {
	t.Helper()
	for _, tb := range tables {
		if tb.Name == name {
			return tb
		}
	}
	t.Fatalf("no table %s", name)
	return table{}
}

func TestColumnsAreTheLakeColumns(t *testing.T) {
	wh := fixtureWarehouse(t)
	ctx := context.Background()
	r, err := warehouse.OpenReader(ctx, wh)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	conn, err := r.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tables, err := layoutTables(LayoutLake)
	if err != nil {
		t.Fatal(err)
	}
	for dataset, name := range map[string]string{warehouse.DatasetEvents: "events_all", warehouse.DatasetSnapshots: "session_snapshots"} {
		tb := tableNamed(t, tables, name)
		if want := "lake/" + dataset; tb.Dir != want {
			t.Errorf("%s reads %s, want %s", name, tb.Dir, want)
		}
		files, err := filepath.Glob(filepath.Join(warehouse.LakeDir(wh, dataset), tb.Partition.Name+"=*", "*.parquet"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no lake files of %s under partition %s (%v)", dataset, tb.Partition.Name, err)
		}
		quoted := make([]string, len(files))
		for i, f := range files {
			quoted[i] = "'" + f + "'"
		}
		got := duckColumns(t, conn, `SELECT * FROM read_parquet([`+strings.Join(quoted, ", ")+`], hive_partitioning = true)`)
		sameColumns(t, "lake "+dataset, got, columnTypes(tb))
	}
}

// The export layout's tables are COPY of the warehouse views (package bundle); written the way
// the export writes them and read back, their columns are the DDL's.
func TestColumnsAreTheExportedColumns(t *testing.T) {
	ctx := context.Background()
	_, conn := auditConn(t)
	tables, err := layoutTables(LayoutExport)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `CREATE SCHEMA sentinel; CREATE TABLE sentinel.issuances AS SELECT * FROM issuances`); err != nil {
		t.Fatal(err)
	}
	compliance, err := renderPortable(LayoutExport, complianceTemplate)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	sources := map[string]string{
		"events":     `SELECT * FROM events`,
		"issuances":  `SELECT * FROM issuances`,
		"sessions":   `SELECT * FROM sessions`,
		"compliance": strings.TrimSuffix(strings.TrimSpace(compliance), ";"),
	}
	if len(sources) != len(tables) {
		t.Fatalf("the export layout has %d tables, the test knows %d", len(tables), len(sources))
	}
	for _, tb := range tables {
		dir := filepath.Join(out, tb.Dir)
		copyTo, options, read := filepath.Join(dir, "part.parquet"), `FORMAT parquet`, filepath.Join(dir, "*.parquet")
		if tb.Partition != nil {
			copyTo, options = dir, `FORMAT parquet, PARTITION_BY (`+tb.Partition.Name+`)`
			read = filepath.Join(dir, "*", "*.parquet")
		} else if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, `COPY (`+sources[tb.Name]+`) TO '`+copyTo+`' (`+options+`)`); err != nil {
			t.Fatalf("export %s: %v", tb.Name, err)
		}
		got := duckColumns(t, conn, `SELECT * FROM read_parquet('`+read+`', hive_partitioning = true)`)
		sameColumns(t, "exported "+tb.Name, got, columnTypes(tb))
	}
}

// renderPortable renders one of the portable SQL templates in the DuckDB dialect, database "sentinel".
func renderPortable(layout, name string) (string, error) {
	s, err := newScript(dialects[duckDB], layout, goldenLocation, "sentinel")
	if err != nil {
		return "", err
	}
	return s.render(name)
}

var allTime = window.Window{Since: time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)}

// The lake-layout views, run on DuckDB over the raw lake files, give the warehouse's own events,
// sessions and issuances (without a profile map and policy, which the portable views lack).
func TestLakeViewsEqualTheWarehouseViews(t *testing.T) {
	wh := fixtureWarehouse(t)
	ctx := context.Background()
	r, err := warehouse.OpenReader(ctx, wh)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := queries.Prepare(ctx, r.DB(), queries.Setup{}); err != nil {
		t.Fatal(err)
	}
	conn, err := r.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	views, err := renderPortable(LayoutLake, lakeViewsTemplate)
	if err != nil {
		t.Fatal(err)
	}
	setup := `SET TimeZone = 'UTC'; CREATE SCHEMA sentinel;
		CREATE VIEW sentinel.events_all AS SELECT * FROM read_parquet('` + filepath.Join(warehouse.LakeDir(wh, warehouse.DatasetEvents), "*", "*.parquet") + `', hive_partitioning = true);
		CREATE VIEW sentinel.session_snapshots AS SELECT * FROM read_parquet('` + filepath.Join(warehouse.LakeDir(wh, warehouse.DatasetSnapshots), "*", "*.parquet") + `', hive_partitioning = true);`
	if _, err := conn.ExecContext(ctx, setup+views); err != nil {
		t.Fatalf("create the lake views on DuckDB: %v", err)
	}
	for name, tc := range map[string]struct {
		columns string
		rows    int64
	}{
		"events":    {`event_id, event_date, source_file, ingest_run, raw::VARCHAR`, 73},
		"sessions":  {`id, snapshot_id, taken_at, status, profile, "user", expires_at, raw::VARCHAR, first_seen, last_seen, snapshot_count`, 10},
		"issuances": {`*`, 17},
	} {
		for _, q := range []string{
			`SELECT count(*) FROM sentinel.` + name,
			`SELECT count(*) FROM (SELECT ` + tc.columns + ` FROM ` + name + ` EXCEPT ALL SELECT ` + tc.columns + ` FROM sentinel.` + name + `)`,
			`SELECT count(*) FROM (SELECT ` + tc.columns + ` FROM sentinel.` + name + ` EXCEPT ALL SELECT ` + tc.columns + ` FROM ` + name + `)`,
		} {
			want := tc.rows
			if !strings.HasPrefix(q, "SELECT count(*) FROM sentinel.") {
				want = 0
			}
			var n int64
			if err := conn.QueryRowContext(ctx, q).Scan(&n); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if n != want {
				t.Errorf("%s = %d, want %d", q, n, want)
			}
		}
	}
}

// The portable compliance and untracked queries, run on DuckDB over the exported issuances, give
// the numbers of `sentinel audit session-compliance` and `untracked-sessions`.
func TestPortableQueriesGiveTheAuditAnswers(t *testing.T) {
	ctx := context.Background()
	db, conn := auditConn(t)
	if _, err := conn.ExecContext(ctx, `SET TimeZone = 'UTC'; CREATE SCHEMA sentinel; CREATE TABLE sentinel.issuances AS SELECT * FROM issuances`); err != nil {
		t.Fatal(err)
	}

	want, err := queries.SessionCompliance(ctx, db, queries.Filter{Window: allTime}, true)
	if err != nil {
		t.Fatal(err)
	}
	compliance, err := renderPortable(LayoutExport, complianceTemplate)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := conn.QueryContext(ctx, `SELECT profile, policy_required, tracked_count::BIGINT, untracked_count::BIGINT,
		orphaned_count::BIGINT, issuance_count::BIGINT, flagged_count::BIGINT, compliance_rate, has_gap
		FROM (`+strings.TrimSuffix(strings.TrimSpace(compliance), ";")+`) ORDER BY profile`)
	if err != nil {
		t.Fatal(err)
	}
	var got []queries.ComplianceRow
	for rows.Next() {
		var r queries.ComplianceRow
		var required bool
		if err := rows.Scan(&r.Profile, &required, &r.Tracked, &r.Untracked, &r.Orphaned, &r.Issuances, &r.Flagged, &r.ComplianceRate, &r.HasGap); err != nil {
			t.Fatal(err)
		}
		r.PolicyRequired = &required
		got = append(got, r)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(got) != 5 {
		t.Fatalf("portable compliance has %d profiles, the audit %d (want 5)", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Profile != w.Profile || *g.PolicyRequired != *w.PolicyRequired || g.Tracked != w.Tracked || g.Untracked != w.Untracked ||
			g.Orphaned != w.Orphaned || g.Issuances != w.Issuances || g.Flagged != w.Flagged ||
			math.Abs(g.ComplianceRate-w.ComplianceRate) > 1e-12 || g.HasGap != w.HasGap {
			t.Errorf("profile %d: portable %+v, audit %+v", i, g, w)
		}
	}

	wantUntracked, err := queries.UntrackedIssuances(ctx, db, queries.Filter{Window: allTime})
	if err != nil {
		t.Fatal(err)
	}
	untracked, err := renderPortable(LayoutExport, untrackedTemplate)
	if err != nil {
		t.Fatal(err)
	}
	rows, err = conn.QueryContext(ctx, untracked)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var n int
	for ; rows.Next(); n++ {
		var id, profile, category, reason string
		var user sql.NullString
		var at time.Time
		var skip [9]any
		if err := rows.Scan(&id, &at, &skip[0], &skip[1], &profile, &user, &skip[2], &skip[3], &skip[4], &category, &reason,
			&skip[5], &skip[6], &skip[7], &skip[8]); err != nil {
			t.Fatal(err)
		}
		if n >= len(wantUntracked) {
			continue
		}
		w := wantUntracked[n]
		if id != w.EventID || !at.Equal(w.EventTime) || profile != w.Profile || user.String != w.User || category != w.Category || reason != w.Reason {
			t.Errorf("untracked %d: portable %s %s %s %s %s, audit %+v", n, id, at, profile, category, reason, w)
		}
	}
	// 10 not tracked and P4, tracked but issued after its session's revocation.
	if n != len(wantUntracked) || n != 11 {
		t.Errorf("portable untracked lists %d issuances, the audit %d (want 11)", n, len(wantUntracked))
	}
}
