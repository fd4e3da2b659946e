package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ---- handoff files ----

func (g *gen) in(sink string) []*event {
	var out []*event
	for _, e := range g.events {
		if e.sinks[sink] {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].at.Equal(out[j].at) {
			return out[i].at.Before(out[j].at)
		}
		return out[i].label < out[j].label
	})
	return out
}

func (g *gen) writeHandoff() {
	dir := filepath.Join(g.out, "handoff")

	// lookup-events-dev.json: saved `aws cloudtrail lookup-events` pages (us-east-1, dev account),
	// newest first, management events only (LookupEvents never returns data events).
	evs := g.in("lookup")
	var lookup []any
	for i := len(evs) - 1; i >= 0; i-- {
		e := evs[i]
		if e.region != useast1 || e.acct != devAcct || e.rec.str("eventCategory") != "Management" {
			fail(fmt.Errorf("%s cannot come from a us-east-1 dev-account LookupEvents call", e.label))
		}
		ui := e.rec.obj("userIdentity")
		username := ui.str("userName")
		if ui.str("type") == "AssumedRole" {
			username = ui.str("arn")[strings.LastIndex(ui.str("arn"), "/")+1:]
		}
		resources := []any{}
		if re, ok := e.rec.get("responseElements"); ok && e.rec.str("eventSource") == "sts.amazonaws.com" && re != nil {
			cr := re.(obj).obj("credentials")
			aru := re.(obj).obj("assumedRoleUser")
			rp := e.rec.obj("requestParameters")
			resources = []any{
				obj{{"ResourceType", "AWS::IAM::AccessKey"}, {"ResourceName", cr.str("accessKeyId")}},
				obj{{"ResourceType", "AWS::STS::AssumedRole"}, {"ResourceName", rp.str("roleSessionName")}},
				obj{{"ResourceType", "AWS::STS::AssumedRole"}, {"ResourceName", aru.str("assumedRoleId")}},
				obj{{"ResourceType", "AWS::IAM::Role"}, {"ResourceName", rp.str("roleArn")}},
			}
		}
		ro, _ := e.rec.get("readOnly")
		le := obj{
			{"EventId", e.rec.str("eventID")},
			{"EventName", e.rec.str("eventName")},
			{"ReadOnly", fmt.Sprint(ro)},
		}
		if k := ui.str("accessKeyId"); k != "" {
			le = append(le, kv{"AccessKeyId", k})
		}
		le = append(le,
			kv{"EventTime", e.at.Unix()},
			kv{"EventSource", e.rec.str("eventSource")},
			kv{"Username", username},
			kv{"Resources", resources},
			kv{"CloudTrailEvent", string(compact(e.rec))},
		)
		lookup = append(lookup, le)
	}
	write(filepath.Join(dir, "lookup-events-dev.json"), indent(obj{{"Events", lookup}, {"NextToken", nil}}, "    "))

	// cloudwatch-staging.json.gz: CloudWatch Logs subscription payloads as Firehose stores them:
	// one gzip member per envelope, envelopes concatenated with no separator.
	var cw bytes.Buffer
	envelope := func(region string) obj {
		var les []any
		for _, e := range g.in("cw") {
			if e.region != region {
				continue
			}
			if e.acct != stgAcct {
				fail(fmt.Errorf("%s: not a staging event", e.label))
			}
			les = append(les, obj{{"id", digits(56, "cwl", e.label)}, {"timestamp", e.at.UnixMilli()}, {"message", string(compact(e.rec))}})
		}
		return obj{
			{"messageType", "DATA_MESSAGE"},
			{"owner", stgAcct},
			{"logGroup", "aws-cloudtrail-logs-" + stgAcct + "-staging"},
			{"logStream", stgAcct + "_CloudTrail_" + region},
			{"subscriptionFilters", []any{"sentinel-audit-export"}},
			{"logEvents", les},
		}
	}
	control := obj{
		{"messageType", "CONTROL_MESSAGE"},
		{"owner", "CloudwatchLogs"},
		{"logGroup", ""},
		{"logStream", ""},
		{"subscriptionFilters", []any{}},
		{"logEvents", []any{obj{{"id", ""}, {"timestamp", ts("2026-11-05T10:30:00Z").UnixMilli()}, {"message", "CWL CONTROL MESSAGE: Checking health of destination Firehose."}}}},
	}
	cw.Write(gz(compact(envelope(useast1))))
	cw.Write(gz(compact(control)))
	cw.Write(gz(compact(envelope(euwest1))))
	write(filepath.Join(dir, "cloudwatch-staging.json.gz"), cw.Bytes())

	// export.jsonl: one record per line (e.g. a CloudTrail Lake / Athena export).
	var jl bytes.Buffer
	for _, e := range g.in("export") {
		jl.Write(compact(e.rec))
		jl.WriteByte('\n')
	}
	write(filepath.Join(dir, "export.jsonl"), jl.Bytes())

	// bare-array.json: a bare JSON array of records, pretty-printed.
	var arr []any
	for _, e := range g.in("bare") {
		arr = append(arr, e.rec)
	}
	write(filepath.Join(dir, "bare-array.json"), indent(arr, "  "))
}

// ---- session snapshots ----

func (g *gen) writeSnapshots() {
	dir := filepath.Join(g.out, "sessions")
	var plain bytes.Buffer
	for _, s := range snapshot1 {
		plain.Write(compact(s.item(false)))
		plain.WriteByte('\n')
	}
	write(filepath.Join(dir, "snapshot-2026-11-03.jsonl"), plain.Bytes())

	var ddb bytes.Buffer
	for _, s := range snapshot2 {
		ddb.Write(compact(obj{{"Item", s.item(true)}}))
		ddb.WriteByte('\n')
	}
	write(filepath.Join(dir, "snapshot-2026-11-06.json.gz"), gz(ddb.Bytes()))
}

// item renders a session record as plain JSON or as DynamoDB JSON ({"S": …}, {"N": "…"}).
func (s session) item(dynamo bool) obj {
	str := func(v string) any {
		if dynamo {
			return obj{{"S", v}}
		}
		return v
	}
	num := func(v int64) any {
		if dynamo {
			return obj{{"N", strconv.FormatInt(v, 10)}}
		}
		return v
	}
	updated := s.lastAccess
	if s.revokedAt > updated {
		updated = s.revokedAt
	}
	it := obj{
		{"id", str(s.id)},
		{"user", str(s.user)},
		{"profile", str(s.profile)},
		{"server_instance_id", str(s.server)},
		{"status", str(s.status)},
		{"started_at", str(s.started)},
		{"last_access_at", str(s.lastAccess)},
		{"expires_at", str(s.expires)},
		{"request_count", num(int64(s.requests))},
		{"source_identity", str(s.si)},
		{"created_at", str(s.started)},
		{"updated_at", str(updated)},
		{"ttl", num(ts(s.expires).Add(time.Hour).Unix())},
	}
	if s.revokedAt != "" {
		it = append(it, kv{"revoked_at", str(s.revokedAt)}, kv{"revoked_by", str(s.revokedBy)}, kv{"revoked_reason", str(s.revokedReason)})
	}
	return append(it, kv{"client_version", str(s.clientVersion)})
}

// ---- broken inputs (-broken, testdata/broken: not part of the fixtures) ----

func (g *gen) writeBroken() {
	garbage := append([]byte{0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff}, sum("garbage")...)
	garbage = append(garbage, []byte("this is not a deflate stream")...)
	write(filepath.Join(g.broken, "corrupt.json.gz"), garbage)

	first := compact(g.byKey["P1.1"].rec)
	cut := `{"Records":[` + string(first) + `,{"eventVersion":"1.08","eventID":"` + uuid4("event", "truncated")[:13]
	write(filepath.Join(g.broken, "truncated.json"), []byte(cut))

	write(filepath.Join(g.broken, "not-cloudtrail.json"), []byte(`{
  "name": "sentinel-dashboard",
  "version": "1.4.2",
  "private": true,
  "scripts": {"build": "vite build", "test": "vitest"},
  "dependencies": {"react": "^19.2.0"}
}
`))
	write(filepath.Join(g.broken, "empty.json"), nil)
}
