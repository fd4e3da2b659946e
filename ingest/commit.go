package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/warehouse"
)

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
	// kept are the run's counts as of the last batch registered: what an interrupted run keeps.
	kept Result
}

// inflight is a sealed batch being registered on a goroutine of its own.
type inflight struct {
	batch  *warehouse.Batch
	done   chan error
	upTo   int    // seenSet.adds when the batch was closed
	counts Result // the run's counts when the batch was closed
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
	if oc.err != nil && ctx.Err() != nil && errors.Is(oc.err, context.Canceled) {
		return nil // interrupted while read, not failed: the next run reads it
	}
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
		WindowStart: oc.window.Since, WindowEnd: oc.window.Until, ContentSHA256: oc.contentSHA256, GzipMembers: oc.gzipMembers}
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
		if rejectedN == 1 {
			msg = "1 record rejected: " + rejected[0]
		}
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
		if oc.digest != nil {
			c.batch.AddDigest(*oc.digest)
			c.res.DigestFiles++
		} else {
			c.res.FilesRead++
		}
		if oc.watermark != nil {
			c.batch.SetWatermark(*oc.watermark)
		}
		for _, cov := range oc.coverage {
			c.batch.Cover(cov)
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
	f := &inflight{batch: c.batch, done: make(chan error, 1), upTo: c.seen.adds, counts: *c.res}
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
	c.kept = f.counts
	return nil
}
