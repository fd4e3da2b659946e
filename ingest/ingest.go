// Package ingest moves CloudTrail records and session-table snapshots from their sources into
// the warehouse: it finds source objects, reads each exactly once per version (the ledger makes a
// re-run a no-op), normalizes records into lake rows, drops duplicates and out-of-window events,
// and commits rows and ledger entries together in checkpoints. It never prints: progress goes
// through the Progress interface and the outcome is returned as a Result.
package ingest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/sentinel-audit/sentinel/awsclient"
	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/sentinel-audit/sentinel/window"
	"github.com/valyala/fastjson"
	"golang.org/x/time/rate"
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
	// Checkpoint commits after this many rows (0 = 250,000): smaller loses less work to an
	// interruption, larger writes fewer, bigger lake files.
	Checkpoint int
	Wait       bool // wait for another ingest to finish instead of failing
	Command    string
	Progress   Progress
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
	DigestFiles        int
	InsightFiles       int
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
}

// NothingNew reports whether the run found nothing to read.
func (r *Result) NothingNew() bool { return r.FilesRead == 0 && r.Snapshots == 0 && r.FilesFailed == 0 }

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
	rows        []warehouse.EventRow
	text        *fileText // the text rows' raw is in, released with the rows
	snapRows    []warehouse.SnapshotRow
	found       int64
	skipped     int64
	outOfWindow int64
	rejected    []string
	rejectedN   int64
	err         error
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
	if len(opts.Sources) == 0 && len(opts.SessionsFiles) == 0 && opts.SessionsTable == nil {
		return nil, errors.New("nothing to ingest: give --source, --sessions-file and/or --sessions-table")
	}
	start := opts.Now()
	w, err := warehouse.OpenWriter(ctx, opts.Warehouse, start, opts.Command, opts.Wait)
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
	runErr := c.consume(ctx, p.run(ctx, opts))
	if runErr == nil {
		if runErr = c.batch.Commit(ctx, c.now()); runErr != nil {
			c.batch.Abort()
		}
	} else {
		c.batch.Abort()
	}
	sort.Slice(res.Failures, func(i, j int) bool { return res.Failures[i].Source < res.Failures[j].Source })
	res.Elapsed = opts.Now().Sub(start)
	status := "ok"
	switch {
	case runErr != nil:
		status = "failed"
	case res.FilesFailed > 0:
		status = "partial"
	}
	finishErr := w.Finish(context.WithoutCancel(ctx), opts.Now(), status, warehouse.RunStats{
		FilesRead: int64(res.FilesRead), FilesSkipped: int64(res.FilesUnchanged + res.FilesOutsideWindow + res.DigestFiles + res.InsightFiles),
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

// work is what a run will do: objects to read, API syncs to run and a table to scan.
type work struct {
	jobs    []job
	syncs   []*apiSync
	scan    *TableScan
	scanner tableScanner
}

// plan lists the sources and decides, per object, whether and with which window to read it.
func plan(ctx context.Context, opts Options, w *warehouse.Writer, res *Result, batch *warehouse.Batch) (*work, error) {
	ledger, err := w.Ledger(ctx)
	if err != nil {
		return nil, err
	}
	p := &work{}
	planned := map[string]bool{}
	win := opts.Window
	var store objectStore
	aws := func() (awsclient.Config, error) {
		if opts.AWS == nil {
			return awsclient.Config{}, errors.New("AWS sources need an AWS configuration")
		}
		return *opts.AWS, nil
	}
	s3Store := func() (objectStore, error) {
		if store == nil {
			a, err := aws()
			if err != nil {
				return nil, err
			}
			store = a.S3()
		}
		return store, nil
	}
	for _, src := range opts.Sources {
		var objects []object
		switch {
		case src == "api":
			syncs, warnings, err := planAPI(ctx, opts, w)
			if err != nil {
				return nil, err
			}
			p.syncs = append(p.syncs, syncs...)
			res.Warnings = append(res.Warnings, warnings...)
			continue
		case strings.HasPrefix(src, "s3://"):
			bucket, prefix, err := parseS3URL(src)
			if err != nil {
				return nil, fmt.Errorf("--source: %w", err)
			}
			client, err := s3Store()
			if err != nil {
				return nil, err
			}
			l := &s3Lister{client: client, bucket: bucket, accounts: set(opts.Accounts), regions: set(opts.Regions), window: win, now: opts.Now()}
			if objects, err = l.listTrail(ctx, prefix); err != nil {
				return nil, err
			}
		default:
			var ignored int
			if objects, ignored, err = listDirectory(src); err != nil {
				return nil, err
			}
			res.IgnoredFiles += ignored
		}
		for _, o := range objects {
			if planned[o.source] {
				continue // the same object through two overlapping sources
			}
			planned[o.source] = true
			if o.kind == kindDigest || o.kind == kindInsight {
				if o.kind == kindDigest {
					res.DigestFiles++
				} else {
					res.InsightFiles++
				}
				if e, ok := ledger[o.source]; !ok || !sameVersion(e, o) {
					batch.Record(ledgerEntry(o, "skipped", skipReason(o.kind)))
				}
				continue
			}
			if !deliveryInWindow(o.date, win) {
				res.FilesOutsideWindow++
				continue
			}
			if j, ok := schedule(job{obj: o}, win, ledger); ok {
				p.jobs = append(p.jobs, j)
			} else {
				res.FilesUnchanged++
			}
		}
	}
	for _, src := range opts.SessionsFiles {
		var objects []object
		if strings.HasPrefix(src, "s3://") {
			bucket, prefix, err := parseS3URL(src)
			if err != nil {
				return nil, fmt.Errorf("--sessions-file: %w", err)
			}
			client, err := s3Store()
			if err != nil {
				return nil, err
			}
			l := &s3Lister{client: client, bucket: bucket}
			if objects, err = l.listAll(ctx, prefix); err != nil {
				return nil, err
			}
		} else if objects, _, err = listDirectory(src); err != nil {
			return nil, fmt.Errorf("--sessions-file: %w", err)
		}
		for _, j := range snapshotJobs(objects) {
			if j, ok := schedule(j, window.Window{}, ledger); ok {
				p.jobs = append(p.jobs, j)
			} else {
				res.FilesUnchanged++
			}
		}
	}
	// Delivery-date order: a day's events arrive together, so the batch has few partitions open
	// at once (large row groups, bounded memory) and days behind the run are complete.
	slices.SortStableFunc(p.jobs, func(a, b job) int { return a.obj.date.Compare(b.obj.date) })
	if opts.SessionsTable != nil {
		a, err := aws()
		if err != nil {
			return nil, err
		}
		p.scan, p.scanner = opts.SessionsTable, a.DynamoDB()
	}
	return p, nil
}

// planAPI prepares one LookupEvents sync per region, resuming from each region's watermark.
func planAPI(ctx context.Context, opts Options, w *warehouse.Writer) ([]*apiSync, []string, error) {
	if opts.AWS == nil {
		return nil, nil, errors.New("--source api needs an AWS configuration")
	}
	a := *opts.AWS
	regions := opts.Regions
	if len(regions) == 0 {
		if a.SDK.Region == "" {
			return nil, nil, errors.New("--source api: no region: pass --regions or configure one (--region, AWS_REGION, the profile's region)")
		}
		regions = []string{a.SDK.Region}
	}
	var warnings []string
	if !slices.Contains(regions, "us-east-1") {
		warnings = append(warnings, "LookupEvents sync leaves out us-east-1, where global-service events (IAM, STS via the global endpoint, console sign-in) are recorded — most AssumeRole events live there; add it with --regions")
	}
	id, err := a.STS().GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, nil, awsclient.Describe("identify the account for --source api (STS GetCallerIdentity)", err)
	}
	account := awssdk.ToString(id.Account)
	marks, err := w.Watermarks(ctx, apiSource)
	if err != nil {
		return nil, nil, err
	}
	now := opts.Now().UTC()
	var syncs []*apiSync
	for _, region := range regions {
		var old *warehouse.Watermark
		if m, ok := marks[account+"/"+region]; ok {
			old = &m
		}
		win, wm, warning := planAPISync(opts.Window, old, now)
		if warning != "" && !slices.Contains(warnings, warning) {
			warnings = append(warnings, warning)
		}
		syncs = append(syncs, &apiSync{client: a.CloudTrail(region), account: account, region: region, window: win,
			limiter: rate.NewLimiter(rate.Limit(APIRequestsPerSecond), 1), watermark: wm})
	}
	return syncs, warnings, nil
}

// run starts the readers, the API syncs and the table scan; outcomes arrive in completion order
// and the channel closes when all are done or ctx is cancelled.
func (p *work) run(ctx context.Context, opts Options) <-chan outcome {
	out := make(chan outcome, opts.Workers)
	emit := sender(ctx, out)
	var wg sync.WaitGroup
	in := make(chan job)
	for range opts.Workers {
		wg.Go(func() {
			r := &reader{}
			for j := range in {
				if !emit(r.read(ctx, j, emit)) {
					return
				}
			}
		})
	}
	wg.Go(func() {
		defer close(in)
		for _, j := range p.jobs {
			select {
			case in <- j:
			case <-ctx.Done():
				return
			}
		}
	})
	for _, s := range p.syncs {
		wg.Go(func() { s.run(ctx, emit) })
	}
	if p.scan != nil {
		wg.Go(func() { emit(scanTable(ctx, p.scanner, *p.scan, opts.Now(), emit)) })
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}

// sender sends outcomes to out until ctx is done; it reports whether the outcome was sent.
func sender(ctx context.Context, out chan<- outcome) func(outcome) bool {
	return func(oc outcome) bool {
		select {
		case out <- oc:
			return true
		case <-ctx.Done():
			return false
		}
	}
}

func set(values []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range values {
		m[v] = true
	}
	return m
}

func skipReason(kind string) string {
	if kind == kindDigest {
		return "CloudTrail digest file (integrity hashes, not events)"
	}
	return "CloudTrail Insights file (not management or data events)"
}

// deliveryInWindow reports whether a delivery folder of date d can hold events of window w.
func deliveryInWindow(d time.Time, w window.Window) bool {
	if d.IsZero() {
		return true
	}
	if !w.Since.IsZero() && d.Before(w.Since.UTC().Truncate(24*time.Hour)) {
		return false
	}
	return w.Until.IsZero() || d.Before(w.Until.Add(LateDeliveryMargin))
}

// schedule decides whether o must be read: it is new, changed, failed before, or was read with a
// window that does not cover w. A re-read covers both the old and the new window, so the ledger's
// window stays true.
func schedule(j job, w window.Window, ledger map[string]warehouse.LedgerEntry) (job, bool) {
	e, ok := ledger[j.obj.source]
	if !ok || e.Status == "failed" {
		j.window = w
		return j, true
	}
	old := window.Window{Since: e.WindowStart, Until: e.WindowEnd}
	if sameVersion(e, j.obj) && covers(old, w) {
		return job{}, false
	}
	j.window = hull(old, w)
	return j, true
}

// sameVersion reports whether o is the version the ledger recorded: same ETag for S3 objects,
// same size and modification time for files.
func sameVersion(e warehouse.LedgerEntry, o object) bool {
	if o.etag != "" {
		return e.ETag == o.etag && e.Size == o.size
	}
	return e.Size == o.size && e.MTime.Equal(o.mtime)
}

// covers reports whether window a includes window b (zero ends are open).
func covers(a, b window.Window) bool {
	sinceOK := a.Since.IsZero() || (!b.Since.IsZero() && !a.Since.After(b.Since))
	untilOK := a.Until.IsZero() || (!b.Until.IsZero() && !a.Until.Before(b.Until))
	return sinceOK && untilOK
}

func hull(a, b window.Window) window.Window {
	h := a
	if a.Since.IsZero() || b.Since.IsZero() {
		h.Since = time.Time{}
	} else if b.Since.Before(a.Since) {
		h.Since = b.Since
	}
	if a.Until.IsZero() || b.Until.IsZero() {
		h.Until = time.Time{}
	} else if b.Until.After(a.Until) {
		h.Until = b.Until
	}
	return h
}

func ledgerEntry(o object, status, msg string) warehouse.LedgerEntry {
	return warehouse.LedgerEntry{Source: o.source, Kind: o.kind, Size: o.size, MTime: o.mtime, ETag: o.etag, Status: status, Error: msg}
}

// rowSlices recycles the row slices of outcomes: the committer hands a file's rows to the
// batch (which copies them into Parquet pages) and the slice goes back to a reader.
var rowSlices sync.Pool

func getRows() []warehouse.EventRow {
	if p, ok := rowSlices.Get().(*[]warehouse.EventRow); ok {
		return (*p)[:0]
	}
	return nil
}

// putRows recycles rows, cleared so that they keep no file's text alive.
func putRows(rows []warehouse.EventRow) {
	if cap(rows) == 0 {
		return
	}
	clear(rows)
	rows = rows[:0]
	rowSlices.Put(&rows)
}

// reader is one worker's reusable state.
type reader struct {
	stored []byte // the object as stored (load)
	text   []byte // a gzip object inflated (load)
	split  splitter
	norm   normalizer
}

// read reads one object. A large snapshot file is handed over in parts through emit before the
// outcome read returns.
func (r *reader) read(ctx context.Context, j job, emit func(outcome) bool) outcome {
	defer r.release()
	oc := outcome{job: j}
	if j.obj.kind == kindSnapshot {
		r.readSnapshot(ctx, &oc, emit)
		return oc
	}
	data, text, err := r.loadText(ctx, j.obj)
	if err != nil {
		oc.err = err
		return oc
	}
	oc.text = text
	r.norm.setFile(data, oc.text)
	defer r.norm.setFile(nil, nil)
	oc.rows = getRows()
	// keep keeps the last row when it is in the window.
	keep := func() {
		row := &oc.rows[len(oc.rows)-1]
		if !j.window.Contains(row.EventTime) {
			oc.rows = oc.rows[:len(oc.rows)-1]
			oc.outOfWindow++
			return
		}
		row.SourceFile = j.obj.source
	}
	r.split.element = r.norm.elementEnd
	r.split.fast = func(k int, raw []byte) (taken, insight bool) {
		oc.rows = append(oc.rows, warehouse.EventRow{})
		row := &oc.rows[len(oc.rows)-1]
		if !r.norm.normalizeFast(raw, k, row) {
			oc.rows = oc.rows[:len(oc.rows)-1]
			return false, false
		}
		if row.EventType != nil && *row.EventType == insightEventType {
			oc.rows = oc.rows[:len(oc.rows)-1]
			return true, true
		}
		keep()
		return true, false
	}
	split, err := r.split.split(data, func(i int, rec *fastjson.Value, raw []byte) error {
		oc.rows = append(oc.rows, warehouse.EventRow{})
		row := &oc.rows[len(oc.rows)-1]
		if err := r.norm.normalize(rec, raw, row); err != nil {
			oc.rows = oc.rows[:len(oc.rows)-1]
			oc.reject(fmt.Sprintf("record %d: %v", i+1, err))
			return nil
		}
		keep()
		return nil
	})
	oc.found, oc.skipped, oc.err = int64(split.found), int64(split.skipped), err
	if err == nil {
		for _, reason := range split.reasons {
			oc.reject(reason)
		}
		oc.rejectedN += int64(split.rejected - len(split.reasons))
	}
	return oc
}

// snapshotChunk is how many items of a snapshot file are handed to the committer at once.
const snapshotChunk = 8192

// readSnapshot reads a snapshot: one file, or every data file of a DynamoDB export (taken at the
// exportTime of its manifest, when it has one).
func (r *reader) readSnapshot(ctx context.Context, oc *outcome, emit func(outcome) bool) {
	parts := oc.parts
	if len(parts) == 0 && oc.manifest == nil {
		parts = []object{oc.obj}
	}
	if oc.manifest != nil {
		if oc.takenAt, oc.err = r.exportTime(ctx, *oc.manifest); oc.err != nil {
			return
		}
	}
	r.readSnapshotParts(ctx, oc, parts, emit)
}

// readSnapshotParts reads the items of a snapshot's files as streams, so that neither its items
// nor its text need be held all at once. Unless the snapshot's time is known (an export's), a
// first pass finds it (the newest change any item records, which every row is stamped and
// partitioned with) and checks that every file reads; then the items are handed over in chunks of
// snapshotChunk, as partial outcomes, the last ones in oc. A snapshot that does not read whole
// stores nothing (see committer.store).
func (r *reader) readSnapshotParts(ctx context.Context, oc *outcome, parts []object, emit func(outcome) bool) {
	if oc.takenAt.IsZero() {
		var newest time.Time
		for _, part := range parts {
			if _, err := eachSnapshotItemOf(ctx, part, func(row warehouse.SnapshotRow) error {
				newest = newestChange(newest, row)
				return nil
			}); err != nil {
				oc.err = fmt.Errorf("%s: %w", part.display, err)
				return
			}
		}
		oc.takenAt = newest
		if newest.IsZero() {
			oc.takenAt = oc.obj.mtime.UTC()
		}
	}
	var rows []warehouse.SnapshotRow
	for _, part := range parts {
		problems, err := eachSnapshotItemOf(ctx, part, func(row warehouse.SnapshotRow) error {
			rows = append(rows, row)
			if len(rows) < snapshotChunk {
				return nil
			}
			oc.found += int64(len(rows))
			if !emit(outcome{job: oc.job, snapRows: rows, takenAt: oc.takenAt, partial: true}) {
				return ctx.Err()
			}
			rows = nil
			return nil
		})
		oc.found += int64(len(problems))
		for _, p := range problems {
			oc.reject(part.display + ": " + p)
		}
		if err != nil {
			oc.err = fmt.Errorf("%s: %w", part.display, err)
			break
		}
	}
	oc.snapRows = rows
	oc.found += int64(len(rows))
}

// eachSnapshotItemOf opens o and reads its items as eachSnapshotItem does.
func eachSnapshotItemOf(ctx context.Context, o object, fn func(warehouse.SnapshotRow) error) ([]string, error) {
	in, err := openStream(ctx, o)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	return eachSnapshotItem(in, fn)
}

// keptBuffer is the largest read buffer a reader keeps between objects: trail files are a few
// MB, and one large snapshot file must not keep its size resident for the rest of the run.
const keptBuffer = 16 << 20

func (r *reader) release() {
	if cap(r.stored) > keptBuffer {
		r.stored = nil
	}
	if cap(r.text) > keptBuffer {
		r.text = nil
	}
}

// load reads a whole object: inflated when it is gzip (detected by its magic bytes, whatever the
// name; concatenated members read as one), without a leading byte order mark, and failing past
// maxObjectBytes. The bytes are the reader's until its next load.
func (r *reader) load(ctx context.Context, o object) ([]byte, error) {
	data, err := r.readStored(ctx, o)
	if err != nil {
		return nil, err
	}
	if isGzip(data) {
		if r.text, err = inflate(r.text[:0], data, maxObjectBytes); err != nil {
			return nil, err
		}
		data = r.text
	}
	return withoutBOM(data)
}

// loadText is load into a fileText of the object's own, which the rows made from it may keep
// views of until it is released.
func (r *reader) loadText(ctx context.Context, o object) ([]byte, *fileText, error) {
	stored, err := r.readStored(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	var t *fileText
	if isGzip(stored) {
		// A gzip trailer ends with the size of its member: the file's, for one member.
		size := 0
		if len(stored) >= 4 {
			size = int(min(binary.LittleEndian.Uint32(stored[len(stored)-4:]), maxObjectBytes))
		}
		t = newFileText(size)
		if t.buf, err = inflate(t.buf, stored, maxObjectBytes); err != nil {
			t.release()
			return nil, nil, err
		}
	} else {
		t = fileTextOf(stored)
	}
	data, err := withoutBOM(t.buf)
	if err != nil {
		t.release()
		return nil, nil, err
	}
	return data, t, nil
}

// readStored reads a whole object as stored into the reader's buffer, failing past maxObjectBytes.
func (r *reader) readStored(ctx context.Context, o object) ([]byte, error) {
	body, err := o.open(ctx)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	// The size is known: one allocation instead of a buffer doubling its way up.
	buf := bytes.NewBuffer(slices.Grow(r.stored[:0], int(min(max(o.size, 0), maxObjectBytes+1))+bytes.MinRead))
	_, err = buf.ReadFrom(io.LimitReader(body, maxObjectBytes+1))
	r.stored = buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if len(r.stored) > maxObjectBytes {
		return nil, errTooLarge(maxObjectBytes)
	}
	return r.stored, nil
}

// withoutBOM is data without a leading byte order mark; an empty file is an error.
func withoutBOM(data []byte) ([]byte, error) {
	data = bytes.TrimPrefix(data, []byte(bom))
	if len(data) == 0 {
		return nil, errors.New("empty file")
	}
	return data, nil
}

// committer owns the batch: it deduplicates rows, adds them and their ledger entries, and
// commits a checkpoint whenever the batch is large enough.
type committer struct {
	w        *warehouse.Writer
	res      *Result
	seen     *seenSet
	batch    *warehouse.Batch
	entries  int
	now      func() time.Time
	progress Progress
	api      map[string]*apiTotals // API syncs in progress, by source
	// snapshots in progress: items of a snapshot file added so far, by source. Their files go from
	// batch to batch (Batch.Next) until the batch that records the snapshot registers them, so a
	// snapshot is stored whole or not at all while checkpoints go on.
	snapshots map[string]int64
	// checkpointRows is the batch size that triggers a commit.
	checkpointRows int
	// inflight is the previous batch, registering in the background while this one fills.
	inflight *inflight
}

// inflight is a sealed batch being registered on a goroutine of its own.
type inflight struct {
	batch *warehouse.Batch
	done  chan error
	upTo  int // seenSet.adds when the batch was closed
}

func (c *committer) consume(ctx context.Context, outcomes <-chan outcome) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for oc := range outcomes {
		if err := c.take(ctx, oc); err != nil {
			cancel()
			for range outcomes {
			}
			return errors.Join(err, c.settle())
		}
	}
	return errors.Join(ctx.Err(), c.settle())
}

func (c *committer) take(ctx context.Context, oc outcome) error {
	o := oc.obj
	if o.kind == kindSnapshot && oc.partial {
		if err := c.batch.AddSnapshotRows(c.snapshot(oc), oc.snapRows); err != nil {
			return err
		}
		c.snapshots[o.source] += int64(len(oc.snapRows))
		return nil
	}
	c.res.EventsRead += oc.found
	c.res.RecordsSkipped += oc.skipped
	c.res.RecordsRejected += oc.rejectedN
	c.res.EventsOutOfWindow += oc.outOfWindow
	stored, duplicates, err := c.store(ctx, oc)
	if err != nil {
		return err
	}
	e := warehouse.LedgerEntry{Source: o.source, Kind: o.kind, Size: o.size, MTime: o.mtime, ETag: o.etag,
		Events: oc.found, Stored: stored, Duplicates: duplicates, OutOfWindow: oc.outOfWindow,
		WindowStart: oc.window.Since, WindowEnd: oc.window.Until}
	rejected, rejectedN := oc.rejected, oc.rejectedN
	if o.kind == kindAPI {
		// An API sync arrives page by page; its ledger entry sums the pages.
		acc := c.api[o.source]
		if acc == nil {
			acc = &apiTotals{}
			c.api[o.source] = acc
		}
		acc.add(e, oc)
		if oc.partial {
			if c.progress != nil {
				c.progress.Advance(0, 0, oc.found)
			}
			return c.checkpoint(ctx)
		}
		delete(c.api, o.source)
		e, rejected, rejectedN = acc.entry, acc.rejected, acc.rejectedN
	}
	var problems []string
	if oc.err != nil {
		problems = append(problems, oc.err.Error())
	}
	if rejectedN > 0 {
		msg := fmt.Sprintf("%d records rejected: %s", rejectedN, strings.Join(rejected, "; "))
		if rejectedN > int64(len(rejected)) {
			msg += "; …"
		}
		problems = append(problems, msg)
	}
	e.Status = "ok"
	if len(problems) > 0 {
		e.Status, e.Error = "failed", strings.Join(problems, "; ")
		c.res.FilesFailed++
		c.res.Failures = append(c.res.Failures, Failure{Source: o.display, Error: e.Error})
	} else {
		c.res.FilesRead++
		if oc.watermark != nil {
			c.batch.SetWatermark(*oc.watermark)
		}
	}
	c.res.Bytes += o.size
	c.batch.Record(e)
	c.entries++
	if c.progress != nil {
		c.progress.Advance(1, o.size, oc.found)
	}
	return c.checkpoint(ctx)
}

// store adds an outcome's snapshot and its events that are not yet in the warehouse to the batch.
func (c *committer) store(ctx context.Context, oc outcome) (stored, duplicates int64, err error) {
	// A snapshot is stored whole or not at all: one whose later part failed keeps nothing (the
	// ledger marks it failed and the next run reads it again under the same snapshot id).
	if oc.obj.kind == kindSnapshot {
		added := c.snapshots[oc.obj.source]
		delete(c.snapshots, oc.obj.source)
		if oc.err != nil && added > 0 {
			c.batch.DropSnapshot(c.snapshot(oc).ID)
		}
		if oc.err == nil && added+int64(len(oc.snapRows)) > 0 {
			snap := c.snapshot(oc)
			snap.Items = added + int64(len(oc.snapRows))
			if err := c.batch.AddSnapshotRows(snap, oc.snapRows); err != nil {
				return 0, 0, err
			}
			c.batch.RecordSnapshot(snap)
			stored = snap.Items
			c.res.Snapshots++
			c.res.SnapshotItems += snap.Items
		}
	}
	kept := oc.rows[:0]
	for _, row := range oc.rows {
		dup, err := c.seen.add(ctx, row.EventID, row.EventTime)
		if err != nil {
			return 0, 0, err
		}
		if dup {
			duplicates++
			continue
		}
		kept = append(kept, row)
	}
	rows, text := oc.rows, oc.text
	if err := c.batch.AddEvents(kept, func() {
		putRows(rows)
		text.release()
	}); err != nil {
		return 0, 0, err
	}
	c.res.EventsStored += int64(len(kept))
	c.res.EventsDuplicate += duplicates
	return stored + int64(len(kept)), duplicates, nil
}

// snapshot is the snapshot an outcome's items belong to.
func (c *committer) snapshot(oc outcome) warehouse.Snapshot {
	snap := warehouse.Snapshot{ID: oc.snapshotID, Source: oc.obj.source, TakenAt: oc.takenAt}
	if snap.ID == "" {
		snap.ID = snapshotID(oc.obj)
	}
	if snap.TakenAt.IsZero() {
		snap.TakenAt = snapshotTime(oc.snapRows, oc.obj.mtime)
	}
	return snap
}

// apiTotals sums the pages of one API sync.
type apiTotals struct {
	entry     warehouse.LedgerEntry
	rejected  []string
	rejectedN int64
}

func (a *apiTotals) add(e warehouse.LedgerEntry, oc outcome) {
	events, stored, dups, out := a.entry.Events, a.entry.Stored, a.entry.Duplicates, a.entry.OutOfWindow
	a.entry = e
	a.entry.Events += events
	a.entry.Stored += stored
	a.entry.Duplicates += dups
	a.entry.OutOfWindow += out
	a.rejectedN += oc.rejectedN
	for _, r := range oc.rejected {
		if len(a.rejected) < maxReasons {
			a.rejected = append(a.rejected, r)
		}
	}
}

// checkpoint commits the batch when it is large enough.
func (c *committer) checkpoint(ctx context.Context) error {
	if c.inflight != nil && len(c.inflight.done) > 0 {
		// Done: let go of the committed batch's memory now rather than at the next checkpoint.
		if err := c.settle(); err != nil {
			return err
		}
	}
	if c.batch.Rows() >= c.checkpointRows || c.entries >= checkpointEntries {
		return c.commit(ctx)
	}
	return nil
}

// commit commits the batch and starts the next one. The batch's files are finished here; they
// are registered in the catalog in the background while the next batch fills, once the batch
// before has registered. Registering took 0.2-0.3 s per checkpoint in which the readers stood
// still; finishing the files in the background as well would hold two batches' Parquet buffers
// at once, and the collector then worked harder than the readers gained.
func (c *committer) commit(ctx context.Context) error {
	next := c.batch.Next() // takes the files of snapshots still being read
	if err := c.batch.Seal(); err != nil {
		c.batch.Abort()
		c.batch = next
		return err
	}
	if err := c.settle(); err != nil {
		return err
	}
	f := &inflight{batch: c.batch, done: make(chan error, 1), upTo: c.seen.adds}
	now := c.now()
	rctx, cancel := graceContext(ctx, registerGrace)
	go func() {
		defer cancel()
		f.done <- f.batch.Register(rctx, now)
	}()
	c.inflight, c.batch, c.entries = f, next, 0
	return nil
}

// registerGrace is how long a checkpoint that was registering when the run was interrupted
// (Ctrl-C) may still take to land: its files are written and synced, registering them is a catalog
// transaction, and throwing it away would lose up to a checkpoint of work.
const registerGrace = 10 * time.Second

// graceContext is ctx, except that ctx's cancellation reaches it grace later.
func graceContext(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	gctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancel) })
	return gctx, func() {
		stop()
		cancel()
	}
}

// settle waits for the batch registering in the background, if any; a batch that failed to
// register is removed.
func (c *committer) settle() error {
	f := c.inflight
	if f == nil {
		return nil
	}
	c.inflight = nil
	if err := <-f.done; err != nil {
		f.batch.Abort()
		return err
	}
	c.seen.committed(f.upTo)
	return nil
}
