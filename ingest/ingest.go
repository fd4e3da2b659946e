// Package ingest moves CloudTrail records and session-table snapshots from their sources into
// the warehouse: it finds source objects, reads each exactly once per version (the ledger makes a
// re-run a no-op), normalizes records into lake rows, drops duplicates and out-of-window events,
// and commits rows and ledger entries together in checkpoints. It never prints: progress goes
// through the Progress interface and the outcome is returned as a Result.
package ingest

import (
	"context"
	"errors"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/awsclient"
	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/sentinel-audit/sentinel/window"
)

// LateDeliveryMargin is how far past the window's end a delivery folder is still read: CloudTrail
// can deliver an event into the next day's folder.
const LateDeliveryMargin = 24 * time.Hour

// DefaultMemoryLimit is the soft heap limit the ingest command sets (--memory-limit). Memory
// held by a run is bounded by design (a few open partition files, the ids of the last days, the
// files being read), so the limit costs little CPU; it keeps the garbage collector from letting
// the heap grow to twice what is live, which keeps a run around 300 MB resident however many
// events and sessions it reads (docs/performance.md).
const DefaultMemoryLimit int64 = 208 << 20

const (
	defaultCheckpoint = 250_000
	checkpointEntries = 5_000
	maxObjectBytes    = 2 << 30 // refuse to inflate a single object beyond 2 GiB
	maxReasons        = 3
)

// Options say what to ingest and where.
type Options struct {
	Warehouse     string
	Sources       []string // local directories or files, s3://BUCKET[/PREFIX] trail archives, or "api" (LookupEvents)
	SessionsFiles []string // session-table snapshot files, local or s3:// (DynamoDB exports)
	Window        window.Window
	Now           func() time.Time
	SessionsTable *TableScan        // snapshot the live session table too
	AWS           *awsclient.Config // for s3:// and api sources and the session table
	Accounts      []string          // S3 trails: only these accounts (empty = all)
	Regions       []string          // S3 trails: only these regions; API: the regions to sync (default: the configured one)
	Workers       int               // parallel readers; 0 = one per CPU
	// S3Concurrency is how many S3 objects are read ahead of the readers at once; 0 =
	// DefaultS3Concurrency.
	S3Concurrency int
	// Exclude are glob patterns (doublestar: * within a folder, ** across) of paths below a
	// source, or of their folders, not to read.
	Exclude []string
	// Checkpoint commits after this many rows (0 = 250,000): smaller loses less work to an
	// interruption, larger writes fewer, bigger lake files.
	Checkpoint int
	Wait       bool // wait for another ingest to finish instead of failing
	Command    string
	Progress   Progress
}

// Scope is what the run reads, as flags: its sources, session files and table, and exclusions
// (the command without its window). The catalog keeps it: a later run of the same scope that
// finishes reads what an unfinished one left.
func (o Options) Scope() string {
	var parts []string
	for _, s := range o.Sources {
		parts = append(parts, "--source "+s)
	}
	for _, s := range o.SessionsFiles {
		parts = append(parts, "--sessions-file "+s)
	}
	if o.SessionsTable != nil {
		parts = append(parts, "--sessions-table "+o.SessionsTable.Table)
	}
	for _, x := range o.Exclude {
		parts = append(parts, "--exclude "+x)
	}
	if len(o.Accounts) > 0 {
		parts = append(parts, "--accounts "+strings.Join(o.Accounts, ","))
	}
	if len(o.Regions) > 0 {
		parts = append(parts, "--regions "+strings.Join(o.Regions, ","))
	}
	return strings.Join(parts, " ")
}

// Progress receives ingest progress. Implementations must be safe for use from one goroutine.
type Progress interface {
	// Planned announces the objects that will be read and their total size.
	Planned(objects int, bytes int64)
	// Advance reports objects read, their bytes and the events found in them.
	Advance(objects int, bytes, events int64)
}

// Failure is a source object that could not be (fully) ingested.
type Failure struct {
	Source string
	Error  string
}

// Result is the outcome of a run.
type Result struct {
	Run                int64
	FilesRead          int
	FilesUnchanged     int
	FilesOutsideWindow int
	FilesFailed        int
	DigestFiles        int // CloudTrail digest files read (their checks are the audits')
	InsightFiles       int
	MacOSFiles         int // metadata a Mac copies along (__MACOSX/, ._*, .DS_Store), not read
	ExcludedFiles      int // matched --exclude, not read
	IgnoredFiles       int
	EventsRead         int64
	EventsStored       int64
	EventsDuplicate    int64
	EventsOutOfWindow  int64
	RecordsRejected    int64
	RecordsSkipped     int64 // non-event values inside event files (control messages, Insight records)
	Snapshots          int
	SnapshotItems      int64
	Bytes              int64
	Failures           []Failure
	Warnings           []string
	Elapsed            time.Duration
	// Stopped says the run ended early (interrupted, or an error): its counts are then what its
	// last checkpoint kept, and a re-run reads the rest.
	Stopped bool
}

// keep sets r's counts to k's, keeping r's run, failures and warnings.
func (r *Result) keep(k Result) {
	run, failures, warnings := r.Run, r.Failures, r.Warnings
	*r = k
	r.Run, r.Failures, r.Warnings, r.Stopped = run, failures, warnings, true
}

// Skipped is how many files the run did not read: unchanged, outside the window, Insights,
// macOS metadata and excluded.
func (r *Result) Skipped() int {
	return r.FilesUnchanged + r.FilesOutsideWindow + r.InsightFiles + r.MacOSFiles + r.ExcludedFiles
}

// NothingNew reports whether the run found nothing to read.
func (r *Result) NothingNew() bool {
	return r.FilesRead == 0 && r.DigestFiles == 0 && r.Snapshots == 0 && r.FilesFailed == 0
}

// job is one object to read, with the window to read it with. A snapshot made of several
// objects (a DynamoDB export's data files) lists them in parts.
type job struct {
	obj      object
	window   window.Window
	parts    []object
	manifest *object // a DynamoDB export's manifest-summary.json (its exportTime is the snapshot time)
}

// outcome is what a worker made of one object.
type outcome struct {
	job
	rows     []warehouse.EventRow
	text     *fileText            // the text rows' raw is in, released with the rows
	coverage []warehouse.Coverage // what rows speak for (coverageOf)
	// Trail log files: the SHA-256 of the inflated bytes (hex) and how many gzip members they had.
	contentSHA256 string
	gzipMembers   int
	digest        *warehouse.DigestRow // a digest file's
	snapRows      []warehouse.SnapshotRow
	found         int64
	skipped       int64
	outOfWindow   int64
	rejected      []string
	rejectedN     int64
	err           error
	// Snapshots: when the snapshot was taken (zero: from its items) and its id (empty: from the
	// source object's version).
	takenAt    time.Time
	snapshotID string
	// API syncs: the page is one of several for obj; final marks the last, which carries the
	// watermark to record.
	partial   bool
	watermark *warehouse.Watermark
}

// reject counts a record that cannot be stored, keeping the first reasons.
func (oc *outcome) reject(reason string) {
	oc.rejectedN++
	if len(oc.rejected) < maxReasons {
		oc.rejected = append(oc.rejected, reason)
	}
}

// Run ingests opts.Sources and opts.SessionsFiles into the warehouse. Problems with individual
// objects are reported in the Result (and do not stop the run); the error is for the run itself.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.S3Concurrency <= 0 {
		opts.S3Concurrency = DefaultS3Concurrency
	}
	if len(opts.Sources) == 0 && len(opts.SessionsFiles) == 0 && opts.SessionsTable == nil {
		return nil, errors.New("nothing to ingest: give --source, --sessions-file and/or --sessions-table")
	}
	if err := checkExclude(opts.Exclude); err != nil {
		return nil, err
	}
	start := opts.Now()
	w, err := warehouse.OpenWriter(ctx, opts.Warehouse, start,
		warehouse.Run{Command: opts.Command, Sources: opts.Scope(), Since: opts.Window.Since, Until: opts.Window.Until}, opts.Wait)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	res := &Result{Run: w.Run(), Warnings: w.Warnings}
	if opts.Checkpoint <= 0 {
		opts.Checkpoint = defaultCheckpoint
	}
	c := &committer{w: w, res: res, seen: newSeenSet(w), batch: w.NewBatch(), now: opts.Now, progress: opts.Progress,
		api: map[string]*apiTotals{}, snapshots: map[string]int64{}, checkpointRows: opts.Checkpoint}
	p, err := plan(ctx, opts, w, res, c.batch)
	if err != nil {
		c.batch.Abort()
		return nil, err
	}
	if opts.Progress != nil {
		var total int64
		for _, j := range p.jobs {
			total += j.obj.size
		}
		opts.Progress.Planned(len(p.jobs)+len(p.syncs), total)
	}
	c.kept = *res
	runErr := c.consume(ctx, p.run(ctx, opts))
	if runErr == nil {
		// Everything listed is in the ledger now: the next run lists from where these listings ended.
		c.batch.SetListings(p.listings(opts, res.Failures))
		c.batch.SetRead(p.regionsRead())
		if runErr = c.batch.Commit(ctx, c.now()); runErr != nil {
			c.batch.Abort()
		}
	} else {
		c.batch.Abort()
	}
	if runErr != nil {
		res.keep(c.kept)
	}
	sort.Slice(res.Failures, func(i, j int) bool { return res.Failures[i].Source < res.Failures[j].Source })
	res.Elapsed = opts.Now().Sub(start)
	status := "ok"
	switch {
	case errors.Is(runErr, context.Canceled):
		status = "interrupted"
	case runErr != nil:
		status = "failed"
	case res.FilesFailed > 0:
		status = "partial"
	}
	finishErr := w.Finish(context.WithoutCancel(ctx), opts.Now(), status, warehouse.RunStats{
		FilesRead: int64(res.FilesRead + res.DigestFiles), FilesSkipped: int64(res.Skipped()),
		FilesFailed: int64(res.FilesFailed), EventsStored: res.EventsStored, EventsDuplicate: res.EventsDuplicate,
		EventsOutOfWindow: res.EventsOutOfWindow, SnapshotItems: res.SnapshotItems,
	})
	if ie := (*warehouse.IndexError)(nil); errors.As(finishErr, &ie) {
		res.Warnings = append(res.Warnings, "the issuance index was not brought up to date (audits read the issuances of events files without an issuances file from the events, slower; the next ingest retries): "+ie.Error())
		finishErr = nil
	}
	if runErr != nil {
		return res, runErr
	}
	return res, finishErr
}
