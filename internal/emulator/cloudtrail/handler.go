package cloudtrail

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/internal/emulator/loopback"
)

const (
	contentType     = "application/x-amz-json-1.1"
	maxBodyBytes    = 1 << 20
	maxResultsLimit = 50
)

// apiError is a JSON 1.1 error response.
type apiError struct {
	status  int
	code    string
	message string
}

func errorf(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

// lookupRequest is the LookupEvents input as the SDK serializes it.
type lookupRequest struct {
	LookupAttributes []struct {
		AttributeKey   *string `json:"AttributeKey"`
		AttributeValue *string `json:"AttributeValue"`
	} `json:"LookupAttributes"`
	StartTime     *json.Number `json:"StartTime"`
	EndTime       *json.Number `json:"EndTime"`
	EventCategory *string      `json:"EventCategory"`
	MaxResults    *json.Number `json:"MaxResults"`
	NextToken     *string      `json:"NextToken"`
}

// lookupResponse is the LookupEvents output as the SDK deserializes it.
type lookupResponse struct {
	Events    []apiEvent `json:"Events"`
	NextToken string     `json:"NextToken,omitempty"`
}

type apiEvent struct {
	EventID         string      `json:"EventId"`
	EventName       string      `json:"EventName,omitempty"`
	ReadOnly        string      `json:"ReadOnly,omitempty"`
	AccessKeyID     string      `json:"AccessKeyId,omitempty"`
	EventTime       json.Number `json:"EventTime"`
	EventSource     string      `json:"EventSource,omitempty"`
	Username        string      `json:"Username,omitempty"`
	Resources       []resource  `json:"Resources,omitempty"`
	CloudTrailEvent string      `json:"CloudTrailEvent"`
}

// query is a validated LookupEvents request.
type query struct {
	region     string
	start, end *time.Time
	attrKey    string
	attrValue  string
	category   string
	maxResults int
	after      *cursor // from NextToken: resume after this position
}

// cursor is a position in a region's newest-first order.
type cursor struct {
	unixNano int64
	seq      int64
}

// nextToken is the decoded form of the opaque NextToken.
type nextToken struct {
	UnixNano  int64  `json:"t"`
	Seq       int64  `json:"s"`
	QueryHash string `json:"q"`
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	_, region := loopback.CredentialScope(r, s.opts.Region)
	s.count(region, 1, 0, 0)

	target := r.Header.Get("X-Amz-Target")
	op := operation(target)
	switch op {
	case "LookupEvents", "ListPublicKeys", "DescribeTrails", "GetTrail", "Organizations.DescribeOrganization":
	default:
		writeError(w, errorf("UnrecognizedClientException",
			"The operation %q is not supported by this CloudTrail emulator; it serves LookupEvents, ListPublicKeys, DescribeTrails, GetTrail and Organizations' DescribeOrganization.", target))
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, errorf("UnrecognizedClientException", "%s needs a POST request.", op))
		return
	}
	if op == "LookupEvents" && !s.allow(region) {
		s.count(region, 0, 1, 0)
		writeError(w, errorf("ThrottlingException", "Rate exceeded"))
		return
	}

	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil || len(body) > maxBodyBytes {
		writeError(w, errorf("SerializationException", "Request body could not be read or is too large."))
		return
	}
	switch op {
	case "ListPublicKeys":
		s.listPublicKeys(w, body)
		return
	case "DescribeTrails":
		s.describeTrails(w, body)
		return
	case "GetTrail":
		s.getTrail(w, body)
		return
	case "Organizations.DescribeOrganization":
		s.describeOrganization(w)
		return
	}
	var req lookupRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if len(bytes.TrimSpace(body)) > 0 {
		if err := dec.Decode(&req); err != nil {
			writeError(w, errorf("SerializationException", "Request body is not a valid LookupEvents input."))
			return
		}
	}

	q, apiErr := s.parseQuery(region, &req)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	resp := s.lookup(q)
	s.count(region, 0, 0, int64(len(resp.Events)))
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) parseQuery(region string, req *lookupRequest) (*query, *apiError) {
	q := &query{region: region, maxResults: maxResultsLimit}
	if req.MaxResults != nil {
		n, err := strconv.Atoi(req.MaxResults.String())
		if err != nil || n < 1 || n > maxResultsLimit {
			return nil, errorf("InvalidMaxResultsException",
				"MaxResults must be between 1 and %d.", maxResultsLimit)
		}
		q.maxResults = n
	}
	var err error
	if q.start, err = epochTime(req.StartTime); err != nil {
		return nil, errorf("InvalidTimeRangeException", "StartTime is not a valid timestamp.")
	}
	if q.end, err = epochTime(req.EndTime); err != nil {
		return nil, errorf("InvalidTimeRangeException", "EndTime is not a valid timestamp.")
	}
	if q.start != nil && q.end != nil && q.start.After(*q.end) {
		return nil, errorf("InvalidTimeRangeException", "Start time must be before or equal to end time.")
	}
	switch len(req.LookupAttributes) {
	case 0:
	case 1:
		a := req.LookupAttributes[0]
		if a.AttributeKey == nil || a.AttributeValue == nil {
			return nil, errorf("InvalidLookupAttributesException",
				"A lookup attribute needs both AttributeKey and AttributeValue.")
		}
		if !validAttributeKey(*a.AttributeKey) {
			return nil, errorf("InvalidLookupAttributesException",
				"AttributeKey %q is not one of EventId, EventName, ReadOnly, Username, ResourceType, ResourceName, EventSource, AccessKeyId.",
				*a.AttributeKey)
		}
		if *a.AttributeValue == "" {
			return nil, errorf("InvalidLookupAttributesException", "AttributeValue must not be empty.")
		}
		q.attrKey, q.attrValue = *a.AttributeKey, *a.AttributeValue
	default:
		return nil, errorf("InvalidLookupAttributesException",
			"You can specify at most one lookup attribute; got %d.", len(req.LookupAttributes))
	}
	if req.EventCategory != nil {
		if *req.EventCategory != "insight" {
			return nil, errorf("InvalidEventCategoryException",
				"EventCategory %q is not valid; the only value is insight.", *req.EventCategory)
		}
		q.category = *req.EventCategory
	}
	if req.NextToken != nil {
		c, ok := s.decodeToken(*req.NextToken, q)
		if !ok {
			return nil, errorf("InvalidNextTokenException",
				"The NextToken is not valid for this request; pass a token only with the parameters that produced it.")
		}
		q.after = c
	}
	return q, nil
}

func validAttributeKey(k string) bool {
	switch k {
	case "EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId":
		return true
	}
	return false
}

// epochTime parses an epoch-seconds JSON number exactly (no float rounding).
func epochTime(n *json.Number) (*time.Time, error) {
	if n == nil {
		return nil, nil
	}
	r, ok := new(big.Rat).SetString(n.String())
	if !ok {
		return nil, fmt.Errorf("not a number: %s", n)
	}
	nanos := new(big.Rat).Mul(r, big.NewRat(int64(time.Second), 1))
	q := new(big.Int).Quo(nanos.Num(), nanos.Denom())
	if !q.IsInt64() {
		return nil, fmt.Errorf("out of range: %s", n)
	}
	t := time.Unix(0, q.Int64()).UTC()
	return &t, nil
}

// queryHash fingerprints the filter parameters a NextToken is bound to.
// MaxResults is deliberately excluded: a client may change the page size.
func (s *Server) queryHash(q *query) string {
	h := sha256.New()
	h.Write(s.tokenSalt[:])
	fmt.Fprintf(h, "%q|%q|%q|%q|%q|%q", q.region, timeKey(q.start), timeKey(q.end), q.attrKey, q.attrValue, q.category)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func timeKey(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return strconv.FormatInt(t.UnixNano(), 10)
}

func (s *Server) encodeToken(q *query, last *event) string {
	b, _ := json.Marshal(nextToken{UnixNano: last.time.UnixNano(), Seq: last.seq, QueryHash: s.queryHash(q)})
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) decodeToken(tok string, q *query) (*cursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return nil, false
	}
	var nt nextToken
	if json.Unmarshal(b, &nt) != nil || nt.QueryHash != s.queryHash(q) {
		return nil, false
	}
	return &cursor{unixNano: nt.UnixNano, seq: nt.Seq}, true
}

// lookup runs q against the region's history.
func (s *Server) lookup(q *query) lookupResponse {
	resp := lookupResponse{Events: []apiEvent{}}
	if q.category == "insight" {
		return resp // the emulator stores management and data events only
	}
	oldest := s.opts.Now().Add(-HistoryLimit)

	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.regions[q.region]
	if l == nil {
		return resp
	}
	l.sortIfDirty()
	i := 0
	if q.after != nil {
		c := &event{time: time.Unix(0, q.after.unixNano), seq: q.after.seq}
		i = sort.Search(len(l.events), func(i int) bool { return c.before(l.events[i]) })
	}
	var last *event
	for ; i < len(l.events); i++ {
		ev := l.events[i]
		if ev.time.Before(oldest) || (q.start != nil && ev.time.Before(*q.start)) {
			break // newest first: everything after is older still
		}
		if (q.end != nil && ev.time.After(*q.end)) || !q.matches(ev) {
			continue
		}
		if len(resp.Events) == q.maxResults {
			resp.NextToken = s.encodeToken(q, last)
			break
		}
		resp.Events = append(resp.Events, ev.api())
		last = ev
	}
	return resp
}

func (q *query) matches(ev *event) bool {
	v := q.attrValue
	switch q.attrKey {
	case "":
		return true
	case "EventId":
		return ev.id == v
	case "EventName":
		return ev.name == v
	case "ReadOnly":
		return ev.readOnly == v
	case "Username":
		return ev.username == v
	case "EventSource":
		return ev.source == v
	case "AccessKeyId":
		return ev.accessKeyID == v
	case "ResourceType", "ResourceName":
		for _, r := range ev.resources {
			if (q.attrKey == "ResourceType" && r.Type == v) || (q.attrKey == "ResourceName" && r.Name == v) {
				return true
			}
		}
	}
	return false
}

func (ev *event) api() apiEvent {
	return apiEvent{
		EventID:         ev.id,
		EventName:       ev.name,
		ReadOnly:        ev.readOnly,
		AccessKeyID:     ev.accessKeyID,
		EventTime:       epochSeconds(ev.time),
		EventSource:     ev.source,
		Username:        ev.username,
		Resources:       ev.resources,
		CloudTrailEvent: ev.raw,
	}
}

// epochSeconds formats t as JSON epoch seconds with millisecond precision.
func epochSeconds(t time.Time) json.Number {
	ms := t.UnixMilli()
	sec, frac := ms/1000, ms%1000
	if frac < 0 {
		sec, frac = sec-1, frac+1000
	}
	if frac == 0 {
		return json.Number(strconv.FormatInt(sec, 10))
	}
	return json.Number(strings.TrimRight(fmt.Sprintf("%d.%03d", sec, frac), "0"))
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("X-Amzn-ErrorType", e.code)
	writeJSON(w, e.status, map[string]string{"__type": e.code, "message": e.message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"__type":"InternalFailure","message":"response encoding failed"}`)
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("X-Amzn-RequestId", requestID())
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
