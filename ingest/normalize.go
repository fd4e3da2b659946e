package ingest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/sentinel-audit/sentinel/sourceid"
	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/valyala/fastjson"
)

// errRejected marks a record that cannot be stored (no usable eventID or eventTime).
var errRejected = errors.New("record rejected")

// normalizer turns CloudTrail records into lake rows. It tolerates every field being absent, null
// or of an unexpected JSON type; only eventID and eventTime are required.
type normalizer struct {
	buf, scratch []byte
	// file is the text being read; the stored raw of its records is gathered in text.
	file []byte
	text *fileText
	// interned holds values that repeat across records (event names, regions, account ids,
	// roles), so each is allocated once per reader.
	interned map[string]*string
	// lastInterned is each field's value in the record before, which the next record's mostly
	// repeats (a trail file is one account and region): compared before the map is hashed.
	lastInterned [fieldCount]*string
	strs         []string // backing of str's pointers
	x            extractor
	records      []extracted // the file's archive records as elementEnd read them
}

// internedMax bounds the interned values of one reader.
const internedMax = 1 << 16

// setFile starts a file, its records' raw to be stored in text (nil ends it).
func (n *normalizer) setFile(data []byte, text *fileText) {
	n.file, n.text, n.strs = data, text, nil // str's strings may be slices of the last file's text
	n.records = n.records[:0]
}

// inFile reports whether raw lies within the file being read.
func (n *normalizer) inFile(raw []byte) bool {
	off := cap(n.file) - cap(raw)
	return len(raw) > 0 && off >= 0 && off+len(raw) <= len(n.file) && &n.file[off] == &raw[0]
}

// storeRaw sets row.Raw and row.RawEventIDAt from the record's text (invalid UTF-8 replaced): the
// text without the value of its eventID when it holds row.EventID verbatim, else the whole text.
// at is where the value is, when the caller knows (valid UTF-8 only), else -1. It returns the
// byte offset of the value cut out, or -1. With own, nothing reads raw's bytes again, and when
// they are the file's, the value is cut out where they are: the text after it moves up over it,
// and row.Raw is a view of the file (see fileText). raw's first ascii bytes are known ASCII.
func (n *normalizer) storeRaw(raw []byte, row *warehouse.EventRow, at int, own bool, ascii int) int {
	if at < 0 {
		if !utf8.Valid(raw) {
			raw = []byte(strings.ToValidUTF8(string(raw), "\uFFFD"))
		}
		at = eventIDAt(raw, row.EventID, &n.scratch)
	}
	head, tail := raw, raw[:0]
	if at > 0 && at <= math.MaxInt32 {
		head, tail = raw[:at], raw[at+len(row.EventID):]
		row.RawEventIDAt = int32(runeCount(head, ascii))
	} else {
		at = -1
	}
	if n.text != nil && n.inFile(raw) {
		if own {
			stored := raw[:len(head)+copy(raw[len(head):], tail)]
			row.Raw = unsafe.String(unsafe.SliceData(stored), len(stored))
			return at
		}
		if s, ok := n.text.add(head, tail); ok {
			row.Raw = s
			return at
		}
	}
	row.Raw = string(head) + string(tail)
	return at
}

// eventIDAt is the byte offset in raw of the value of an "eventID" member that is id verbatim,
// or -1. Which one, if several are, does not matter: the record is rebuilt byte for byte by
// inserting id at the offset. scratch is a buffer to reuse.
func eventIDAt(raw []byte, id string, scratch *[]byte) int {
	// The compact spelling in one search (SIMD for patterns of up to 64 bytes), then any other.
	*scratch = append(append(append((*scratch)[:0], eventIDKey...), ':', '"'), id...)
	if k := bytes.Index(raw, append(*scratch, '"')); k >= 0 {
		return k + len(eventIDKey) + 2
	}
	for from := 0; ; {
		k := bytes.Index(raw[from:], eventIDKey)
		if k < 0 {
			return -1
		}
		from += k + len(eventIDKey)
		i := skipSpace(raw, from)
		if i >= len(raw) || raw[i] != ':' {
			continue
		}
		i = skipSpace(raw, i+1)
		if i < len(raw) && raw[i] == '"' && bytes.HasPrefix(raw[i+1:], []byte(id)) && i+1+len(id) < len(raw) && raw[i+1+len(id)] == '"' {
			return i + 1
		}
	}
}

// runeCount is utf8.RuneCount of valid UTF-8 whose first ascii bytes are ASCII, eight ASCII bytes
// at a time.
func runeCount(b []byte, ascii int) int {
	ascii = min(ascii, len(b))
	ascii += asciiPrefix(b[ascii:])
	return ascii + utf8.RuneCount(b[ascii:])
}

// asciiPrefix is the length of a prefix of b that is ASCII: b's eight-byte words up to the first
// that is not, eight bytes at a time.
func asciiPrefix(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&0x8080808080808080 != 0 {
			break
		}
	}
	return i
}

var eventIDKey = []byte(`"eventID"`)

// intern is optText for a value that repeats across records: equal values share one string.
func (n *normalizer) intern(v *fastjson.Value) *string {
	if v == nil || v.Type() != fastjson.TypeString {
		return optText(v)
	}
	return n.internBytes(v.GetStringBytes())
}

// internBytes is intern of a string's bytes.
func (n *normalizer) internBytes(b []byte) *string {
	if p, ok := n.interned[string(b)]; ok {
		return p
	}
	return n.remember(string(b), opt(validText(b)))
}

// internText is internBytes of valid text, which may be a view of the file: a value interned is
// a copy.
func (n *normalizer) internText(s string) *string {
	if p, ok := n.interned[s]; ok {
		return p
	}
	p := opt(strings.Clone(s))
	if p == nil {
		return nil
	}
	return n.remember(*p, p)
}

// remember interns p, a string of its own, under key while there is room.
func (n *normalizer) remember(key string, p *string) *string {
	if p == nil || len(n.interned) >= internedMax {
		return p
	}
	if n.interned == nil {
		n.interned = map[string]*string{}
	}
	n.interned[key] = p
	return p
}

// validText copies b into a string, replacing invalid UTF-8.
func validText(b []byte) string {
	if !utf8.Valid(b) {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(b)
}

// str is &s, allocated with others: a pointer per optional column of every row was a good part
// of the garbage ingest made.
func (n *normalizer) str(s string) *string {
	if len(n.strs) == cap(n.strs) {
		n.strs = make([]string, 0, 512)
	}
	n.strs = append(n.strs, s)
	return &n.strs[len(n.strs)-1]
}

// normalize fills row from rec. The record's raw JSON is kept whole: raw, its original bytes,
// when the caller has them, else rec serialized again.
func (n *normalizer) normalize(rec *fastjson.Value, raw []byte, row *warehouse.EventRow) error {
	*row = warehouse.EventRow{}
	row.EventID = text(rec.Get("eventID"))
	if row.EventID == "" {
		return fmt.Errorf("%w: no eventID", errRejected)
	}
	when := text(rec.Get("eventTime"))
	if when == "" {
		return fmt.Errorf("%w: event %s has no eventTime", errRejected, row.EventID)
	}
	t, err := time.Parse(time.RFC3339Nano, when)
	if err != nil {
		return fmt.Errorf("%w: event %s has unparseable eventTime %q", errRejected, row.EventID, clip(when))
	}
	row.EventTime = t.UTC()
	if raw == nil {
		n.buf = rec.MarshalTo(n.buf[:0])
		raw = n.buf
	}
	// The parser is lenient where DuckDB is not (numbers such as 1-2, control characters and
	// unknown escapes in strings); one such record in the lake would fail every query of raw.
	if !json.Valid(raw) {
		return fmt.Errorf("%w: event %s is not valid JSON", errRejected, row.EventID)
	}
	row.EventVersion = n.intern(rec.Get("eventVersion"))
	row.EventSource = n.intern(rec.Get("eventSource"))
	row.EventName = n.intern(rec.Get("eventName"))
	row.EventType = n.intern(rec.Get("eventType"))
	row.EventCategory = n.intern(rec.Get("eventCategory"))
	row.AWSRegion = n.intern(rec.Get("awsRegion"))
	row.RecipientAccountID = n.intern(rec.Get("recipientAccountId"))
	row.SourceIPAddress = n.intern(rec.Get("sourceIPAddress"))
	row.UserAgent = n.intern(rec.Get("userAgent"))
	row.ErrorCode = n.intern(rec.Get("errorCode"))
	row.ReadOnly = boolean(rec.Get("readOnly"))
	row.ManagementEvent = boolean(rec.Get("managementEvent"))

	ui := rec.Get("userIdentity")
	row.IdentityType = n.intern(ui.Get("type"))
	row.IdentityARN = optText(ui.Get("arn"))
	row.IdentityAccountID = n.intern(ui.Get("accountId"))
	row.IdentityUserName = n.intern(ui.Get("userName"))
	row.AccessKeyID = optText(ui.Get("accessKeyId"))
	row.InvokedBy = n.intern(ui.Get("invokedBy"))
	sc := ui.Get("sessionContext")
	row.SessionIssuerARN = n.intern(sc.Get("sessionIssuer", "arn"))
	row.SessionIssuerType = n.intern(sc.Get("sessionIssuer", "type"))
	row.SessionMFAAuthenticated = boolean(sc.Get("attributes", "mfaAuthenticated"))

	req := rec.Get("requestParameters")
	resp := rec.Get("responseElements")
	row.RoleARN = n.intern(req.Get("roleArn"))
	row.RoleSessionName = optText(req.Get("roleSessionName"))
	row.IssuedAccessKeyID = optText(resp.Get("credentials", "accessKeyId"))

	// The identity that names who issued the credentials: for an issuance the requested
	// SourceIdentity (echoed in the response, or inherited from the calling session when roles are
	// chained); for any other call the SourceIdentity of the session that made it.
	sessionSI, requestSI, responseSI := text(sc.Get("sourceIdentity")), text(req.Get("sourceIdentity")), text(resp.Get("sourceIdentity"))
	si := sessionSI
	if warehouse.IsIssuanceCall(row.EventSource, row.EventName) {
		si = firstNonEmpty(requestSI, responseSI, sessionSI)
	}
	row.SourceIdentity = opt(si)
	if id, ok := sourceid.Parse(si); ok {
		row.SourceIdentityKind, row.SourceIdentityID, row.SourceIdentityUser = opt(string(id.Kind)), opt(id.ID), opt(id.User)
	}

	add := rec.Get("addendum")
	row.AddendumReason = n.intern(add.Get("reason"))
	row.AddendumOriginalEventID = optText(add.Get("originalEventID"))

	n.storeRaw(raw, row, -1, false, 0) // row's values may be views of raw (fastjson's)
	return nil
}

// text reads a scalar as text whatever its JSON type: strings as-is, numbers in their original
// spelling (so account ids keep leading zeros when they are strings and stay exact when not),
// booleans as true/false, objects and arrays as compact JSON, null or absent as "".
func text(v *fastjson.Value) string {
	if v == nil {
		return ""
	}
	switch v.Type() {
	case fastjson.TypeNull:
		return ""
	case fastjson.TypeString:
		return validText(v.GetStringBytes())
	default:
		return validText(v.MarshalTo(nil))
	}
}

// optText is text as a nullable column value: nil for absent, null or empty.
func optText(v *fastjson.Value) *string { return opt(text(v)) }

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// boolean reads true/false or the strings "true"/"false" (any case); anything else is unknown.
func boolean(v *fastjson.Value) *bool {
	if v == nil {
		return nil
	}
	var b bool
	switch v.Type() {
	case fastjson.TypeTrue:
		b = true
	case fastjson.TypeFalse:
		b = false
	case fastjson.TypeString:
		switch strings.ToLower(string(v.GetStringBytes())) {
		case "true":
			b = true
		case "false":
			b = false
		default:
			return nil
		}
	default:
		return nil
	}
	return &b
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
