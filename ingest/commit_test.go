package ingest

import (
	"context"
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
	w, err := warehouse.OpenWriter(ctx, root, time.Now(), "test", false)
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
