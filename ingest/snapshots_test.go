package ingest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

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
