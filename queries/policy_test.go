package queries

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/ingest"
	"github.com/sentinel-audit/sentinel/policy"
	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/sentinel-audit/sentinel/window"
)

// timedPolicy has time conditions in zones with DST, a 45-minute offset and, before 1972, an
// offset of seconds (Africa/Monrovia, -0:44:30), with windows opening at odd minutes.
const timedPolicy = `version: "1"
rules:
  - {name: berlin-hours, effect: require_server_session, conditions: {profiles: [Prod], time: {days: [mon, fri], hours: {start: "09:17", end: "17:03"}, timezone: Europe/Berlin}}}
  - {name: monrovia-nights, effect: deny, conditions: {users: [alice], time: {hours: {start: "22:01", end: "02:59"}, timezone: Africa/Monrovia}}}
  - {name: kathmandu-sundays, effect: require_server, conditions: {mode: [cli], time: {days: [sun], timezone: Asia/Kathmandu}}}
  - {name: dev, effect: allow, conditions: {profiles: [Dev]}, reason: "dev is open"}
`

// writeIssuances writes a trail file of successful AssumeRole records at the given times, with
// roles, callers and SourceIdentities (so users and modes) drawn from r.
func writeIssuances(t *testing.T, dir string, times []time.Time, r *rand.Rand) {
	t.Helper()
	roles := []string{"Prod", "Dev", "Other"}
	users := []string{"alice", "bob"}
	var records []map[string]any
	for i, at := range times {
		key := fmt.Sprintf("ASIA%016d", i)
		req := map[string]any{"roleArn": "arn:aws:iam::222222222222:role/" + roles[r.IntN(len(roles))], "roleSessionName": "s"}
		switch r.IntN(3) {
		case 0:
			req["sourceIdentity"] = fmt.Sprintf("sentinel-s-%016x-carol", i)
		case 1:
			req["sourceIdentity"] = fmt.Sprintf("sentinel-r-%016x-alice", i)
		}
		user := users[r.IntN(len(users))]
		records = append(records, map[string]any{
			"eventVersion": "1.08", "eventTime": at.Format(time.RFC3339), "eventSource": "sts.amazonaws.com",
			"eventName": "AssumeRole", "awsRegion": "us-east-1", "eventID": fmt.Sprintf("evt-%06d", i),
			"recipientAccountId": "222222222222", "requestParameters": req,
			"userIdentity":     map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::111111111111:user/" + user, "accountId": "111111111111", "userName": user},
			"responseElements": map[string]any{"credentials": map[string]any{"accessKeyId": key}},
		})
	}
	data, err := json.Marshal(map[string]any{"Records": records})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "trail.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPolicyAnnotationIsEvaluateOfEachIssuance checks that deciding once per distinct request
// (policy_tables.sql) gives every issuance the decision policy.Evaluate gives it on its own, for a
// policy with time conditions, including minutes with no single time class (Monrovia before 1972).
func TestPolicyAnnotationIsEvaluateOfEachIssuance(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 6))
	from, to := time.Date(1955, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	times := []time.Time{
		// Monrovia's window opened at 22:01 local, 22:45:30 UTC: two classes in one minute.
		time.Date(1960, 6, 1, 22, 45, 10, 0, time.UTC), time.Date(1960, 6, 1, 22, 45, 40, 0, time.UTC),
		// Berlin springs forward at 01:00 UTC on 2026-03-29; its window opens at 09:17 local.
		time.Date(2026, 3, 29, 0, 59, 59, 0, time.UTC), time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 27, 8, 16, 59, 0, time.UTC), time.Date(2026, 3, 27, 8, 17, 0, 0, time.UTC),
	}
	for range 400 {
		times = append(times, from.Add(time.Duration(r.Int64N(int64(to.Sub(from)/time.Second)))*time.Second))
	}
	src := t.TempDir()
	writeIssuances(t, src, times, r)
	wh := t.TempDir()
	if _, err := ingest.Run(ctx, ingest.Options{Warehouse: wh, Sources: []string{src}}); err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Parse("timed.yaml", []byte(timedPolicy))
	if err != nil {
		t.Fatal(err)
	}
	w := window.Window{Since: time.Date(1958, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC)}
	for _, materialize := range []bool{true, false} {
		t.Run(fmt.Sprintf("materialize=%v", materialize), func(t *testing.T) {
			rd, err := warehouse.OpenReader(ctx, wh)
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			db := rd.DB()
			if err := Prepare(ctx, db, Setup{Policy: pol, Window: w, Materialize: materialize}); err != nil {
				t.Fatal(err)
			}
			rows, err := db.QueryContext(ctx, `SELECT profile, coalesce("user", ''), coalesce(mode, ''), event_time,
				policy_effect, policy_rule, policy_reason, policy_required FROM issuances`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			n, outside := 0, 0
			for rows.Next() {
				var profile, user, mode string
				var at time.Time
				var effect, rule, reason sql.NullString
				var required sql.NullBool
				if err := rows.Scan(&profile, &user, &mode, &at, &effect, &rule, &reason, &required); err != nil {
					t.Fatal(err)
				}
				n++
				got := fmt.Sprintf("%v %v %v %v", effect, rule, reason, required)
				want := fmt.Sprintf("%v %v %v %v", sql.NullString{}, sql.NullString{}, sql.NullString{}, sql.NullBool{})
				if w.Contains(at) {
					d := pol.Evaluate(policy.Request{Profile: profile, User: user, At: at, Mode: policy.Mode(mode)})
					want = fmt.Sprintf("%v %v %v %v", sql.NullString{String: string(d.Effect), Valid: true},
						sql.NullString{String: d.Rule, Valid: d.Rule != ""}, sql.NullString{String: d.Reason, Valid: d.Reason != ""},
						sql.NullBool{Bool: d.Effect == policy.EffectRequireServerSession, Valid: true})
				} else {
					outside++
				}
				if got != want {
					t.Errorf("%s %q %q at %s: annotated %s, want %s", profile, user, mode, at.UTC().Format(time.RFC3339), got, want)
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			var instants int
			if err := db.QueryRowContext(ctx, `SELECT count(*) FROM policy_instants`).Scan(&instants); err != nil {
				t.Fatal(err)
			}
			if n != len(times) || outside == 0 || instants == 0 {
				t.Fatalf("%d issuances (%d outside the window, %d in minutes without one time class); want %d, some of each",
					n, outside, instants, len(times))
			}
		})
	}
}
