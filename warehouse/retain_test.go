package warehouse

import (
	"strings"
	"testing"
	"unsafe"
)

// TestAddEventsKeepsNoBytesOfItsRows: once AddEvents returns, the batch holds copies of every
// value it was given, so a caller may reuse the memory its strings were in (ingest recycles each
// file's text).
func TestAddEventsKeepsNoBytesOfItsRows(t *testing.T) {
	root := t.TempDir()
	w := openWriter(t, root)
	b := w.NewBatch()
	mem := []byte(strings.Repeat(`{"eventID":"e0","sourceIPAddress":"192.0.2.1","arn":"arn:aws:iam::111:role/R"}`, 3))
	text := unsafe.String(&mem[0], len(mem))
	rec := text[:len(text)/3]
	var rows []EventRow
	for i := range 3 {
		r := event("e"+string(rune('0'+i)), t0)
		at := func(s string) string { i := strings.Index(rec, s); return rec[i : i+len(s)] }
		ip, arn, kind := at("192.0.2.1"), at("arn:aws:iam::111:role/R"), at("eventID")
		r.Raw, r.SourceIPAddress, r.IdentityARN, r.SessionIssuerARN, r.SourceIdentityKind = rec, &ip, &arn, &arn, &kind
		if isIssuance(&r) {
			t.Fatal("test rows are not issuances")
		}
		r.EventSource, r.EventName, r.IssuedAccessKeyID = &kind, &kind, &ip
		rows = append(rows, r)
	}
	rows[0].EventSource, rows[0].EventName = ptr("sts.amazonaws.com"), ptr("AssumeRole")
	if err := b.AddEvents(rows); err != nil {
		t.Fatal(err)
	}
	for i := range mem {
		mem[i] = 'X'
	}
	if err := b.Commit(t.Context(), t0); err != nil {
		t.Fatal(err)
	}
	w.Close()
	want := `{"eventID":"e0","sourceIPAddress":"192.0.2.1","arn":"arn:aws:iam::111:role/R"}`
	if n := count(t, root, `SELECT count(*) FROM events_all WHERE raw = '`+want+`' AND source_ip_address = '192.0.2.1'
		AND identity_arn = 'arn:aws:iam::111:role/R' AND session_issuer_arn = identity_arn AND source_identity_kind = 'eventID'`); n != 3 {
		t.Errorf("%d of 3 rows read back as written", n)
	}
	if n := count(t, root, `SELECT count(*) FROM catalog.issuance_index WHERE issued_access_key_id = '192.0.2.1'`); n != 1 {
		t.Errorf("index rows read back as written: %d of 1", n)
	}
}
