package integrity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Digest is one CloudTrail digest file: CloudTrail's signed statement of which log files it
// delivered for one account, region and trail during [StartTime, EndTime), and of the digest
// that came before it.
type Digest struct {
	AccountID            string    // awsAccountId; "" when absent
	StartTime, EndTime   time.Time // digestStartTime, digestEndTime
	S3Bucket, S3Object   string    // where CloudTrail delivered this digest
	PublicKeyFingerprint string    // names the signing key (see Fingerprint)
	SignatureAlgorithm   string    // SHA256withRSA; other values are kept and fail verification
	// OldestEventTime and NewestEventTime span the events of the listed log files; zero when
	// absent or null, as in a digest that lists none.
	OldestEventTime, NewestEventTime time.Time
	// Previous links to the digest before this one; nil when CloudTrail wrote null there: the
	// first digest of a chain, after logging or validation was off.
	Previous *Link
	// LogFiles are the log files CloudTrail delivered during the digest's hour; empty for an
	// hour without any (digests are delivered regardless).
	LogFiles []LogFile

	// endText is digestEndTime exactly as written, which is what the signature covers.
	endText string
}

// Link is a digest's reference to its predecessor.
type Link struct {
	S3Bucket, S3Object string // previousDigestS3Bucket, previousDigestS3Object
	// Hash is previousDigestHashValue: the SHA-256 of the predecessor's inflated bytes.
	Hash Hash
	// Signature is previousDigestSignature: the predecessor's signature (hex), as CloudTrail
	// stored it in the predecessor's x-amz-meta-signature.
	Signature string
}

// LogFile is a log file a digest lists.
type LogFile struct {
	S3Bucket, S3Object string
	Hash               Hash // hashValue: the SHA-256 of the log file's inflated bytes
	// OldestEventTime and NewestEventTime span the file's events; zero when absent or null.
	OldestEventTime, NewestEventTime time.Time
}

// Object is a file in S3: the address a digest uses for a log file or another digest.
type Object struct{ Bucket, Key string }

func (o Object) String() string { return "s3://" + o.Bucket + "/" + o.Key }

// Object is where CloudTrail delivered the digest.
func (d *Digest) Object() Object { return Object{d.S3Bucket, d.S3Object} }

// Object is where CloudTrail delivered the log file.
func (f LogFile) Object() Object { return Object{f.S3Bucket, f.S3Object} }

// Object is where the predecessor should be.
func (l *Link) Object() Object { return Object{l.S3Bucket, l.S3Object} }

// ParseError is a digest that is not what CloudTrail writes. Line and Column (1-based, columns
// in bytes) point into the inflated JSON; Field names the member ("logFiles[2].hashValue").
type ParseError struct {
	Line, Column int
	Field        string
	Problem      string
}

func (e *ParseError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Problem)
	}
	return fmt.Sprintf("line %d, column %d: %s: %s", e.Line, e.Column, e.Field, e.Problem)
}

// TimeLayout is how CloudTrail writes the times of a digest (always UTC, whole seconds).
const TimeLayout = "2006-01-02T15:04:05Z"

// hashAlgorithm is the one value of hashAlgorithm and previousDigestHashAlgorithm.
const hashAlgorithm = "SHA-256"

// ParseDigest reads a digest file's inflated JSON. Members CloudTrail always writes are required
// (digestStartTime, digestEndTime, digestS3Bucket, digestS3Object, digestPublicKeyFingerprint,
// digestSignatureAlgorithm, logFiles, and each log file's s3Bucket, s3Object and hashValue); the
// previousDigest* members are all null or absent (a chain starts) or all set; members the
// digest format may gain later are ignored. A member given twice is an error: it could hide a
// value. Every error is a *ParseError.
func ParseDigest(data []byte) (*Digest, error) {
	if d, ok := parseDigestFast(data); ok {
		return d, nil
	}
	return parseDigest(data)
}

// parseDigest is ParseDigest token by token, so that every error names its position.
func parseDigest(data []byte) (*Digest, error) {
	r := &reader{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	d := &Digest{}
	var prev struct {
		bucket, object, hash, algorithm, signature *string
		off                                        int
	}
	prev.off = -1
	seen := map[string]int{}
	err := r.object("", func(key string, off int) error {
		seen[key] = off
		var err error
		switch key {
		case "awsAccountId":
			err = r.optString(key, off, &d.AccountID)
		case "digestStartTime":
			d.StartTime, _, err = r.time(key, off, true)
		case "digestEndTime":
			d.EndTime, d.endText, err = r.time(key, off, true)
		case "digestS3Bucket":
			err = r.reqString(key, off, &d.S3Bucket)
		case "digestS3Object":
			err = r.reqString(key, off, &d.S3Object)
		case "digestPublicKeyFingerprint":
			err = r.reqString(key, off, &d.PublicKeyFingerprint)
		case "digestSignatureAlgorithm":
			err = r.reqString(key, off, &d.SignatureAlgorithm)
		case "oldestEventTime":
			d.OldestEventTime, _, err = r.time(key, off, false)
		case "newestEventTime":
			d.NewestEventTime, _, err = r.time(key, off, false)
		case "previousDigestS3Bucket":
			prev.bucket, err = r.nullableString(key, off)
		case "previousDigestS3Object":
			prev.object, err = r.nullableString(key, off)
		case "previousDigestHashValue":
			prev.hash, err = r.nullableString(key, off)
		case "previousDigestHashAlgorithm":
			prev.algorithm, err = r.nullableString(key, off)
		case "previousDigestSignature":
			prev.signature, err = r.nullableString(key, off)
		case "logFiles":
			d.LogFiles, err = r.logFiles(off)
		default:
			err = r.skip()
		}
		if strings.HasPrefix(key, "previousDigest") && prev.off < 0 {
			prev.off = off
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"digestStartTime", "digestEndTime", "digestS3Bucket", "digestS3Object", "digestPublicKeyFingerprint", "digestSignatureAlgorithm", "logFiles"} {
		if _, ok := seen[k]; !ok {
			return nil, r.errorf(0, k, "missing: CloudTrail writes it in every digest")
		}
	}
	if d.EndTime.Before(d.StartTime) {
		return nil, r.errorf(seen["digestEndTime"], "digestEndTime", "%s is before digestStartTime %s", d.endText, d.StartTime.Format(TimeLayout))
	}
	if !d.OldestEventTime.IsZero() && !d.NewestEventTime.IsZero() && d.NewestEventTime.Before(d.OldestEventTime) {
		return nil, r.errorf(seen["newestEventTime"], "newestEventTime", "is before oldestEventTime")
	}
	set := 0
	for _, p := range []*string{prev.bucket, prev.object, prev.hash, prev.signature} {
		if p != nil {
			set++
		}
	}
	switch {
	case set == 0 && prev.algorithm == nil:
	case set == 0:
		return nil, r.errorf(seen["previousDigestHashAlgorithm"], "previousDigestHashAlgorithm", "set, but there is no previous digest (previousDigestS3Object is null)")
	case set < 4:
		var missing []string
		for _, m := range []struct {
			name string
			v    *string
		}{{"previousDigestS3Bucket", prev.bucket}, {"previousDigestS3Object", prev.object}, {"previousDigestHashValue", prev.hash}, {"previousDigestSignature", prev.signature}} {
			if m.v == nil {
				missing = append(missing, m.name)
			}
		}
		return nil, r.errorf(prev.off, "previousDigest*", "the link to the previous digest is partial: %s null or missing", strings.Join(missing, ", "))
	default:
		if prev.algorithm != nil && *prev.algorithm != hashAlgorithm {
			return nil, r.errorf(seen["previousDigestHashAlgorithm"], "previousDigestHashAlgorithm", "%q is not %s", *prev.algorithm, hashAlgorithm)
		}
		h, err := ParseHash(*prev.hash)
		if err != nil {
			return nil, r.errorf(seen["previousDigestHashValue"], "previousDigestHashValue", "%v", err)
		}
		for _, m := range []struct {
			name string
			v    string
		}{{"previousDigestS3Bucket", *prev.bucket}, {"previousDigestS3Object", *prev.object}, {"previousDigestSignature", *prev.signature}} {
			if m.v == "" {
				return nil, r.errorf(seen[m.name], m.name, "empty")
			}
		}
		d.Previous = &Link{S3Bucket: *prev.bucket, S3Object: *prev.object, Hash: h, Signature: *prev.signature}
	}
	return d, nil
}

// reader walks a JSON document token by token, so that every error can name its position.
type reader struct {
	data []byte
	dec  *json.Decoder
}

// position turns a byte offset into a 1-based line and column.
func (r *reader) position(off int) (line, col int) {
	off = min(max(off, 0), len(r.data))
	line = 1 + bytes.Count(r.data[:off], []byte{'\n'})
	return line, off - bytes.LastIndexByte(r.data[:off], '\n')
}

func (r *reader) errorf(off int, field, format string, args ...any) *ParseError {
	line, col := r.position(off)
	return &ParseError{Line: line, Column: col, Field: field, Problem: fmt.Sprintf(format, args...)}
}

// next is the offset of the next token: past whitespace and the separators ':' and ','.
func (r *reader) next() int {
	off := int(r.dec.InputOffset())
	for off < len(r.data) {
		switch r.data[off] {
		case ' ', '\t', '\r', '\n', ':', ',':
			off++
			continue
		}
		break
	}
	return off
}

// syntax wraps a decoder error as a ParseError at its position.
func (r *reader) syntax(field string, err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		off := int(se.Offset)
		for off < len(r.data) && strings.IndexByte(" \t\r\n", r.data[off]) >= 0 {
			off++
		}
		return r.errorf(off, field, "not JSON: %v", se)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return r.errorf(len(r.data), field, "the JSON ends early")
	default:
		return r.errorf(r.next(), field, "not JSON: %v", err)
	}
}

// object reads an object, calling member with each key and the offset of its value; member must
// consume the value. A key given twice is an error.
func (r *reader) object(field string, member func(key string, off int) error) error {
	start := r.next()
	t, err := r.dec.Token()
	if err != nil {
		return r.syntax(field, err)
	}
	if t != json.Delim('{') {
		what := "the digest"
		if field != "" {
			what = field
		}
		return r.errorf(start, field, "%s must be a JSON object", what)
	}
	keys := map[string]bool{}
	for r.dec.More() {
		keyOff := r.next()
		t, err := r.dec.Token()
		if err != nil {
			return r.syntax(field, err)
		}
		key, _ := t.(string)
		name := key
		if field != "" {
			name = field + "." + key
		}
		if keys[key] {
			return r.errorf(keyOff, name, "given twice")
		}
		keys[key] = true
		if err := member(key, r.next()); err != nil {
			return err
		}
	}
	if _, err := r.dec.Token(); err != nil {
		return r.syntax(field, err)
	}
	if field == "" {
		if _, err := r.dec.Token(); err != io.EOF {
			return r.errorf(r.next(), "", "unexpected data after the digest's JSON object")
		}
	}
	return nil
}

func (r *reader) skip() error {
	var v json.RawMessage
	if err := r.dec.Decode(&v); err != nil {
		return r.syntax("", err)
	}
	return nil
}

// nullableString reads a string or null (nil).
func (r *reader) nullableString(field string, off int) (*string, error) {
	var raw json.RawMessage
	if err := r.dec.Decode(&raw); err != nil {
		return nil, r.syntax(field, err)
	}
	if string(raw) == "null" {
		return nil, nil
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return nil, r.errorf(off, field, "want a string, got %s", clip(raw))
	}
	return &s, nil
}

// reqString reads a non-empty string.
func (r *reader) reqString(field string, off int, dst *string) error {
	s, err := r.nullableString(field, off)
	if err != nil {
		return err
	}
	if s == nil || *s == "" {
		return r.errorf(off, field, "must be a non-empty string")
	}
	*dst = *s
	return nil
}

// optString reads a string that may be null.
func (r *reader) optString(field string, off int, dst *string) error {
	s, err := r.nullableString(field, off)
	if err == nil && s != nil {
		*dst = *s
	}
	return err
}

// time reads a UTC time as CloudTrail writes it (2015-08-17T15:01:31Z; fractional seconds are
// accepted), or null when not required.
func (r *reader) time(field string, off int, required bool) (time.Time, string, error) {
	s, err := r.nullableString(field, off)
	if err != nil {
		return time.Time{}, "", err
	}
	if s == nil {
		if required {
			return time.Time{}, "", r.errorf(off, field, "must be a time, not null")
		}
		return time.Time{}, "", nil
	}
	t, err := parseTime(*s)
	if err != nil {
		return time.Time{}, "", r.errorf(off, field, "%v", err)
	}
	return t, *s, nil
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !strings.HasSuffix(s, "Z") || len(s) < len(TimeLayout) || s[10] != 'T' {
		return time.Time{}, fmt.Errorf("%q is not a UTC time like 2015-08-17T15:01:31Z", s)
	}
	return t, nil
}

// logFiles reads the logFiles array (null is read as none).
func (r *reader) logFiles(off int) ([]LogFile, error) {
	t, err := r.dec.Token()
	if err != nil {
		return nil, r.syntax("logFiles", err)
	}
	if t == nil {
		return nil, nil
	}
	if t != json.Delim('[') {
		return nil, r.errorf(off, "logFiles", "must be an array")
	}
	files := []LogFile{}
	for r.dec.More() {
		field := fmt.Sprintf("logFiles[%d]", len(files))
		start := r.next()
		var f LogFile
		seen := map[string]bool{}
		err := r.object(field, func(key string, off int) error {
			seen[key] = true
			name := field + "." + key
			switch key {
			case "s3Bucket":
				return r.reqString(name, off, &f.S3Bucket)
			case "s3Object":
				return r.reqString(name, off, &f.S3Object)
			case "hashValue":
				var s string
				if err := r.reqString(name, off, &s); err != nil {
					return err
				}
				h, err := ParseHash(s)
				if err != nil {
					return r.errorf(off, name, "%v", err)
				}
				f.Hash = h
				return nil
			case "hashAlgorithm":
				s, err := r.nullableString(name, off)
				if err == nil && s != nil && *s != hashAlgorithm {
					return r.errorf(off, name, "%q is not %s", *s, hashAlgorithm)
				}
				return err
			case "oldestEventTime":
				f.OldestEventTime, _, err = r.time(name, off, false)
				return err
			case "newestEventTime":
				f.NewestEventTime, _, err = r.time(name, off, false)
				return err
			default:
				return r.skip()
			}
		})
		if err != nil {
			return nil, err
		}
		for _, k := range []string{"s3Bucket", "s3Object", "hashValue"} {
			if !seen[k] {
				return nil, r.errorf(start, field+"."+k, "missing")
			}
		}
		files = append(files, f)
	}
	if _, err := r.dec.Token(); err != nil {
		return nil, r.syntax("logFiles", err)
	}
	return files, nil
}

// clip shortens a JSON value for an error message.
func clip(raw []byte) string {
	if len(raw) > 40 {
		return string(raw[:40]) + "…"
	}
	return string(raw)
}
