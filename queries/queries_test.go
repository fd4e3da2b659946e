package queries

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/ingest"
	"github.com/sentinel-audit/sentinel/policy"
	"github.com/sentinel-audit/sentinel/profiles"
	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/sentinel-audit/sentinel/window"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const fixtures = "../testdata/fixtures"

var fixtureWindow = window.Window{
	Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
	Until: time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC),
}

// auditDB ingests the fixtures and prepares the audit views with the fixture policy and AWS config.
func auditDB(t *testing.T, withPolicy bool) *sql.DB {
	t.Helper()
	return auditDBWith(t, withPolicy)
}

// auditDBWith is auditDB with more session snapshot files.
func auditDBWith(t *testing.T, withPolicy bool, snapshots ...string) *sql.DB {
	t.Helper()
	ctx := context.Background()
	wh := t.TempDir()
	_, err := ingest.Run(ctx, ingest.Options{Warehouse: wh, Sources: []string{fixtures + "/trail", fixtures + "/handoff"},
		SessionsFiles: append([]string{fixtures + "/sessions"}, snapshots...)})
	if err != nil {
		t.Fatal(err)
	}
	r, err := warehouse.OpenReader(ctx, wh)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	ps, err := profiles.LoadAWSConfig(fixtures+"/aws-config", false)
	if err != nil {
		t.Fatal(err)
	}
	setup := Setup{Roles: profiles.NewRoleMap(ps).Roles, Window: fixtureWindow, Materialize: true}
	if withPolicy {
		if setup.Policy, err = policy.Load(fixtures + "/policy.yaml"); err != nil {
			t.Fatal(err)
		}
	}
	if err := Prepare(ctx, r.DB(), setup); err != nil {
		t.Fatal(err)
	}
	return r.DB()
}

// golden compares v, as indented JSON, with testdata/name.golden.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./queries -update to create it)", err)
	}
	if string(want) != string(got)+"\n" {
		t.Fatalf("%s differs from the golden file (go test ./queries -update to accept):\n%s", name, got)
	}
}

func TestSessionComplianceGolden(t *testing.T) {
	db := auditDB(t, true)
	rows, err := SessionCompliance(context.Background(), db, Filter{Window: fixtureWindow}, true)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "session_compliance", rows)
}

func TestSessionComplianceNamesRequiredProfilesWithoutIssuances(t *testing.T) {
	db := auditDB(t, true)
	empty := window.Window{Since: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)}
	rows, err := SessionCompliance(context.Background(), db, Filter{Window: empty}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Profile != "prod" || rows[1].Profile != "prod-readonly" ||
		rows[0].ComplianceRate != 1 || rows[0].HasGap || rows[0].PolicyRequired == nil || !*rows[0].PolicyRequired {
		t.Fatalf("rows = %+v", rows)
	}
}

func TestUntrackedIssuancesGolden(t *testing.T) {
	db := auditDB(t, true)
	rows, err := UntrackedIssuances(context.Background(), db, Filter{Window: fixtureWindow})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "untracked_issuances", rows)
}

// TestClassify checks the class, profile and flags of every issuance in the fixtures, by the
// behaviour each one stands for.
func TestClassify(t *testing.T) {
	db := auditDB(t, false)
	type issuance struct{ class, profile, profileSource, user, flags string }
	rows, err := db.Query(`SELECT event_id, class, profile, profile_source, coalesce("user", ''), array_to_string(flags, ',') FROM issuances`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]issuance{}
	for rows.Next() {
		var id string
		var i issuance
		if err := rows.Scan(&id, &i.class, &i.profile, &i.profileSource, &i.user, &i.flags); err != nil {
			t.Fatal(err)
		}
		got[id] = i
	}
	tests := []struct {
		name, eventID string
		want          issuance
	}{
		{"tracked_server_session", "6721aa84-626a-4798-a06c-1cce794b74a6", issuance{"tracked", "prod", "session", "alice", ""}},
		{"short_form_is_a_server_session", "16ba788c-b065-480c-9a9c-028c57111e30", issuance{"tracked", "prod", "session", "bob", ""}},
		{"ttl_deleted_session_is_still_tracked", "1604f2cf-36eb-4eb3-826f-1b38c4b4865b", issuance{"tracked", "prod", "session", "alice", ""}},
		{"issued_after_revocation_is_flagged", "a4bbf650-e5bb-4a67-8dd7-4c5fa02d4ed7", issuance{"tracked", "prod", "session", "bob", "issued_after_revocation"}},
		{"chained_role_keeps_source_identity", "1bf1e244-c068-41d3-a0de-18f5f18e99df", issuance{"tracked", "prod-readonly", "session", "bob", ""}},
		{"session_no_snapshot_could_check_is_unverified", "93cd456d-2c38-4014-a0ac-7311707dcabb", issuance{"unverified", "prod", "config", "carol", ""}},
		{"request_kind_is_untracked_sentinel", "0541f627-e40e-4f0d-9d58-8cecda53acc5", issuance{"untracked_sentinel", "prod", "config", "alice", ""}},
		{"foreign_identity_is_non_sentinel_format", "311fc124-944e-4ab5-8b22-d45a8b4bab3d", issuance{"non_sentinel_format", "staging", "config", "carol", ""}},
		{"sentinel_lookalike_is_non_sentinel_format", "4f92f64c-9203-490e-8317-6ab19d16aa88", issuance{"non_sentinel_format", "dev", "config", "carol", ""}},
		{"plain_assume_role_has_no_source_identity", "0732a074-bcbb-48ae-850f-d365fee37fb7", issuance{"no_source_identity", "prod", "config", "dave", ""}},
		{"unmapped_role_falls_back_to_role_name", "9871eae2-1e1b-436f-83dc-130e01765043", issuance{"no_source_identity", "CIRunner", "role_name", "repo:sentinel-audit/app:ref:refs/heads/main", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if g, ok := got[tt.eventID]; !ok || g != tt.want {
				t.Fatalf("got %+v (present %v), want %+v", g, ok, tt.want)
			}
		})
	}
	t.Run("cross_account_copy_counts_once", func(t *testing.T) {
		if _, ok := got["e45b6249-a0e2-4782-9782-70ad5678141d"]; ok {
			t.Fatal("the identity-account copy of P1 is an issuance of its own")
		}
		if len(got) != 17 {
			t.Fatalf("%d issuances, want 17", len(got))
		}
	})
	t.Run("failed_assume_role_is_not_an_issuance", func(t *testing.T) {
		if _, ok := got["c49a29a7-466b-4b83-bb39-8dc70e06e28c"]; ok {
			t.Fatal("failed AssumeRole classified")
		}
	})
}

// TestOrphanedOnlyWhenProven: P5 (2026-11-04T16:40:00Z) names session deadbeefcafe0042, which no
// snapshot holds. Its record must have existed from before P5 until at least an hour after it, so
// only a snapshot taken in that hour proves it orphaned; any other leaves it unverified.
func TestOrphanedOnlyWhenProven(t *testing.T) {
	const p5 = "93cd456d-2c38-4014-a0ac-7311707dcabb"
	for _, tt := range []struct {
		name, takenAt, want string
	}{
		{"snapshot_at_the_issuance_proves_it", "2026-11-04T16:40:00Z", "orphaned"},
		{"snapshot_within_the_hour_proves_it", "2026-11-04T17:10:00Z", "orphaned"},
		{"snapshot_an_hour_later_still_proves_it", "2026-11-04T17:40:00Z", "orphaned"},
		{"snapshot_after_the_hour_proves_nothing", "2026-11-04T17:40:01Z", "unverified"},
		{"snapshot_before_the_issuance_proves_nothing", "2026-11-04T16:39:59Z", "unverified"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			// A snapshot holding one unrelated session, taken (its newest change) at takenAt.
			item := `{"id":"0f0e0d0c0b0a0908","user":"erin","profile":"staging","status":"active","started_at":"2026-11-04T12:00:00Z",` +
				`"expires_at":"2026-11-04T23:00:00Z","created_at":"2026-11-04T12:00:00Z","updated_at":"` + tt.takenAt + `"}` + "\n"
			if err := os.WriteFile(filepath.Join(dir, "snapshot.jsonl"), []byte(item), 0o600); err != nil {
				t.Fatal(err)
			}
			db := auditDBWith(t, false, dir)
			var class, reason string
			var proof sql.NullTime
			if err := db.QueryRow(`SELECT class, reason, orphan_snapshot_at FROM issuances WHERE event_id = ?`, p5).Scan(&class, &reason, &proof); err != nil {
				t.Fatal(err)
			}
			if class != tt.want {
				t.Fatalf("class %s (%s), want %s", class, reason, tt.want)
			}
			if proved := proof.Valid && proof.Time.UTC().Format(time.RFC3339) == tt.takenAt; proved != (class == "orphaned") {
				t.Fatalf("orphan_snapshot_at %v for a %s issuance proven by the snapshot of %s", proof, class, tt.takenAt)
			}
		})
	}
}

func TestPolicyAnnotation(t *testing.T) {
	db := auditDB(t, true)
	var effect, rule string
	var required bool
	err := db.QueryRow(`SELECT policy_effect, policy_rule, policy_required FROM issuances WHERE event_id = '0732a074-bcbb-48ae-850f-d365fee37fb7'`).Scan(&effect, &rule, &required)
	if err != nil || effect != "require_server_session" || rule != "prod-tracked" || !required {
		t.Fatalf("P7: %s %s %v %v", effect, rule, required, err)
	}
	var deny sql.NullString
	err = db.QueryRow(`SELECT policy_rule FROM issuances WHERE profile = 'CIRunner'`).Scan(&deny)
	if err != nil || deny.Valid {
		t.Fatalf("CIRunner matches no rule: got %v %v", deny, err)
	}
	var unannotated int
	db.QueryRow(`SELECT count(*) FROM issuances WHERE policy_effect IS NULL`).Scan(&unannotated)
	if unannotated != 0 {
		t.Fatalf("%d issuances without a policy verdict", unannotated)
	}
}

// TestActivityAttribution checks the fixture README's activity table: calls per class, failed and
// mutating calls, and calls per issuance.
func TestActivityAttribution(t *testing.T) {
	db := auditDB(t, false)
	rows, err := db.Query(`SELECT i.class, count(*), count(*) FILTER (WHERE a.error_code IS NOT NULL), count(*) FILTER (WHERE a.read_only = false)
		FROM activity a JOIN issuances i ON a.issuance_event_id = i.event_id GROUP BY ALL ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][3]int{}
	for rows.Next() {
		var class string
		var n [3]int
		if err := rows.Scan(&class, &n[0], &n[1], &n[2]); err != nil {
			t.Fatal(err)
		}
		got[class] = n
	}
	want := map[string][3]int{
		"tracked":             {24, 3, 2},
		"unverified":          {2, 0, 0},
		"untracked_sentinel":  {8, 1, 4},
		"non_sentinel_format": {4, 0, 0},
		"no_source_identity":  {11, 2, 4},
	}
	for class, w := range want {
		if got[class] != w {
			t.Errorf("%s: calls/denied/mutating = %v, want %v", class, got[class], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("classes %v", got)
	}
}

func TestSessionActivityGolden(t *testing.T) {
	db := auditDB(t, true)
	rows, err := SessionActivity(context.Background(), db, Filter{Window: fixtureWindow})
	if err != nil {
		t.Fatal(err)
	}
	perIssuance := map[string]int64{}
	for _, r := range rows {
		perIssuance[r.IssuanceEventID] = r.EventCount
	}
	// P6 4, T2 2, T3 2, P5 2, T4 2, D3 2, P7 3, D1 2, D2 3, C1 3 (fixture README).
	for id, n := range map[string]int64{
		"0541f627-e40e-4f0d-9d58-8cecda53acc5": 4, "44a27ebe-ff96-4d61-b7ab-3656801cd778": 2, "c0cefd9f-4618-47e3-8fa8-0d5af08b7d41": 2,
		"93cd456d-2c38-4014-a0ac-7311707dcabb": 2, "311fc124-944e-4ab5-8b22-d45a8b4bab3d": 2, "4f92f64c-9203-490e-8317-6ab19d16aa88": 2,
		"0732a074-bcbb-48ae-850f-d365fee37fb7": 3, "abfd837e-710d-45eb-ae2c-1d106761a125": 2, "6e5bcba3-c6ee-4303-8cc3-d091f802ee61": 3,
		"9871eae2-1e1b-436f-83dc-130e01765043": 3,
	} {
		if perIssuance[id] != n {
			t.Errorf("%s: %d calls, want %d", id, perIssuance[id], n)
		}
	}
	golden(t, "session_activity", rows)
}

func TestUntrackedCalls(t *testing.T) {
	db := auditDB(t, true)
	got, err := UntrackedCalls(context.Background(), db, Filter{Window: fixtureWindow})
	if err != nil {
		t.Fatal(err)
	}
	// Per profile (fixture README): prod orphaned 2 + untracked 4 + none 3; staging untracked 4 +
	// non-sentinel 2; dev non-sentinel 2 + none 5; CIRunner 3.
	want := map[string]int64{"prod": 9, "staging": 6, "dev": 7, "CIRunner": 3}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for p, n := range want {
		if got[p] != n {
			t.Errorf("%s: %d, want %d", p, got[p], n)
		}
	}
}
