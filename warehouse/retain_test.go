package warehouse

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// TestAddEventsKeepsNoBytesOfItsRows: once AddEvents calls release, the batch holds copies of
// every value it was given, so a caller may reuse the memory its strings were in (ingest recycles
// each file's text).
func TestAddEventsKeepsNoBytesOfItsRows(t *testing.T) {
	root := t.TempDir()
	w := openWriter(t, root)
	b := w.NewBatch()
	mem := []byte(strings.Repeat(`{"eventID":"e0","sourceIPAddress":"192.0.2.1","arn":"arn:aws:iam::111:role/R"}`, 3))
	text := unsafe.String(&mem[0], len(mem))
	rec := text[:len(text)/3]
	var rows []EventRow
	for i := range 3 {
		r := event("e"+string(rune('0'+i)), t0)
		at := func(s string) string { i := strings.Index(rec, s); return rec[i : i+len(s)] }
		ip, arn, kind := at("192.0.2.1"), at("arn:aws:iam::111:role/R"), at("eventID")
		r.Raw, r.SourceIPAddress, r.IdentityARN, r.SessionIssuerARN, r.SourceIdentityKind = rec, &ip, &arn, &arn, &kind
		if isIssuance(&r) {
			t.Fatal("test rows are not issuances")
		}
		r.EventSource, r.EventName, r.IssuedAccessKeyID = &kind, &kind, &ip
		rows = append(rows, r)
	}
	rows[0].EventSource, rows[0].EventName = ptr("sts.amazonaws.com"), ptr("AssumeRole")
	released := make(chan struct{})
	if err := b.AddEvents(rows, func() { close(released) }); err != nil {
		t.Fatal(err)
	}
	<-released
	for i := range mem {
		mem[i] = 'X'
	}
	if err := b.Commit(t.Context(), t0); err != nil {
		t.Fatal(err)
	}
	w.Close()
	want := `{"eventID":"e0","sourceIPAddress":"192.0.2.1","arn":"arn:aws:iam::111:role/R"}`
	if n := count(t, root, `SELECT count(*) FROM events_all WHERE raw = '`+want+`' AND source_ip_address = '192.0.2.1'
		AND identity_arn = 'arn:aws:iam::111:role/R' AND session_issuer_arn = identity_arn AND source_identity_kind = 'eventID'`); n != 3 {
		t.Errorf("%d of 3 rows read back as written", n)
	}
	if n := count(t, root, `SELECT count(*) FROM issuance_events WHERE issued_access_key_id = '192.0.2.1'`); n != 1 {
		t.Errorf("issuances read back as written: %d of 1", n)
	}
}

// TestBackgroundWriteErrorFailsTheCommit: rows are encoded on a goroutine of the partition file;
// when writing the file fails there, the commit fails, every release still runs, and nothing of
// the batch is registered.
func TestBackgroundWriteErrorFailsTheCommit(t *testing.T) {
	root := t.TempDir()
	w := openWriter(t, root)
	defer w.Close()
	b := w.NewBatch()
	rows := make([]EventRow, rowGroupRows)
	for i := range rows {
		rows[i] = event(fmt.Sprintf("e%d", i), t0)
	}
	released := 0
	if err := b.AddEvents(slices.Clone(rows[:10]), func() { released++ }); err != nil {
		t.Fatal(err)
	}
	for _, p := range b.events {
		p.f.Close() // the disk goes away under the file
	}
	b.AddEvents(rows, func() { released++ }) // a row group's worth: written out on the goroutine
	// The goroutine's error, not only the one closing the file would give.
	if err := b.Commit(t.Context(), t0); err == nil || !strings.Contains(err.Error(), "write lake file") {
		t.Fatalf("commit of a batch whose row group could not be written: %v", err)
	}
	b.Abort()
	if released != 2 {
		t.Errorf("%d of 2 releases ran", released)
	}
	if n := count(t, root, `SELECT count(*) FROM catalog.lake_files`); n != 0 {
		t.Errorf("%d files registered", n)
	}
}

// TestLakeStatisticsAreTheTimes: lake files carry min/max statistics for event_time (DuckDB prunes
// row groups of a time window with them) and for no other column (they cost ingest time and
// prune nothing).
func TestLakeStatisticsAreTheTimes(t *testing.T) {
	root := t.TempDir()
	rows := []EventRow{event("a", t0), event("b", t0.Add(time.Hour))}
	rows[0].EventName, rows[1].EventName = ptr("GetObject"), ptr("PutObject")
	commitEvents(t, root, rows...)
	_, md := readWithParquetGo(t, onlyEventsFile(t, root))
	for _, c := range md.RowGroups[0].Columns {
		name, stats := c.MetaData.PathInSchema[0], c.MetaData.Statistics
		if has := len(stats.MinValue) > 0 || len(stats.MaxValue) > 0; has != (name == "event_time") {
			t.Errorf("column %s: min/max statistics %v", name, has)
		}
	}
}
