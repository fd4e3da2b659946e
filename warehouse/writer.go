package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// ErrLocked is returned by OpenWriter when another process holds the warehouse lock.
var ErrLocked = errors.New("warehouse is locked by another ingest")

// LedgerEntry is the ledger's record of one source object.
type LedgerEntry struct {
	Source      string // file:///abs/path, s3://bucket/key, dynamodb://table
	Kind        string // trail | snapshot | digest | insight
	Size        int64
	MTime       time.Time
	ETag        string
	Status      string // ok | failed | skipped
	Error       string
	Events      int64
	Stored      int64
	Duplicates  int64
	OutOfWindow int64
	WindowStart time.Time // zero = open
	WindowEnd   time.Time // zero = open
	// ContentSHA256 is the hex SHA-256 of a trail log file's inflated bytes ("" for other
	// objects, and for files ingested before Sentinel hashed them); GzipMembers how many gzip
	// members it had (0: not gzip).
	ContentSHA256 string
	GzipMembers   int
}

// DigestRow is a CloudTrail digest file as ingest read it (the digests table).
type DigestRow struct {
	Source string // the ledger's source
	// Bucket and Key are where CloudTrail delivered it: for an S3 source, where it was found; for
	// a local copy, the bucket and key prefix its content names, with its path from AWSLogs/.
	Bucket, Key                        string
	Account, Region, Trail, HomeRegion string
	Start, End                         time.Time // Start is zero when it could not be read
	SHA256                             string    // of the inflated bytes; "" when it could not be inflated
	Body                               string    // the inflated JSON; "" when it could not be read
	Problem                            string    // why it could not be read
	Signature, SignatureAlgorithm      string    // S3 metadata; "" for a local copy
	SignatureStatus                    string    // valid | bad | unknown_key | not_checked | missing (in S3 without one)
}

// PublicKey is one of CloudTrail's public keys (ListPublicKeys), DER (PKCS#1).
type PublicKey struct {
	Fingerprint           string
	Value                 []byte
	ValidFrom, ValidUntil time.Time
	Region                string
}

// Snapshot describes one snapshot of the session table.
type Snapshot struct {
	ID      string
	Source  string
	TakenAt time.Time
	Items   int64
}

// Watermark is how far an API sync of one account and region got: events from CoveredFrom up
// to Watermark have been fetched.
type Watermark struct {
	Source, Account, Region string
	Watermark               time.Time
	CoveredFrom             time.Time
}

// Listing is how far ingest listed one S3 region prefix (s3://BUCKET/KEY-PREFIX/): every key
// after ListedFrom up to LastKey (keys within the bucket) was listed and committed.
type Listing struct {
	Prefix, ListedFrom, LastKey string
}

// TrailRegion is a region folder of an account's log files in an S3 trail (Source:
// s3://BUCKET[/PREFIX]), as a listing found it: left out by --regions (the left_out table), or read.
type TrailRegion struct {
	Source, Account, Region string
}

// Coverage is what one kind of source's ingested files say about one account and region (the
// coverage table): the oldest and newest event read.
type Coverage struct {
	Kind            string // CoverageTrail or CoverageFile
	Account, Region string
	Oldest, Newest  time.Time
}

// Kinds of coverage.
const (
	CoverageTrail = "trail" // log files in a trail's AWSLogs/.../CloudTrail/ layout
	CoverageFile  = "file"  // other event files
)

// RunStats are the totals of one ingest run, kept in ingest_runs.
type RunStats struct {
	FilesRead, FilesSkipped, FilesFailed             int64
	EventsStored, EventsDuplicate, EventsOutOfWindow int64
	SnapshotItems                                    int64
}

// Writer is the single writer of a warehouse. It holds the warehouse lock until Close.
type Writer struct {
	root     string
	lock     *os.File
	run      int64
	lakeMu   sync.Mutex                     // guards lake: a batch may commit while the next one reads EventIDs
	lake     map[string]map[string][]string // dataset -> partition date -> registered files (relative)
	scratch  *sql.DB                        // in-memory DuckDB for reading the lake
	seq      int
	Warnings []string // problems found and repaired when opening (e.g. registered files gone missing)
}

// Run describes a run for the catalog (ingest_runs): the command as the user gave it, and what it
// sets out to read: its sources ("" for runs that read nothing) and its event-time window (zero
// ends are open). A run that does not finish leaves part of its sources unread until a later run
// of the same sources over that time finishes.
type Run struct {
	Command, Sources string
	Since, Until     time.Time
}

// OpenWriter creates the warehouse at root if needed, takes the writer lock (failing with
// ErrLocked, or waiting for it when wait is set), repairs what a crashed run left behind and
// starts a new run.
func OpenWriter(ctx context.Context, root string, now time.Time, run Run, wait bool) (*Writer, error) {
	for _, d := range []string{root, filepath.Join(root, lakeName, tmpName), LakeDir(root, DatasetEvents), LakeDir(root, DatasetSnapshots), LakeDir(root, DatasetIssuances)} {
		if err := os.MkdirAll(d, dirMode); err != nil {
			return nil, fmt.Errorf("create warehouse directory %s: %w", d, err)
		}
	}
	lock, err := acquireLock(ctx, filepath.Join(root, lockName), wait)
	if err != nil {
		return nil, err
	}
	w := &Writer{root: root, lock: lock}
	if err := w.open(ctx, now, run); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

func acquireLock(ctx context.Context, path string, wait bool) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return nil, fmt.Errorf("open warehouse lock %s: %w", path, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			_ = f.Truncate(0)
			_, _ = f.WriteAt([]byte(fmt.Sprintf("%d\n", os.Getpid())), 0)
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock warehouse %s: %w", path, err)
		}
		if !wait {
			holder, _ := os.ReadFile(path)
			f.Close()
			return nil, fmt.Errorf("%w (pid %s holds %s); wait for it or pass --wait", ErrLocked, strings.TrimSpace(string(holder)), path)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (w *Writer) open(ctx context.Context, now time.Time, run Run) error {
	if err := writeSchemaFiles(w.root); err != nil {
		return err
	}
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return fmt.Errorf("open scratch database: %w", err)
	}
	w.scratch = sql.OpenDB(connector)
	if _, err := w.scratch.ExecContext(ctx, IssuanceMacro()); err != nil {
		return fmt.Errorf("open scratch database: %w", err)
	}
	db, err := openCatalog(ctx, CatalogPath(w.root))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := os.Chmod(CatalogPath(w.root), fileMode); err != nil {
		return fmt.Errorf("restrict catalog permissions: %w", err)
	}
	if err := w.loadLake(ctx, db); err != nil {
		return err
	}
	if err := w.removeUnregistered(); err != nil {
		return err
	}
	if err := inTx(ctx, db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE ingest_runs SET status = 'interrupted' WHERE status = 'running'`); err != nil {
			return fmt.Errorf("mark interrupted runs: %w", err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(run), 0) + 1 FROM ingest_runs`).Scan(&w.run); err != nil {
			return fmt.Errorf("next run number: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO ingest_runs (run, started_at, command, status, sources, window_start, window_end)
			VALUES (?, ?, ?, 'running', ?, ?, ?)`, w.run, now.UTC(), run.Command, run.Sources, nullTime(run.Since), nullTime(run.Until))
		if err != nil {
			return fmt.Errorf("record run: %w", err)
		}
		return nil
	}); err != nil {
		return err
	}
	return w.backfillCoverage(ctx, db, now)
}

// loadLake reads the lake file registry, dropping entries whose files have disappeared.
func (w *Writer) loadLake(ctx context.Context, db *sql.DB) error {
	w.lake = map[string]map[string][]string{DatasetEvents: {}, DatasetSnapshots: {}, DatasetIssuances: {}}
	rows, err := db.QueryContext(ctx, `SELECT path, dataset, strftime(partition_date, '%Y-%m-%d') FROM lake_files ORDER BY path`)
	if err != nil {
		return fmt.Errorf("read lake registry: %w", err)
	}
	defer rows.Close()
	var missing []string
	for rows.Next() {
		var path, dataset, date string
		if err := rows.Scan(&path, &dataset, &date); err != nil {
			return fmt.Errorf("read lake registry: %w", err)
		}
		if _, err := os.Stat(filepath.Join(w.root, path)); errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, path)
			continue
		}
		if w.lake[dataset] == nil {
			w.lake[dataset] = map[string][]string{}
		}
		w.lake[dataset][date] = append(w.lake[dataset][date], path)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read lake registry: %w", err)
	}
	for _, p := range missing {
		if _, err := db.ExecContext(ctx, `DELETE FROM lake_files WHERE path = ?`, p); err != nil {
			return fmt.Errorf("unregister missing lake file %s: %w", p, err)
		}
		w.Warnings = append(w.Warnings, fmt.Sprintf("lake file %s was registered but is missing; its events are gone from the warehouse until its sources are re-ingested", p))
	}
	return nil
}

// removeUnregistered deletes lake files no commit registered: leftovers of a crashed run. The
// lake directory may be a symbolic link (to another disk); only regular files are deleted, so a
// link inside it stays too.
func (w *Writer) removeUnregistered() error {
	registered := map[string]bool{}
	for _, parts := range w.lake {
		for _, files := range parts {
			for _, f := range files {
				registered[f] = true
			}
		}
	}
	lake, err := filepath.EvalSymlinks(filepath.Join(w.root, lakeName))
	if err != nil {
		return fmt.Errorf("scan lake: %w", err)
	}
	return filepath.WalkDir(lake, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("scan lake %s: %w", path, err)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		inLake, err := filepath.Rel(lake, path)
		if err != nil {
			return err
		}
		rel := filepath.Join(lakeName, inLake)
		if registered[rel] {
			return nil
		}
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("remove unregistered lake file %s: %w", path, err)
		}
		return nil
	})
}

// Run is this writer's run number; lake rows written by it carry it as ingest_run.
func (w *Writer) Run() int64 { return w.run }

// Ledger returns every ledger entry by source.
func (w *Writer) Ledger(ctx context.Context) (map[string]LedgerEntry, error) {
	db, err := openCatalog(ctx, CatalogPath(w.root))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT source, kind, coalesce(size, 0), mtime, coalesce(etag, ''), status, coalesce(error, ''),
		events, stored, duplicates, out_of_window, window_start, window_end, coalesce(content_sha256, ''), coalesce(gzip_members, 0)
		FROM ingest_files`)
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	defer rows.Close()
	out := map[string]LedgerEntry{}
	for rows.Next() {
		var e LedgerEntry
		var mtime, ws, we sql.NullTime
		if err := rows.Scan(&e.Source, &e.Kind, &e.Size, &mtime, &e.ETag, &e.Status, &e.Error,
			&e.Events, &e.Stored, &e.Duplicates, &e.OutOfWindow, &ws, &we, &e.ContentSHA256, &e.GzipMembers); err != nil {
			return nil, fmt.Errorf("read ledger: %w", err)
		}
		e.MTime, e.WindowStart, e.WindowEnd = mtime.Time, ws.Time, we.Time
		out[e.Source] = e
	}
	return out, rows.Err()
}

// Watermarks returns the API sync watermarks of source, keyed by account/region.
func (w *Writer) Watermarks(ctx context.Context, source string) (map[string]Watermark, error) {
	db, err := openCatalog(ctx, CatalogPath(w.root))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT account, region, watermark, covered_from FROM watermarks WHERE source = ?`, source)
	if err != nil {
		return nil, fmt.Errorf("read watermarks: %w", err)
	}
	defer rows.Close()
	out := map[string]Watermark{}
	for rows.Next() {
		wm := Watermark{Source: source}
		var from sql.NullTime
		if err := rows.Scan(&wm.Account, &wm.Region, &wm.Watermark, &from); err != nil {
			return nil, fmt.Errorf("read watermarks: %w", err)
		}
		wm.Watermark, wm.CoveredFrom = wm.Watermark.UTC(), from.Time.UTC()
		out[wm.Account+"/"+wm.Region] = wm
	}
	return out, rows.Err()
}

// Listings returns how far each S3 region prefix was listed, by prefix.
func (w *Writer) Listings(ctx context.Context) (map[string]Listing, error) {
	db, err := openCatalog(ctx, CatalogPath(w.root))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT prefix, listed_from, last_key FROM s3_listings`)
	if err != nil {
		return nil, fmt.Errorf("read the S3 listing marks: %w", err)
	}
	defer rows.Close()
	out := map[string]Listing{}
	for rows.Next() {
		var l Listing
		if err := rows.Scan(&l.Prefix, &l.ListedFrom, &l.LastKey); err != nil {
			return nil, fmt.Errorf("read the S3 listing marks: %w", err)
		}
		out[l.Prefix] = l
	}
	return out, rows.Err()
}

// UncheckedDigests are the S3 digest files whose signature ingest could not check for want of
// CloudTrail's public keys (ListPublicKeys failed): a later run fetches the keys of their days,
// with which the audits check them.
func (w *Writer) UncheckedDigests(ctx context.Context) ([]string, error) {
	db, err := openCatalog(ctx, CatalogPath(w.root))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	out, err := queryStrings(ctx, db, `SELECT source FROM digests WHERE signature_status = 'not_checked' AND starts_with(source, 's3://') ORDER BY source`)
	if err != nil {
		return nil, fmt.Errorf("read the digests whose signature was not checked: %w", err)
	}
	return out, nil
}

// EventIDs returns the event ids already stored in the events partition of date (YYYY-MM-DD).
func (w *Writer) EventIDs(ctx context.Context, date string) ([]string, error) {
	w.lakeMu.Lock()
	files := slices.Clone(w.lake[DatasetEvents][date])
	w.lakeMu.Unlock()
	if len(files) == 0 {
		return nil, nil
	}
	ids, err := queryStrings(ctx, w.scratch, `SELECT event_id FROM read_parquet(`+sqlList(w.abs(files))+`)`)
	if err != nil {
		return nil, fmt.Errorf("read stored event ids of %s: %w", date, err)
	}
	return ids, nil
}

// Finish records the run's totals and status (ok, partial or failed) and brings the issuance
// index (the issuances dataset) up to date with the events files (see indexIssuances).
func (w *Writer) Finish(ctx context.Context, now time.Time, status string, s RunStats) error {
	db, err := openCatalog(ctx, CatalogPath(w.root))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `UPDATE ingest_runs SET finished_at = ?, status = ?, files_read = ?, files_skipped = ?,
		files_failed = ?, events_stored = ?, events_duplicate = ?, events_out_of_window = ?, snapshot_items = ? WHERE run = ?`,
		now.UTC(), status, s.FilesRead, s.FilesSkipped, s.FilesFailed, s.EventsStored, s.EventsDuplicate, s.EventsOutOfWindow, s.SnapshotItems, w.run)
	if err != nil {
		return fmt.Errorf("record run %d: %w", w.run, err)
	}
	if err := w.indexIssuances(ctx, db); err != nil {
		return &IndexError{Err: err}
	}
	return nil
}

// IndexError is an issuance index that Finish could not bring up to date. The run is recorded
// and its data committed; readers read the issuances of events files without an issuances file
// from the events (slower, same answers) and the next writer tries again, so callers report it as
// a warning.
type IndexError struct{ Err error }

func (e *IndexError) Error() string { return e.Err.Error() }

func (e *IndexError) Unwrap() error { return e.Err }

// Close releases the scratch database and the warehouse lock.
func (w *Writer) Close() error {
	var errs []error
	if w.scratch != nil {
		errs = append(errs, w.scratch.Close())
	}
	if w.lock != nil {
		errs = append(errs, syscall.Flock(int(w.lock.Fd()), syscall.LOCK_UN), w.lock.Close())
	}
	return errors.Join(errs...)
}

func (w *Writer) register(dataset, date, rel string) {
	w.lakeMu.Lock()
	defer w.lakeMu.Unlock()
	w.lake[dataset][date] = append(w.lake[dataset][date], rel)
}

// Literal is s as a SQL string literal (DuckDB, ANSI: quotes doubled).
func Literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// sqlList renders strings as a DuckDB list literal: ['a', 'b'].
func sqlList(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = Literal(v)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// abs turns lake-relative paths into paths below the warehouse directory.
func (w *Writer) abs(files []string) []string { return absPaths(w.root, files) }

// absPaths turns lake-relative paths into paths below the warehouse directory root.
func absPaths(root string, files []string) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = filepath.Join(root, f)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
