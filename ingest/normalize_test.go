package ingest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/valyala/fastjson"
)

func normalizeJSON(t *testing.T, rec string) (warehouse.EventRow, error) {
	t.Helper()
	v, err := fastjson.Parse(rec)
	if err != nil {
		t.Fatalf("bad test JSON: %v", err)
	}
	var row warehouse.EventRow
	var n normalizer
	err = n.normalize(v, nil, &row)
	return row, err
}

func TestNormalizeIdentityLocations(t *testing.T) {
	tests := []struct {
		name string
		rec  string
		want func(r warehouse.EventRow) []string // "got != want" mismatches
	}{
		{
			name: "issuance_source_identity_from_request",
			rec: `{"eventID":"e1","eventTime":"2026-11-02T10:05:12Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole",
				"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111111111111:user/alice","accessKeyId":"AKIAALICE","userName":"alice"},
				"requestParameters":{"roleArn":"arn:aws:iam::222222222222:role/ProdAdmin","roleSessionName":"alice","sourceIdentity":"sentinel-s-0123456789abcdef-alice"},
				"responseElements":{"credentials":{"accessKeyId":"ASIANEW"},"assumedRoleUser":{"arn":"arn:aws:sts::222222222222:assumed-role/ProdAdmin/alice"},"sourceIdentity":"sentinel-s-0123456789abcdef-alice"}}`,
			want: func(r warehouse.EventRow) []string {
				return diff(
					"role_arn", str(r.RoleARN), "arn:aws:iam::222222222222:role/ProdAdmin",
					"role_session_name", str(r.RoleSessionName), "alice",
					"issued_access_key_id", str(r.IssuedAccessKeyID), "ASIANEW",
					"source_identity", str(r.SourceIdentity), "sentinel-s-0123456789abcdef-alice",
					"kind", str(r.SourceIdentityKind), "s", "id", str(r.SourceIdentityID), "0123456789abcdef", "user", str(r.SourceIdentityUser), "alice",
					"identity_type", str(r.IdentityType), "IAMUser", "access_key_id", str(r.AccessKeyID), "AKIAALICE", "identity_user_name", str(r.IdentityUserName), "alice")
			},
		},
		{
			name: "issuance_source_identity_only_in_response",
			rec: `{"eventID":"e2","eventTime":"2026-11-02T10:05:12Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRoleWithSAML",
				"requestParameters":{"roleArn":"arn:aws:iam::1:role/R"},"responseElements":{"sourceIdentity":"sentinel-r-0123456789abcdef-bob"}}`,
			want: func(r warehouse.EventRow) []string {
				return diff("source_identity", str(r.SourceIdentity), "sentinel-r-0123456789abcdef-bob", "kind", str(r.SourceIdentityKind), "r", "user", str(r.SourceIdentityUser), "bob")
			},
		},
		{
			name: "chained_issuance_inherits_caller_session_identity",
			rec: `{"eventID":"e3","eventTime":"2026-11-02T10:05:12Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole",
				"userIdentity":{"type":"AssumedRole","accessKeyId":"ASIAOLD","sessionContext":{"sourceIdentity":"sentinel-0123456789abcdef","sessionIssuer":{"arn":"arn:aws:iam::1:role/First","type":"Role"}}},
				"requestParameters":{"roleArn":"arn:aws:iam::1:role/Second"}}`,
			want: func(r warehouse.EventRow) []string {
				return diff("source_identity", str(r.SourceIdentity), "sentinel-0123456789abcdef", "kind", str(r.SourceIdentityKind), "s",
					"session_issuer_arn", str(r.SessionIssuerARN), "arn:aws:iam::1:role/First", "session_issuer_type", str(r.SessionIssuerType), "Role")
			},
		},
		{
			name: "activity_carries_session_identity_and_key",
			rec: `{"eventID":"e4","eventTime":"2026-11-02T11:00:00.5Z","eventSource":"s3.amazonaws.com","eventName":"PutObject","readOnly":false,
				"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::222222222222:assumed-role/ProdAdmin/alice","accessKeyId":"ASIANEW",
				"sessionContext":{"sourceIdentity":"okta-carol@example.com","attributes":{"creationDate":"2026-11-02T10:05:12Z","mfaAuthenticated":"true"},
				"sessionIssuer":{"arn":"arn:aws:iam::222222222222:role/ProdAdmin"}}}}`,
			want: func(r warehouse.EventRow) []string {
				return diff("access_key_id", str(r.AccessKeyID), "ASIANEW", "source_identity", str(r.SourceIdentity), "okta-carol@example.com",
					"kind", str(r.SourceIdentityKind), "",
					"read_only", boolText(r.ReadOnly), "false", "mfa", boolText(r.SessionMFAAuthenticated), "true",
					"event_time", r.EventTime.Format(time.RFC3339Nano), "2026-11-02T11:00:00.5Z")
			},
		},
		{
			name: "types_that_drift_become_text",
			rec: `{"eventID":"e5","eventTime":"2026-11-02T10:00:00Z","recipientAccountId":"033333333333","readOnly":"true",
				"errorCode":null,"userAgent":42,"requestParameters":{"durationSeconds":"3600","roleArn":{"weird":true}},"sourceIPAddress":["1.2.3.4"]}`,
			want: func(r warehouse.EventRow) []string {
				return diff("account", str(r.RecipientAccountID), "033333333333", "read_only", boolText(r.ReadOnly), "true",
					"error_code", str(r.ErrorCode), "", "user_agent", str(r.UserAgent), "42", "role_arn", str(r.RoleARN), `{"weird":true}`,
					"ip", str(r.SourceIPAddress), `["1.2.3.4"]`)
			},
		},
		{
			name: "keys_are_case_sensitive",
			rec:  `{"eventID":"e6","eventTime":"2026-11-02T10:00:00Z","EventName":"Spoof","eventName":"GetObject"}`,
			want: func(r warehouse.EventRow) []string { return diff("event_name", str(r.EventName), "GetObject") },
		},
		{
			name: "addendum_and_raw_kept_whole",
			rec:  `{"eventID":"e7","eventTime":"2026-11-02T10:00:00Z","addendum":{"reason":"DELIVERY_DELAY","originalEventID":"e0"},"x":"\u00e9"}`,
			want: func(r warehouse.EventRow) []string {
				return diff("reason", str(r.AddendumReason), "DELIVERY_DELAY", "original", str(r.AddendumOriginalEventID), "e0",
					"raw", wholeRaw(r), `{"eventID":"e7","eventTime":"2026-11-02T10:00:00Z","addendum":{"reason":"DELIVERY_DELAY","originalEventID":"e0"},"x":"\u00e9"}`)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row, err := normalizeJSON(t, tt.rec)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range tt.want(row) {
				t.Error(m)
			}
		})
	}
}

// wholeRaw is what the views make of a row's raw (warehouse.RawSQL): eventID put back at
// RawEventIDAt, counted in characters as SQL's substr counts them.
func wholeRaw(r warehouse.EventRow) string {
	if r.RawEventIDAt <= 0 {
		return r.Raw
	}
	chars := []rune(r.Raw)
	return string(chars[:r.RawEventIDAt]) + r.EventID + string(chars[r.RawEventIDAt:])
}

func TestNormalizeStoresRawWithoutItsEventID(t *testing.T) {
	tests := []struct {
		name, rec, stored string
	}{
		{"compact", `{"eventVersion":"1.08","eventID":"3f1c9a52-8f0e-4c55-9d2f-1b2a3c4d5e6f","eventTime":"2026-11-02T10:00:00Z"}`,
			`{"eventVersion":"1.08","eventID":"","eventTime":"2026-11-02T10:00:00Z"}`},
		{"spaced", "{\n  \"eventID\" :\t \"e1\",\n  \"eventTime\": \"2026-11-02T10:00:00Z\"\n}",
			"{\n  \"eventID\" :\t \"\",\n  \"eventTime\": \"2026-11-02T10:00:00Z\"\n}"},
		{"characters_before_it_are_counted_not_bytes", `{"userAgent":"café 😀","eventID":"e2","eventTime":"2026-11-02T10:00:00Z"}`,
			`{"userAgent":"café 😀","eventID":"","eventTime":"2026-11-02T10:00:00Z"}`},
		{"an_earlier_member_that_is_not_it", `{"requestParameters":{"eventID":"other","x":{"eventID":"e3x"}},"eventID":"e3","eventTime":"2026-11-02T10:00:00Z"}`,
			`{"requestParameters":{"eventID":"other","x":{"eventID":"e3x"}},"eventID":"","eventTime":"2026-11-02T10:00:00Z"}`},
		{"escaped_in_the_record_is_kept_whole", `{"eventID":"a\u0041b","eventTime":"2026-11-02T10:00:00Z"}`,
			`{"eventID":"a\u0041b","eventTime":"2026-11-02T10:00:00Z"}`},
		{"a_number_is_kept_whole", `{"eventID":12345,"eventTime":"2026-11-02T10:00:00Z"}`,
			`{"eventID":12345,"eventTime":"2026-11-02T10:00:00Z"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := fastjson.Parse(tt.rec)
			if err != nil {
				t.Fatal(err)
			}
			var n normalizer
			text := fileTextOf([]byte("[" + tt.rec + "]"))
			n.setFile(text.buf, text)
			var row warehouse.EventRow
			if err := n.normalize(v, n.file[1:len(n.file)-1], &row); err != nil {
				t.Fatal(err)
			}
			if row.Raw != tt.stored {
				t.Errorf("stored raw = %q, want %q", row.Raw, tt.stored)
			}
			if got := wholeRaw(row); got != tt.rec {
				t.Errorf("raw rebuilt = %q, want the record %q", got, tt.rec)
			}
			if (row.RawEventIDAt > 0) != (tt.stored != tt.rec) {
				t.Errorf("raw_event_id_at = %d with stored %q", row.RawEventIDAt, row.Raw)
			}
		})
	}
}

func TestNormalizeRejects(t *testing.T) {
	tests := map[string]string{
		`{"eventTime":"2026-11-02T10:00:00Z"}`:          "no eventID",
		`{"eventID":"x"}`:                               "event x has no eventTime",
		`{"eventID":"x","eventTime":"yesterday"}`:       `unparseable eventTime "yesterday"`,
		`{"eventID":null,"eventTime":"2026-11-02T10Z"}`: "no eventID",
	}
	for rec, want := range tests {
		_, err := normalizeJSON(t, rec)
		if !errors.Is(err, errRejected) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want rejection containing %q", rec, err, want)
		}
	}
}

func TestNormalizeInvalidUTF8IsRepaired(t *testing.T) {
	row, err := normalizeJSON(t, "{\"eventID\":\"e\",\"eventTime\":\"2026-11-02T10:00:00Z\",\"userAgent\":\"bad\xffbyte\"}")
	if err != nil {
		t.Fatal(err)
	}
	if str(row.UserAgent) != "bad\uFFFDbyte" || strings.Contains(row.Raw, "\xff") {
		t.Fatalf("user agent %q raw %q", str(row.UserAgent), row.Raw)
	}
}

func diff(triples ...string) []string {
	var out []string
	for i := 0; i+2 < len(triples); i += 3 {
		if triples[i+1] != triples[i+2] {
			out = append(out, triples[i]+": got "+triples[i+1]+", want "+triples[i+2])
		}
	}
	return out
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func boolText(b *bool) string {
	switch {
	case b == nil:
		return "null"
	case *b:
		return "true"
	default:
		return "false"
	}
}

func FuzzNormalize(f *testing.F) {
	f.Add([]byte(`{"Records":[{"eventID":"e1","eventTime":"2026-11-02T10:05:12Z","requestParameters":{"sourceIdentity":"sentinel-s-0123456789abcdef"}}]}`))
	f.Add([]byte(`{"eventID":"a","eventTime":"2026-11-02T10:05:12Z"}` + "\n" + `{"eventID":"b"`))
	f.Add([]byte(`{"Events":[{"CloudTrailEvent":"{\"eventID\":\"x\",\"eventTime\":\"2026-01-01T00:00:00Z\"}"}]}`))
	f.Add([]byte(`{"messageType":"DATA_MESSAGE","logEvents":[{"message":"{}"}]}`))
	f.Add([]byte(`[[1],{"Records":3}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s splitter
		var n normalizer
		res, _ := s.split(data, func(i int, rec *fastjson.Value, raw []byte) error {
			var row warehouse.EventRow
			if err := n.normalize(rec, raw, &row); err == nil {
				if row.EventID == "" || row.EventTime.IsZero() {
					t.Fatalf("accepted a row without id or time: %+v", row)
				}
				if want := strings.ToValidUTF8(string(raw), "\uFFFD"); raw != nil && wholeRaw(row) != want {
					t.Fatalf("raw rebuilt = %q, want %q", wholeRaw(row), want)
				}
			}
			return nil
		})
		if res.found < 0 || res.rejected < 0 {
			t.Fatal("negative counts")
		}
	})
}

// TestRawIsTheRecordsBytesAcrossFiles: a reader slices raw out of one string per file; rows of a
// file keep their records' exact bytes after the reader's buffer has held the next file.
func TestRawIsTheRecordsBytesAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	records := [][]string{
		{`{"eventID":"a1","eventTime":"2026-11-02T10:00:00Z", "x": [1, 2]}`, "{\"eventID\":\"a2\",\"eventTime\":\"2026-11-02T10:00:01Z\",\"ua\":\"bad\xffbyte\"}"},
		{`{"eventID":"b1","eventTime":"2026-11-02T11:00:00Z","y":{"z":"caf\u00e9"}}`},
	}
	for i, recs := range records {
		body := "{\"Records\":[\n  " + strings.Join(recs, ",\n  ") + "\n]}"
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.json", i)), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	objects, _, err := listDirectory(dir)
	if err != nil || len(objects) != 2 {
		t.Fatalf("list: %v %v", objects, err)
	}
	r := &reader{}
	first := r.read(context.Background(), job{obj: objects[0]}, nil)
	second := r.read(context.Background(), job{obj: objects[1]}, nil)
	want := []string{records[0][0], strings.ToValidUTF8(records[0][1], "\uFFFD"), records[1][0]}
	var got []string
	for _, oc := range []outcome{first, second} {
		if oc.err != nil {
			t.Fatal(oc.err)
		}
		for _, row := range oc.rows {
			got = append(got, wholeRaw(row))
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("raw:\n got %q\nwant %q", got, want)
	}
}
