package warehouse

import (
	"bufio"
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// randomEvents makes n event rows that reach every corner the column writer has: NULLs and empty
// strings, multi-byte text, runs of one value and dictionaries of tens of thousands, records
// large enough to fill a page alone, times before 1970, negative numbers.
func randomEvents(seed uint64, n int) []EventRow {
	r := rand.New(rand.NewPCG(seed, 7))
	opt := func(nullPct int, values ...string) *string {
		if r.IntN(100) < nullPct {
			return nil
		}
		s := values[r.IntN(len(values))]
		return &s
	}
	optBool := func() *bool {
		if r.IntN(4) == 0 {
			return nil
		}
		b := r.IntN(2) == 0
		return &b
	}
	rows := make([]EventRow, n)
	for i := range rows {
		raw := fmt.Sprintf(`{"eventID":"e%d","note":"%s"}`, i, strings.Repeat("ü€x", r.IntN(300)))
		if r.IntN(2000) == 0 {
			raw = strings.Repeat("y", pageBytes+r.IntN(1000)) // a page on its own
		}
		many := fmt.Sprintf("arn:aws:iam::1234:role/r%d", r.IntN(40_000))
		rows[i] = EventRow{
			EventID:                 fmt.Sprintf("%08x-%d", r.Uint32(), i),
			EventTime:               time.UnixMicro(r.Int64N(4e15) - 1e15).UTC(),
			EventVersion:            opt(1, "1.08", "1.09", "1.10"),
			EventSource:             opt(0, "sts.amazonaws.com", "s3.amazonaws.com", "ec2.amazonaws.com"),
			EventName:               opt(0, "AssumeRole", "GetObject", "DescribeInstances", ""),
			AWSRegion:               opt(0, "eu-west-1"),
			SourceIPAddress:         opt(10, "10.0.0.1", "192.0.2.7", "sts.amazonaws.com"),
			UserAgent:               opt(5, "aws-cli/2.15 Python/3.11 Linux/6.1 exe/x86_64 prompt/off", "Boto3/1.34", "ünïcödé/1.0"),
			ErrorCode:               opt(95, "AccessDenied"),
			ReadOnly:                optBool(),
			ManagementEvent:         optBool(),
			IdentityARN:             opt(3, many),
			AccessKeyID:             opt(20, fmt.Sprintf("ASIA%016d", r.IntN(1e9)), ""),
			SessionMFAAuthenticated: optBool(),
			RoleSessionName:         opt(80, many, "s"),
			SourceIdentity:          opt(50, "sentinel:alice:"+fmt.Sprint(r.IntN(1e6))),
			AddendumReason:          opt(100),
			Raw:                     raw,
			RawEventIDAt:            int32(r.IntN(200) - 100),
			SourceFile:              fmt.Sprintf("file:///trail/f%d.json.gz", i/500),
			IngestRun:               int64(r.IntN(3)) << 40,
		}
	}
	return rows
}

// writeColumnar writes rows with the column writer into path, with a row group out every
// groupEvery rows, and in calls of up to callRows rows.
func writeColumnar(t *testing.T, path string, rows []EventRow, callRows, groupEvery int) {
	t.Helper()
	cw := createEventsFile(t, path)
	for done := 0; done < len(rows); {
		n := min(callRows, len(rows)-done)
		if _, err := cw.Write(rows[done : done+n]); err != nil {
			t.Fatal(err)
		}
		done += n
		if groupEvery > 0 && done%groupEvery < n {
			if err := cw.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := cw.Close(); err != nil {
		t.Fatal(err)
	}
}

// createEventsFile starts an events file at path with the column writer; the file is closed when
// the test ends.
func createEventsFile(t *testing.T, path string) *columnWriter[EventRow] {
	t.Helper()
	l, err := eventLayout()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	cw, err := newColumnWriter[EventRow](f, l)
	if err != nil {
		t.Fatal(err)
	}
	return cw
}

func readWithParquetGo(t *testing.T, path string) ([]EventRow, *format.FileMetaData) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatalf("parquet-go cannot open the file: %v", err)
	}
	rows := make([]EventRow, pf.NumRows())
	r := parquet.NewGenericReader[EventRow](f)
	defer r.Close()
	if n, err := r.Read(rows); n != len(rows) || (err != nil && !errors.Is(err, io.EOF)) {
		t.Fatalf("parquet-go read %d of %d rows: %v", n, len(rows), err)
	}
	return rows, pf.Metadata()
}

func TestColumnWriterRowsReadBackExactly(t *testing.T) {
	rows := randomEvents(1, 3*rowGroupRows+4321)
	path := filepath.Join(t.TempDir(), "events.parquet")
	// Calls of odd sizes, a row group out every 20,000 rows, and one call past maxGroupRows.
	writeColumnar(t, path, rows[:20_000], 777, 20_000)
	path2 := filepath.Join(t.TempDir(), "big-call.parquet")
	writeColumnar(t, path2, rows, len(rows), 0)
	for _, p := range []string{path, path2} {
		got, md := readWithParquetGo(t, p)
		want := rows
		if p == path {
			want = rows[:20_000]
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d rows, want %d", p, len(got), len(want))
		}
		for i := range want {
			w := want[i]
			if !reflect.DeepEqual(got[i], w) {
				t.Fatalf("%s row %d:\n got %+v\nwant %+v", p, i, got[i], w)
			}
		}
		for _, g := range md.RowGroups {
			if g.NumRows > maxGroupRows {
				t.Fatalf("%s: a row group of %d rows, more than %d", p, g.NumRows, maxGroupRows)
			}
		}
	}
}

func TestColumnWriterFilesAreParquetGosFiles(t *testing.T) {
	rows := randomEvents(2, 50_000)
	dir := t.TempDir()
	ours := filepath.Join(dir, "ours.parquet")
	writeColumnar(t, ours, rows, 1024, rowGroupRows)
	theirs := filepath.Join(dir, "theirs.parquet")
	f, err := os.Create(theirs)
	if err != nil {
		t.Fatal(err)
	}
	pw := parquet.NewGenericWriter[EventRow](f, append([]parquet.WriterOption{parquet.Compression(lakeCodec),
		parquet.MaxRowsPerRowGroup(rowGroupRows), parquet.PageBufferSize(pageBytes)}, statisticsOptions[EventRow]()...)...)
	if _, err := pw.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(pw.Close(), f.Close()); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	one := func(q string, args ...any) string {
		t.Helper()
		var s string
		if err := db.QueryRow(q, args...).Scan(&s); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return s
	}
	// DuckDB reads the same table from both, row for row.
	q := `SELECT count(*)::VARCHAR FROM (
		(SELECT * FROM read_parquet(?) EXCEPT ALL SELECT * FROM read_parquet(?))
		UNION ALL (SELECT * FROM read_parquet(?) EXCEPT ALL SELECT * FROM read_parquet(?)))`
	if n := one(q, ours, theirs, theirs, ours); n != "0" {
		t.Fatalf("DuckDB reads %s rows that differ between the column writer's file and parquet-go's", n)
	}
	if n := one(`SELECT count(*)::VARCHAR FROM read_parquet(?)`, ours); n != fmt.Sprint(len(rows)) {
		t.Fatalf("DuckDB reads %s rows, want %d", n, len(rows))
	}
	// The same schema, encodings and statistics; the lake stays as small.
	for _, meta := range []string{
		`SELECT string_agg(name || ':' || type || ':' || repetition_type || ':' || coalesce(logical_type, ''), ',' ORDER BY name) FROM parquet_schema(?)`,
		`SELECT string_agg(DISTINCT path_in_schema || ':' || encodings || ':' || compression, ',' ORDER BY path_in_schema || ':' || encodings || ':' || compression) FROM parquet_metadata(?)`,
		`SELECT string_agg(path_in_schema || ':' || coalesce(stats_min_value, '-') || ':' || coalesce(stats_max_value, '-') || ':' || stats_null_count, ',' ORDER BY row_group_id, column_id) FROM parquet_metadata(?)`,
	} {
		if a, b := one(meta, ours), one(meta, theirs); a != b {
			t.Errorf("%s\n ours:   %s\n theirs: %s", meta, a, b)
		}
	}
	so, _ := os.Stat(ours)
	st, _ := os.Stat(theirs)
	if float64(so.Size()) > 1.01*float64(st.Size()) {
		t.Errorf("the column writer's file is %d bytes, parquet-go's %d", so.Size(), st.Size())
	}
}

func TestColumnWriterPagesCarryTheirCRC(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.parquet")
	writeColumnar(t, path, randomEvents(3, 5000), 5000, 0)
	_, md := readWithParquetGo(t, path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pages := 0
	for _, g := range md.RowGroups {
		for _, c := range g.Columns {
			m := c.MetaData
			start := m.DataPageOffset
			if m.DictionaryPageOffset > 0 {
				start = m.DictionaryPageOffset
			}
			r := bufio.NewReader(io.NewSectionReader(f, start, m.TotalCompressedSize))
			dec := thrift.NewDecoder(new(thrift.CompactProtocol).NewReader(r))
			var values int64
			for values < m.NumValues {
				var h format.PageHeader
				if err := dec.Decode(&h); err != nil {
					t.Fatalf("column %s: page header: %v", m.PathInSchema, err)
				}
				body := make([]byte, h.CompressedPageSize)
				if _, err := io.ReadFull(r, body); err != nil {
					t.Fatal(err)
				}
				if crc := int32(crc32.ChecksumIEEE(body)); crc != h.CRC {
					t.Fatalf("column %s: page CRC %x, its bytes have %x", m.PathInSchema, h.CRC, crc)
				}
				if h.DataPageHeaderV2.Valid {
					values += int64(h.DataPageHeaderV2.V.NumValues)
				}
				pages++
			}
		}
	}
	if pages <= len(md.RowGroups[0].Columns) {
		t.Fatalf("checked %d pages", pages)
	}
}

func TestColumnWriterWritesAnEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.parquet")
	writeColumnar(t, path, nil, 1, 0)
	rows, md := readWithParquetGo(t, path)
	if len(rows) != 0 || len(md.RowGroups) != 0 || len(md.Schema) != reflect.TypeFor[EventRow]().NumField()+1 {
		t.Fatalf("%d rows, %d row groups, %d schema elements", len(rows), len(md.RowGroups), len(md.Schema))
	}
}

func TestColumnWriterRefusesFieldsItCannotStore(t *testing.T) {
	type row struct {
		ID    string   `parquet:"id"`
		Ratio *float64 `parquet:"ratio"`
	}
	_, err := layoutOf[row]()
	if err == nil || !strings.Contains(err.Error(), "field Ratio has type *float64") {
		t.Fatalf("err = %v, want one naming field Ratio and its type", err)
	}
}

func TestColumnWriterReportsAWriteError(t *testing.T) {
	l, err := eventLayout()
	if err != nil {
		t.Fatal(err)
	}
	w := &failingWriter{after: 64 << 10}
	cw, err := newColumnWriter[EventRow](w, l)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cw.Write(randomEvents(4, 10_000)); err != nil {
		t.Fatal(err)
	}
	if err := cw.Close(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Close = %v, want the write's error", err)
	}
}

type failingWriter struct {
	bytes.Buffer
	after int
}

func (w *failingWriter) Write(b []byte) (int, error) {
	if w.Len()+len(b) > w.after {
		return 0, errors.New("disk full")
	}
	return w.Buffer.Write(b)
}

// The batch hands the rows' memory back once a write returns, and ingest fills it with the next
// file's records: a value at an address the dictionary has seen may be another value now.
func TestColumnWriterDictionaryIsNotFooledByReusedMemory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.parquet")
	cw := createEventsFile(t, path)
	buf := []byte("GetObject")
	var want []string
	for i, name := range []string{"GetObject", "PutObject", "PutObject", "GetObject", "ListBucket"[:9]} {
		copy(buf, name)
		v := unsafe.String(&buf[0], len(name))
		row := event(fmt.Sprint(i), t0)
		row.EventName, row.UserAgent = &v, &v
		if _, err := cw.Write([]EventRow{row}); err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}
	if err := cw.Close(); err != nil {
		t.Fatal(err)
	}
	rows, _ := readWithParquetGo(t, path)
	for i, r := range rows {
		if *r.EventName != want[i] || *r.UserAgent != want[i] {
			t.Fatalf("row %d: event_name %q, user_agent %q; want %q", i, *r.EventName, *r.UserAgent, want[i])
		}
	}
}
