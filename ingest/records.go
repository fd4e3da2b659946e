package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/valyala/fastjson"
)

// errNotCloudTrail marks input that is valid JSON but holds no CloudTrail records.
var errNotCloudTrail = errors.New("not CloudTrail")

// splitter finds the CloudTrail records in a file's bytes, whatever shape the file has:
// {"Records":[...]} archives, bare arrays, JSON lines or concatenated records, saved LookupEvents
// output (Events[].CloudTrailEvent strings) and CloudWatch Logs subscription envelopes.
type splitter struct {
	scanner fastjson.Scanner
	inner   fastjson.Parser // for records embedded as JSON strings
	// fast, when set, is offered each record of a {"Records"} archive (the k-th element of its
	// array) before it is parsed: taken, it was handled (insight: an Insights record, skipped);
	// not taken, it is parsed and handed to the sink as any other. element, when set, finds
	// where each element of the array ends (skipValue otherwise).
	fast    func(k int, raw []byte) (taken, insight bool)
	element func(b []byte, i int) (int, bool)
}

// insightEventType is the eventType of CloudTrail Insights records, which are not events.
const insightEventType = "AwsCloudTrailInsight"

// recordSink receives each record found; index is its position among the file's records, raw
// its original bytes when the splitter has them (nil otherwise).
type recordSink func(index int, rec *fastjson.Value, raw []byte) error

// splitResult counts what split found in a file.
type splitResult struct {
	found    int      // records passed to the sink
	skipped  int      // non-event values skipped on purpose (control messages, Insight records)
	rejected int      // values that are not CloudTrail records
	reasons  []string // why, for the first few rejected values
}

func (r *splitResult) reject(what string, err error) {
	r.rejected++
	if len(r.reasons) < maxReasons {
		r.reasons = append(r.reasons, what+": "+shorten(err.Error()))
	}
}

// shorten keeps a parser's error readable: fastjson nests one message per level of a value.
func shorten(msg string) string {
	const keep = 160
	if len(msg) <= 2*keep+5 {
		return msg
	}
	return msg[:keep] + " … " + msg[len(msg)-keep:]
}

// split calls sink for every record in data. A value that is not a record is rejected and the
// rest of the file still read; a JSON syntax error ends the file, except in JSON lines, where
// only the broken line is lost. The error is returned when nothing in the file was usable.
func (s *splitter) split(data []byte, sink recordSink) (splitResult, error) {
	var res splitResult
	element := s.element
	if element == nil {
		element = skipValue
	}
	if elements, ok := recordsArrayWith(data, element); ok {
		for i, el := range elements {
			if s.fast != nil {
				if taken, insight := s.fast(i, el); insight {
					res.skipped++
					continue
				} else if taken {
					res.found++
					continue
				}
			}
			rec, err := s.inner.ParseBytes(el)
			if err == nil {
				err = s.record(rec, el, sink, &res)
			}
			if err != nil {
				res.reject(fmt.Sprintf("Records[%d]", i), err)
			}
		}
		return res, s.usable(res)
	}
	s.scanner.InitBytes(data)
	value := 0
	for ; s.scanner.Next(); value++ {
		if err := s.visit(s.scanner.Value(), sink, &res, 0); err != nil {
			res.reject(fmt.Sprintf("value %d", value+1), err)
		}
	}
	if err := s.scanner.Error(); err != nil {
		if s.lineOriented(data, value) {
			s.splitLines(data, value, sink, &res)
		} else {
			return res, fmt.Errorf("invalid JSON after %d records: %w", res.found, err)
		}
	}
	return res, s.usable(res)
}

// usable is the error of a file in which nothing was usable.
func (s *splitter) usable(res splitResult) error {
	if res.found > 0 || res.skipped > 0 {
		return nil
	}
	if res.rejected > 0 {
		return fmt.Errorf("%w: none of its %d values is a CloudTrail record (%s)", errNotCloudTrail, res.rejected, res.reasons[0])
	}
	return fmt.Errorf("%w: no records in the file", errNotCloudTrail)
}

// lineOriented reports whether data looks like JSON lines: more lines than the values scanned so
// far, and a first line that is a complete JSON value by itself.
func (s *splitter) lineOriented(data []byte, scanned int) bool {
	if bytes.Count(data, []byte{'\n'}) <= scanned {
		return false
	}
	first, _, _ := bytes.Cut(bytes.TrimSpace(data), []byte{'\n'})
	_, err := s.inner.ParseBytes(first)
	return err == nil
}

// splitLines reads JSON lines from line skip+1 on, after a syntax error stopped the scanner:
// each broken line is rejected on its own.
func (s *splitter) splitLines(data []byte, skip int, sink recordSink, res *splitResult) {
	lineNo := 0
	for line := range bytes.Lines(data) {
		lineNo++
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		v, err := s.inner.ParseBytes(line)
		if err != nil {
			res.reject(fmt.Sprintf("line %d", lineNo), err)
			continue
		}
		if err := s.visit(v, sink, res, 0); err != nil {
			res.reject(fmt.Sprintf("line %d", lineNo), err)
		}
	}
}

func (s *splitter) visit(v *fastjson.Value, sink recordSink, res *splitResult, depth int) error {
	switch v.Type() {
	case fastjson.TypeArray:
		if depth > 0 {
			return errors.New("nested array")
		}
		for i, el := range v.GetArray() {
			if err := s.visit(el, sink, res, depth+1); err != nil {
				res.reject(fmt.Sprintf("element %d", i+1), err)
			}
		}
		return nil
	case fastjson.TypeObject:
	default:
		return fmt.Errorf("a JSON %s where a record or a list of records belongs", v.Type())
	}
	switch {
	case v.Exists("Records"):
		records := v.Get("Records")
		if records.Type() != fastjson.TypeArray {
			return fmt.Errorf("\"Records\" is a JSON %s, not an array", records.Type())
		}
		for i, rec := range records.GetArray() {
			if err := s.record(rec, nil, sink, res); err != nil {
				res.reject(fmt.Sprintf("Records[%d]", i), err)
			}
		}
		return nil
	case v.Exists("Events") && v.Get("Events").Type() == fastjson.TypeArray:
		for i, ev := range v.GetArray("Events") {
			text := ev.GetStringBytes("CloudTrailEvent")
			if text == nil {
				return fmt.Errorf("no CloudTrailEvent string in Events[%d]", i)
			}
			if err := s.embedded(text, fmt.Sprintf("Events[%d].CloudTrailEvent", i), sink, res); err != nil {
				return err
			}
		}
		return nil
	case v.Exists("logEvents") && v.Exists("messageType"):
		if string(v.GetStringBytes("messageType")) != "DATA_MESSAGE" {
			res.skipped++
			return nil
		}
		for i, le := range v.GetArray("logEvents") {
			text := le.GetStringBytes("message")
			if text == nil {
				return fmt.Errorf("logEvents[%d] has no message string", i)
			}
			if err := s.embedded(text, fmt.Sprintf("logEvents[%d].message", i), sink, res); err != nil {
				return err
			}
		}
		return nil
	case v.Exists("digestStartTime") || v.Exists("digestPublicKeyFingerprint"):
		return errors.New("a CloudTrail digest, not events")
	case isRecord(v):
		return s.record(v, nil, sink, res)
	}
	if looksLikeSession(v) {
		return fmt.Errorf("an object with keys %s: a session-table item, not a CloudTrail record (pass the file with --sessions-file)", keyList(v))
	}
	return fmt.Errorf("an object with keys %s", keyList(v))
}

// embedded parses a record carried as a JSON string. The inner parser's value is only used inside
// the sink call, so one parser serves every embedded record.
func (s *splitter) embedded(text []byte, where string, sink recordSink, res *splitResult) error {
	rec, err := s.inner.ParseBytes(text)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if rec.Type() != fastjson.TypeObject {
		return fmt.Errorf("%s is a JSON %s, not a record", where, rec.Type())
	}
	return s.record(rec, text, sink, res)
}

func (s *splitter) record(rec *fastjson.Value, raw []byte, sink recordSink, res *splitResult) error {
	if rec.Type() != fastjson.TypeObject {
		return fmt.Errorf("a JSON %s, not a record", rec.Type())
	}
	if string(rec.GetStringBytes("eventType")) == insightEventType {
		res.skipped++
		return nil
	}
	i := res.found
	res.found++
	return sink(i, rec, raw)
}

// looksLikeSession recognizes a session-table item, plain or in DynamoDB JSON.
func looksLikeSession(v *fastjson.Value) bool {
	if item := v.Get("Item"); item != nil && item.Type() == fastjson.TypeObject {
		v = item
	}
	return v.Exists("id") && (v.Exists("profile") || v.Exists("server_instance_id") || v.Exists("source_identity"))
}

func isRecord(v *fastjson.Value) bool {
	return v.Exists("eventID") || v.Exists("eventTime") || v.Exists("eventVersion")
}

func keyList(v *fastjson.Value) string {
	var keys []string
	v.GetObject().Visit(func(k []byte, _ *fastjson.Value) { keys = append(keys, string(k)) })
	sort.Strings(keys)
	if len(keys) > 6 {
		keys = append(keys[:6], "…")
	}
	if len(keys) == 0 {
		return "(none)"
	}
	return strings.Join(keys, ", ")
}
