package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/sentinel-audit/sentinel/internal/testenv"

	"github.com/sentinel-audit/sentinel/internal/trailgen"
	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/sentinel-audit/sentinel/window"
	"github.com/valyala/fastjson"
)

// fixtureRecords are the records of the bundled trail's archives.
func fixtureRecords(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	files, _ := filepath.Glob("../testdata/fixtures/trail/AWSLogs/*/*/CloudTrail/*/*/*/*/*.json.gz")
	for _, f := range files {
		els, ok := recordsArray(testenv.ReadGzip(tb, f))
		if !ok {
			tb.Fatalf("%s: not a Records archive", f)
		}
		out = append(out, els...)
	}
	if len(out) == 0 {
		tb.Fatal("no fixture records")
	}
	return out
}

// sameAsNormalize fails unless normalizeFast, when it takes raw, makes normalize's row: raw on
// its own, and raw as the record of an archive read by elementEnd. It reports whether raw was
// taken on its own.
func sameAsNormalize(t *testing.T, raw []byte) bool {
	t.Helper()
	var fast normalizer
	text := fileTextOf(raw) // normalizeFast may rearrange the file's bytes
	fast.setFile(text.buf, text)
	var got warehouse.EventRow
	taken := fast.normalizeFast(fast.file, -1, &got)
	if taken {
		compareWithNormalize(t, raw, got)
	}
	archive := []byte(`{"Records":[` + string(raw) + `]}`)
	var inArchive normalizer
	archiveText := fileTextOf(archive)
	inArchive.setFile(archiveText.buf, archiveText)
	if els, ok := recordsArrayWith(inArchive.file, inArchive.elementEnd); ok && len(els) == 1 {
		var row warehouse.EventRow
		rec := bytes.Clone(els[0]) // the record as read: normalizeFast cuts its eventID out in place
		if inArchive.normalizeFast(els[0], 0, &row) {
			compareWithNormalize(t, rec, row)
		}
	}
	return taken
}

// compareWithNormalize fails unless got is what normalize makes of raw.
func compareWithNormalize(t *testing.T, raw []byte, got warehouse.EventRow) {
	t.Helper()
	rec, err := fastjson.ParseBytes(raw)
	if err != nil {
		t.Fatalf("the fast path took a record the parser rejects (%v): %q", err, raw)
	}
	var slow normalizer
	var want warehouse.EventRow
	if err := slow.normalize(rec, raw, &want); err != nil {
		t.Fatalf("the fast path took a record normalize rejects (%v): %q", err, raw)
	}
	// Raw may be cut at another copy of the eventID (normalize cuts the first it finds, the fast
	// path the record's own): the same record either way.
	if wholeRaw(got) != wholeRaw(want) {
		t.Fatalf("raw differs on %q:\n fast %q\n want %q", raw, wholeRaw(got), wholeRaw(want))
	}
	got.Raw, got.RawEventIDAt = want.Raw, want.RawEventIDAt
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fast and normalize differ on %q:\n fast %s\n want %s", raw, rowText(got), rowText(want))
	}
}

// rowText spells a row's values, pointers followed.
func rowText(r warehouse.EventRow) string {
	var b strings.Builder
	v := reflect.ValueOf(r)
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() == reflect.Pointer && !f.IsNil() {
			f = f.Elem()
		}
		fmt.Fprintf(&b, "%s=%v ", v.Type().Field(i).Name, f)
	}
	return b.String()
}

func TestNormalizeFastTakesTrailRecords(t *testing.T) {
	records := fixtureRecords(t)
	taken := 0
	for _, rec := range records {
		if sameAsNormalize(t, rec) {
			taken++
		}
	}
	// The fixtures include records made to test normalize's edge cases; the fast path leaves
	// those to it, and takes the rest.
	if taken < len(records)*3/4 {
		t.Errorf("the fast path took %d of %d fixture records", taken, len(records))
	}
}

func TestNormalizeFastLeavesTheUnusualToNormalize(t *testing.T) {
	for name, rec := range map[string]string{
		"escaped value":        `{"eventID":"e1","eventTime":"2026-11-02T10:00:00Z","userAgent":"a\"b"}`,
		"escaped key":          `{"eventID":"e1","eventTime":"2026-11-02T10:00:00Z","event\u004eame":"x"}`,
		"number where text is": `{"eventID":"e1","eventTime":"2026-11-02T10:00:00Z","recipientAccountId":12}`,
		"object where text is": `{"eventID":"e1","eventTime":"2026-11-02T10:00:00Z","requestParameters":{"roleArn":{"x":1}}}`,
		"identity not object":  `{"eventID":"e1","eventTime":"2026-11-02T10:00:00Z","userIdentity":"root"}`,
		"no eventID":           `{"eventTime":"2026-11-02T10:00:00Z"}`,
		"bad time":             `{"eventID":"e1","eventTime":"yesterday"}`,
		"invalid UTF-8":        "{\"eventID\":\"e1\",\"eventTime\":\"2026-11-02T10:00:00Z\",\"x\":\"\xff\"}",
		"trailing comma":       `{"eventID":"e1","eventTime":"2026-11-02T10:00:00Z",}`,
		"lenient number":       `{"eventID":"e1","eventTime":"2026-11-02T10:00:00Z","n":1-2}`,
		"deep":                 `{"eventID":"e1","eventTime":"2026-11-02T10:00:00Z","n":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
		"not an object":        `["eventID"]`,
	} {
		var n normalizer
		var row warehouse.EventRow
		if n.normalizeFast([]byte(rec), -1, &row) {
			t.Errorf("%s: taken by the fast path", name)
		}
	}
}

func FuzzNormalizeFast(f *testing.F) {
	for _, rec := range fixtureRecords(f) {
		f.Add(rec)
	}
	for _, rec := range []string{
		`{"eventID":"e1","eventTime":"2026-11-02T10:00:00Z","eventID":"e2","userIdentity":null,"userIdentity":{"type":"X"}}`,
		`{"eventTime":"2026-11-02T10:00:00.5+01:00","requestParameters":{"eventID":"e1","x":[1,{"eventID":"e1"}]},"eventID":"e1","readOnly":"TRUE","managementEvent":7}`,
		`{"eventID":"e1","eventTime":"2026-11-02T10:00:00Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","requestParameters":{"sourceIdentity":""},"responseElements":{"credentials":{"accessKeyId":"ASIA"},"sourceIdentity":"sentinel-r-0123456789abcdef-bob"}}`,
		`{"eventID":"e1","eventTime":"2026-11-02T10:00:00Z","eventType":"AwsCloudTrailInsight","x":-0.5e+3,"y":[],"z":{}}`,
	} {
		f.Add([]byte(rec))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		sameAsNormalize(t, raw)
	})
}

// TestReaderFastPathSkipsAndWindows: records the fast path takes are counted as normalize's are:
// Insights records skipped, records outside the window counted and not kept, the rest kept with
// their source.
func TestReaderFastPathSkipsAndWindows(t *testing.T) {
	dir := t.TempDir()
	records := []string{
		`{"eventID":"in","eventTime":"2026-11-02T10:00:00Z","eventSource":"s3.amazonaws.com"}`,
		`{"eventID":"insight","eventTime":"2026-11-02T10:00:00Z","eventType":"AwsCloudTrailInsight"}`,
		`{"eventID":"late","eventTime":"2026-11-09T10:00:00Z"}`,
		`{"eventID":"slow","eventTime":"2026-11-02T11:00:00Z","userAgent":"with \"quotes\""}`,
	}
	if err := os.WriteFile(filepath.Join(dir, "f.json"), []byte(`{"Records":[`+strings.Join(records, ",")+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	objects, _, err := listDirectory(dir)
	if err != nil || len(objects) != 1 {
		t.Fatalf("list: %v %v", objects, err)
	}
	win := window.Window{Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC)}
	r := &reader{}
	oc := r.read(context.Background(), job{obj: objects[0], window: win}, nil)
	if oc.err != nil {
		t.Fatal(oc.err)
	}
	var ids []string
	for _, row := range oc.rows {
		if row.SourceFile != objects[0].source {
			t.Errorf("%s: source %q", row.EventID, row.SourceFile)
		}
		ids = append(ids, row.EventID)
	}
	if strings.Join(ids, ",") != "in,slow" || oc.found != 3 || oc.skipped != 1 || oc.outOfWindow != 1 {
		t.Errorf("kept %v, found %d, skipped %d, out of window %d; want in,slow, 3, 1, 1", ids, oc.found, oc.skipped, oc.outOfWindow)
	}
}

// The fast path stores a record's raw where the file's text holds it, its eventID's value cut out
// in place (no copy), and takes the values after the cut from where they moved to.
func TestFastPathStoresRawInTheFilesText(t *testing.T) {
	recs := []string{
		`{"eventVersion":"1.08","eventID":"e-1","eventTime":"2026-11-02T10:00:00Z","eventSource":"s3.amazonaws.com","readOnly":"true","userAgent":"ua/1"}`,
		`{"eventID":"e-22","eventTime":"2026-11-02T10:00:01Z","awsRegion":"eu-west-1","managementEvent":false}`,
	}
	text := fileTextOf([]byte(`{"Records":[` + strings.Join(recs, ",") + `]}`))
	var n normalizer
	n.setFile(text.buf, text)
	els, ok := recordsArrayWith(n.file, n.elementEnd)
	if !ok || len(els) != 2 {
		t.Fatalf("%d records, ok %v", len(els), ok)
	}
	var rows [2]warehouse.EventRow
	for k, el := range els {
		if !n.normalizeFast(el, k, &rows[k]) {
			t.Fatalf("record %d not taken", k)
		}
	}
	lo, hi := uintptr(unsafe.Pointer(&text.buf[0])), uintptr(unsafe.Pointer(&text.buf[len(text.buf)-1]))
	for k, row := range rows {
		if at := uintptr(unsafe.Pointer(unsafe.StringData(row.Raw))); at < lo || at > hi {
			t.Errorf("record %d: stored raw is a copy, not the file's text", k)
		}
		if got := wholeRaw(row); got != recs[k] {
			t.Errorf("record %d rebuilt as %s", k, got)
		}
	}
	if *rows[0].EventSource != "s3.amazonaws.com" || !*rows[0].ReadOnly || *rows[0].UserAgent != "ua/1" || *rows[0].EventVersion != "1.08" ||
		*rows[1].AWSRegion != "eu-west-1" || *rows[1].ManagementEvent || rows[1].EventID != "e-22" {
		t.Errorf("values: %+v", rows)
	}
}

// TestStoredRawIsEveryRecordAcrossRecycledBuffers: ingesting many files with both readers, every
// stored record reads back byte for byte as its file holds it, though each file's text buffer is
// reused for later files once its rows are written.
func TestStoredRawIsEveryRecordAcrossRecycledBuffers(t *testing.T) {
	dir, wh := t.TempDir(), t.TempDir()
	want := map[string]string{}
	st, err := trailgen.GenerateTo(trailgen.Config{Events: 6000, Seed: 3, RecordsPerFile: 50}, func(_ string, rec []byte) error {
		v, err := fastjson.ParseBytes(rec)
		if err != nil {
			return err
		}
		want[string(v.GetStringBytes("eventID"))] = string(rec)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trailgen.Generate(trailgen.Config{Events: 6000, Seed: 3, RecordsPerFile: 50}, dir); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{Warehouse: wh, Sources: []string{dir}, Workers: 2, Checkpoint: 1000, Command: "test"})
	if err != nil || res.EventsStored != int64(st.Events) || res.FilesRead < 100 {
		t.Fatalf("ingest: %+v %v", res, err)
	}
	r, err := warehouse.OpenReader(context.Background(), wh)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rows, err := r.DB().Query(`SELECT event_id, raw::VARCHAR FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, raw string
		if err := rows.Scan(&id, &raw); err != nil {
			t.Fatal(err)
		}
		if raw != want[id] {
			t.Fatalf("event %s: raw %q\nwant %q", id, raw, want[id])
		}
		n++
	}
	if n != len(want) {
		t.Fatalf("%d events read back, %d generated", n, len(want))
	}
}

// scanStringBytewise is scanString one byte at a time: what it must agree with.
func scanStringBytewise(b []byte, i int) (end int, escaped, valid bool) {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, escaped, true
		case c < 0x20:
			return 0, escaped, false
		case c == '\\':
			escaped = true
			if j+1 >= len(b) {
				return 0, true, false
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j++
				continue
			case 'u':
				if j+6 > len(b) {
					return 0, true, false
				}
				for _, h := range b[j+2 : j+6] {
					if !strings.ContainsRune("0123456789abcdefABCDEF", rune(h)) {
						return 0, true, false
					}
				}
				j += 5
				continue
			}
			return 0, true, false
		}
	}
	return 0, escaped, false
}

// TestScanStringIsJSONs: a string is valid when encoding/json takes it, wherever its special
// bytes fall in the eight-byte words scanString reads.
func TestScanStringIsJSONs(t *testing.T) {
	for _, s := range []string{"", "plain text of more than eight bytes", `a\"b`, `\\`, `\/\b\f\n\r\t`, `\u00e9 and \uD83D\uDE00`,
		"tab\there", "nl\n", `\q`, `\`, `ab\u12`, `\u12G4`, `long enough prefix \x`, "café", "\x1f at the start of a long string"} {
		for pad := range 9 {
			s := strings.Repeat("p", pad) + s
			quoted := `"` + s + `"`
			if _, _, valid := scanString([]byte(quoted), 0); valid != json.Valid([]byte(quoted)) {
				t.Errorf("%q: valid %v, encoding/json says %v", s, valid, json.Valid([]byte(quoted)))
			}
			// Followed by more of a record, a valid string still ends at its quote.
			if end, escaped, valid := scanString([]byte(quoted+`,"next":"value"}`), 0); valid && json.Valid([]byte(quoted)) &&
				(end != len(quoted) || escaped != strings.Contains(s, `\`)) {
				t.Errorf("%q: end %d of %d, escaped %v", s, end, len(quoted), escaped)
			}
		}
	}
}

// FuzzScanString: scanString reads any input as scanning it a byte at a time does, and what it
// takes as a string of valid UTF-8, encoding/json takes too.
func FuzzScanString(f *testing.F) {
	f.Add([]byte(`"plain \"escaped\" \u00e9 and more than eight bytes","x"`))
	f.Add([]byte(`"ab\\"cd\u12"`))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 || in[0] != '"' {
			in = append([]byte{'"'}, in...)
		}
		end, escaped, valid := scanString(in, 0)
		wantEnd, wantEscaped, wantValid := scanStringBytewise(in, 0)
		if valid != wantValid || valid && (end != wantEnd || escaped != wantEscaped) {
			t.Fatalf("%q: %d %v %v, bytewise %d %v %v", in, end, escaped, valid, wantEnd, wantEscaped, wantValid)
		}
		if valid && utf8.Valid(in[:end]) && !json.Valid(in[:end]) {
			t.Fatalf("%q: encoding/json refuses what scanString takes", in[:end])
		}
	})
}
