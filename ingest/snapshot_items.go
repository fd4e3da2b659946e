package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/valyala/fastjson"
)

// eachSnapshotItem reads a session-table snapshot from a stream: JSON lines (or concatenated
// objects, or one array) of plain items or of DynamoDB JSON items ({"Item": {"id": {"S": "..."}}},
// as export-to-S3 writes them), handing each item's row to fn as it is read. Every attribute is
// kept in Raw. Items without an id are reported, not stored.
func eachSnapshotItem(in io.Reader, fn func(warehouse.SnapshotRow) error) ([]string, error) {
	var p fastjson.Parser
	var problems []string
	n := 0
	handle := func(v *fastjson.Value) error {
		n++
		item, err := plainItem(v)
		if err != nil {
			return fmt.Errorf("item %d: %w", n, err)
		}
		row, err := snapshotRow(item)
		if err != nil {
			problems = append(problems, fmt.Sprintf("item %d: %v", n, err))
			return nil
		}
		return fn(row)
	}
	// Values are cut out of the stream and parsed one at a time: a whole-file parser would hold
	// the file and a tree of every item.
	values := valueStream{r: in}
	for {
		b, err := values.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return problems, fmt.Errorf("after %d items: %w", n, err)
		}
		v, err := p.ParseBytes(b)
		if err != nil {
			return problems, fmt.Errorf("invalid JSON after %d items: %w", n, err)
		}
		if err := handle(v); err != nil {
			return problems, err
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("no session items in the file")
	}
	return problems, nil
}

// plainItem converts one line to a plain attribute map, unwrapping DynamoDB JSON.
func plainItem(v *fastjson.Value) (map[string]any, error) {
	if v.Type() != fastjson.TypeObject {
		return nil, fmt.Errorf("a JSON %s, not a session item", v.Type())
	}
	if inner := v.Get("Item"); inner != nil && inner.Type() == fastjson.TypeObject {
		return dynamoItem(inner.GetObject())
	}
	var generic any
	if err := json.Unmarshal(v.MarshalTo(nil), &generic); err != nil {
		return nil, err
	}
	return generic.(map[string]any), nil
}

func dynamoItem(o *fastjson.Object) (map[string]any, error) {
	out := map[string]any{}
	var err error
	o.Visit(func(k []byte, v *fastjson.Value) {
		if err != nil {
			return
		}
		var plain any
		if plain, err = dynamoValue(v); err != nil {
			err = fmt.Errorf("attribute %q: %w", k, err)
			return
		}
		out[string(k)] = plain
	})
	return out, err
}

// dynamoValue converts one DynamoDB JSON attribute value ({"S": "x"}, {"N": "1"}, ...).
func dynamoValue(v *fastjson.Value) (any, error) {
	o, err := v.Object()
	if err != nil || o.Len() != 1 {
		return nil, fmt.Errorf("not a DynamoDB attribute value: %s", clip(string(v.MarshalTo(nil))))
	}
	var out any
	o.Visit(func(k []byte, inner *fastjson.Value) {
		switch string(k) {
		case "S":
			out = string(inner.GetStringBytes())
		case "N":
			out = json.Number(inner.GetStringBytes())
		case "BOOL":
			out = inner.GetBool()
		case "NULL":
			out = nil
		case "B":
			out = string(inner.GetStringBytes())
		case "SS", "BS":
			var list []string
			for _, e := range inner.GetArray() {
				list = append(list, string(e.GetStringBytes()))
			}
			out = list
		case "NS":
			var list []json.Number
			for _, e := range inner.GetArray() {
				list = append(list, json.Number(e.GetStringBytes()))
			}
			out = list
		case "L":
			var list []any
			for _, e := range inner.GetArray() {
				x, e2 := dynamoValue(e)
				if e2 != nil {
					err = e2
					return
				}
				list = append(list, x)
			}
			out = list
		case "M":
			out, err = dynamoItem(inner.GetObject())
		default:
			err = fmt.Errorf("unknown DynamoDB type %q", k)
		}
	})
	return out, err
}

// snapshotRow maps a plain item onto the snapshot columns.
func snapshotRow(item map[string]any) (warehouse.SnapshotRow, error) {
	raw, err := json.Marshal(item)
	if err != nil {
		return warehouse.SnapshotRow{}, err
	}
	row := warehouse.SnapshotRow{
		ID:               attrText(item["id"]),
		User:             opt(attrText(item["user"])),
		Profile:          opt(attrText(item["profile"])),
		ServerInstanceID: opt(attrText(item["server_instance_id"])),
		Status:           opt(attrText(item["status"])),
		SourceIdentity:   opt(attrText(item["source_identity"])),
		RevokedBy:        opt(attrText(item["revoked_by"])),
		RevokedReason:    opt(attrText(item["revoked_reason"])),
		StartedAt:        attrTime(item["started_at"]),
		LastAccessAt:     attrTime(item["last_access_at"]),
		ExpiresAt:        attrTime(item["expires_at"]),
		CreatedAt:        attrTime(item["created_at"]),
		UpdatedAt:        attrTime(item["updated_at"]),
		RevokedAt:        attrTime(item["revoked_at"]),
		RequestCount:     attrInt(item["request_count"]),
		TTL:              attrInt(item["ttl"]),
		Raw:              string(raw),
	}
	if row.ID == "" {
		return row, fmt.Errorf("no id attribute")
	}
	return row, nil
}

func attrText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func attrTime(v any) *time.Time {
	s := attrText(v)
	if s == "" {
		return nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		t = t.UTC()
		return &t
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		t := time.Unix(n, 0).UTC()
		return &t
	}
	return nil
}

func attrInt(v any) *int64 {
	s := strings.TrimSpace(attrText(v))
	if s == "" {
		return nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return &n
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		n := int64(f)
		return &n
	}
	return nil
}

// snapshotTime is when a snapshot file reflects the table: the newest timestamp any of its items
// carries, or the file's modification time when they carry none.
func snapshotTime(rows []warehouse.SnapshotRow, mtime time.Time) time.Time {
	var newest time.Time
	for _, r := range rows {
		newest = newestChange(newest, r)
	}
	if newest.IsZero() {
		return mtime.UTC()
	}
	return newest
}

// newestChange is the later of t and the newest time item r records a change at.
func newestChange(t time.Time, r warehouse.SnapshotRow) time.Time {
	for _, at := range []*time.Time{r.UpdatedAt, r.LastAccessAt, r.CreatedAt, r.RevokedAt} {
		if at != nil && at.After(t) {
			t = *at
		}
	}
	return t
}
