// Package ingest moves CloudTrail records and session-table snapshots from their sources into
// the warehouse: it finds source objects, reads each exactly once per version (the ledger makes a
// re-run a no-op), normalizes records into lake rows, drops duplicates and out-of-window events,
// and commits rows and ledger entries together in checkpoints. It never prints: progress goes
// through the Progress interface and the outcome is returned as a Result.
package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/sentinel-audit/sentinel/window"
	"github.com/valyala/fastjson"
)

// LateDeliveryMargin is how far past the window's end a delivery folder is still read: CloudTrail
// can deliver an event into the next day's folder.
const LateDeliveryMargin = 24 * time.Hour

const (
	checkpointRows    = 250_000
	checkpointEntries = 5_000
	maxObjectBytes    = 2 << 30 // refuse to inflate a single object beyond 2 GiB
	maxReasons        = 3
)

// Options say what to ingest and where.
type Options struct {
	Warehouse     string
	Sources       []string // local directories or files with trail archives or other event files
	SessionsFiles []string // session-table snapshot files
	Window        window.Window
	Now           func() time.Time
	Workers       int  // parallel readers; 0 = one per CPU
	Wait          bool // wait for another ingest to finish instead of failing
	Command       string
	Progress      Progress
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

// job is one object to read, with the window to read it with.
type job struct {
	obj    object
	window window.Window
}

// outcome is what a worker made of one object.
type outcome struct {
	job
	rows        []warehouse.EventRow
	snapRows    []warehouse.SnapshotRow
	found       int64
	skipped     int64
	outOfWindow int64
	rejected    []string
	rejectedN   int64
	err         error
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
	if len(opts.Sources) == 0 && len(opts.SessionsFiles) == 0 {
		return nil, errors.New("nothing to ingest: give --source and/or --sessions-file")
	}
	start := opts.Now()
	w, err := warehouse.OpenWriter(ctx, opts.Warehouse, start, opts.Command, opts.Wait)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	res := &Result{Run: w.Run(), Warnings: w.Warnings}
	ledger, err := w.Ledger(ctx)
	if err != nil {
		return nil, err
	}
	c := &committer{w: w, res: res, seen: newSeenSet(w), batch: w.NewBatch(), now: opts.Now, progress: opts.Progress}
	jobs, err := plan(opts, ledger, res, c)
	if err != nil {
		c.batch.Abort()
		return nil, err
	}
	if opts.Progress != nil {
		var total int64
		for _, j := range jobs {
			total += j.obj.size
		}
		opts.Progress.Planned(len(jobs), total)
	}
	runErr := c.consume(ctx, read(ctx, jobs, opts.Workers))
	if runErr == nil {
		runErr = c.commit(ctx)
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
	if runErr != nil {
		return res, runErr
	}
	return res, finishErr
}

// plan lists the sources and decides, per object, whether and with which window to read it.
func plan(opts Options, ledger map[string]warehouse.LedgerEntry, res *Result, c *committer) ([]job, error) {
	var jobs []job
	w := opts.Window
	for _, src := range opts.Sources {
		objects, ignored, err := listDirectory(src)
		if err != nil {
			return nil, err
		}
		res.IgnoredFiles += ignored
		for _, o := range objects {
			if o.kind == kindDigest || o.kind == kindInsight {
				if o.kind == kindDigest {
					res.DigestFiles++
				} else {
					res.InsightFiles++
				}
				if e, ok := ledger[o.source]; !ok || !sameVersion(e, o) {
					c.batch.Record(ledgerEntry(o, "skipped", skipReason(o.kind)))
				}
				continue
			}
			if !deliveryInWindow(o.date, w) {
				res.FilesOutsideWindow++
				continue
			}
			if j, ok := schedule(o, w, ledger); ok {
				jobs = append(jobs, j)
			} else {
				res.FilesUnchanged++
			}
		}
	}
	for _, path := range opts.SessionsFiles {
		objects, _, err := listDirectory(path)
		if err != nil {
			return nil, fmt.Errorf("--sessions-file: %w", err)
		}
		for _, o := range objects {
			o.kind = kindSnapshot
			o.date = time.Time{}
			if j, ok := schedule(o, window.Window{}, ledger); ok {
				jobs = append(jobs, j)
			} else {
				res.FilesUnchanged++
			}
		}
	}
	return jobs, nil
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
func schedule(o object, w window.Window, ledger map[string]warehouse.LedgerEntry) (job, bool) {
	e, ok := ledger[o.source]
	if !ok || e.Status == "failed" {
		return job{o, w}, true
	}
	old := window.Window{Since: e.WindowStart, Until: e.WindowEnd}
	if sameVersion(e, o) && covers(old, w) {
		return job{}, false
	}
	return job{o, hull(old, w)}, true
}

func sameVersion(e warehouse.LedgerEntry, o object) bool {
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
	return warehouse.LedgerEntry{Source: o.source, Kind: o.kind, Size: o.size, MTime: o.mtime, Status: status, Error: msg}
}

// read runs the workers; outcomes arrive in completion order and the channel closes when all jobs
// are done or ctx is cancelled.
func read(ctx context.Context, jobs []job, workers int) <-chan outcome {
	in := make(chan job)
	out := make(chan outcome, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &reader{}
			for j := range in {
				select {
				case out <- r.read(j):
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(in)
		for _, j := range jobs {
			select {
			case in <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}

// reader is one worker's reusable state.
type reader struct {
	buf   bytes.Buffer
	split splitter
	norm  normalizer
}

func (r *reader) read(j job) outcome {
	oc := outcome{job: j}
	data, err := r.load(j.obj.path)
	if err != nil {
		oc.err = err
		return oc
	}
	if j.obj.kind == kindSnapshot {
		rows, problems, err := snapshotItems(data)
		oc.snapRows, oc.err = rows, err
		oc.found = int64(len(rows) + len(problems))
		oc.rejectedN = int64(len(problems))
		oc.rejected = firstN(problems, maxReasons)
		return oc
	}
	split, err := r.split.split(data, func(i int, rec *fastjson.Value) error {
		var row warehouse.EventRow
		if err := r.norm.normalize(rec, &row); err != nil {
			oc.rejectedN++
			if len(oc.rejected) < maxReasons {
				oc.rejected = append(oc.rejected, fmt.Sprintf("record %d: %v", i+1, err))
			}
			return nil
		}
		if !j.window.Contains(row.EventTime) {
			oc.outOfWindow++
			return nil
		}
		row.SourceFile = j.obj.source
		oc.rows = append(oc.rows, row)
		return nil
	})
	oc.found, oc.skipped, oc.err = int64(split.found), int64(split.skipped), err
	if err == nil {
		oc.rejectedN += int64(split.rejected)
		for _, reason := range split.reasons {
			if len(oc.rejected) < maxReasons {
				oc.rejected = append(oc.rejected, reason)
			}
		}
	}
	return oc
}

// load reads a whole object, inflating gzip (detected by its magic bytes, whatever the name).
func (r *reader) load(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	defer f.Close()
	r.buf.Reset()
	var head [2]byte
	n, _ := io.ReadFull(f, head[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if n == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		if _, err := r.buf.ReadFrom(io.LimitReader(zr, maxObjectBytes+1)); err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
	} else if _, err := r.buf.ReadFrom(io.LimitReader(f, maxObjectBytes+1)); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if r.buf.Len() > maxObjectBytes {
		return nil, fmt.Errorf("larger than %d bytes uncompressed", int64(maxObjectBytes))
	}
	if r.buf.Len() == 0 {
		return nil, errors.New("empty file")
	}
	return skipBOM(r.buf.Bytes()), nil
}

func skipBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) }

func firstN(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
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
}

func (c *committer) consume(ctx context.Context, outcomes <-chan outcome) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for oc := range outcomes {
		if err := c.take(ctx, oc); err != nil {
			cancel()
			for range outcomes {
			}
			return err
		}
	}
	return ctx.Err()
}

func (c *committer) take(ctx context.Context, oc outcome) error {
	o := oc.obj
	e := warehouse.LedgerEntry{Source: o.source, Kind: o.kind, Size: o.size, MTime: o.mtime,
		Status: "ok", Events: oc.found, OutOfWindow: oc.outOfWindow,
		WindowStart: oc.window.Since, WindowEnd: oc.window.Until}
	c.res.Bytes += o.size
	c.res.EventsRead += oc.found
	c.res.RecordsSkipped += oc.skipped
	c.res.RecordsRejected += oc.rejectedN
	c.res.EventsOutOfWindow += oc.outOfWindow
	var problems []string
	if oc.err != nil {
		problems = append(problems, oc.err.Error())
	}
	if oc.rejectedN > 0 {
		msg := fmt.Sprintf("%d records rejected: %s", oc.rejectedN, strings.Join(oc.rejected, "; "))
		if oc.rejectedN > int64(len(oc.rejected)) {
			msg += "; …"
		}
		problems = append(problems, msg)
	}
	if len(problems) > 0 {
		e.Status, e.Error = "failed", strings.Join(problems, "; ")
		c.res.FilesFailed++
		c.res.Failures = append(c.res.Failures, Failure{Source: o.display, Error: e.Error})
	} else {
		c.res.FilesRead++
	}
	if o.kind == kindSnapshot && len(oc.snapRows) > 0 {
		snap := warehouse.Snapshot{ID: snapshotID(o), Source: o.source, TakenAt: snapshotTime(oc.snapRows, o.mtime), Items: int64(len(oc.snapRows))}
		if err := c.batch.AddSnapshot(snap, oc.snapRows); err != nil {
			return err
		}
		e.Stored = snap.Items
		c.res.Snapshots++
		c.res.SnapshotItems += snap.Items
	}
	kept := oc.rows[:0]
	for _, row := range oc.rows {
		dup, err := c.seen.add(ctx, row.EventID, row.EventTime)
		if err != nil {
			return err
		}
		if dup {
			e.Duplicates++
			continue
		}
		kept = append(kept, row)
	}
	if err := c.batch.AddEvents(kept); err != nil {
		return err
	}
	e.Stored += int64(len(kept))
	c.res.EventsStored += int64(len(kept))
	c.res.EventsDuplicate += e.Duplicates
	c.batch.Record(e)
	c.entries++
	if c.progress != nil {
		c.progress.Advance(1, o.size, oc.found)
	}
	if c.batch.Rows() >= checkpointRows || c.entries >= checkpointEntries {
		return c.commit(ctx)
	}
	return nil
}

func (c *committer) commit(ctx context.Context) error {
	if err := c.batch.Commit(ctx, c.now()); err != nil {
		return err
	}
	c.batch, c.entries = c.w.NewBatch(), 0
	return nil
}
