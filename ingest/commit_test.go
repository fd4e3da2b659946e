package ingest

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/warehouse"
)

// TestGraceContextOutlivesItsParentForTheGrace: the context a registration runs under is cancelled
// the grace after the run's context, not at once, and at once when its own cancel is called.
func TestGraceContextOutlivesItsParentForTheGrace(t *testing.T) {
	parent, cancelParent := context.WithCancel(context.Background())
	ctx, cancel := graceContext(parent, 100*time.Millisecond)
	defer cancel()
	cancelParent()
	select {
	case <-ctx.Done():
		t.Fatal("cancelled with its parent, before the grace")
	case <-time.After(50 * time.Millisecond):
	}
	select {
	case <-ctx.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("not cancelled after the grace")
	}
	own, cancelOwn := graceContext(context.Background(), time.Hour)
	cancelOwn()
	if own.Err() == nil {
		t.Fatal("its own cancel did not cancel it")
	}
}

// TestCheckpointRegisteringWhenInterruptedLands: a checkpoint whose files are sealed and
// registering when the run is interrupted is registered, not thrown away with its files.
func TestCheckpointRegisteringWhenInterruptedLands(t *testing.T) {
	root := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := warehouse.OpenWriter(ctx, root, time.Now(), warehouse.Run{Command: "test"}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	c := &committer{w: w, res: &Result{}, seen: newSeenSet(w), batch: w.NewBatch(), now: time.Now,
		api: map[string]*apiTotals{}, snapshots: map[string]int64{}, checkpointRows: 1}
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	if err := c.batch.AddEvents([]warehouse.EventRow{{EventID: "a", EventTime: at, Raw: "{}"}}, nil); err != nil {
		t.Fatal(err)
	}
	c.batch.Record(warehouse.LedgerEntry{Source: "file:///trail/a.json", Kind: "trail", Status: "ok", Events: 1, Stored: 1})
	if err := c.commit(ctx); err != nil {
		t.Fatal(err)
	}
	cancel() // Ctrl-C while the checkpoint registers
	if err := c.settle(); err != nil {
		t.Fatalf("the registering checkpoint failed: %v", err)
	}
	c.batch.Abort()
	r, err := warehouse.OpenReader(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var events, ledger int
	if err := r.DB().QueryRow(`SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM ingest_files)`).Scan(&events, &ledger); err != nil {
		t.Fatal(err)
	}
	if events != 1 || ledger != 1 {
		t.Fatalf("after the interrupted run: %d events, %d ledger entries; want the checkpoint's 1 and 1", events, ledger)
	}
}

// TestSnapshotFailingPartWayIsDroppedAndTheRunGoesOn: a snapshot file whose read fails after some
// of its items were handed over (and a checkpoint committed in between) stores none of them, its
// ledger entry says it failed, and the run goes on: the events of the next file are stored.
func TestSnapshotFailingPartWayIsDroppedAndTheRunGoesOn(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	w, err := warehouse.OpenWriter(ctx, root, time.Now(), warehouse.Run{Command: "test"}, false)
	if err != nil {
		t.Fatal(err)
	}
	res := &Result{}
	c := &committer{w: w, res: res, seen: newSeenSet(w), batch: w.NewBatch(), now: time.Now,
		api: map[string]*apiTotals{}, snapshots: map[string]int64{}, checkpointRows: 1}
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	snap := object{source: "file:///sessions/s.json", display: "s.json", kind: kindSnapshot, mtime: at}
	trail := func(name, id string) outcome {
		return outcome{job: job{obj: object{source: "file:///trail/" + name, display: name, kind: kindTrail}},
			rows: []warehouse.EventRow{{EventID: id, EventTime: at, Raw: "{}"}}, found: 1}
	}
	for _, oc := range []outcome{
		{job: job{obj: snap}, snapRows: []warehouse.SnapshotRow{{ID: "s1", Raw: "{}"}}, takenAt: at, partial: true},
		trail("a.json", "a"), // commits a checkpoint while the snapshot is open
		{job: job{obj: snap}, takenAt: at, err: errors.New("read: connection reset")},
		trail("b.json", "b"),
	} {
		if err := c.take(ctx, oc); err != nil {
			t.Fatalf("take %s: %v", oc.obj.display, err)
		}
	}
	if err := c.settle(); err != nil {
		t.Fatal(err)
	}
	if err := c.batch.Commit(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	w.Close()
	r, err := warehouse.OpenReader(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var events, items, snapshots int
	var status string
	err = r.DB().QueryRow(`SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM session_snapshots),
		(SELECT count(*) FROM snapshots), (SELECT status FROM ingest_files WHERE source = 'file:///sessions/s.json')`).Scan(&events, &items, &snapshots, &status)
	if err != nil {
		t.Fatal(err)
	}
	if events != 2 || items != 0 || snapshots != 0 || status != "failed" || res.FilesFailed != 1 {
		t.Fatalf("events %d, snapshot items %d, snapshots %d, ledger %q, files failed %d; want 2, 0, 0, failed, 1",
			events, items, snapshots, status, res.FilesFailed)
	}
	if files, _ := filepath.Glob(filepath.Join(root, "lake", "session_snapshots", "*", "*")); len(files) != 0 {
		t.Fatalf("files of the dropped snapshot left: %v", files)
	}
}
