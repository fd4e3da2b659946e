package ingest

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

func splitIDs(t *testing.T, data string) ([]string, splitResult, error) {
	t.Helper()
	var s splitter
	var ids []string
	res, err := s.split([]byte(data), func(i int, rec *fastjson.Value, raw []byte) error {
		ids = append(ids, string(rec.GetStringBytes("eventID")))
		return nil
	})
	return ids, res, err
}

const (
	recA = `{"eventID":"a","eventTime":"2026-11-02T10:00:00Z"}`
	recB = `{"eventID":"b","eventTime":"2026-11-02T10:00:01Z"}`
)

func TestSplitShapes(t *testing.T) {
	quote := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
	tests := []struct {
		name    string
		data    string
		want    []string
		skipped int
	}{
		{"records_archive", `{"Records":[` + recA + `,` + recB + `]}`, []string{"a", "b"}, 0},
		{"bare_array", `[` + recA + `,` + recB + `]`, []string{"a", "b"}, 0},
		{"json_lines", recA + "\n" + recB + "\n", []string{"a", "b"}, 0},
		{"concatenated", recA + recB, []string{"a", "b"}, 0},
		{"several_archives", `{"Records":[` + recA + `]}{"Records":[` + recB + `]}`, []string{"a", "b"}, 0},
		{"lookup_events_output", `{"Events":[{"EventId":"a","CloudTrailEvent":` + quote(recA) + `},{"CloudTrailEvent":` + quote(recB) + `}],"NextToken":null}`, []string{"a", "b"}, 0},
		{"cloudwatch_envelopes", `{"messageType":"CONTROL_MESSAGE","logEvents":[{"message":"CWL CONTROL MESSAGE"}]}` +
			`{"messageType":"DATA_MESSAGE","owner":"1","logEvents":[{"id":"1","message":` + quote(recA) + `},{"message":` + quote(recB) + `}]}`, []string{"a", "b"}, 1},
		{"insight_records_skipped", `{"Records":[` + recA + `,{"eventType":"AwsCloudTrailInsight","eventID":"i"}]}`, []string{"a"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, res, err := splitIDs(t, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ids, tt.want) || res.skipped != tt.skipped || res.rejected != 0 {
				t.Fatalf("ids %v skipped %d rejected %d (%v); want %v skipped %d", ids, res.skipped, res.rejected, res.reasons, tt.want, tt.skipped)
			}
		})
	}
}

func TestSplitProblems(t *testing.T) {
	tests := []struct {
		name     string
		data     string
		want     []string
		rejected int
		errText  string // error of the whole file ("" = none)
	}{
		{"not_cloudtrail", `{"name":"my-app","version":"1.0.0"}`, nil, 1, "not CloudTrail: none of its 1 values is a CloudTrail record (value 1: an object with keys name, version)"},
		{"records_not_array", `{"Records":{"eventID":"a"}}`, nil, 1, `"Records" is a JSON object, not an array`},
		{"digest", `{"digestStartTime":"2026-11-02T00:00:00Z","logFiles":[]}`, nil, 1, "a CloudTrail digest, not events"},
		{"empty_records", `{"Records":[]}`, nil, 0, "no records in the file"},
		{"truncated_archive", `{"Records":[` + recA + `,{"eventID":"b","eventT`, nil, 0, "invalid JSON after 0 records"},
		{"bad_line_in_json_lines", recA + "\n{\"eventID\":\"x\",\n" + recB + "\n", []string{"a", "b"}, 1, ""},
		{"first_line_broken", "{\"eventID\":\n" + recA + "\n" + recB + "\n", nil, 0, "invalid JSON after 0 records"},
		{"wrong_element_kept_going", `{"Records":[` + recA + `,42,"x",` + recB + `]}`, []string{"a", "b"}, 2, ""},
		{"scalar_value_in_lines", recA + "\n42\n" + recB, []string{"a", "b"}, 1, ""},
		{"session_item_names_the_right_flag", `{"id":"0123456789abcdef","profile":"prod","status":"active"}`, nil, 1, "a session-table item, not a CloudTrail record (pass the file with --sessions-file)"},
		{"dynamodb_session_item_too", `{"Item":{"id":{"S":"0123456789abcdef"},"profile":{"S":"prod"}}}`, nil, 1, "pass the file with --sessions-file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, res, err := splitIDs(t, tt.data)
			if tt.errText == "" && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tt.errText != "" && (err == nil || !strings.Contains(err.Error(), tt.errText)) {
				t.Fatalf("error %v, want it to contain %q", err, tt.errText)
			}
			if !reflect.DeepEqual(ids, tt.want) || res.rejected != tt.rejected {
				t.Fatalf("ids %v rejected %d (%v); want %v rejected %d", ids, res.rejected, res.reasons, tt.want, tt.rejected)
			}
		})
	}
}

func TestSplitNotCloudTrailIsTyped(t *testing.T) {
	_, _, err := splitIDs(t, `{"a":1}`)
	if !errors.Is(err, errNotCloudTrail) {
		t.Fatalf("got %v", err)
	}
}

func TestRecordsArray(t *testing.T) {
	data := []byte(`{ "Other": {"Records": [1]}, "Records" : [ {"eventID":"a", "x":"\u00e9 ] }"} ,{"eventID":"b","y":[1,{"z":"\""}]}],"tail":null }` + "\n")
	els, ok := recordsArray(data)
	if !ok || len(els) != 2 || string(els[0]) != `{"eventID":"a", "x":"\u00e9 ] }"}` || string(els[1]) != `{"eventID":"b","y":[1,{"z":"\""}]}` {
		t.Fatalf("got %q %v", els, ok)
	}
	for _, bad := range []string{
		`{"Records":[{"eventID":"a"}]} trailing`,
		`{"Records":[1],"Records":[2]}`,
		`{"Records":{"eventID":"a"}}`,
		`{"Records":[{"eventID":"a"}`,
		`[{"eventID":"a"}]`,
		`{"eventID":"a","eventTime":"x"}`,
		`{}`,
		`{"Records":["unterminated]}`,
	} {
		if _, ok := recordsArray([]byte(bad)); ok {
			t.Errorf("%s: accepted", bad)
		}
	}
	if els, ok := recordsArray([]byte(`{"Records":[]}`)); !ok || len(els) != 0 {
		t.Errorf("empty Records: %v %v", els, ok)
	}
}

func TestArchiveRecordsKeepTheirOriginalBytes(t *testing.T) {
	var s splitter
	var raws []string
	_, err := s.split([]byte(`{"Records":[{"eventID":"a", "eventTime":"2026-11-02T10:00:00Z","ua":"caf\u00e9"}]}`), func(i int, rec *fastjson.Value, raw []byte) error {
		raws = append(raws, string(raw))
		return nil
	})
	if err != nil || len(raws) != 1 || raws[0] != `{"eventID":"a", "eventTime":"2026-11-02T10:00:00Z","ua":"caf\u00e9"}` {
		t.Fatalf("raw %q, %v", raws, err)
	}
}

// skipStringBytewise is skipString one byte at a time: what it must agree with.
func skipStringBytewise(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

func TestSkipString(t *testing.T) {
	for in, want := range map[string]int{
		`"plain" x`:       7,
		`"a\"b" x`:        6,
		`"a\\" x`:         5,
		`"a\\\"b" x`:      8,
		`"\\\\" x`:        6,
		`"unterminated\"`: -1,
		`"`:               -1,
	} {
		end, ok := skipString([]byte(in), 0)
		if !ok {
			end = -1
		}
		if end != want {
			t.Errorf("skipString(%s) = %d, want %d", in, end, want)
		}
	}
}

func FuzzRecordsArray(f *testing.F) {
	f.Add([]byte(`{"Records":[{"eventID":"a"},{"b":"]"}]}`))
	f.Add([]byte(`{"x":"\\\"","Records":[1,[2],"3"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for i, c := range data {
			if c != '"' {
				continue
			}
			end, ok := skipString(data, i)
			wantEnd, wantOK := skipStringBytewise(data, i)
			if end != wantEnd || ok != wantOK {
				t.Fatalf("skipString(%q, %d) = %d %v, want %d %v", data, i, end, ok, wantEnd, wantOK)
			}
		}
		els, ok := recordsArray(data)
		// Reading the records on the way splits the archive the same way.
		var n normalizer
		n.setFile(data, nil)
		read, readOK := recordsArrayWith(data, n.elementEnd)
		if ok != readOK || len(els) != len(read) {
			t.Fatalf("recordsArray: %d elements (%v); while reading them: %d (%v)", len(els), ok, len(read), readOK)
		}
		for i := range els {
			if !bytes.Equal(els[i], read[i]) {
				t.Fatalf("element %d: %q, while reading: %q", i, els[i], read[i])
			}
		}
		if !ok {
			return
		}
		prev := 0
		for _, el := range els {
			i := bytes.Index(data[prev:], el)
			if i < 0 || len(el) == 0 {
				t.Fatalf("element %q is not a piece of the input after offset %d", el, prev)
			}
			prev += i + len(el)
		}
	})
}
