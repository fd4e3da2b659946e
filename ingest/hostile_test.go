package ingest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/sentinel-audit/sentinel/warehouse"
)

func hostileRecord(id, extra string) string {
	return fmt.Sprintf(`{"eventVersion":"1.08","eventID":"%s","eventTime":"2026-11-02T10:00:00Z","eventName":"GetObject"%s}`, id, extra)
}

// hostileCorpus writes broken and hostile inputs (generated, never committed: some are large).
func hostileCorpus(t *testing.T, dir string) {
	t.Helper()
	rec := hostileRecord
	gzipped := func(text string) string {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(text))
		zw.Close()
		return b.String()
	}
	archive := gzipped(`{"Records":[` + rec("truncated", "") + `]}`)
	var line strings.Builder
	for i := range 20000 {
		line.WriteString(rec(fmt.Sprintf("line-%05d", i), ""))
	}
	files := map[string]string{
		"empty.json":              "",
		"gzip-of-text.json.gz":    gzipped("this is not json at all\n"),
		"two-members.jsonl.gz":    gzipped(rec("member-1", "")+"\n") + gzipped(rec("member-2", "")+"\n"),
		"truncated.json.gz":       archive[:len(archive)/2],
		"gzip-then-junk.json.gz":  gzipped(rec("junk", "")) + "junk",
		"wrong-shape.json":        `{"name":"my-app","version":"1.0.0","dependencies":{}}`,
		"records-not-array.json":  `{"Records":{"eventID":"x"}}`,
		"missing-ids.jsonl":       rec("good-1", "") + "\n" + `{"eventTime":"2026-11-02T10:00:00Z"}` + "\n" + `{"eventID":"no-time"}` + "\n",
		"bad-timestamp.json":      `{"Records":[` + rec("good-2", "") + `,{"eventID":"bad-time","eventTime":"02/11/2026 10:00"}]}`,
		"big-request.json":        `{"Records":[` + rec("big", `,"requestParameters":{"policy":"`+strings.Repeat("A", 10<<20)+`"}`) + `]}`,
		"deep-nesting.json":       `{"Records":[` + rec("deep", `,"requestParameters":`+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)) + `]}`,
		"invalid-utf8.json":       `{"Records":[` + rec("utf8", ",\"userAgent\":\"bad\xff\xfe\"") + `]}`,
		"duplicate-keys.json":     `{"Records":[{"eventID":"first","eventID":"second","eventTime":"2026-11-02T10:00:00Z"}]}`,
		"bom.json":                "\xef\xbb\xbf" + `{"Records":[` + rec("bom", "") + `]}`,
		"huge-single-line.jsonl":  line.String(),
		"not-an-event-file.txt":   "ignored",
		"records-of-scalars.json": `{"Records":[1,"two",null]}`,
		"pretty.json":             "{\"Records\": [\n  " + prettyRecord + "\n]}\n",
		// Records the JSON parser takes and DuckDB would not read back.
		"not-quite-json.json": `{"Records":[` + rec("good-3", "") + `,` + rec("lenient-number", `,"n":1-2`) + `,` +
			rec("control-character", ",\"userAgent\":\"a\tb\"") + `,` + rec("unknown-escape", `,"userAgent":"a\qb"`) + `]}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "loop"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..", filepath.Join(dir, "loop", "parent")); err != nil {
		t.Fatal(err)
	}
}

// prettyRecord is a record as a person would format it, with characters of more than one byte
// before its eventID.
const prettyRecord = "{\n    \"userAgent\": \"café \\u00e9\",\n    \"eventID\" :  \"pretty\",\n    \"eventTime\": \"2026-11-02T10:00:00Z\"\n  }"

// TestHostileInput: every input has a defined outcome — stored, or failed with a reason in the
// ledger — the run never crashes, and the good records of a partly bad file are stored.
func TestHostileInput(t *testing.T) {
	src, wh := t.TempDir(), t.TempDir()
	hostileCorpus(t, src)
	res, err := Run(context.Background(), Options{Warehouse: wh, Sources: []string{src}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := warehouse.OpenReader(context.Background(), wh)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	outcome := map[string]string{}
	rows, err := r.DB().Query(`SELECT regexp_extract(source, '[^/]+$'), status || ' ' || coalesce(error, '') FROM ingest_files`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name, o string
		rows.Scan(&name, &o)
		outcome[name] = o
	}
	rows.Close()
	want := map[string]string{
		"empty.json":              "failed empty file",
		"gzip-of-text.json.gz":    "failed invalid JSON",
		"two-members.jsonl.gz":    "ok ",
		"truncated.json.gz":       "failed gzip: member at byte 0: ",
		"gzip-then-junk.json.gz":  "failed gzip: member at byte ",
		"wrong-shape.json":        "failed not CloudTrail: none of its 1 values is a CloudTrail record (value 1: an object with keys dependencies, name, version)",
		"records-not-array.json":  `failed not CloudTrail: none of its 1 values is a CloudTrail record (value 1: "Records" is a JSON object, not an array)`,
		"missing-ids.jsonl":       "failed 2 records rejected: record 2: record rejected: no eventID; record 3: record rejected: event no-time has no eventTime",
		"bad-timestamp.json":      `failed 1 record rejected: record 2: record rejected: event bad-time has unparseable eventTime "02/11/2026 10:00"`,
		"big-request.json":        "ok ",
		"deep-nesting.json":       "failed not CloudTrail: none of its 1 values is a CloudTrail record (Records[0]: cannot parse JSON: ",
		"invalid-utf8.json":       "ok ",
		"duplicate-keys.json":     "ok ",
		"bom.json":                "ok ",
		"huge-single-line.jsonl":  "ok ",
		"records-of-scalars.json": "failed not CloudTrail",
		"pretty.json":             "ok ",
		"not-quite-json.json": "failed 3 records rejected: record 2: record rejected: event lenient-number is not valid JSON; " +
			"record 3: record rejected: event control-character is not valid JSON; record 4: record rejected: event unknown-escape is not valid JSON",
	}
	for name, w := range want {
		if got, ok := outcome[name]; !ok || !strings.HasPrefix(got, w) {
			t.Errorf("%s: %q, want it to start with %q", name, got, w)
		}
	}
	if len(outcome) != len(want) {
		t.Errorf("ledger has %d files, want %d: %v", len(outcome), len(want), outcome)
	}
	if res.IgnoredFiles != 2 { // not-an-event-file.txt and the symlink
		t.Errorf("ignored %d files", res.IgnoredFiles)
	}
	var stored int
	var ua, big string
	r.DB().QueryRow(`SELECT count(*) FROM events`).Scan(&stored)
	r.DB().QueryRow(`SELECT user_agent FROM events WHERE event_id = 'utf8'`).Scan(&ua)
	r.DB().QueryRow(`SELECT length(request_parameters->>'policy')::VARCHAR FROM events WHERE event_id = 'big'`).Scan(&big)
	// good-1, good-2, good-3, big, utf8, first (the first of duplicate keys wins), bom, pretty,
	// member-1, member-2, 20000 lines.
	if stored != 20010 || ua != "bad\uFFFD" || big != fmt.Sprint(10<<20) {
		t.Errorf("stored %d, user agent %q, big request %s", stored, ua, big)
	}
	var first int
	r.DB().QueryRow(`SELECT count(*) FROM events WHERE event_id = 'first'`).Scan(&first)
	if first != 1 {
		t.Error("duplicate keys: the first value is the one stored")
	}
	// raw is each record's bytes as they were in the file (invalid UTF-8 replaced), whatever the
	// lake does with its eventID.
	for id, want := range map[string]string{
		"pretty": prettyRecord,
		"first":  `{"eventID":"first","eventID":"second","eventTime":"2026-11-02T10:00:00Z"}`,
		"utf8":   hostileRecord("utf8", ",\"userAgent\":\"bad\uFFFD\""),
		"good-2": hostileRecord("good-2", ""),
	} {
		var raw string
		if err := r.DB().QueryRow(`SELECT raw::VARCHAR FROM events WHERE event_id = ?`, id).Scan(&raw); err != nil || raw != want {
			t.Errorf("raw of %s = %q (%v), want %q", id, raw, err, want)
		}
	}
	var all int
	if err := r.DB().QueryRow(`SELECT count(*) FROM events WHERE raw IS NOT NULL`).Scan(&all); err != nil || all != 20010 {
		t.Errorf("every stored raw reads as JSON: %d, %v", all, err)
	}
	var whole int
	r.DB().QueryRow(`SELECT count(*) FROM events WHERE event_id LIKE 'line-%' AND raw::VARCHAR = replace(?, '#', event_id)`,
		hostileRecord("#", "")).Scan(&whole)
	if whole != 20000 {
		t.Errorf("%d of the 20000 lines have their record as raw", whole)
	}
}
