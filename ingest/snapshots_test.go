package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/warehouse"
)

// TestSnapshotIsStoredWholeOrNotAtAll: a DynamoDB export whose second data file is broken stores
// no item (the ledger marks it failed); once the file is fixed, the next run stores the snapshot
// once, with the items of both files.
func TestSnapshotIsStoredWholeOrNotAtAll(t *testing.T) {
	root := t.TempDir()
	export := filepath.Join(root, "exports", "AWSDynamoDB", "01700000000000-abcdef12")
	if err := os.MkdirAll(filepath.Join(export, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	item := func(id string) string {
		return `{"Item":{"id":{"S":"` + id + `"},"status":{"S":"active"},"profile":{"S":"prod"}}}` + "\n"
	}
	files := map[string]string{
		"manifest-summary.json": `{"exportTime":"2026-11-03T12:00:00Z","itemCount":3}`,
		"data/a.json":           item("aaaaaaaaaaaaaaaa") + item("bbbbbbbbbbbbbbbb"),
		"data/b.json":           item("cccccccccccccccc") + `{"Item":{"id":`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(export, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	wh := filepath.Join(root, "wh")
	run := func() *Result {
		t.Helper()
		res, err := Run(context.Background(), Options{Warehouse: wh, SessionsFiles: []string{filepath.Join(root, "exports")}, Command: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	items := func() (snapshots, rows int) {
		t.Helper()
		r, err := warehouse.OpenReader(context.Background(), wh)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if err := r.DB().QueryRow(`SELECT (SELECT count(*) FROM snapshots), (SELECT count(*) FROM session_snapshots)`).Scan(&snapshots, &rows); err != nil {
			t.Fatal(err)
		}
		return snapshots, rows
	}
	if res := run(); res.FilesFailed != 1 || res.Snapshots != 0 {
		t.Fatalf("broken export: %d failed, %d snapshots stored; want 1 and 0", res.FilesFailed, res.Snapshots)
	}
	if s, n := items(); s != 0 || n != 0 {
		t.Fatalf("after the broken export: %d snapshots, %d items stored; want none", s, n)
	}
	if err := os.WriteFile(filepath.Join(export, "data/b.json"), []byte(item("cccccccccccccccc")), 0o600); err != nil {
		t.Fatal(err)
	}
	if res := run(); res.FilesFailed != 0 || res.Snapshots != 1 || res.SnapshotItems != 3 {
		t.Fatalf("fixed export: %+v", res)
	}
	if s, n := items(); s != 1 || n != 3 {
		t.Fatalf("after the fixed export: %d snapshots, %d items; want 1 and 3", s, n)
	}
}

// TestLargeSnapshotFileIsHandedOverInChunks: a snapshot file of more items than snapshotChunk is
// stored whole, as one snapshot stamped with its newest change, even with a commit after every
// file; one broken item anywhere in it stores none of it.
func TestLargeSnapshotFileIsHandedOverInChunks(t *testing.T) {
	root := t.TempDir()
	const items = 2*snapshotChunk + 100
	var body strings.Builder
	for i := range items {
		updated := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
		fmt.Fprintf(&body, `{"id":"%016x","status":"active","profile":"prod","updated_at":"%s"}`+"\n", i, updated.Format(time.RFC3339))
	}
	good := filepath.Join(root, "good", "sessions.jsonl")
	broken := filepath.Join(root, "broken", "sessions.jsonl")
	for path, text := range map[string]string{good: body.String(), broken: strings.Replace(body.String(), `{"id":"0000000000004000"`, `{"id":`, 1)} {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	wh := filepath.Join(root, "wh")
	res, err := Run(context.Background(), Options{Warehouse: wh, SessionsFiles: []string{good, broken}, Checkpoint: 1, Command: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Snapshots != 1 || res.SnapshotItems != items || res.FilesFailed != 1 {
		t.Fatalf("stored %d snapshots of %d items, %d files failed; want 1 of %d, 1 failed", res.Snapshots, res.SnapshotItems, res.FilesFailed, items)
	}
	r, err := warehouse.OpenReader(context.Background(), wh)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var snapshots, rows, ids int
	var taken time.Time
	err = r.DB().QueryRow(`SELECT (SELECT count(*) FROM snapshots), count(*), count(DISTINCT id), max(taken_at) FROM session_snapshots`).Scan(&snapshots, &rows, &ids, &taken)
	if err != nil {
		t.Fatal(err)
	}
	newest := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC).Add((items - 1) * time.Second)
	if snapshots != 1 || rows != items || ids != items || !taken.Equal(newest) {
		t.Fatalf("%d snapshots, %d rows of %d ids taken at %s; want 1, %d of %d at %s", snapshots, rows, ids, taken, items, items, newest)
	}
}
