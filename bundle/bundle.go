// Package bundle writes and verifies export bundles, what `sentinel export` and `sentinel export
// verify` work on: a window's evidence as Parquet or CSV tables in a local directory or under an
// S3 prefix, described file by file (rows, bytes, SHA-256, the query that produced it) in
// manifest.json.
package bundle

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/awsclient"
	"github.com/sentinel-audit/sentinel/queries"
	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/sentinel-audit/sentinel/window"
)

// Data formats of an export.
const (
	Parquet = "parquet"
	CSV     = "csv"
)

// Tables are the tables an export can hold, in the order they are written.
var Tables = []string{"events", "issuances", "sessions", "compliance"}

const (
	manifestName  = "manifest.json"
	formatVersion = 1
	// reportTable is the table name of the HTML evidence report in the manifest, and reportPath
	// where it is: an HTML page, not a table, it has no rows.
	reportTable = "report"
	reportPath  = "report/report.html"
)

// tableQueries are the queries behind the tables (compliance is the session_compliance query).
// $since and $until are bound as parameters; the text is recorded in the manifest as it ran.
var tableQueries = map[string]string{
	"events":    `SELECT * FROM events WHERE event_time >= $since AND event_time < $until ORDER BY event_time, event_id`,
	"issuances": `SELECT * FROM issuances WHERE event_time >= $since AND event_time < $until ORDER BY event_time, event_id`,
	"sessions":  `SELECT * FROM sessions ORDER BY id`,
}

// complianceTableSQL creates the table the compliance rows are staged in for COPY.
//
//go:embed compliance_table.sql
var complianceTableSQL string

// Evidence opens what an export copies: a database holding the audit views events, issuances and
// sessions for the export's window (the issuances annotated with the policy at Input.PolicyPath,
// when there is one), and what closes it.
type Evidence func(ctx context.Context) (*sql.DB, io.Closer, error)

// Input is the input of `sentinel export`: an export holds every profile.
type Input struct {
	Evidence   Evidence
	Window     window.Window // both ends set
	PolicyPath string        // the policy the issuances are annotated with ("" = none)
	To         string        // DIR or s3://BUCKET[/PREFIX]
	Format     string        // parquet (default) or csv
	Gzip       bool          // gzip the CSV files
	Tables     []string      // a subset of Tables; empty = all
	Version    string        // sentinel's version, recorded in the manifest
	CreatedAt  time.Time
	AWS        *awsclient.Config // how to reach S3 for an s3:// destination
	// Report writes the HTML evidence report of the window (`sentinel audit report`) to w, for
	// report/report.html; nil: the export holds none.
	Report func(ctx context.Context, w io.Writer) error
}

// Manifest is manifest.json: what an export holds and how to check it. Its JSON form is part of
// the CLI contract.
type Manifest struct {
	FormatVersion   int       `json:"format_version"`
	SentinelVersion string    `json:"sentinel_version"`
	CreatedAt       time.Time `json:"created_at"`
	Window          Window    `json:"window"`
	Policy          *Policy   `json:"policy"`
	Format          string    `json:"format"`
	Compression     string    `json:"compression"`
	Tables          []string  `json:"tables"`
	Files           []File    `json:"files"`
}

// Window is the event-time window of an export: [since, until).
type Window struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
}

// Policy is the policy the issuances and compliance tables were annotated with.
type Policy struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// File is one data file of an export. Path is relative to the manifest, with slashes.
type File struct {
	Path       string         `json:"path"`
	Table      string         `json:"table"`
	Rows       int64          `json:"rows"`
	Bytes      int64          `json:"bytes"`
	SHA256     string         `json:"sha256"`
	Query      string         `json:"query"`
	Parameters map[string]any `json:"parameters,omitempty"`
}

// Totals are the rows and bytes of every file.
func (m *Manifest) Totals() (rows, size int64) {
	for _, f := range m.Files {
		rows += f.Rows
		size += f.Bytes
	}
	return rows, size
}

// Write writes the chosen tables for the window into a fresh staging directory with DuckDB's
// COPY, describes every file in manifest.json, and then replaces the export at in.To as a whole:
// a local directory is swapped by renames; under an S3 prefix the data files are uploaded first,
// the manifest last, and objects the new manifest does not list are deleted afterwards. The
// evidence is opened only once the options and the destination have passed their checks. The
// summary line goes to out.
func Write(ctx context.Context, in Input, out io.Writer) (*Manifest, error) {
	format, compression, err := checkFormat(in.Format, in.Gzip)
	if err != nil {
		return nil, err
	}
	tables, err := checkTables(in.Tables)
	if err != nil {
		return nil, err
	}
	if !in.Window.Bounded() {
		return nil, errors.New("export needs a window with both ends (--since and --until)")
	}
	dest, err := destination(in.To, in.AWS)
	if err != nil {
		return nil, err
	}
	if err := dest.preflight(ctx); err != nil {
		return nil, err
	}
	m := &Manifest{
		FormatVersion:   formatVersion,
		SentinelVersion: in.Version,
		CreatedAt:       in.CreatedAt.UTC(),
		Window:          Window{Since: in.Window.Since.UTC(), Until: in.Window.Until.UTC()},
		Format:          format,
		Compression:     compression,
		Tables:          tables,
		Files:           []File{},
	}
	if in.PolicyPath != "" {
		_, sum, err := fileSHA256(in.PolicyPath)
		if err != nil {
			return nil, fmt.Errorf("policy checksum: %w", err)
		}
		m.Policy = &Policy{Path: in.PolicyPath, SHA256: sum}
	}
	staging, err := dest.staging()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(staging)
	if err := writeTables(ctx, in, m, staging); err != nil {
		return nil, err
	}
	if in.Report != nil {
		if err := writeReport(ctx, in, m, staging); err != nil {
			return nil, err
		}
	}
	var manifest bytes.Buffer
	enc := json.NewEncoder(&manifest)
	enc.SetEscapeHTML(false) // keep the queries readable: >= not \u003e=
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(staging, manifestName), manifest.Bytes(), 0o600); err != nil {
		return nil, fmt.Errorf("write manifest: %w", err)
	}
	if err := dest.publish(ctx, staging, m); err != nil {
		return nil, err
	}
	rows, size := m.Totals()
	fmt.Fprintf(out, "export: %s, %s, %s rows, %s to %s\n", plural(len(m.Tables), "table"), plural(len(m.Files), "file"),
		thousands(rows), megabytes(size), dest)
	return m, nil
}

func checkFormat(format string, gzip bool) (string, string, error) {
	switch format {
	case "", Parquet:
		if gzip {
			return "", "", errors.New("--gzip is for CSV: Parquet files are compressed with zstd already")
		}
		return Parquet, "zstd", nil
	case CSV:
		if gzip {
			return CSV, "gzip", nil
		}
		return CSV, "none", nil
	}
	return "", "", fmt.Errorf("--format %q: want parquet or csv", format)
}

// checkTables checks a --tables list and puts it in the canonical order.
func checkTables(names []string) ([]string, error) {
	if len(names) == 0 {
		return slices.Clone(Tables), nil
	}
	var out []string
	for _, t := range Tables {
		if slices.Contains(names, t) {
			out = append(out, t)
		}
	}
	for _, n := range names {
		if !slices.Contains(Tables, n) {
			return nil, fmt.Errorf("--tables: unknown table %q (want some of %s)", n, strings.Join(Tables, ", "))
		}
	}
	return out, nil
}

// writeTables opens the evidence, runs one COPY per table into staging and records the files it
// wrote.
func writeTables(ctx context.Context, in Input, m *Manifest, staging string) error {
	db, closer, err := in.Evidence(ctx)
	if err != nil {
		return err
	}
	defer closer.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET TimeZone = 'UTC'`); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	window := map[string]any{"since": m.Window.Since.Format(time.RFC3339Nano), "until": m.Window.Until.Format(time.RFC3339Nano)}
	windowArgs := []any{sql.Named("since", m.Window.Since), sql.Named("until", m.Window.Until)}
	for _, table := range m.Tables {
		// query runs; recorded is what the manifest says produced the rows.
		query, params, args := tableQueries[table], window, windowArgs
		recorded := query
		switch table {
		case "sessions":
			params, args = nil, nil
		case "compliance":
			if recorded, params, err = stageCompliance(ctx, db, conn, in, m); err != nil {
				return err
			}
			query, args = `SELECT * FROM export_compliance ORDER BY profile`, nil
		}
		dir := filepath.Join(staging, table)
		var target, options string
		switch {
		case m.Format == Parquet && table == "events":
			target, options = dir, `FORMAT parquet, COMPRESSION zstd, PARTITION_BY (event_date), FILENAME_PATTERN 'part-{i}'`
		case m.Format == Parquet:
			target, options = filepath.Join(dir, table+".parquet"), `FORMAT parquet, COMPRESSION zstd`
		case m.Compression == "gzip":
			target, options = filepath.Join(dir, table+".csv.gz"), `FORMAT csv, HEADER true, COMPRESSION gzip`
		default:
			target, options = filepath.Join(dir, table+".csv"), `FORMAT csv, HEADER true`
		}
		if target != dir {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return fmt.Errorf("export %s: %w", table, err)
			}
		}
		res, err := conn.ExecContext(ctx, `COPY (`+query+`) TO `+warehouse.Literal(target)+` (`+options+`)`, args...)
		if err != nil {
			return fmt.Errorf("export %s: %w", table, err)
		}
		copied, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("export %s: %w", table, err)
		}
		files, err := describeFiles(ctx, conn, staging, dir)
		if err != nil {
			return fmt.Errorf("export %s: %w", table, err)
		}
		var rows int64
		for i := range files {
			files[i].Table, files[i].Query, files[i].Parameters = table, recorded, params
			rows += files[i].Rows
		}
		if rows != copied {
			return fmt.Errorf("export %s: wrote %d rows but read %d back from the files", table, copied, rows)
		}
		m.Files = append(m.Files, files...)
	}
	return nil
}

// stageCompliance runs the session_compliance audit query for the window and keeps its rows, in
// its order, in the table export_compliance for COPY. It returns what the manifest records: the
// audit query's text (queries/session_compliance.sql, as `audit session-compliance` runs it) and
// its parameters.
func stageCompliance(ctx context.Context, db *sql.DB, conn *sql.Conn, in Input, m *Manifest) (string, map[string]any, error) {
	hasPolicy := in.PolicyPath != ""
	rows, err := queries.SessionCompliance(ctx, db, queries.Filter{Window: in.Window}, hasPolicy)
	if err != nil {
		return "", nil, err
	}
	if _, err := conn.ExecContext(ctx, complianceTableSQL); err != nil {
		return "", nil, fmt.Errorf("export compliance: %w", err)
	}
	for _, r := range rows {
		if _, err := conn.ExecContext(ctx, `INSERT INTO export_compliance VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Profile, r.PolicyRequired, r.Tracked, r.Untracked, r.Orphaned, r.Unverified, r.Issuances, r.Flagged, r.ComplianceRate, r.HasGap); err != nil {
			return "", nil, fmt.Errorf("export compliance: %w", err)
		}
	}
	params := map[string]any{
		"since": m.Window.Since.Format(time.RFC3339Nano), "until": m.Window.Until.Format(time.RFC3339Nano),
		"profile": "", "has_policy": hasPolicy,
	}
	return queries.SessionComplianceSQL(), params, nil
}

// writeReport writes the HTML evidence report into staging and lists it in the manifest, with the
// command that makes it again as its query.
func writeReport(ctx context.Context, in Input, m *Manifest, staging string) error {
	p := filepath.Join(staging, filepath.FromSlash(reportPath))
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("export report: %w", err)
	}
	f, err := os.Create(p)
	if err != nil {
		return fmt.Errorf("export report: %w", err)
	}
	if err := in.Report(ctx, f); err != nil {
		f.Close()
		return fmt.Errorf("export report: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("export report: %w", err)
	}
	size, sum, err := fileSHA256(p)
	if err != nil {
		return fmt.Errorf("export report: %w", err)
	}
	m.Files = append(m.Files, File{Path: reportPath, Table: reportTable, Bytes: size, SHA256: sum,
		Query: "sentinel audit report (the page names the SQL behind every number)",
		Parameters: map[string]any{"since": m.Window.Since.Format(time.RFC3339Nano), "until": m.Window.Until.Format(time.RFC3339Nano),
			"has_policy": in.PolicyPath != ""}})
	return nil
}

// describeFiles checksums and counts the files COPY wrote under dir.
func describeFiles(ctx context.Context, q rowQuerier, root, dir string) ([]File, error) {
	var files []File
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil // nothing written: a partitioned table without rows
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		size, sum, err := fileSHA256(p)
		if err != nil {
			return err
		}
		rows, err := countRows(ctx, q, p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		files = append(files, File{Path: filepath.ToSlash(rel), Rows: rows, Bytes: size, SHA256: sum})
		return nil
	})
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return files, err
}

type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// countRows reads a data file back with DuckDB and counts its rows.
func countRows(ctx context.Context, q rowQuerier, file string) (int64, error) {
	var query string
	switch name := filepath.Base(file); {
	case strings.HasSuffix(name, ".parquet"):
		query = `SELECT count(*) FROM read_parquet(?)`
	case strings.HasSuffix(name, ".csv"), strings.HasSuffix(name, ".csv.gz"):
		query = `SELECT count(*) FROM read_csv(?, header = true, all_varchar = true, delim = ',', quote = '"', escape = '"', max_line_size = 268435456)`
	default:
		return 0, fmt.Errorf("%s: not a Parquet or CSV file", name)
	}
	var n int64
	if err := q.QueryRowContext(ctx, query, file).Scan(&n); err != nil {
		return 0, fmt.Errorf("read back %s: %w", filepath.Base(file), err)
	}
	return n, nil
}

func fileSHA256(p string) (int64, string, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("read %s: %w", p, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// thousands renders n with comma separators: 1,234,567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// plural is "1 file", "2 files".
func plural(n int, word string) string {
	if n != 1 {
		word += "s"
	}
	return strconv.Itoa(n) + " " + word
}

func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
