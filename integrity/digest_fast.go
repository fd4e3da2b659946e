package integrity

import (
	"time"

	"github.com/valyala/fastjson"
)

// fastParsers reuses fastjson parsers (a parser is not safe for concurrent use).
var fastParsers fastjson.ParserPool

// parseDigestFast is ParseDigest for the digests CloudTrail writes: compact ASCII JSON (no escapes,
// no control characters, not even newlines), each member once,
// every member of the type it must have. It reports false for anything else — then the
// positioned parser decides, and explains — so it accepts only what that parser accepts, and
// returns the same Digest (FuzzParseDigestFast checks both). Audits parse every digest of their
// window: this path takes a fifth of the time (BenchmarkParseDigest).
func parseDigestFast(data []byte) (*Digest, bool) {
	for _, c := range data {
		if c >= 0x80 || c < 0x20 || c == '\\' {
			return nil, false
		}
	}
	p := fastParsers.Get()
	defer fastParsers.Put(p)
	v, err := p.ParseBytes(data)
	if err != nil {
		return nil, false
	}
	o, err := v.Object()
	if err != nil || duplicateKeys(o) {
		return nil, false
	}
	d := &Digest{}
	ok := true
	str := func(key string, required bool) (string, bool) {
		m := o.Get(key)
		if m == nil || m.Type() == fastjson.TypeNull {
			return "", !required
		}
		b, err := m.StringBytes()
		if err != nil || required && len(b) == 0 {
			return "", false
		}
		return string(b), true
	}
	var s string
	if d.AccountID, ok = str("awsAccountId", false); !ok {
		return nil, false
	}
	if s, ok = str("digestStartTime", true); !ok {
		return nil, false
	}
	if d.StartTime, err = parseTime(s); err != nil {
		return nil, false
	}
	if d.endText, ok = str("digestEndTime", true); !ok {
		return nil, false
	}
	if d.EndTime, err = parseTime(d.endText); err != nil || d.EndTime.Before(d.StartTime) {
		return nil, false
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"digestS3Bucket", &d.S3Bucket}, {"digestS3Object", &d.S3Object}, {"digestPublicKeyFingerprint", &d.PublicKeyFingerprint},
		{"digestSignatureAlgorithm", &d.SignatureAlgorithm}} {
		if *f.dst, ok = str(f.key, true); !ok {
			return nil, false
		}
	}
	if d.OldestEventTime, ok = fastTime(o, "oldestEventTime"); !ok {
		return nil, false
	}
	if d.NewestEventTime, ok = fastTime(o, "newestEventTime"); !ok {
		return nil, false
	}
	if !d.OldestEventTime.IsZero() && !d.NewestEventTime.IsZero() && d.NewestEventTime.Before(d.OldestEventTime) {
		return nil, false
	}
	if d.Previous, ok = fastLink(o); !ok {
		return nil, false
	}
	if d.LogFiles, ok = fastLogFiles(o.Get("logFiles")); !ok {
		return nil, false
	}
	return d, true
}

// fastLink reads the previousDigest* members: all null or absent (no link), or all set.
func fastLink(o *fastjson.Object) (*Link, bool) {
	get := func(key string) (*string, bool) {
		m := o.Get(key)
		if m == nil || m.Type() == fastjson.TypeNull {
			return nil, true
		}
		b, err := m.StringBytes()
		if err != nil {
			return nil, false
		}
		s := string(b)
		return &s, true
	}
	var parts [5]*string
	for i, key := range []string{"previousDigestS3Bucket", "previousDigestS3Object", "previousDigestHashValue", "previousDigestSignature", "previousDigestHashAlgorithm"} {
		var ok bool
		if parts[i], ok = get(key); !ok {
			return nil, false
		}
	}
	bucket, object, hash, signature, algorithm := parts[0], parts[1], parts[2], parts[3], parts[4]
	if bucket == nil && object == nil && hash == nil && signature == nil {
		return nil, algorithm == nil
	}
	if bucket == nil || object == nil || hash == nil || signature == nil || *bucket == "" || *object == "" || *signature == "" ||
		algorithm != nil && *algorithm != hashAlgorithm {
		return nil, false
	}
	h, err := ParseHash(*hash)
	if err != nil {
		return nil, false
	}
	return &Link{S3Bucket: *bucket, S3Object: *object, Hash: h, Signature: *signature}, true
}

// fastLogFiles reads the logFiles array (null: none).
func fastLogFiles(v *fastjson.Value) ([]LogFile, bool) {
	if v == nil {
		return nil, false
	}
	if v.Type() == fastjson.TypeNull {
		return nil, true
	}
	items, err := v.Array()
	if err != nil {
		return nil, false
	}
	files := make([]LogFile, 0, len(items))
	for _, item := range items {
		o, err := item.Object()
		if err != nil || duplicateKeys(o) {
			return nil, false
		}
		str := func(key string) (string, bool) {
			m := o.Get(key)
			if m == nil || m.Type() == fastjson.TypeNull {
				return "", false
			}
			b, err := m.StringBytes()
			return string(b), err == nil && len(b) > 0
		}
		var f LogFile
		var ok bool
		var hash string
		if f.S3Bucket, ok = str("s3Bucket"); !ok {
			return nil, false
		}
		if f.S3Object, ok = str("s3Object"); !ok {
			return nil, false
		}
		if hash, ok = str("hashValue"); !ok {
			return nil, false
		}
		if f.Hash, err = ParseHash(hash); err != nil {
			return nil, false
		}
		if m := o.Get("hashAlgorithm"); m != nil && m.Type() != fastjson.TypeNull {
			if b, err := m.StringBytes(); err != nil || string(b) != hashAlgorithm {
				return nil, false
			}
		}
		if f.OldestEventTime, ok = fastTime(o, "oldestEventTime"); !ok {
			return nil, false
		}
		if f.NewestEventTime, ok = fastTime(o, "newestEventTime"); !ok {
			return nil, false
		}
		files = append(files, f)
	}
	return files, true
}

// fastTime reads an optional time member: absent or null is zero; anything else must be a time.
func fastTime(o *fastjson.Object, key string) (time.Time, bool) {
	m := o.Get(key)
	if m == nil || m.Type() == fastjson.TypeNull {
		return time.Time{}, true
	}
	b, err := m.StringBytes()
	if err != nil {
		return time.Time{}, false
	}
	t, err := parseTime(string(b))
	return t, err == nil
}

// duplicateKeys reports whether an object gives a key twice.
func duplicateKeys(o *fastjson.Object) bool {
	seen := make(map[string]struct{}, o.Len())
	dup := false
	o.Visit(func(k []byte, _ *fastjson.Value) {
		if _, ok := seen[string(k)]; ok {
			dup = true
		}
		seen[string(k)] = struct{}{}
	})
	return dup
}
