package queries

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/sentinel-audit/sentinel/ingest"
	"github.com/sentinel-audit/sentinel/warehouse"
)

// linkTrailSI is the SourceIdentity every session of TestActivityLinksEachCallToOneIssuance's
// trail carries.
const linkTrailSI = "sentinel-r-0a1b2c3d4e5f6a7b-dana"

// linkRecord is a record of that trail: a call made with key by a session carrying si, or, when
// issued is set, an AssumeRole that minted the key issued (made by an IAM user when key is empty).
type linkRecord struct {
	id, at, name, key, si, issued string
}

func (r linkRecord) json() map[string]any {
	identity := map[string]any{"type": "AssumedRole", "accountId": "222222222222", "accessKeyId": r.key,
		"arn":            "arn:aws:sts::222222222222:assumed-role/ProdAdmin/dana",
		"sessionContext": map[string]any{"sourceIdentity": r.si}}
	rec := map[string]any{"eventVersion": "1.08", "userIdentity": identity, "eventTime": r.at,
		"eventSource": "s3.amazonaws.com", "eventName": r.name, "awsRegion": "us-east-1",
		"sourceIPAddress": "198.51.100.7", "eventID": r.id, "eventType": "AwsApiCall", "readOnly": true,
		"recipientAccountId": "222222222222", "requestID": r.id}
	if r.issued != "" {
		rec["eventSource"] = "sts.amazonaws.com"
		rec["requestParameters"] = map[string]any{"roleArn": "arn:aws:iam::222222222222:role/ProdAdmin",
			"roleSessionName": "dana", "sourceIdentity": linkTrailSI}
		rec["responseElements"] = map[string]any{
			"credentials":     map[string]any{"accessKeyId": r.issued, "expiration": "Nov 3, 2026, 11:00:00 AM"},
			"assumedRoleUser": map[string]any{"arn": "arn:aws:sts::222222222222:assumed-role/ProdAdmin/dana"},
			"sourceIdentity":  linkTrailSI}
		if r.key == "" {
			rec["userIdentity"] = map[string]any{"type": "IAMUser", "accountId": "111111111111",
				"accessKeyId": "AKIAEXAMPLEDANA00001", "arn": "arn:aws:iam::111111111111:user/dana"}
		}
	}
	return rec
}

// TestActivityLinksEachCallToOneIssuance pins activity.sql's rules: a call made with a minted key is
// that issuance's (an issuance call made with it included); a call made with any other key is tied
// by its SourceIdentity to the earliest issuance carrying it, unless the call is an issuance itself;
// a call that carries no identity and no minted key is nobody's.
func TestActivityLinksEachCallToOneIssuance(t *testing.T) {
	records := []linkRecord{
		{id: "first", at: "2026-11-03T09:00:00Z", name: "AssumeRole", si: "", issued: "ASIAFIRST0000000001"},
		{id: "second", at: "2026-11-03T09:30:00Z", name: "AssumeRole", si: "", issued: "ASIASECOND000000001"},
		{id: "first-call", at: "2026-11-03T09:05:00Z", name: "GetObject", key: "ASIAFIRST0000000001", si: linkTrailSI},
		{id: "chained", at: "2026-11-03T09:10:00Z", name: "AssumeRole", key: "ASIAFIRST0000000001", si: linkTrailSI, issued: "ASIACHAINED00000001"},
		{id: "chained-call", at: "2026-11-03T09:11:00Z", name: "PutObject", key: "ASIACHAINED00000001", si: linkTrailSI},
		{id: "unlogged-chain-call", at: "2026-11-03T09:40:00Z", name: "ListBuckets", key: "ASIAUNLOGGED0000001", si: linkTrailSI},
		{id: "unlogged-chain-issuance", at: "2026-11-03T09:41:00Z", name: "AssumeRole", key: "ASIAUNLOGGED0000001", si: linkTrailSI, issued: "ASIAFROMUNLOGGED001"},
		{id: "stranger-call", at: "2026-11-03T09:42:00Z", name: "ListBuckets", key: "ASIASTRANGER0000001"},
	}
	var out []map[string]any
	for _, r := range records {
		out = append(out, r.json())
	}
	doc, err := json.Marshal(map[string]any{"Records": out})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "trail.json"), doc, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	wh := t.TempDir()
	if _, err := ingest.Run(ctx, ingest.Options{Warehouse: wh, Sources: []string{dir}}); err != nil {
		t.Fatal(err)
	}
	r, err := warehouse.OpenReader(ctx, wh)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if err := Prepare(ctx, r.DB(), Setup{Materialize: true}); err != nil {
		t.Fatal(err)
	}
	rows, err := r.DB().QueryContext(ctx, `SELECT event_id, issuance_event_id, link FROM activity ORDER BY event_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string][2]string{}
	for rows.Next() {
		var call, issuance, link string
		if err := rows.Scan(&call, &issuance, &link); err != nil {
			t.Fatal(err)
		}
		if _, twice := got[call]; twice {
			t.Errorf("call %s is linked to more than one issuance", call)
		}
		got[call] = [2]string{issuance, link}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{
		"first-call":          {"first", "access_key"},
		"chained":             {"first", "access_key"},
		"chained-call":        {"chained", "access_key"},
		"unlogged-chain-call": {"first", "source_identity"},
	}
	for call, w := range want {
		if got[call] != w {
			t.Errorf("%s: linked to %v, want %v", call, got[call], w)
		}
	}
	for call := range got {
		if _, ok := want[call]; !ok {
			t.Errorf("%s is linked to %v; it is no issuance's activity", call, got[call])
		}
	}
}
