package ingest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
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

// pagedTable is a session table served in pages per Scan segment; a segment in failAt fails at
// that page.
type pagedTable struct {
	pages  map[int32][][]map[string]types.AttributeValue
	failAt map[int32]int
}

func (p *pagedTable) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	seg := *in.Segment
	page := 0
	if in.ExclusiveStartKey != nil {
		page, _ = strconv.Atoi(in.ExclusiveStartKey["page"].(*types.AttributeValueMemberN).Value)
	}
	if at, ok := p.failAt[seg]; ok && page == at {
		return nil, errors.New("connection reset")
	}
	out := &dynamodb.ScanOutput{Items: p.pages[seg][page]}
	if page+1 < len(p.pages[seg]) {
		out.LastEvaluatedKey = map[string]types.AttributeValue{"page": &types.AttributeValueMemberN{Value: strconv.Itoa(page + 1)}}
	}
	return out, nil
}

// TestTableScanIsHandedOverInChunks: a scan hands its items over in chunks of about snapshotChunk
// while it goes on, all under the scan's snapshot id, with every item read counted once and a
// bad item rejected; a segment failing part-way fails the scan.
func TestTableScanIsHandedOverInChunks(t *testing.T) {
	const segments, perPage, pagesPerSegment = 3, 500, 6 // 9,000 items: more than a chunk
	table := &pagedTable{pages: map[int32][][]map[string]types.AttributeValue{}}
	for seg := range int32(segments) {
		for page := range pagesPerSegment {
			var items []map[string]types.AttributeValue
			for i := range perPage {
				id := fmt.Sprintf("%d-%d-%03d", seg, page, i)
				if seg == 1 && page == 2 && i == 7 {
					id = "" // no id: rejected
				}
				items = append(items, map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id},
					"status": &types.AttributeValueMemberS{Value: "active"}})
			}
			table.pages[seg] = append(table.pages[seg], items)
		}
	}
	now := time.Date(2026, 11, 6, 12, 0, 0, 0, time.UTC)
	var chunks []outcome
	final := scanTable(context.Background(), table, TableScan{Table: "sessions", Segments: segments}, now, func(oc outcome) bool {
		chunks = append(chunks, oc)
		return true
	})
	if final.err != nil || final.partial || final.rejectedN != 1 || final.found != segments*perPage*pagesPerSegment {
		t.Fatalf("final outcome: err %v, partial %v, %d rejected, %d found", final.err, final.partial, final.rejectedN, final.found)
	}
	rows := len(final.snapRows)
	ids := map[string]bool{}
	for _, c := range chunks {
		if !c.partial || c.snapshotID != final.snapshotID || !c.takenAt.Equal(now) || len(c.snapRows) < snapshotChunk || len(c.snapRows) >= snapshotChunk+perPage {
			t.Fatalf("chunk: partial %v, id %q (scan %q), taken %v, %d rows", c.partial, c.snapshotID, final.snapshotID, c.takenAt, len(c.snapRows))
		}
		rows += len(c.snapRows)
		for _, r := range c.snapRows {
			ids[r.ID] = true
		}
	}
	for _, r := range final.snapRows {
		ids[r.ID] = true
	}
	if len(chunks) == 0 || rows != segments*perPage*pagesPerSegment-1 || len(ids) != rows {
		t.Fatalf("%d chunks, %d rows of %d ids; want the %d good items once each", len(chunks), rows, len(ids), segments*perPage*pagesPerSegment-1)
	}
	table.failAt = map[int32]int{2: 4}
	if failed := scanTable(context.Background(), table, TableScan{Table: "sessions", Segments: segments}, now, func(outcome) bool { return true }); failed.err == nil ||
		!strings.Contains(failed.err.Error(), "segment 2 of 3") {
		t.Fatalf("a segment failing part-way: %v", failed.err)
	}
}

// TestLargeExportIsStreamedWholeOrNotAtAll: a DynamoDB export of more items than snapshotChunk is
// handed over in chunks (stamped with its exportTime, with no first pass), with a commit after
// every file; when a later data file breaks after a chunk was handed over, none of it is stored,
// and once fixed it is stored whole.
func TestLargeExportIsStreamedWholeOrNotAtAll(t *testing.T) {
	root := t.TempDir()
	export := filepath.Join(root, "exports", "AWSDynamoDB", "01700000000000-0123abcd")
	if err := os.MkdirAll(filepath.Join(export, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	var a strings.Builder
	for i := range snapshotChunk + 10 {
		fmt.Fprintf(&a, `{"Item":{"id":{"S":"a%015d"},"status":{"S":"active"}}}`+"\n", i)
	}
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(export, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("manifest-summary.json", `{"exportTime":"2026-11-03T12:00:00Z"}`)
	write("data/a.json", a.String())
	write("data/b.json", `{"Item":{"id":{"S":"b000000000000001"}}}`+"\n"+`{"Item":{"id":`)
	wh := filepath.Join(root, "wh")
	run := func() *Result {
		t.Helper()
		res, err := Run(context.Background(), Options{Warehouse: wh, SessionsFiles: []string{filepath.Join(root, "exports")}, Checkpoint: 1, Command: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	stored := func() (items int, taken time.Time) {
		t.Helper()
		r, err := warehouse.OpenReader(context.Background(), wh)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var at *time.Time
		if err := r.DB().QueryRow(`SELECT count(*), max(taken_at) FROM session_snapshots`).Scan(&items, &at); err != nil {
			t.Fatal(err)
		}
		if at != nil {
			taken = *at
		}
		return items, taken
	}
	if res := run(); res.FilesFailed != 1 || res.Snapshots != 0 {
		t.Fatalf("broken export: %d failed, %d snapshots; want 1 and 0", res.FilesFailed, res.Snapshots)
	}
	if n, _ := stored(); n != 0 {
		t.Fatalf("the broken export stored %d items", n)
	}
	write("data/b.json", `{"Item":{"id":{"S":"b000000000000001"}}}`+"\n")
	if res := run(); res.FilesFailed != 0 || res.Snapshots != 1 || res.SnapshotItems != snapshotChunk+11 {
		t.Fatalf("fixed export: %+v", res)
	}
	if n, at := stored(); n != snapshotChunk+11 || !at.Equal(time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("stored %d items taken at %v; want %d at the exportTime", n, at, snapshotChunk+11)
	}
}
