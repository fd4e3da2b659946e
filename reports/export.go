package reports

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/sentinel-audit/sentinel/awsclient"
	"github.com/sentinel-audit/sentinel/queries"
	"golang.org/x/sync/errgroup"
)

// Data formats of an export.
const (
	ExportParquet = "parquet"
	ExportCSV     = "csv"
)

// ExportTables are the tables an export can hold, in the order they are written.
var ExportTables = []string{"events", "issuances", "sessions", "compliance"}

const (
	exportManifestName  = "manifest.json"
	exportFormatVersion = 1
)

// exportQueries are the queries behind the tables (compliance is the session_compliance query).
// $since and $until are bound as parameters; the text is recorded in the manifest as it ran.
var exportQueries = map[string]string{
	"events":    `SELECT * FROM events WHERE event_time >= $since AND event_time < $until ORDER BY event_time, event_id`,
	"issuances": `SELECT * FROM issuances WHERE event_time >= $since AND event_time < $until ORDER BY event_time, event_id`,
	"sessions":  `SELECT * FROM sessions ORDER BY id`,
}

// ExportInput is the input of `sentinel export`. Of the AuditInput, Profile and Format are not
// used: an export holds every profile.
type ExportInput struct {
	AuditInput
	To         string   // DIR or s3://BUCKET[/PREFIX]
	DataFormat string   // parquet (default) or csv
	Gzip       bool     // gzip the CSV files
	Tables     []string // a subset of ExportTables; empty = all
	Version    string   // sentinel's version, recorded in the manifest
	CreatedAt  time.Time
	AWS        *awsclient.Config // how to reach S3 for an s3:// destination
}

// ExportManifest is manifest.json: what an export holds and how to check it. Its JSON form is
// part of the CLI contract.
type ExportManifest struct {
	FormatVersion   int           `json:"format_version"`
	SentinelVersion string        `json:"sentinel_version"`
	CreatedAt       time.Time     `json:"created_at"`
	Window          ExportWindow  `json:"window"`
	Policy          *ExportPolicy `json:"policy"`
	Format          string        `json:"format"`
	Compression     string        `json:"compression"`
	Tables          []string      `json:"tables"`
	Files           []ExportFile  `json:"files"`
}

// ExportWindow is the event-time window of an export: [since, until).
type ExportWindow struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
}

// ExportPolicy is the policy the issuances and compliance tables were annotated with.
type ExportPolicy struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// ExportFile is one data file of an export. Path is relative to the manifest, with slashes.
type ExportFile struct {
	Path       string         `json:"path"`
	Table      string         `json:"table"`
	Rows       int64          `json:"rows"`
	Bytes      int64          `json:"bytes"`
	SHA256     string         `json:"sha256"`
	Query      string         `json:"query"`
	Parameters map[string]any `json:"parameters,omitempty"`
}

// Totals are the rows and bytes of every file.
func (m *ExportManifest) Totals() (rows, size int64) {
	for _, f := range m.Files {
		rows += f.Rows
		size += f.Bytes
	}
	return rows, size
}

// Export writes the chosen tables for the window into a fresh staging directory with DuckDB's
// COPY, describes every file in manifest.json, and then replaces the export at in.To as a whole:
// a local directory is swapped by renames; under an S3 prefix the data files are uploaded first,
// the manifest last, and objects the new manifest does not list are deleted afterwards. The
// summary line goes to out, warnings to diag.
func Export(ctx context.Context, in ExportInput, out, diag io.Writer) (*ExportManifest, error) {
	format, compression, err := exportFormat(in.DataFormat, in.Gzip)
	if err != nil {
		return nil, err
	}
	tables, err := exportTables(in.Tables)
	if err != nil {
		return nil, err
	}
	if !in.Window.Bounded() {
		return nil, errors.New("export needs a window with both ends (--since and --until)")
	}
	dest, err := exportDestination(in.To, in.AWS)
	if err != nil {
		return nil, err
	}
	if err := dest.preflight(ctx); err != nil {
		return nil, err
	}
	m := &ExportManifest{
		FormatVersion:   exportFormatVersion,
		SentinelVersion: in.Version,
		CreatedAt:       in.CreatedAt.UTC(),
		Window:          ExportWindow{Since: in.Window.Since.UTC(), Until: in.Window.Until.UTC()},
		Format:          format,
		Compression:     compression,
		Tables:          tables,
		Files:           []ExportFile{},
	}
	if in.PolicyPath != "" {
		_, sum, err := fileSHA256(in.PolicyPath)
		if err != nil {
			return nil, fmt.Errorf("policy checksum: %w", err)
		}
		m.Policy = &ExportPolicy{Path: in.PolicyPath, SHA256: sum}
	}
	staging, err := dest.staging()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(staging)
	if err := writeExportTables(ctx, in, m, staging, diag); err != nil {
		return nil, err
	}
	var manifest bytes.Buffer
	enc := json.NewEncoder(&manifest)
	enc.SetEscapeHTML(false) // keep the queries readable: >= not \u003e=
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(staging, exportManifestName), manifest.Bytes(), 0o600); err != nil {
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

func exportFormat(format string, gzip bool) (string, string, error) {
	switch format {
	case "", ExportParquet:
		if gzip {
			return "", "", errors.New("--gzip is for CSV: Parquet files are compressed with zstd already")
		}
		return ExportParquet, "zstd", nil
	case ExportCSV:
		if gzip {
			return ExportCSV, "gzip", nil
		}
		return ExportCSV, "none", nil
	}
	return "", "", fmt.Errorf("--format %q: want parquet or csv", format)
}

// exportTables checks a --tables list and puts it in the canonical order.
func exportTables(names []string) ([]string, error) {
	if len(names) == 0 {
		return slices.Clone(ExportTables), nil
	}
	var out []string
	for _, t := range ExportTables {
		if slices.Contains(names, t) {
			out = append(out, t)
		}
	}
	for _, n := range names {
		if !slices.Contains(ExportTables, n) {
			return nil, fmt.Errorf("--tables: unknown table %q (want some of %s)", n, strings.Join(ExportTables, ", "))
		}
	}
	return out, nil
}

// writeExportTables runs one COPY per table into staging and records the files it wrote.
func writeExportTables(ctx context.Context, in ExportInput, m *ExportManifest, staging string, diag io.Writer) error {
	a, err := openAudit(ctx, in.AuditInput, diag)
	if err != nil {
		return err
	}
	defer a.Close()
	conn, err := a.reader.DB().Conn(ctx)
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
		query, params, args := exportQueries[table], window, windowArgs
		recorded := query
		switch table {
		case "sessions":
			params, args = nil, nil
		case "compliance":
			if recorded, params, err = stageCompliance(ctx, a, conn, in, m); err != nil {
				return err
			}
			query, args = `SELECT * FROM export_compliance ORDER BY profile`, nil
		}
		dir := filepath.Join(staging, table)
		var target, options string
		switch {
		case m.Format == ExportParquet && table == "events":
			target, options = dir, `FORMAT parquet, COMPRESSION zstd, PARTITION_BY (event_date), FILENAME_PATTERN 'part-{i}'`
		case m.Format == ExportParquet:
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
		res, err := conn.ExecContext(ctx, `COPY (`+query+`) TO `+sqlQuote(target)+` (`+options+`)`, args...)
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
func stageCompliance(ctx context.Context, a *audit, conn *sql.Conn, in ExportInput, m *ExportManifest) (string, map[string]any, error) {
	hasPolicy := a.policy != nil
	rows, err := queries.SessionCompliance(ctx, a.reader.DB(), queries.Filter{Window: in.Window}, hasPolicy)
	if err != nil {
		return "", nil, err
	}
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TABLE export_compliance (profile VARCHAR, policy_required BOOLEAN,
		tracked_count BIGINT, untracked_count BIGINT, orphaned_count BIGINT, issuance_count BIGINT, flagged_count BIGINT,
		compliance_rate DOUBLE, has_gap BOOLEAN)`); err != nil {
		return "", nil, fmt.Errorf("export compliance: %w", err)
	}
	for _, r := range rows {
		if _, err := conn.ExecContext(ctx, `INSERT INTO export_compliance VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Profile, r.PolicyRequired, r.Tracked, r.Untracked, r.Orphaned, r.Issuances, r.Flagged, r.ComplianceRate, r.HasGap); err != nil {
			return "", nil, fmt.Errorf("export compliance: %w", err)
		}
	}
	params := map[string]any{
		"since": m.Window.Since.Format(time.RFC3339Nano), "until": m.Window.Until.Format(time.RFC3339Nano),
		"profile": "", "has_policy": hasPolicy,
	}
	return queries.SessionComplianceSQL(), params, nil
}

// describeFiles checksums and counts the files COPY wrote under dir.
func describeFiles(ctx context.Context, q rowQuerier, root, dir string) ([]ExportFile, error) {
	var files []ExportFile
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
		files = append(files, ExportFile{Path: filepath.ToSlash(rel), Rows: rows, Bytes: size, SHA256: sum})
		return nil
	})
	slices.SortFunc(files, func(a, b ExportFile) int { return strings.Compare(a.Path, b.Path) })
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

func sqlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

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

// exportShaped reports whether a path relative to an export's root is one an export writes:
// the manifest or a file under a table's directory. Destinations holding anything else are
// refused, so an export never replaces or deletes what it did not write.
func exportShaped(rel string) bool {
	first, _, _ := strings.Cut(rel, "/")
	return rel == exportManifestName || slices.Contains(ExportTables, first)
}

// validExportPath reports whether a manifest's file path stays inside the export.
func validExportPath(p string) bool {
	return p != "" && path.Clean(p) == p && filepath.IsLocal(filepath.FromSlash(p)) && !strings.Contains(p, `\`)
}

// exportLocation is where an export lives, for writing and for verifying.
type exportLocation interface {
	fmt.Stringer
	// preflight refuses a destination holding anything an export does not write.
	preflight(ctx context.Context) error
	// staging makes a fresh directory to write the new export into.
	staging() (string, error)
	// publish replaces the export at the location with the staged one.
	publish(ctx context.Context, staging string, m *ExportManifest) error
	// readManifest returns manifest.json (fs.ErrNotExist when there is none).
	readManifest(ctx context.Context) ([]byte, error)
	// list returns the relative paths of every file of the export.
	list(ctx context.Context) ([]string, error)
	// fetch returns a local path holding the file rel (a download into tmp for S3).
	fetch(ctx context.Context, rel, tmp string) (string, error)
}

func exportDestination(to string, a *awsclient.Config) (exportLocation, error) {
	if to == "" {
		return nil, errors.New("--to is required: a directory or s3://BUCKET/PREFIX")
	}
	rest, ok := strings.CutPrefix(to, "s3://")
	if !ok {
		return &localExport{dir: filepath.Clean(to)}, nil
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return nil, fmt.Errorf("%s: no bucket (want s3://BUCKET/PREFIX)", to)
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	if a == nil {
		return nil, fmt.Errorf("%s: no AWS configuration to reach S3 with", to)
	}
	return &s3Export{client: a.S3(), bucket: bucket, prefix: prefix}, nil
}

// localExport is an export in a local directory.
type localExport struct{ dir string }

func (l *localExport) String() string { return l.dir }

func (l *localExport) preflight(context.Context) error {
	info, err := os.Stat(l.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return fmt.Errorf("%s exists and is not a directory", l.dir)
	}
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !exportShaped(e.Name()) || (e.Name() != exportManifestName && !e.IsDir()) {
			return fmt.Errorf("%s is not an export: it holds %s, which an export never writes; export to a new or empty directory, or to one an earlier `sentinel export` wrote",
				l.dir, e.Name())
		}
	}
	return nil
}

func (l *localExport) staging() (string, error) {
	parent := filepath.Dir(l.dir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(parent, "."+filepath.Base(l.dir)+".export-")
	if err != nil {
		return "", fmt.Errorf("staging directory: %w", err)
	}
	return dir, nil
}

// publish moves the old export aside, the new one in, then deletes the old: at every moment
// the directory holds one whole export (or, between the two renames, none).
func (l *localExport) publish(_ context.Context, staging string, _ *ExportManifest) error {
	if _, err := os.Lstat(l.dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(staging, l.dir); err != nil {
			return fmt.Errorf("move the export into place: %w", err)
		}
		return nil
	}
	aside, err := os.MkdirTemp(filepath.Dir(l.dir), "."+filepath.Base(l.dir)+".replaced-")
	if err != nil {
		return fmt.Errorf("move the old export aside: %w", err)
	}
	old := filepath.Join(aside, "old")
	if err := os.Rename(l.dir, old); err != nil {
		os.Remove(aside)
		return fmt.Errorf("move the old export aside: %w", err)
	}
	if err := os.Rename(staging, l.dir); err != nil {
		if rerr := os.Rename(old, l.dir); rerr != nil {
			return fmt.Errorf("move the export into place: %w; the old export is kept at %s (%v)", err, old, rerr)
		}
		os.Remove(aside)
		return fmt.Errorf("move the export into place: %w (the old export is unchanged)", err)
	}
	if err := os.RemoveAll(aside); err != nil {
		return fmt.Errorf("delete the old export at %s: %w", aside, err)
	}
	return nil
}

func (l *localExport) readManifest(context.Context) ([]byte, error) {
	return os.ReadFile(filepath.Join(l.dir, exportManifestName))
}

func (l *localExport) list(context.Context) ([]string, error) {
	var out []string
	err := filepath.WalkDir(l.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(l.dir, p)
		if err != nil {
			return err
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	return out, err
}

func (l *localExport) fetch(_ context.Context, rel, _ string) (string, error) {
	return filepath.Join(l.dir, filepath.FromSlash(rel)), nil
}

// exportObjectStore is what an export needs of S3; *s3.Client satisfies it.
type exportObjectStore interface {
	manager.UploadAPIClient
	s3.ListObjectsV2APIClient
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	DeleteObjects(context.Context, *s3.DeleteObjectsInput, ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
}

// s3Export is an export under an S3 prefix ("" or ending in "/").
type s3Export struct {
	client   exportObjectStore
	bucket   string
	prefix   string
	existing []string // relative keys under the prefix before the export (from preflight)
}

func (s *s3Export) String() string {
	return "s3://" + s.bucket + "/" + strings.TrimSuffix(s.prefix, "/")
}

func (s *s3Export) url(rel string) string { return "s3://" + s.bucket + "/" + s.prefix + rel }

func (s *s3Export) preflight(ctx context.Context) error {
	keys, err := s.list(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if !exportShaped(k) {
			return fmt.Errorf("%s is not an export: it holds %s, which an export never writes; export to a new prefix, or to one an earlier `sentinel export` wrote",
				s, s.url(k))
		}
	}
	s.existing = keys
	return nil
}

func (s *s3Export) staging() (string, error) {
	dir, err := os.MkdirTemp("", "sentinel-export-")
	if err != nil {
		return "", fmt.Errorf("staging directory: %w", err)
	}
	return dir, nil
}

// publish deletes the old manifest (its files are about to be overwritten), uploads the data
// files, then the new manifest, then deletes the objects the new manifest does not list. A failed
// upload leaves no manifest, so nothing claims files that are not there.
func (s *s3Export) publish(ctx context.Context, staging string, m *ExportManifest) error {
	if slices.Contains(s.existing, exportManifestName) {
		if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + exportManifestName)}); err != nil {
			return s3Error("delete the old manifest "+s.url(exportManifestName), err)
		}
	}
	//lint:ignore SA1019 feature/s3/manager is the uploader the design names (multipart for large files); its successor transfermanager can replace it wholesale
	uploader := manager.NewUploader(s.client)
	upload := func(ctx context.Context, rel string) error {
		f, err := os.Open(filepath.Join(staging, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		defer f.Close()
		//lint:ignore SA1019 see NewUploader above
		_, err = uploader.Upload(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + rel), Body: f, ContentType: aws.String(contentType(rel))})
		if err != nil {
			return s3Error("upload "+s.url(rel), err)
		}
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, f := range m.Files {
		g.Go(func() error { return upload(gctx, f.Path) })
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("%w; the manifest was not written, so %s holds no complete export: re-run the export", err, s)
	}
	if err := upload(ctx, exportManifestName); err != nil {
		return fmt.Errorf("%w; re-run the export", err)
	}
	listed := map[string]bool{exportManifestName: true}
	for _, f := range m.Files {
		listed[f.Path] = true
	}
	var stale []s3types.ObjectIdentifier
	for _, k := range s.existing {
		if !listed[k] {
			stale = append(stale, s3types.ObjectIdentifier{Key: aws.String(s.prefix + k)})
		}
	}
	for batch := range slices.Chunk(stale, 1000) {
		out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &s.bucket, Delete: &s3types.Delete{Objects: batch, Quiet: aws.Bool(true)}})
		if err != nil {
			return s3Error(fmt.Sprintf("delete %d files of the previous export under %s", len(batch), s), err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("delete s3://%s/%s of the previous export: %s: %s (and %d more)", s.bucket, aws.ToString(e.Key),
				aws.ToString(e.Code), aws.ToString(e.Message), len(out.Errors)-1)
		}
	}
	return nil
}

func contentType(rel string) string {
	switch {
	case strings.HasSuffix(rel, ".parquet"):
		return "application/vnd.apache.parquet"
	case strings.HasSuffix(rel, ".csv"):
		return "text/csv"
	case strings.HasSuffix(rel, ".gz"):
		return "application/gzip"
	case strings.HasSuffix(rel, ".json"):
		return "application/json"
	}
	return "application/octet-stream"
}

func (s *s3Export) readManifest(ctx context.Context) ([]byte, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + exportManifestName)})
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound") {
			return nil, fs.ErrNotExist
		}
		return nil, s3Error("read "+s.url(exportManifestName), err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.url(exportManifestName), err)
	}
	return data, nil
}

func (s *s3Export) list(ctx context.Context) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: aws.String(s.prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s3Error("list "+s.String(), err)
		}
		for _, o := range page.Contents {
			rel := strings.TrimPrefix(aws.ToString(o.Key), s.prefix)
			if rel == "" || strings.HasSuffix(rel, "/") {
				continue // the prefix itself or a folder marker
			}
			keys = append(keys, rel)
		}
	}
	return keys, nil
}

func (s *s3Export) fetch(ctx context.Context, rel, tmp string) (string, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + rel)})
	if err != nil {
		return "", s3Error("download "+s.url(rel), err)
	}
	defer out.Body.Close()
	local := filepath.Join(tmp, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(local), 0o700); err != nil {
		return "", err
	}
	f, err := os.Create(local)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, out.Body); err != nil {
		f.Close()
		return "", fmt.Errorf("download %s: %w", s.url(rel), err)
	}
	return local, f.Close()
}

// s3Error renders an SDK error as what was being done, then the error's code and message.
func s3Error(what string, err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		msg := api.ErrorCode()
		if m := api.ErrorMessage(); m != "" {
			msg += ": " + m
		}
		return fmt.Errorf("%s: %s", what, msg)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// VerifyExportInput is the input of `sentinel export verify`.
type VerifyExportInput struct {
	From string            // DIR or s3://BUCKET[/PREFIX]
	AWS  *awsclient.Config // for s3://
}

// VerifyExportResult is what verify found. Problems is empty when the export is intact.
type VerifyExportResult struct {
	Files    int
	Rows     int64
	Problems []string
}

// VerifyExport re-checks an export against its manifest: every listed file is there with its
// size, SHA-256 and row count (read back with DuckDB), and no file the manifest does not list is
// present. It writes the problems, one a line, and a summary to out.
func VerifyExport(ctx context.Context, in VerifyExportInput, out io.Writer) (VerifyExportResult, error) {
	var res VerifyExportResult
	loc, err := exportDestination(in.From, in.AWS)
	if err != nil {
		return res, err
	}
	if l, ok := loc.(*localExport); ok {
		if info, err := os.Stat(l.dir); err != nil {
			return res, err
		} else if !info.IsDir() {
			return res, fmt.Errorf("%s is not a directory", l.dir)
		}
	}
	problems, err := verifyExport(ctx, loc, &res)
	if err != nil {
		return res, err
	}
	res.Problems = problems
	if len(problems) == 0 {
		fmt.Fprintf(out, "verify: intact: %s, %s rows at %s\n", plural(res.Files, "file"), thousands(res.Rows), loc)
		return res, nil
	}
	for _, p := range problems {
		fmt.Fprintln(out, p)
	}
	fmt.Fprintf(out, "verify: NOT INTACT: %s at %s\n", plural(len(problems), "problem"), loc)
	return res, nil
}

func verifyExport(ctx context.Context, loc exportLocation, res *VerifyExportResult) ([]string, error) {
	raw, err := loc.readManifest(ctx)
	if errors.Is(err, fs.ErrNotExist) {
		return []string{exportManifestName + ": missing: not an export, or one whose writing did not finish"}, nil
	}
	if err != nil {
		return nil, err
	}
	var m ExportManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return []string{fmt.Sprintf("%s: not a valid manifest: %v", exportManifestName, err)}, nil
	}
	if m.FormatVersion != exportFormatVersion {
		return nil, fmt.Errorf("%s: format_version %d; this sentinel reads version %d", exportManifestName, m.FormatVersion, exportFormatVersion)
	}
	files, err := loc.list(ctx)
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	present := map[string]bool{}
	for _, f := range files {
		present[f] = true
	}
	_, download := loc.(*s3Export)
	tmp, err := os.MkdirTemp("", "sentinel-verify-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, fmt.Errorf("open query engine: %w", err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()

	var problems []string
	listed := map[string]bool{exportManifestName: true}
	for _, f := range m.Files {
		listed[f.Path] = true
		res.Files++
		res.Rows += f.Rows
		if !validExportPath(f.Path) {
			problems = append(problems, fmt.Sprintf("%s: the manifest names a path outside the export", f.Path))
			continue
		}
		if !present[f.Path] {
			problems = append(problems, fmt.Sprintf("%s: missing (the manifest lists %s rows, %d bytes)", f.Path, thousands(f.Rows), f.Bytes))
			continue
		}
		local, err := loc.fetch(ctx, f.Path, tmp)
		if err != nil {
			return nil, err
		}
		size, sum, err := fileSHA256(local)
		if err != nil {
			return nil, err
		}
		if size != f.Bytes {
			problems = append(problems, fmt.Sprintf("%s: %d bytes, the manifest says %d", f.Path, size, f.Bytes))
		}
		if sum != f.SHA256 {
			problems = append(problems, fmt.Sprintf("%s: SHA-256 %s, the manifest says %s", f.Path, sum, f.SHA256))
		}
		if rows, err := countRows(ctx, db, local); err != nil {
			problems = append(problems, fmt.Sprintf("%s: unreadable: %v", f.Path, err))
		} else if rows != f.Rows {
			problems = append(problems, fmt.Sprintf("%s: %s rows read back, the manifest says %s", f.Path, thousands(rows), thousands(f.Rows)))
		}
		if download {
			os.Remove(local) // keep at most one download at a time
		}
	}
	for _, p := range files {
		if !listed[p] {
			problems = append(problems, fmt.Sprintf("%s: unexpected: the manifest does not list it", p))
		}
	}
	return problems, nil
}
