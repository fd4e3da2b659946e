package warehouse

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

func event(id string, at time.Time) EventRow {
	return EventRow{EventID: id, EventTime: at, Raw: `{"eventID":"` + id + `"}`, SourceFile: "file:///src/a.json"}
}

func ptr(s string) *string { return &s }

func openWriter(t *testing.T, root string) *Writer {
	t.Helper()
	w, err := OpenWriter(context.Background(), root, t0, Run{Command: "test"}, false)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// commitEvents writes rows to the lake in one batch of a writer of its own.
func commitEvents(t *testing.T, root string, rows ...EventRow) {
	t.Helper()
	w := openWriter(t, root)
	defer w.Close()
	b := w.NewBatch()
	if err := b.AddEvents(rows, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, root, query string) int {
	t.Helper()
	r, err := OpenReader(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var n int
	if err := r.DB().QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// queryColumn runs a query of one text column on a reader of the warehouse at root.
func queryColumn(t *testing.T, root, query string) []string {
	t.Helper()
	r, err := OpenReader(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out, err := queryStrings(context.Background(), r.DB(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

func TestCommitMakesRowsAndLedgerVisibleTogether(t *testing.T) {
	root := t.TempDir()
	w := openWriter(t, root)
	b := w.NewBatch()
	if err := b.AddEvents([]EventRow{event("a", t0), event("b", t0.Add(24*time.Hour)), event("c", t0)}, nil); err != nil {
		t.Fatal(err)
	}
	b.Record(LedgerEntry{Source: "file:///src/a.json", Kind: "trail", Status: "ok", Events: 3, Stored: 3})
	if n := count(t, root, `SELECT count(*) FROM events`); n != 0 {
		t.Fatalf("uncommitted rows visible: %d", n)
	}
	if err := b.Commit(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if n := count(t, root, `SELECT count(*) FROM events`); n != 3 {
		t.Fatalf("events = %d, want 3", n)
	}
	if n := count(t, root, `SELECT count(DISTINCT event_date) FROM events`); n != 2 {
		t.Fatalf("partitions = %d, want 2", n)
	}
	if n := count(t, root, `SELECT count(*) FROM ingest_files WHERE status = 'ok' AND stored = 3`); n != 1 {
		t.Fatalf("ledger rows = %d", n)
	}
	matches, _ := filepath.Glob(filepath.Join(root, "lake", "events", "event_date=2026-11-02", "*.parquet"))
	if len(matches) != 1 {
		t.Fatalf("lake files for 2026-11-02: %v", matches)
	}
}

func TestEmptyWarehouseHasViews(t *testing.T) {
	root := t.TempDir()
	openWriter(t, root).Close()
	if n := count(t, root, `SELECT count(*) FROM ingest_runs WHERE status = 'running'`); n != 1 {
		t.Errorf("ingest_runs has %d running runs, want 1", n)
	}
	for _, v := range []string{"events", "events_all", "sessions", "session_snapshots", "ingest_files", "lake_files", "snapshots", "watermarks"} {
		if n := count(t, root, `SELECT count(*) FROM `+v); n != 0 {
			t.Errorf("%s has %d rows", v, n)
		}
	}
}

func TestReaderNeedsWarehouse(t *testing.T) {
	_, err := OpenReader(context.Background(), filepath.Join(t.TempDir(), "none"))
	if err == nil || !strings.Contains(err.Error(), "run `sentinel ingest` first") {
		t.Fatalf("got %v", err)
	}
}

func TestSecondWriterIsRefused(t *testing.T) {
	root := t.TempDir()
	w := openWriter(t, root)
	defer w.Close()
	_, err := OpenWriter(context.Background(), root, t0, Run{Command: "second"}, false)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "--wait") {
		t.Fatalf("got %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := OpenWriter(ctx, root, t0, Run{Command: "waiting"}, true); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting writer: got %v", err)
	}
}

func TestCrashLeftoversAreInvisibleAndRemoved(t *testing.T) {
	root := t.TempDir()
	w := openWriter(t, root)
	b := w.NewBatch()
	if err := b.AddEvents([]EventRow{event("a", t0)}, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
	// A run that died after writing files but before registering them.
	b = w.NewBatch()
	b.AddEvents([]EventRow{event("ghost", t0)}, nil)
	for _, p := range b.events {
		if err := p.wait(); err != nil {
			t.Fatal(err)
		}
		p.pw.Close()
		p.f.Close()
	}
	stray := filepath.Join(root, "lake", "events", "event_date=2026-11-02", "part-000001-999999.parquet")
	if err := os.Rename(b.events["2026-11-02"].tmp, stray); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if n := count(t, root, `SELECT count(*) FROM events`); n != 1 {
		t.Fatalf("unregistered file is visible: %d events", n)
	}
	w = openWriter(t, root)
	w.Close()
	if _, err := os.Stat(stray); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("leftover not removed: %v", err)
	}
	if n := count(t, root, `SELECT count(*) FROM ingest_runs WHERE status = 'interrupted'`); n != 1 {
		t.Fatalf("interrupted runs = %d, want 1", n)
	}
}

func TestEventsViewAppliesCorrections(t *testing.T) {
	root := t.TempDir()
	original := event("orig", t0)
	corrected := event("fix", t0.Add(time.Minute))
	orig := "orig"
	corrected.AddendumOriginalEventID = &orig
	for _, rows := range [][]EventRow{{original, event("other", t0)}, {corrected}} {
		w := openWriter(t, root)
		b := w.NewBatch()
		b.AddEvents(rows, nil)
		if err := b.Commit(context.Background(), t0); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	if n := count(t, root, `SELECT count(*) FROM events_all`); n != 3 {
		t.Fatalf("events_all = %d", n)
	}
	if n := count(t, root, `SELECT count(*) FROM events`); n != 2 {
		t.Fatalf("events = %d, want 2 (fix, other)", n)
	}
	if n := count(t, root, `SELECT count(*) FROM events WHERE event_id = 'orig'`); n != 0 {
		t.Fatal("the corrected original must be hidden")
	}
}

func TestSnapshotHistoryAndSessions(t *testing.T) {
	root := t.TempDir()
	w := openWriter(t, root)
	ts := func(s string) *time.Time { x, _ := time.Parse(time.RFC3339, s); return &x }
	for i, snap := range []struct {
		id    string
		at    time.Time
		items []SnapshotRow
	}{
		{"s1", t0, []SnapshotRow{{ID: "aaaa", Status: ptr("active"), StartedAt: ts("2026-11-02T09:00:00Z"), Raw: "{}"}, {ID: "bbbb", Status: ptr("active"), Raw: "{}"}}},
		{"s2", t0.Add(48 * time.Hour), []SnapshotRow{{ID: "aaaa", Status: ptr("revoked"), Raw: "{}"}}},
	} {
		b := w.NewBatch()
		s := Snapshot{ID: snap.id, Source: "file:///s", TakenAt: snap.at, Items: int64(len(snap.items))}
		b.RecordSnapshot(s)
		if err := b.AddSnapshotRows(s, snap.items); err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(context.Background(), t0); err != nil {
			t.Fatalf("snapshot %d: %v", i, err)
		}
	}
	w.Close()
	if n := count(t, root, `SELECT count(*) FROM session_snapshots`); n != 3 {
		t.Fatalf("snapshot rows = %d", n)
	}
	if n := count(t, root, `SELECT count(*) FROM sessions`); n != 2 {
		t.Fatalf("sessions = %d", n)
	}
	if n := count(t, root, `SELECT count(*) FROM sessions WHERE id = 'aaaa' AND status = 'revoked' AND snapshot_count = 2 AND first_seen < last_seen`); n != 1 {
		t.Fatal("latest state of aaaa must be revoked, seen in 2 snapshots")
	}
	if n := count(t, root, `SELECT count(*) FROM sessions WHERE id = 'bbbb' AND status = 'active'`); n != 1 {
		t.Fatal("bbbb (gone from the later snapshot) must keep its last known state")
	}
}

func TestPermissions(t *testing.T) {
	root := filepath.Join(t.TempDir(), "wh")
	w := openWriter(t, root)
	b := w.NewBatch()
	b.AddEvents([]EventRow{event("a", t0)}, nil)
	if err := b.Commit(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
	w.Close()
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		mode := info.Mode().Perm()
		if info.IsDir() && mode != 0o700 || !info.IsDir() && mode&0o077 != 0 {
			t.Errorf("%s has mode %o", p, mode)
		}
		return nil
	})
}

func TestSealedReaderOnlyReads(t *testing.T) {
	root := t.TempDir()
	openWriter(t, root).Close()
	r, err := OpenReader(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Seal(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rows, err := r.ReadOnlyQuery(ctx, `SELECT count(*) FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	for q, want := range map[string]string{
		`CREATE TABLE x AS SELECT 1`:                                "CREATE statement",
		`COPY (SELECT 1) TO '` + filepath.Join(root, "x.csv") + `'`: "this is a COPY statement",
		`ATTACH '` + filepath.Join(root, "other.db") + `'`:          "ATTACH statement",
		`INSTALL httpfs`:                        "this is an INSTALL statement",
		`LOAD parquet`:                          "this is a LOAD statement",
		`SET enable_external_access = true`:     "SET statement",
		`SELECT * FROM read_csv('/etc/passwd')`: "Permission Error",
		`SELECT * FROM read_parquet('` + filepath.Join(root, "*") + `')`: "Permission Error",
		// A view cannot be written to: refused for writing, before DuckDB's binder says so.
		`DELETE FROM ingest_files`:                            "this is a DELETE statement",
		`DELETE FROM catalog.ingest_files`:                    "read-only",
		`INSERT INTO ingest_files SELECT * FROM ingest_files`: "this is an INSERT statement",
		// One statement only, and nothing runs before the refusal.
		`SELECT 1; SELECT 2`:                         "one statement at a time",
		`SELECT 1; CREATE TABLE y AS SELECT 1`:       "one statement at a time",
		`CREATE TABLE x AS SELECT 1; SELECT 1`:       "CREATE statement",
		"-- a comment\n(SELECT 1); DROP VIEW events": "one statement at a time",
	} {
		rows, err := r.ReadOnlyQuery(ctx, q)
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
			rows.Close()
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error containing %q", q, err, want)
		}
	}
	for _, table := range []string{"x", "y"} {
		if _, err := r.DB().ExecContext(ctx, `SELECT * FROM `+table); err == nil {
			t.Errorf("table %s was created by a refused query", table)
		}
	}
}

func TestCompactKeepsAnswersAndDropsDuplicates(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	orig := "orig"
	for run := range 3 {
		w := openWriter(t, root)
		b := w.NewBatch()
		rows := []EventRow{event("dup", t0), event(fmt.Sprintf("e%d", run), t0.Add(time.Hour)), event(fmt.Sprintf("n%d", run), t0.Add(48*time.Hour))}
		if run == 2 {
			fix := event("fix", t0.Add(time.Minute))
			fix.AddendumOriginalEventID = &orig
			rows = append(rows, event("orig", t0), fix)
		}
		b.AddEvents(rows, nil)
		s := Snapshot{ID: fmt.Sprintf("s%d", run), Source: "f", TakenAt: t0, Items: 1}
		b.RecordSnapshot(s)
		b.AddSnapshotRows(s, []SnapshotRow{{ID: "aaaa", Raw: "{}"}})
		if err := b.Commit(ctx, t0); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	answers := func() string {
		r, err := OpenReader(ctx, root)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var s string
		err = r.DB().QueryRow(`SELECT string_agg(event_id || ':' || ingest_run, ',' ORDER BY event_id) FROM events`).Scan(&s)
		if err != nil {
			t.Fatal(err)
		}
		var snaps int
		r.DB().QueryRow(`SELECT count(*) FROM session_snapshots`).Scan(&snaps)
		return fmt.Sprintf("%s|%d", s, snaps)
	}
	// Ingest never stores a duplicate (the events view relies on it); compaction also repairs a lake
	// that holds some, keeping the copy of the newest ingest.
	w := openWriter(t, root)
	st, err := w.Compact(ctx, t0)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := answers(), "dup:3,e0:1,e1:2,e2:3,fix:3,n0:1,n1:2,n2:3|3"; got != want {
		t.Fatalf("after compaction: %s, want %s", got, want)
	}
	if st.DuplicatesDropped != 2 || st.FilesAfter != 3 || st.FilesBefore != 9 {
		t.Fatalf("stats %+v", st)
	}
	if n := count(t, root, `SELECT count(*) FROM events_all`); n != 9 {
		t.Fatalf("events_all = %d after compaction, want 9 (duplicates gone, the superseded original kept)", n)
	}
	files, _ := filepath.Glob(filepath.Join(root, "lake", "*", "*", "*.parquet"))
	if len(files) != 3 {
		t.Fatalf("lake files %v", files)
	}
	w = openWriter(t, root)
	st, err = w.Compact(ctx, t0)
	w.Close()
	if err != nil || st.Partitions != 0 {
		t.Fatalf("a compacted warehouse has nothing to compact: %+v %v", st, err)
	}
}

func TestEventsViewTakesRequestAndResponseFromRaw(t *testing.T) {
	root := t.TempDir()
	rows := []EventRow{event("plain", t0), event("null", t0), event("nested", t0)}
	rows[1].Raw = `{"eventID":"null","requestParameters":null}`
	rows[2].Raw = `{"eventID":"nested","requestParameters":{"roleArn":"arn:aws:iam::1:role/A","tags":[1,2]},"responseElements":{"ok":true}}`
	commitEvents(t, root, rows...)
	for query, want := range map[string]int{
		`SELECT count(*) FROM events WHERE request_parameters IS NULL AND response_elements IS NULL`:                         1 + 1,
		`SELECT count(*) FROM events WHERE request_parameters->>'roleArn' = 'arn:aws:iam::1:role/A'`:                         1,
		`SELECT count(*) FROM events WHERE request_parameters::VARCHAR = '{"roleArn":"arn:aws:iam::1:role/A","tags":[1,2]}'`: 1,
		`SELECT count(*) FROM events WHERE (response_elements->>'ok')::BOOLEAN`:                                              1,
	} {
		if n := count(t, root, query); n != want {
			t.Errorf("%s = %d, want %d", query, n, want)
		}
	}
}

// memberRecord is a record whose eventID the lake stores apart (after 36 characters, 38 bytes:
// "é" and "ü" are two bytes each), with a value for every scalar member of RawMembers.
const memberRecord = `{"userAgent":"café müde","eventID":"id-1","errorMessage":"denied","requestID":"req-1",` +
	`"sharedEventID":"shared-1","userIdentity":{"principalId":"AROA:alice","sessionContext":{"sourceIdentity":"sentinel-0123456789abcdef",` +
	`"attributes":{"creationDate":"2026-11-02T09:00:00Z"}}},"requestParameters":{"sourceIdentity":"req-si"},` +
	`"responseElements":{"sourceIdentity":"resp-si","assumedRoleUser":{"arn":"arn:aws:sts::1:assumed-role/R/a"}}}`

// memberAnswers reads what the events views make of memberRecord.
func memberAnswers(t *testing.T, root string) string {
	t.Helper()
	r, err := OpenReader(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var cols []string
	for _, m := range RawMembers {
		if !m.JSON {
			cols = append(cols, "coalesce(e."+m.Column+", 'NULL')")
		}
	}
	var all, members, whole string
	err = r.DB().QueryRow(`SELECT a.raw, concat_ws('|', `+strings.Join(cols, ", ")+`), e.raw::VARCHAR
		FROM events_all a JOIN events e USING (event_id) WHERE event_id = 'id-1'`).Scan(&all, &members, &whole)
	if err != nil {
		t.Fatal(err)
	}
	if all != memberRecord || whole != memberRecord {
		t.Errorf("raw: events_all %q, events %q, want the record %q", all, whole, memberRecord)
	}
	return members
}

const memberValues = "denied|req-1|shared-1|AROA:alice|2026-11-02T09:00:00Z|sentinel-0123456789abcdef|req-si|resp-si|arn:aws:sts::1:assumed-role/R/a"

func TestEventsViewRebuildsRawAndTakesMembersFromIt(t *testing.T) {
	root := t.TempDir()
	row := event("id-1", t0)
	at := strings.Index(memberRecord, `"id-1"`) + 1
	row.Raw, row.RawEventIDAt = memberRecord[:at]+memberRecord[at+len("id-1"):], 36
	if chars := len([]rune(memberRecord[:at])); chars != 36 || at != 38 {
		t.Fatalf("test record: eventID after %d characters, %d bytes", chars, at)
	}
	commitEvents(t, root, row)
	if got := memberAnswers(t, root); got != memberValues {
		t.Errorf("members = %s\nwant      %s", got, memberValues)
	}
}

// TestLakesOfEarlierVersionsRead: files written before raw_event_id_at existed hold raw whole and
// some members as columns of their own; the views read them, alone or beside newer files, and take
// the members from raw.
func TestLakesOfEarlierVersionsRead(t *testing.T) {
	root := t.TempDir()
	old := event("id-1", t0)
	old.Raw = memberRecord
	commitEvents(t, root, old)
	oldLayout := func(path string) {
		t.Helper()
		db, err := openDuckDB(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		_, err = db.Exec(`COPY (SELECT * EXCLUDE (raw_event_id_at), 'stale' AS request_id FROM read_parquet(` + Literal(path) + `))
			TO ` + Literal(path+".old") + ` (FORMAT parquet)`)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".old", path); err != nil {
			t.Fatal(err)
		}
	}
	lake, _ := filepath.Glob(filepath.Join(root, "lake", DatasetEvents, "*", "*.parquet"))
	if len(lake) != 1 {
		t.Fatalf("lake %v", lake)
	}
	oldLayout(lake[0])
	oldLayout(schemaFile(root, DatasetEvents))
	if got := memberAnswers(t, root); got != memberValues {
		t.Errorf("old lake: members = %s\nwant                %s", got, memberValues)
	}
	newer := event("id-2", t0)
	newer.Raw, newer.RawEventIDAt = `{"eventID":""}`, 12
	commitEvents(t, root, newer)
	if got := memberAnswers(t, root); got != memberValues {
		t.Errorf("old and new files: members = %s\nwant                         %s", got, memberValues)
	}
	if n := count(t, root, `SELECT count(*) FROM events WHERE event_id = 'id-2' AND raw::VARCHAR = '{"eventID":"id-2"}' AND request_id IS NULL`); n != 1 {
		t.Errorf("the newer file's record was not rebuilt")
	}
}

func TestBatchBoundsOpenPartitionFiles(t *testing.T) {
	root := t.TempDir()
	w := openWriter(t, root)
	b := w.NewBatch()
	// Days out of order and revisited, half a row group each time: each AddEvents may
	// finish the least recently written file.
	days := []int{0, 1, 2, 3, 4, 5, 0, 6, 7, 1, 8, 9}
	for i, d := range days {
		rows := make([]EventRow, rowGroupRows/2)
		for j := range rows {
			rows[j] = event(fmt.Sprintf("e%02d-%d", i, j), t0.AddDate(0, 0, d))
		}
		if err := b.AddEvents(rows, nil); err != nil {
			t.Fatal(err)
		}
		if len(b.events) > maxOpenPartitions {
			t.Fatalf("after %d adds, %d partition files open (bound %d)", i+1, len(b.events), maxOpenPartitions)
		}
	}
	if err := b.Commit(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if n := count(t, root, `SELECT count(*) FROM events`); n != len(days)*rowGroupRows/2 {
		t.Fatalf("events = %d, want %d", n, len(days)*rowGroupRows/2)
	}
	if n := count(t, root, `SELECT count(*) FROM lake_files WHERE dataset = 'events'`); n != 12 {
		t.Fatalf("events files = %d, want 12 (10 days, two revisited after their file was finished)", n)
	}
	if n := count(t, root, `SELECT count(*) FROM lake_files WHERE dataset = 'issuances'`); n != 12 {
		t.Fatalf("issuances files = %d, want one per events file", n)
	}
	if n := count(t, root, fmt.Sprintf(`SELECT count(*) FROM (SELECT event_date FROM events GROUP BY event_date HAVING count(*) = %d)`, rowGroupRows)); n != 2 {
		t.Fatalf("days with two events = %d, want 2", n)
	}
}

func TestAbortedBatchLeavesNoFiles(t *testing.T) {
	root := t.TempDir()
	w := openWriter(t, root)
	b := w.NewBatch()
	for d := range maxOpenPartitions + 3 {
		rows := make([]EventRow, rowGroupRows/2)
		for j := range rows {
			rows[j] = event(fmt.Sprintf("e%d-%d", d, j), t0.AddDate(0, 0, d))
		}
		if err := b.AddEvents(rows, nil); err != nil {
			t.Fatal(err)
		}
	}
	b.Abort()
	w.Close()
	files, _ := filepath.Glob(filepath.Join(root, "lake", "*", "*", "*.parquet"))
	if len(files) != 0 {
		t.Fatalf("an aborted batch left %v", files)
	}
}

// TestIssuanceIndex: the issuance_events view has the successful issuances among events whether
// their events files have an issuances file (written with the events file, or by Finish for a
// compaction's) or not (a compaction not followed by Finish), and after compaction replaced
// indexed files; the issuances files written both ways have the same columns.
func TestIssuanceIndex(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	issuance := func(id string, at time.Time, name string, errorCode *string) EventRow {
		e := event(id, at)
		e.EventSource, e.EventName, e.ErrorCode = ptr("sts.amazonaws.com"), ptr(name), errorCode
		e.IssuedAccessKeyID = ptr("ASIA" + id)
		return e
	}
	fix := issuance("fix", t0.Add(time.Hour), "AssumeRole", nil)
	fix.AddendumOriginalEventID = ptr("orig")
	other := event("call", t0)
	other.EventSource, other.EventName = ptr("s3.amazonaws.com"), ptr("GetObject")
	runs := [][]EventRow{
		{issuance("a", t0, "AssumeRole", nil), issuance("denied", t0, "AssumeRole", ptr("AccessDenied")), other,
			issuance("saml", t0.Add(48*time.Hour), "AssumeRoleWithSAML", nil), issuance("orig", t0, "AssumeRole", nil)},
		{issuance("web", t0.Add(time.Minute), "AssumeRoleWithWebIdentity", nil), fix},
		{issuance("late", t0.Add(24*time.Hour), "AssumeRole", nil)},
	}
	want := "a,fix,late,saml,web"
	check := func(stage string, wantIndexed, wantFiles int) {
		t.Helper()
		r, err := OpenReader(ctx, root)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var got, fromEvents string
		var indexed, files int
		err = r.DB().QueryRow(`SELECT
			(SELECT string_agg(event_id, ',' ORDER BY event_id) FROM issuance_events),
			(SELECT string_agg(event_id, ',' ORDER BY event_id) FROM events WHERE event_source = 'sts.amazonaws.com'
				AND event_name IN ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity') AND error_code IS NULL),
			(SELECT count(*) FROM lake_files i JOIN lake_files e ON e.dataset = 'events'
				AND i.dataset = 'issuances' AND i.path = replace(e.path, 'lake/events/', 'lake/issuances/')),
			(SELECT count(*) FROM lake_files WHERE dataset = 'events')`).Scan(&got, &fromEvents, &indexed, &files)
		if err != nil {
			t.Fatal(err)
		}
		if got != want || fromEvents != want || indexed != wantIndexed || files != wantFiles {
			t.Errorf("%s: issuance_events %s, from events %s (want %s); %d of %d lake files indexed, want %d of %d",
				stage, got, fromEvents, want, indexed, files, wantIndexed, wantFiles)
		}
	}
	for i, rows := range runs {
		w := openWriter(t, root)
		b := w.NewBatch()
		b.AddEvents(rows, nil)
		if err := b.Commit(ctx, t0); err != nil {
			t.Fatal(err)
		}
		if i < 2 { // the last run stops before Finish: its commit wrote its issuances file all the same
			if err := w.Finish(ctx, t0, "ok", RunStats{}); err != nil {
				t.Fatal(err)
			}
		}
		w.Close()
	}
	check("before compaction", 4, 4)
	w := openWriter(t, root)
	if _, err := w.Compact(ctx, t0); err != nil {
		t.Fatal(err)
	}
	w.Close()
	check("compacted, not indexed yet: the new file is read from the lake", 2, 3)
	w = openWriter(t, root)
	if err := w.Finish(ctx, t0, "ok", RunStats{}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	check("compacted and indexed", 3, 3)
	files, _ := filepath.Glob(filepath.Join(root, "lake", DatasetIssuances, "*", "*.parquet"))
	if n := count(t, root, `SELECT count(*) FROM lake_files WHERE dataset = 'issuances'`); n != 3 || len(files) != 3 {
		t.Errorf("issuances files: %d registered, %v in the lake; want the 3 of the events files", n, files)
	}
	// The compacted partition's issuances file was written by Finish (issuance_index.sql), the other
	// day's by the writer: the same columns, of the same types.
	columns := func(file string) string {
		return strings.Join(queryColumn(t, root, `SELECT column_name || ' ' || column_type FROM (DESCRIBE SELECT * FROM read_parquet('`+file+`', hive_partitioning = false))`), ", ")
	}
	compacted, _ := filepath.Glob(filepath.Join(root, "lake", DatasetIssuances, "event_date=2026-11-02", "*.parquet"))
	written, _ := filepath.Glob(filepath.Join(root, "lake", DatasetIssuances, "event_date=2026-11-04", "*.parquet"))
	if len(compacted) != 1 || len(written) != 1 {
		t.Fatalf("issuances files %v and %v, want one each", compacted, written)
	}
	if c, w := columns(compacted[0]), columns(written[0]); c != w || !strings.HasPrefix(c, "event_id VARCHAR, event_time TIMESTAMP WITH TIME ZONE, ") {
		t.Errorf("issuances file written by Finish has columns\n%s\nthe writer's\n%s", c, w)
	}
}

// TestIndexFailureIsAnIndexError: a lake file the index cannot read (here a compaction's, which
// Finish indexes) leaves the run recorded and fails with an IndexError (callers warn), and readers
// still answer from the lake.
func TestIndexFailureIsAnIndexError(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	commitEvents(t, root, event("a", t0))
	commitEvents(t, root, event("b", t0))
	w := openWriter(t, root)
	if _, err := w.Compact(ctx, t0); err != nil {
		t.Fatal(err)
	}
	file := onlyEventsFile(t, root)
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("not parquet"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = w.Finish(ctx, t0, "ok", RunStats{})
	var ie *IndexError
	if !errors.As(err, &ie) {
		t.Fatalf("Finish with an unreadable lake file: %v, want an IndexError", err)
	}
	w.Close()
	if err := os.WriteFile(file, good, 0o600); err != nil {
		t.Fatal(err)
	}
	if n := count(t, root, `SELECT count(*) FROM ingest_runs WHERE status = 'ok'`); n != 1 {
		t.Fatalf("runs recorded ok: %d, want 1", n)
	}
	if n := count(t, root, `SELECT count(*) FROM lake_files WHERE dataset = 'issuances'`); n != 0 {
		t.Fatalf("issuances files: %d, want 0", n)
	}
	if files, _ := filepath.Glob(filepath.Join(root, "lake", DatasetIssuances, "*", "*")); len(files) != 0 {
		t.Fatalf("issuances files left in the lake: %v", files)
	}
	if n := count(t, root, `SELECT count(*) FROM events`); n != 2 {
		t.Fatalf("events: %d, want 2", n)
	}
}

// TestCommitIndexesWhatIssuancesSQLSelects: the issuances files a batch's commit writes hold the
// rows issuance_index.sql selects from their events files, and a commit that fails leaves none.
func TestCommitIndexesWhatIssuancesSQLSelects(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	sts := func(id, name string, errorCode *string) EventRow {
		e := event(id, t0)
		e.EventSource, e.EventName, e.ErrorCode = ptr("sts.amazonaws.com"), ptr(name), errorCode
		return e
	}
	full := sts("full", "AssumeRole", nil)
	full.AWSRegion, full.RecipientAccountID, full.SourceIPAddress, full.UserAgent = ptr("us-east-1"), ptr("111"), ptr("192.0.2.1"), ptr("aws-cli")
	full.IdentityType, full.IdentityARN, full.IdentityUserName = ptr("IAMUser"), ptr("arn:aws:iam::111:user/alice"), ptr("alice")
	full.RoleARN, full.RoleSessionName, full.IssuedAccessKeyID = ptr("arn:aws:iam::222:role/R"), ptr("alice"), ptr("ASIAFULL")
	full.SourceIdentity, full.SourceIdentityKind, full.SourceIdentityID, full.SourceIdentityUser = ptr("sentinel-s-0123456789abcdef-alice"), ptr("s"), ptr("0123456789abcdef"), ptr("alice")
	other := event("s3", t0.Add(24*time.Hour))
	other.EventSource, other.EventName = ptr("s3.amazonaws.com"), ptr("AssumeRole")
	rows := []EventRow{full, sts("bare", "AssumeRoleWithSAML", nil), sts("web", "AssumeRoleWithWebIdentity", nil),
		sts("denied", "AssumeRole", ptr("AccessDenied")), sts("other-call", "GetCallerIdentity", nil), other,
		sts("next-day", "AssumeRole", nil)}
	rows[len(rows)-1].EventTime = t0.Add(24 * time.Hour)
	w := openWriter(t, root)
	b := w.NewBatch()
	if err := b.AddEvents(rows, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(ctx, t0); err != nil {
		t.Fatal(err)
	}
	// A commit that fails (the same snapshot recorded twice) after its rows were indexed.
	b = w.NewBatch()
	if err := b.AddEvents([]EventRow{sts("rolled-back", "AssumeRole", nil)}, nil); err != nil {
		t.Fatal(err)
	}
	s := Snapshot{ID: "twice", Source: "f", TakenAt: t0}
	b.RecordSnapshot(s)
	b.RecordSnapshot(s)
	if err := b.Commit(ctx, t0); err == nil {
		t.Fatal("a commit recording a snapshot twice succeeded")
	}
	b.Abort() // as ingest does with a batch that failed to register
	w.Close()
	events, _ := filepath.Glob(filepath.Join(root, "lake", DatasetEvents, "*", "*.parquet"))
	issuances, _ := filepath.Glob(filepath.Join(root, "lake", DatasetIssuances, "*", "*.parquet"))
	if len(events) != 2 || len(issuances) != 2 || count(t, root, `SELECT count(*) FROM lake_files WHERE dataset = 'issuances'`) != 2 {
		t.Fatalf("events files %v, issuances files %v: want the two of the first commit each", events, issuances)
	}
	var indexed, fromFiles, both int
	for _, e := range events {
		rel, err := filepath.Rel(root, e)
		if err != nil {
			t.Fatal(err)
		}
		ix := `SELECT * FROM read_parquet(` + Literal(filepath.Join(root, issuancesFileOf(rel))) + `, hive_partitioning = false)`
		sq := `SELECT * EXCLUDE (filename) FROM (` + issuanceRows([]string{e}) + `)`
		indexed += count(t, root, `SELECT count(*) FROM (`+ix+`)`)
		fromFiles += count(t, root, `SELECT count(*) FROM (`+sq+`)`)
		both += count(t, root, `SELECT count(*) FROM (`+ix+` INTERSECT ALL `+sq+`)`)
	}
	if indexed != 4 || fromFiles != 4 || both != 4 {
		t.Errorf("issuances files' rows %d, issuance_index.sql rows %d, equal %d (want 4 each)", indexed, fromFiles, both)
	}
}

func TestDayIsTheUTCDate(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 999, time.UTC),
		time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 2, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 11, 3, 0, 30, 0, 0, time.FixedZone("+01:00", 3600)), time.Date(1900, 3, 1, 12, 0, 0, 0, time.UTC),
	} {
		want := at.UTC().Truncate(24 * time.Hour)
		if got := time.Unix(Day(at)*86400, 0).UTC(); !got.Equal(want) || got.Format(time.DateOnly) != at.UTC().Format(time.DateOnly) {
			t.Errorf("Day(%v) = %d (%v), want %v", at, Day(at), got, want)
		}
	}
}

// onlyEventsFile is the path of the lake's one events file; the test fails unless there is one.
func onlyEventsFile(t *testing.T, root string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(root, "lake", "events", "*", "*.parquet"))
	if len(files) != 1 {
		t.Fatalf("lake files: %v", files)
	}
	return files[0]
}

// TestFinishIndexesAWarehouseFromBeforeTheIssuancesDataset: a warehouse whose catalog kept the
// issuance index in tables (before migration 004) and whose events files have no issuances files
// answers the same before and after the next writer, which drops the tables and writes the files.
func TestFinishIndexesAWarehouseFromBeforeTheIssuancesDataset(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	e := event("a", t0)
	e.EventSource, e.EventName, e.IssuedAccessKeyID = ptr("sts.amazonaws.com"), ptr("AssumeRole"), ptr("ASIAA")
	commitEvents(t, root, e, event("b", t0.Add(24*time.Hour)))
	db, err := openDuckDB(ctx, CatalogPath(root))
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{`DELETE FROM lake_files WHERE dataset = 'issuances'`, `DELETE FROM schema_migrations WHERE version = '004_issuances_dataset'`,
		`CREATE TABLE issuance_index_files (path VARCHAR PRIMARY KEY)`, `CREATE TABLE issuance_index (path VARCHAR NOT NULL, event_id VARCHAR NOT NULL)`} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	db.Close()
	if err := os.RemoveAll(filepath.Join(root, "lake", DatasetIssuances)); err != nil {
		t.Fatal(err)
	}
	answer := func() string {
		return strings.Join(queryColumn(t, root, `SELECT event_id || ' ' || issued_access_key_id FROM issuance_events`), ",")
	}
	if got := answer(); got != "a ASIAA" {
		t.Fatalf("issuances read from the events: %s", got)
	}
	w := openWriter(t, root)
	if err := w.Finish(ctx, t0, "ok", RunStats{}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if got := answer(); got != "a ASIAA" {
		t.Fatalf("issuances read from the issuances files: %s", got)
	}
	files, _ := filepath.Glob(filepath.Join(root, "lake", DatasetIssuances, "*", "*.parquet"))
	if n := count(t, root, `SELECT count(*) FROM lake_files WHERE dataset = 'issuances'`); n != 2 || len(files) != 2 {
		t.Errorf("issuances files: %d registered, %v in the lake; want one per events file", n, files)
	}
	if n := count(t, root, `SELECT count(*) FROM duckdb_tables() WHERE database_name = 'catalog' AND table_name LIKE 'issuance_index%'`); n != 0 {
		t.Errorf("%d issuance index tables left in the catalog", n)
	}
}

// TestSymlinkedLakeIsKept: a lake directory that is a symbolic link (to another disk) stays, with
// its files, when a writer opens the warehouse, and a leftover file in it is still removed.
func TestSymlinkedLakeIsKept(t *testing.T) {
	root, elsewhere := t.TempDir(), filepath.Join(t.TempDir(), "lake")
	commitEvents(t, root, event("a", t0))
	if err := os.Rename(filepath.Join(root, "lake"), elsewhere); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(root, "lake")); err != nil {
		t.Fatal(err)
	}
	stray := filepath.Join(elsewhere, "events", "event_date=2026-11-02", "part-000009-000001.parquet")
	if err := os.WriteFile(stray, []byte("left by a crashed run"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := openWriter(t, root)
	w.Close()
	if fi, err := os.Lstat(filepath.Join(root, "lake")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the lake link after a writer opened the warehouse: %v, %v", fi, err)
	}
	if _, err := os.Stat(stray); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("leftover in the linked lake not removed: %v", err)
	}
	if n := count(t, root, `SELECT count(*) FROM events`); n != 1 {
		t.Fatalf("events after a writer opened the warehouse: %d, want 1", n)
	}
}

// TestSnapshotFilesMoveToTheNextBatchUntilRecorded: a batch committed while a snapshot's items are
// still being added registers its events but not the snapshot's rows, which go on in the next
// batch and become visible, all of them, with the snapshot's record; a snapshot recorded in the
// batch stays with it.
func TestSnapshotFilesMoveToTheNextBatchUntilRecorded(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	w := openWriter(t, root)
	defer w.Close()
	open, done := Snapshot{ID: "open", Source: "f1", TakenAt: t0}, Snapshot{ID: "done", Source: "f2", TakenAt: t0, Items: 1}
	b := w.NewBatch()
	if err := b.AddEvents([]EventRow{event("a", t0)}, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.AddSnapshotRows(open, []SnapshotRow{{ID: "s1", Raw: "{}"}, {ID: "s2", Raw: "{}"}}); err != nil {
		t.Fatal(err)
	}
	if err := b.AddSnapshotRows(done, []SnapshotRow{{ID: "s9", Raw: "{}"}}); err != nil {
		t.Fatal(err)
	}
	b.RecordSnapshot(done)
	next := b.Next()
	if err := b.Commit(ctx, t0); err != nil {
		t.Fatal(err)
	}
	snapshotRows := func() string {
		return strings.Join(queryColumn(t, root, `SELECT snapshot_id || ':' || count(*)::VARCHAR FROM session_snapshots GROUP BY snapshot_id ORDER BY 1`), ",")
	}
	if got := snapshotRows(); got != "done:1" || count(t, root, `SELECT count(*) FROM events`) != 1 {
		t.Fatalf("after the first commit: snapshot rows %q, want done:1 and the event", got)
	}
	if err := next.AddSnapshotRows(open, []SnapshotRow{{ID: "s3", Raw: "{}"}}); err != nil {
		t.Fatal(err)
	}
	open.Items = 3
	next.RecordSnapshot(open)
	if err := next.Commit(ctx, t0); err != nil {
		t.Fatal(err)
	}
	if got := snapshotRows(); got != "done:1,open:3" {
		t.Fatalf("after the snapshot was recorded: %q, want done:1,open:3", got)
	}
	if n := count(t, root, `SELECT count(*) FROM lake_files WHERE dataset = 'session_snapshots'`); n != 2 {
		t.Fatalf("snapshot files: %d, want one per snapshot", n)
	}
}

// TestListingMarksAreTheWritersAlone: a catalog written before the S3 listing marks (migration
// 007) is not outdated for readers, who never read them; the next writer adds the table.
func TestListingMarksAreTheWritersAlone(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	commitEvents(t, root, event("a", t0))
	db, err := openDuckDB(ctx, CatalogPath(root))
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{`DROP TABLE s3_listings`, `DELETE FROM schema_migrations WHERE version = '007_s3_listings'`} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	db.Close()
	r, err := OpenReader(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	outdated := r.Outdated()
	r.Close()
	if len(outdated) != 0 {
		t.Fatalf("outdated: %v", outdated)
	}
	w := openWriter(t, root)
	defer w.Close()
	marks, err := w.Listings(ctx)
	if err != nil || len(marks) != 0 {
		t.Fatalf("marks %v, %v", marks, err)
	}
}

// TestRunScopeOfEarlierRuns: migration 009 reads the sources and window of the runs recorded
// before it from their command, as ingest and the audits' sync wrote it, so that a later run of
// the same sources makes up for an earlier one that did not finish.
func TestRunScopeOfEarlierRuns(t *testing.T) {
	ctx := context.Background()
	db, err := openDuckDB(ctx, filepath.Join(t.TempDir(), "c.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, m := range []string{"001_catalog", "009_run_scope"} {
		body, err := migrations.ReadFile("migrations/" + m + ".sql")
		if err != nil {
			t.Fatal(err)
		}
		if m == "009_run_scope" {
			for i, c := range []string{
				"--source s3://b --sessions-file /s window 2026-10-01T00:00:00Z to the end",
				"audit session-compliance sync: --source api window 2026-11-01T00:00:00Z to 2026-11-08T00:00:00Z",
				"--source /trail window the beginning to the end",
				"compact",
			} {
				if _, err := db.ExecContext(ctx, `INSERT INTO ingest_runs (run, started_at, command, status) VALUES (?, now(), ?, 'interrupted')`, i+1, c); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := db.ExecContext(ctx, string(body)); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
	}
	rows, err := queryStrings(ctx, db, `SELECT sources || ' | ' || coalesce(strftime(window_start, '%Y-%m-%d'), 'open') || ' | ' ||
		coalesce(strftime(window_end, '%Y-%m-%d'), 'open') FROM ingest_runs ORDER BY run`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"--source s3://b --sessions-file /s | 2026-10-01 | open",
		"--source api | 2026-11-01 | 2026-11-08",
		"--source /trail | open | open",
		" | open | open",
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Fatalf("run scopes\n%q\nwant\n%q", rows, want)
	}
}
