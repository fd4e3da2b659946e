package ingest

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sentinel-audit/sentinel/sourceid"
	"github.com/sentinel-audit/sentinel/warehouse"
)

// The fast path of normalize. A trail record's columns are a few dozen members of a record of
// ~1.6 KB; parsing it into a tree and looking them up cost more than everything else a reader
// does. extractor instead walks the record's bytes once, checking its syntax, and notes where the
// members it needs are; their values become slices of the stored raw text, not copies.
//
// It handles the records CloudTrail writes. Anything else — a member of another JSON type than
// usual, an escape in a value or key it needs, a record it would reject, invalid UTF-8, deep
// nesting, a syntax error — makes it give up, and the record goes through normalize, which
// decides. So the fast path never changes an outcome: FuzzNormalizeFast checks that every row it
// makes is the row normalize makes.

// field is a record member that becomes a column.
type field uint8

const (
	fEventID field = iota
	fEventTime
	fEventVersion
	fEventSource
	fEventName
	fEventType
	fEventCategory
	fAWSRegion
	fRecipientAccountID
	fSourceIPAddress
	fUserAgent
	fErrorCode
	fReadOnly
	fManagementEvent
	fIdentityType
	fIdentityARN
	fIdentityAccountID
	fIdentityUserName
	fAccessKeyID
	fInvokedBy
	fSessionIssuerARN
	fSessionIssuerType
	fSessionMFA
	fSessionSI
	fRoleARN
	fRoleSessionName
	fRequestSI
	fIssuedAccessKeyID
	fResponseSI
	fAddendumReason
	fAddendumOriginal
	fieldCount
)

// node is a record member whose own members hold fields.
type node uint8

const (
	oRecord node = iota
	oUserIdentity
	oSessionContext
	oSessionIssuer
	oAttributes
	oRequest
	oResponse
	oCredentials
	oAddendum
	nodeCount
)

// member is what a key of an object is: a field, a node to descend into, or neither.
type member struct {
	field field // fieldCount: not a field
	node  node
}

var none = member{field: fieldCount}

// memberOf names the members the lake needs.
func memberOf(in node, key []byte) member {
	switch in {
	case oRecord:
		switch string(key) {
		case "eventID":
			return member{field: fEventID}
		case "eventTime":
			return member{field: fEventTime}
		case "eventVersion":
			return member{field: fEventVersion}
		case "eventSource":
			return member{field: fEventSource}
		case "eventName":
			return member{field: fEventName}
		case "eventType":
			return member{field: fEventType}
		case "eventCategory":
			return member{field: fEventCategory}
		case "awsRegion":
			return member{field: fAWSRegion}
		case "recipientAccountId":
			return member{field: fRecipientAccountID}
		case "sourceIPAddress":
			return member{field: fSourceIPAddress}
		case "userAgent":
			return member{field: fUserAgent}
		case "errorCode":
			return member{field: fErrorCode}
		case "readOnly":
			return member{field: fReadOnly}
		case "managementEvent":
			return member{field: fManagementEvent}
		case "userIdentity":
			return member{field: fieldCount, node: oUserIdentity}
		case "requestParameters":
			return member{field: fieldCount, node: oRequest}
		case "responseElements":
			return member{field: fieldCount, node: oResponse}
		case "addendum":
			return member{field: fieldCount, node: oAddendum}
		}
	case oUserIdentity:
		switch string(key) {
		case "type":
			return member{field: fIdentityType}
		case "arn":
			return member{field: fIdentityARN}
		case "accountId":
			return member{field: fIdentityAccountID}
		case "userName":
			return member{field: fIdentityUserName}
		case "accessKeyId":
			return member{field: fAccessKeyID}
		case "invokedBy":
			return member{field: fInvokedBy}
		case "sessionContext":
			return member{field: fieldCount, node: oSessionContext}
		}
	case oSessionContext:
		switch string(key) {
		case "sessionIssuer":
			return member{field: fieldCount, node: oSessionIssuer}
		case "attributes":
			return member{field: fieldCount, node: oAttributes}
		case "sourceIdentity":
			return member{field: fSessionSI}
		}
	case oSessionIssuer:
		switch string(key) {
		case "arn":
			return member{field: fSessionIssuerARN}
		case "type":
			return member{field: fSessionIssuerType}
		}
	case oAttributes:
		if string(key) == "mfaAuthenticated" {
			return member{field: fSessionMFA}
		}
	case oRequest:
		switch string(key) {
		case "roleArn":
			return member{field: fRoleARN}
		case "roleSessionName":
			return member{field: fRoleSessionName}
		case "sourceIdentity":
			return member{field: fRequestSI}
		}
	case oResponse:
		switch string(key) {
		case "credentials":
			return member{field: fieldCount, node: oCredentials}
		case "sourceIdentity":
			return member{field: fResponseSI}
		}
	case oCredentials:
		if string(key) == "accessKeyId" {
			return member{field: fIssuedAccessKeyID}
		}
	case oAddendum:
		switch string(key) {
		case "reason":
			return member{field: fAddendumReason}
		case "originalEventID":
			return member{field: fAddendumOriginal}
		}
	}
	return none
}

// kind is the JSON type of a field's value.
type kind uint8

const (
	kAbsent kind = iota
	kString      // a string without escapes: the bytes between the quotes
	kTrue
	kFalse
	kNull
)

type value struct {
	start, end int // the value's bytes in the record (a string's without its quotes)
	kind       kind
}

// maxDepth is the deepest nesting the fast path follows (trail records nest a few levels).
const maxDepth = 64

// extractor is one reader's reusable state for the fast path.
type extractor struct {
	b       []byte
	values  [fieldCount]value
	visited [nodeCount]bool // first occurrences only, as normalize's lookups
}

// extract walks the record in b (one JSON object, nothing else) and reports whether it could.
func (x *extractor) extract(b []byte) bool {
	i := skipSpace(b, 0)
	end, ok := x.extractAt(b, i)
	return ok && skipSpace(b, end) == len(b)
}

// extractAt walks the record that starts at b[i] and returns where it ends; the values' offsets
// are into b.
func (x *extractor) extractAt(b []byte, i int) (int, bool) {
	x.b, x.values, x.visited = b, [fieldCount]value{}, [nodeCount]bool{}
	if i >= len(b) || b[i] != '{' {
		return 0, false
	}
	return x.object(i, oRecord, true, 1)
}

// extracted is the extractor's reading of one record of an archive, offsets into the record.
type extracted struct {
	values [fieldCount]value
	ok     bool
}

// elementEnd finds where the archive element at b[i] ends, as skipValue does, reading the record
// on the way (the k-th call of a file reads its k-th record): the archive is then walked once,
// not once to split it and again for the columns.
func (n *normalizer) elementEnd(b []byte, i int) (int, bool) {
	n.records = append(n.records, extracted{})
	if end, ok := n.x.extractAt(b, i); ok {
		e := &n.records[len(n.records)-1]
		e.ok, e.values = true, n.x.values
		for f := range e.values {
			if e.values[f].kind == kString {
				e.values[f].start -= i
				e.values[f].end -= i
			}
		}
		return end, true
	}
	return skipValue(b, i)
}

// object reads the object at b[i] == '{'; want: its members are looked up (first occurrence).
func (x *extractor) object(i int, in node, want bool, depth int) (int, bool) {
	b := x.b
	if depth > maxDepth {
		return 0, false
	}
	if want {
		x.visited[in] = true
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, false
		}
		end, escaped, valid := scanString(b, i)
		if !valid || want && escaped {
			return 0, false // an escaped key may spell a wanted one
		}
		key := b[i+1 : end-1]
		if i = skipSpace(b, end); i >= len(b) || b[i] != ':' {
			return 0, false
		}
		if i = skipSpace(b, i+1); i >= len(b) {
			return 0, false
		}
		m, ok := none, true
		if want {
			m = memberOf(in, key)
		}
		switch {
		case m.field < fieldCount && x.values[m.field].kind == kAbsent:
			if i, ok = x.leaf(i, m.field, depth); !ok {
				return 0, false
			}
		case m.field == fieldCount && m.node != oRecord && !x.visited[m.node]:
			switch b[i] {
			case '{':
				i, ok = x.object(i, m.node, true, depth+1)
			case 'n':
				x.visited[m.node] = true
				i, ok = literal(b, i, "null")
			default:
				return 0, false // a wanted object of another type
			}
			if !ok {
				return 0, false
			}
		default:
			if i, ok = x.skip(i, depth); !ok {
				return 0, false
			}
		}
		var closed bool
		if i, closed, ok = next(b, i, '}'); !ok || closed {
			return i, ok
		}
	}
}

// leaf notes the value of field f at b[i].
func (x *extractor) leaf(i int, f field, depth int) (int, bool) {
	b := x.b
	switch b[i] {
	case '"':
		end, escaped, valid := scanString(b, i)
		if escaped || !valid {
			return 0, false
		}
		x.values[f] = value{start: i + 1, end: end - 1, kind: kString}
		return end, true
	case 't':
		if !isBoolField(f) {
			return 0, false // normalize spells it
		}
		x.values[f] = value{kind: kTrue}
		return literal(b, i, "true")
	case 'f':
		if !isBoolField(f) {
			return 0, false
		}
		x.values[f] = value{kind: kFalse}
		return literal(b, i, "false")
	case 'n':
		x.values[f] = value{kind: kNull}
		return literal(b, i, "null")
	}
	if isBoolField(f) {
		// normalize reads any other type of a boolean member as unknown.
		x.values[f] = value{kind: kNull}
		return x.skip(i, depth)
	}
	return 0, false // a number, object or array where text belongs: normalize spells it
}

func isBoolField(f field) bool {
	return f == fReadOnly || f == fManagementEvent || f == fSessionMFA
}

// skip checks and skips the value at b[i].
func (x *extractor) skip(i int, depth int) (int, bool) {
	b := x.b
	switch c := b[i]; {
	case c == '"':
		end, _, valid := scanString(b, i)
		return end, valid
	case c == '{':
		return x.object(i, oRecord, false, depth+1)
	case c == '[':
		if depth+1 > maxDepth {
			return 0, false
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		for {
			var ok, closed bool
			if i >= len(b) {
				return 0, false
			}
			if i, ok = x.skip(i, depth+1); !ok {
				return 0, false
			}
			if i, closed, ok = next(b, i, ']'); !ok || closed {
				return i, ok
			}
		}
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return number(b, i)
	}
	return 0, false
}

// scanString reads the string starting at b[i] == '"' and checks it the way DuckDB's JSON reader
// does (it refuses what encoding/json refuses, so a stored raw must pass): no control characters,
// and every backslash starts an escape JSON has. end: just past the closing quote; escaped: it has
// escapes. Strings are most of a record, so it finds the end and checks the text in one pass, eight
// bytes at a time, stopping only at a quote, a backslash or a control character (it replaced
// IndexByte for the quote, then a second pass to check the text: docs/performance-log.md, fifth round).
func scanString(b []byte, i int) (end int, escaped, valid bool) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	j := i + 1
	for {
		for j+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[j:])
			q, bs := w^('"'*ones), w^('\\'*ones)
			// The lowest byte flagged is exact: a quote, a backslash or a byte < 0x20.
			if m := ((q-ones)&^q | (bs-ones)&^bs | (w-0x20*ones)&^w) & highs; m != 0 {
				j += bits.TrailingZeros64(m) >> 3
				break
			}
			j += 8
		}
		for j < len(b) && b[j] != '"' && b[j] != '\\' && b[j] >= 0x20 {
			j++
		}
		if j >= len(b) {
			return 0, escaped, false
		}
		switch b[j] {
		case '"':
			return j + 1, escaped, true
		case '\\':
			escaped = true
			if j+1 >= len(b) {
				return 0, true, false
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
				continue
			case 'u':
				if j+6 > len(b) || !isHex(b[j+2]) || !isHex(b[j+3]) || !isHex(b[j+4]) || !isHex(b[j+5]) {
					return 0, true, false
				}
				j += 6
				continue
			}
			return 0, true, false
		}
		return 0, escaped, false // a control character
	}
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func literal(b []byte, i int, word string) (int, bool) {
	if !bytes.HasPrefix(b[i:], []byte(word)) {
		return 0, false
	}
	return i + len(word), true
}

// number skips a JSON number, strictly: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func number(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	digits := func() bool {
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > start
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return 0, false
		}
	}
	if i < len(b) && !isDelimiter(b[i]) {
		return 0, false
	}
	return i, true
}

// normalizeFast is normalize for a record given as its bytes, through the extractor; false
// means it could not tell, and normalize must. k is the record's place in its archive when
// elementEnd read it already (else -1).
func (n *normalizer) normalizeFast(raw []byte, k int, row *warehouse.EventRow) bool {
	// Records are mostly ASCII: the prefix that is needs no UTF-8 check, and counts as many
	// runes as bytes (storeRaw counts the runes before the eventID value).
	ascii := asciiPrefix(raw)
	if !utf8.Valid(raw[ascii:]) {
		return false
	}
	var values *[fieldCount]value
	switch {
	case k >= 0 && k < len(n.records):
		if !n.records[k].ok {
			return false // elementEnd could not read it; reading it again would not either
		}
		values = &n.records[k].values
	case n.x.extract(raw):
		values = &n.x.values
	default:
		return false
	}
	id := values[fEventID]
	when := values[fEventTime]
	if id.kind != kString || id.end == id.start || when.kind != kString {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, string(raw[when.start:when.end]))
	if err != nil {
		return false
	}
	*row = warehouse.EventRow{EventID: string(raw[id.start:id.end]), EventTime: t.UTC()}
	// Values are slices of the stored raw, which the record's own bytes may have become (raw is
	// not read again): at their offsets before the cut-out eventID value, shifted by its length
	// after it (no value contains it: it lies between quotes of its own).
	cut := n.storeRaw(raw, row, id.start, true, ascii)
	text := func(f field) string {
		v := values[f]
		if v.kind != kString {
			return ""
		}
		start, end := v.start, v.end
		if cut >= 0 && start > cut {
			start, end = start-len(row.EventID), end-len(row.EventID)
		}
		return row.Raw[start:end]
	}
	str := func(f field) *string {
		if s := text(f); s != "" {
			return n.str(s)
		}
		return nil
	}
	intern := func(f field) *string {
		s := text(f)
		if s == "" {
			return nil
		}
		if last := n.lastInterned[f]; last != nil && *last == s {
			return last
		}
		p := n.internText(s)
		n.lastInterned[f] = p
		return p
	}
	boolean := func(f field) *bool {
		switch v := values[f]; v.kind {
		case kTrue:
			return &boolTrue
		case kFalse:
			return &boolFalse
		case kString:
			switch strings.ToLower(text(f)) {
			case "true":
				return &boolTrue
			case "false":
				return &boolFalse
			}
		}
		return nil
	}
	row.EventVersion = intern(fEventVersion)
	row.EventSource = intern(fEventSource)
	row.EventName = intern(fEventName)
	row.EventType = intern(fEventType)
	row.EventCategory = intern(fEventCategory)
	row.AWSRegion = intern(fAWSRegion)
	row.RecipientAccountID = intern(fRecipientAccountID)
	row.SourceIPAddress = intern(fSourceIPAddress)
	row.UserAgent = intern(fUserAgent)
	row.ErrorCode = intern(fErrorCode)
	row.ReadOnly = boolean(fReadOnly)
	row.ManagementEvent = boolean(fManagementEvent)
	row.IdentityType = intern(fIdentityType)
	row.IdentityARN = str(fIdentityARN)
	row.IdentityAccountID = intern(fIdentityAccountID)
	row.IdentityUserName = intern(fIdentityUserName)
	row.AccessKeyID = str(fAccessKeyID)
	row.InvokedBy = intern(fInvokedBy)
	row.SessionIssuerARN = intern(fSessionIssuerARN)
	row.SessionIssuerType = intern(fSessionIssuerType)
	row.SessionMFAAuthenticated = boolean(fSessionMFA)
	row.RoleARN = intern(fRoleARN)
	row.RoleSessionName = str(fRoleSessionName)
	row.IssuedAccessKeyID = str(fIssuedAccessKeyID)
	sessionSI, requestSI, responseSI := text(fSessionSI), text(fRequestSI), text(fResponseSI)
	si := sessionSI
	if warehouse.IsIssuanceCall(row.EventSource, row.EventName) {
		si = firstNonEmpty(requestSI, responseSI, sessionSI)
	}
	if si != "" {
		row.SourceIdentity = n.str(si)
	}
	if id, ok := sourceid.Parse(si); ok {
		row.SourceIdentityKind, row.SourceIdentityID, row.SourceIdentityUser = opt(string(id.Kind)), opt(id.ID), opt(id.User)
	}
	row.AddendumReason = intern(fAddendumReason)
	row.AddendumOriginalEventID = str(fAddendumOriginal)
	return true
}

var boolTrue, boolFalse = true, false
