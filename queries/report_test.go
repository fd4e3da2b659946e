package queries

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/window"
)

func TestIssuancesPerBucketAddUpToSessionCompliance(t *testing.T) {
	db := auditDB(t, true)
	ctx := context.Background()
	f := Filter{Window: fixtureWindow}
	buckets, err := IssuancesPerBucket(ctx, db, f, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := SessionCompliance(ctx, db, f, true)
	if err != nil {
		t.Fatal(err)
	}
	sum := map[string]BucketRow{}
	for _, b := range buckets {
		if b.Bucket < 0 || b.Bucket >= 7 {
			t.Errorf("%s: bucket %d outside the window's 7 days", b.Profile, b.Bucket)
		}
		if b.Total != b.Tracked+b.Untracked+b.Orphaned+b.Unverified {
			t.Errorf("%s day %d: %d issuances, classes add up to %d", b.Profile, b.Bucket, b.Total, b.Tracked+b.Untracked+b.Orphaned+b.Unverified)
		}
		s := sum[b.Profile]
		s.Tracked, s.Untracked, s.Orphaned, s.Unverified, s.Total = s.Tracked+b.Tracked, s.Untracked+b.Untracked, s.Orphaned+b.Orphaned,
			s.Unverified+b.Unverified, s.Total+b.Total
		s.Compliant += b.Compliant
		sum[b.Profile] = s
	}
	for _, r := range rows {
		s := sum[r.Profile]
		if s.Tracked != r.Tracked || s.Untracked != r.Untracked || s.Orphaned != r.Orphaned || s.Unverified != r.Unverified || s.Total != r.Issuances ||
			(r.Issuances > 0 && float64(s.Compliant)/float64(s.Total) != r.ComplianceRate) {
			t.Errorf("%s: days add up to %+v; session_compliance says %+v", r.Profile, s, r)
		}
	}
	// prod (README): P1, P2 on 2026-11-02 (day 1), P3 on 11-03, P4 and P5 (unverified: no snapshot within its hour) on 11-04,
	// P6 (untracked_sentinel) and P7 (no SourceIdentity) on 11-05.
	prod := map[int64]BucketRow{}
	for _, b := range buckets {
		if b.Profile == "prod" {
			prod[b.Bucket] = b
		}
	}
	if p := prod[1]; p.Tracked != 2 || p.Total != 2 {
		t.Errorf("prod 2026-11-02: %+v", p)
	}
	if p := prod[3]; p.Tracked != 1 || p.Compliant != 0 || p.Unverified != 1 || p.Total != 2 { // P4 is flagged
		t.Errorf("prod 2026-11-04: %+v", p)
	}
	if p := prod[4]; p.Untracked != 2 || p.Total != 2 {
		t.Errorf("prod 2026-11-05: %+v", p)
	}
}

func TestIssuancesPerHourFromTheWindowsStart(t *testing.T) {
	db := auditDB(t, true)
	// From 10:00 on 2026-11-02, P1 (10:05:12) is in hour 0 and P2 (14:20:03) in hour 4.
	since := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	buckets, err := IssuancesPerBucket(context.Background(), db, Filter{Window: window.Window{Since: since, Until: fixtureWindow.Until}, Profile: "prod"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(buckets) < 2 || buckets[0].Bucket != 0 || buckets[1].Bucket != 4 {
		t.Fatalf("prod per hour from %s: %+v", since, buckets)
	}
}

func TestSQLFileIsTheTextThatRuns(t *testing.T) {
	text, err := SQLFile("session_compliance.sql")
	if err != nil || text != SessionComplianceSQL() {
		t.Fatalf("SQLFile(session_compliance.sql) differs from what runs: %v", err)
	}
	if _, err := SQLFile("no_such.sql"); err == nil || !strings.Contains(err.Error(), "no_such.sql") {
		t.Fatalf("unknown file: %v", err)
	}
}

func TestProfileRulesAreThePolicysDecisionsPerProfile(t *testing.T) {
	db := auditDB(t, true)
	ctx := context.Background()
	f := Filter{Window: fixtureWindow}
	got, err := ProfileRules(ctx, db, f)
	if err != nil {
		t.Fatal(err)
	}
	// testdata/fixtures/policy.yaml: prod-tracked names prod and prod-readonly, staging-server
	// staging, dev-open dev; the CIRunner role matches no rule.
	want := map[string]ProfileRule{
		"prod":          {Rule: "prod-tracked", Effect: "require_server_session", Reason: "production credentials must come from a tracked, revocable server session"},
		"prod-readonly": {Rule: "prod-tracked", Effect: "require_server_session", Reason: "production credentials must come from a tracked, revocable server session"},
		"staging":       {Rule: "staging-server", Effect: "require_server", Reason: "staging credentials go through the credential server"},
		"dev":           {Rule: "dev-open", Effect: "allow", Reason: "development accounts are open"},
		"CIRunner":      {Rule: "", Effect: "deny", Reason: "no rule matched: default deny"},
	}
	rows, err := SessionCompliance(ctx, db, f, true)
	if err != nil {
		t.Fatal(err)
	}
	decided := map[string]int64{}
	for _, r := range got {
		decided[r.Profile] += r.Issuances
		w, ok := want[r.Profile]
		if !ok || r.Rule != w.Rule || r.Effect != w.Effect || r.Reason != w.Reason {
			t.Errorf("%s: rule %q %s %q, want %+v", r.Profile, r.Rule, r.Effect, r.Reason, w)
		}
	}
	for _, r := range rows {
		if decided[r.Profile] != r.Issuances {
			t.Errorf("%s: rules decided %d issuances, session_compliance counts %d", r.Profile, decided[r.Profile], r.Issuances)
		}
	}
	if none, err := ProfileRules(ctx, auditDB(t, false), f); err != nil || len(none) != 0 {
		t.Errorf("without a policy: %+v, %v", none, err)
	}
}

func TestSessionActivityOfFlaggedIssuances(t *testing.T) {
	db := auditDB(t, true)
	ctx := context.Background()
	const p4 = "a4bbf650-e5bb-4a67-8dd7-4c5fa02d4ed7" // tracked, issued after its session's revocation
	calls := func(f Filter) map[string]ActivityRow {
		rows, err := SessionActivity(ctx, db, f)
		if err != nil {
			t.Fatal(err)
		}
		by := map[string]ActivityRow{}
		for _, r := range rows {
			by[r.IssuanceEventID] = r
		}
		return by
	}
	plain, flagged := calls(Filter{Window: fixtureWindow}), calls(Filter{Window: fixtureWindow, Flagged: true})
	if _, ok := plain[p4]; ok {
		t.Error("P4 is tracked: session activity lists it without Flagged")
	}
	// testdata/fixtures/README.md: P4 made 4 calls (ListBuckets, ListRoles, GetSecretValue, GetObject).
	if r := flagged[p4]; r.EventCount != 4 || r.Category != ClassTracked || !slices.Contains(r.SensitiveCalls, "secretsmanager:GetSecretValue") {
		t.Errorf("P4 with Flagged: %+v, want its 4 calls", r)
	}
	if len(flagged) != len(plain)+1 {
		t.Errorf("Flagged lists %d issuances, want the %d not tracked and P4", len(flagged), len(plain))
	}
}
