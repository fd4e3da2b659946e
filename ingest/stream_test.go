package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/sentinel-audit/sentinel/warehouse"
)

// TestValueStreamCutsValuesAcrossReads: the values a snapshot stream yields do not depend on how
// the input arrives, one byte at a time or in chunks smaller than a value.
func TestValueStreamCutsValuesAcrossReads(t *testing.T) {
	big := `{"id":"big","note":"` + strings.Repeat("x", 3*streamChunk) + `"}`
	cases := []struct {
		name, in string
		want     []string
		err      string
	}{
		{"json_lines", "{\"id\":\"a\"}\n{\"id\":\"b\"}\n", []string{`{"id":"a"}`, `{"id":"b"}`}, ""},
		{"concatenated", `{"id":"a"}{"id":"b"}`, []string{`{"id":"a"}`, `{"id":"b"}`}, ""},
		{"array", ` [ {"id":"a"} , {"id":"b"} ] `, []string{`{"id":"a"}`, `{"id":"b"}`}, ""},
		{"empty_array", `[]`, nil, ""},
		{"arrays_and_objects", `[{"id":"a"}]{"id":"b"}[{"id":"c"}]`, []string{`{"id":"a"}`, `{"id":"b"}`, `{"id":"c"}`}, ""},
		{"brackets_in_strings", `{"id":"a]}[{"}`, []string{`{"id":"a]}[{"}`}, ""},
		{"value_larger_than_a_read", big + "\n" + `{"id":"after"}`, []string{big, `{"id":"after"}`}, ""},
		{"truncated_value_is_handed_to_the_parser", `{"id":"a"}` + "\n" + `{"id":"b"`, []string{`{"id":"a"}`, `{"id":"b"`}, ""},
		{"missing_comma", `[{"id":"a"} {"id":"b"}]`, []string{`{"id":"a"}`}, `expected ',' or ']'`},
		{"unterminated_array", `[{"id":"a"},`, []string{`{"id":"a"}`}, "end of input in an array"},
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole": func(r io.Reader) io.Reader { return r }, "one_byte": iotest.OneByteReader, "half": iotest.HalfReader,
	}
	for _, c := range cases {
		for rname, wrap := range readers {
			t.Run(c.name+"/"+rname, func(t *testing.T) {
				s := valueStream{r: wrap(strings.NewReader(c.in))}
				var got []string
				var err error
				for {
					var v []byte
					if v, err = s.next(); err != nil {
						break
					}
					got = append(got, string(v))
				}
				if c.err == "" && err != io.EOF || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				if strings.Join(got, "|") != strings.Join(c.want, "|") {
					t.Errorf("values %.80q, want %.80q", got, c.want)
				}
			})
		}
	}
}

// TestSnapshotFileIsStreamedFromTheSource: a snapshot file is read from the object in both
// passes, gzip'd or not and with a byte order mark, and its items are what the file holds.
func TestSnapshotFileIsStreamedFromTheSource(t *testing.T) {
	var lines strings.Builder
	lines.WriteString("\xef\xbb\xbf")
	for i := range 3 * snapshotChunk / 2 {
		lines.WriteString(`{"id":"s` + string(rune('a'+i%26)) + strings.Repeat("0", i%7) + `","profile":"p","user":"u"}` + "\n")
	}
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(lines.String()))
	zw.Close()
	for name, body := range map[string][]byte{"plain.json": []byte(lines.String()), "zipped.json.gz": gz.Bytes()} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, body, 0o600); err != nil {
			t.Fatal(err)
		}
		o := object{source: "file://" + path, display: path, size: int64(len(body)), kind: kindSnapshot,
			open: func(context.Context) (io.ReadCloser, error) { return os.Open(path) }}
		var items []warehouse.SnapshotRow
		var r reader
		oc := outcome{job: job{obj: o}}
		r.readSnapshot(context.Background(), &oc, func(part outcome) bool {
			items = append(items, part.snapRows...)
			return true
		})
		items = append(items, oc.snapRows...)
		if oc.err != nil || oc.rejectedN != 0 {
			t.Fatalf("%s: %v, %d rejected", name, oc.err, oc.rejectedN)
		}
		if len(items) != 3*snapshotChunk/2 || items[0].Raw != `{"id":"sa","profile":"p","user":"u"}` {
			t.Errorf("%s: %d items, the first %q", name, len(items), items[0].Raw)
		}
	}
}

// TestSnapshotFileWithJunkAfterItsGzipFails: a gzip'd snapshot file with bytes after its last
// member that are not a member (here the start of a header) fails with where they are, as trail
// objects do, instead of ending there.
func TestSnapshotFileWithJunkAfterItsGzipFails(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"id":"sa","profile":"p","user":"u"}` + "\n"))
	zw.Close()
	member := gz.Len()
	gz.WriteString("\x1f\x8b\x08")
	path := filepath.Join(t.TempDir(), "sessions.json.gz")
	if err := os.WriteFile(path, gz.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	o := object{source: "file://" + path, display: path, size: int64(gz.Len()), kind: kindSnapshot,
		open: func(context.Context) (io.ReadCloser, error) { return os.Open(path) }}
	var r reader
	oc := outcome{job: job{obj: o}}
	r.readSnapshot(context.Background(), &oc, func(outcome) bool { return true })
	if want := fmt.Sprintf("gzip: member at byte %d: ", member); oc.err == nil || !strings.Contains(oc.err.Error(), want) {
		t.Fatalf("error %v, want one with %q", oc.err, want)
	}
}

// FuzzValueStream: the values (and the error, if any) do not depend on the size of the reads.
func FuzzValueStream(f *testing.F) {
	for _, s := range []string{"{\"id\":\"a\"}\n{\"id\":\"b\"}", `[{"a":1},{"b":"]"}]`, `[{"a":1} {"b":2}]`, `{"a":"\"}"}[1,2]`, `[[],[{}]]`, "\xef\xbb\xbf{}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if len(in) > 16<<10 {
			// Fed one byte at a time, the stream looks for the end of an unfinished value again
			// after every byte: quadratic, so a large input stalled a fuzz run for minutes. Files
			// and S3 bodies come in blocks of streamChunk.
			t.Skip()
		}
		read := func(r io.Reader) (vals []string, err error) {
			s := valueStream{r: r}
			for range len(in) + 2 {
				v, err := s.next()
				if err != nil {
					return vals, err
				}
				vals = append(vals, string(v))
			}
			t.Fatalf("more values than input bytes from %q", in)
			return nil, nil
		}
		want, wantErr := read(strings.NewReader(in))
		got, gotErr := read(iotest.OneByteReader(strings.NewReader(in)))
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Errorf("one byte at a time: %q, %v; whole: %q, %v", got, gotErr, want, wantErr)
		}
	})
}

// TestSnapshotFileChangedSinceListedFails: a local file is read only while it is what the
// listing saw (size and mtime), as S3 objects are read with If-Match: a snapshot file rewritten
// between the listing (or its first pass) and a read fails, saying so, instead of storing items of
// the new content under the old file's ledger entry.
func TestSnapshotFileChangedSinceListedFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.json")
	if err := os.WriteFile(path, []byte(`{"id":"sa","profile":"p","user":"u"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	objects, _, err := listDirectory(path)
	if err != nil || len(objects) != 1 {
		t.Fatalf("listing: %v, %v", objects, err)
	}
	read := func() error {
		oc := outcome{job: job{obj: objects[0]}}
		var r reader
		r.readSnapshot(context.Background(), &oc, func(outcome) bool { return true })
		return oc.err
	}
	if err := read(); err != nil {
		t.Fatalf("unchanged file: %v", err)
	}
	if err := os.WriteFile(path, []byte(`{"id":"sb","profile":"p","user":"u"}`+"\n"+`{"id":"sc"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := read(); err == nil || !strings.Contains(err.Error(), "changed since it was listed") {
		t.Fatalf("rewritten file: %v, want it to fail as changed", err)
	}
}
