package ingest

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/valyala/fastjson"
)

// fixtureRecords are the records of the bundled trail's archives.
func fixtureRecords(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	files, _ := filepath.Glob("../testdata/fixtures/trail/AWSLogs/*/*/CloudTrail/*/*/*/*/*.json.gz")
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			tb.Fatal(err)
		}
		zr, err := gzip.NewReader(fh)
		if err != nil {
			tb.Fatal(err)
		}
		data, err := io.ReadAll(zr)
		fh.Close()
		if err != nil {
			tb.Fatal(err)
		}
		els, ok := recordsArray(data)
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

// sameAsNormalize fails unless normalizeFast, when it takes raw, makes normalize's row.
func sameAsNormalize(t *testing.T, raw []byte) bool {
	t.Helper()
	var fast normalizer
	fast.setFile(raw)
	var got warehouse.EventRow
	if !fast.normalizeFast(fast.file, &got) {
		return false
	}
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
	return true
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
		if n.normalizeFast([]byte(rec), &row) {
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
