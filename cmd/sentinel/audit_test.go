package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

const (
	fixtures = "testdata/fixtures"
	since    = "2026-11-01T00:00:00Z"
	until    = "2026-11-08T00:00:00Z"
)

// fixtureWarehouse is the warehouse the bundled fixtures ingest into, built once per test run:
// ingestFixtures hands each test a copy of its own.
var fixtureWarehouse struct {
	once sync.Once
	dir  string
	err  string
}

// ingestFixtures returns a warehouse ingested from the bundled fixtures, the test's own to change.
func ingestFixtures(t *testing.T) string {
	t.Helper()
	fixtureWarehouse.once.Do(func() {
		dir, err := os.MkdirTemp("", "sentinel-fixture-wh-")
		if err != nil {
			fixtureWarehouse.err = err.Error()
			return
		}
		fixtureWarehouse.dir = filepath.Join(dir, "wh")
		r := sentinel(t, nil, "--warehouse", fixtureWarehouse.dir, "ingest", "--source", fixtures+"/trail", "--source", fixtures+"/handoff",
			"--sessions-file", fixtures+"/sessions")
		if r.code != 0 {
			fixtureWarehouse.err = fmt.Sprintf("ingest exited %d: %s", r.code, r.stderr)
			return
		}
		for _, want := range []string{"23 files read and 1344 digest files", "1 skipped (1 insight)", "0 failed", "74 events stored, 14 duplicate, 0 out of window", "2 session snapshots (17 items)"} {
			if !strings.Contains(r.stdout, want) {
				fixtureWarehouse.err = fmt.Sprintf("ingest summary %q lacks %q", r.stdout, want)
			}
		}
	})
	if fixtureWarehouse.err != "" {
		t.Fatal(fixtureWarehouse.err)
	}
	wh := filepath.Join(t.TempDir(), "wh")
	copyTree(t, fixtureWarehouse.dir, wh)
	return wh
}

// query runs sentinel sql and returns the rows as JSON objects.
func query(t *testing.T, wh, q string) []map[string]any {
	t.Helper()
	r := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "sql", "--format", "json", q).mustExit(t, 0)
	var rows []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("sql output is not JSON: %v\n%s", err, r.stdout)
	}
	return rows
}

func scalar(t *testing.T, wh, q string) float64 {
	t.Helper()
	rows := query(t, wh, q)
	if len(rows) != 1 || len(rows[0]) != 1 {
		t.Fatalf("%s: want one value, got %v", q, rows)
	}
	for _, v := range rows[0] {
		n, ok := v.(float64)
		if !ok {
			t.Fatalf("%s: %v is not a number", q, v)
		}
		return n
	}
	return 0
}

func TestIngestFixturesIntoWarehouse(t *testing.T) {
	wh := ingestFixtures(t)
	for q, want := range map[string]float64{
		`SELECT count(DISTINCT event_id) FROM events_all`:                                     74,
		`SELECT count(*) FROM events`:                                                         73, // the superseded original is replaced
		`SELECT count(*) FROM events WHERE event_id = '2ecb3fab-a1dd-43a1-ad1f-eaef9907ac70'`: 0,
		`SELECT count(*) FROM events WHERE addendum_original_event_id IS NOT NULL`:            1,
		`SELECT count(*) FROM events WHERE recipient_account_id = '033333333333'`:             13, // 10 in the trail, 3 only in the CloudWatch handoff
		`SELECT count(*) FROM session_snapshots`:                                              17,
		`SELECT count(*) FROM sessions`:                                                       10,
		`SELECT count(*) FROM snapshots`:                                                      2,
		`SELECT count(*) FROM ingest_files WHERE status = 'ok'`:                               23 + 1344,
		`SELECT count(*) FROM ingest_files WHERE status = 'skipped'`:                          1,
		`SELECT count(*) FROM digests WHERE problem IS NULL`:                                  1344,
		// Every trail log file's inflated bytes hashed, as its digest must list.
		`SELECT count(*) FROM ingest_files WHERE source LIKE '%/CloudTrail/%' AND length(content_sha256) = 64`: 17,
		`SELECT count(*) FROM issuances`: 17,
		`SELECT count(*) FROM events WHERE event_name = 'AssumeRole' AND error_code IS NOT NULL`: 1,
		// One stored row per eventID: the 14 duplicate deliveries never reach the lake. The events
		// view relies on that and does not de-duplicate (warehouse/views.sql).
		`SELECT count(*) - count(DISTINCT event_id) FROM events_all`: 0,
	} {
		if got := scalar(t, wh, q); got != want {
			t.Errorf("%s = %v, want %v", q, got, want)
		}
	}
}

func TestReingestIsANoOp(t *testing.T) {
	wh := ingestFixtures(t)
	before := scalar(t, wh, `SELECT count(*) FROM lake_files`)
	r := sentinel(t, nil, "--warehouse", wh, "ingest", "--source", fixtures+"/trail", "--source", fixtures+"/handoff",
		"--sessions-file", fixtures+"/sessions").mustExit(t, 0)
	if !strings.Contains(r.stdout, "nothing new: 1367 files unchanged") || !strings.Contains(r.stdout, "0 events stored") {
		t.Fatalf("re-ingest summary: %s", r.stdout)
	}
	if after := scalar(t, wh, `SELECT count(*) FROM lake_files`); after != before {
		t.Fatalf("lake files %v -> %v", before, after)
	}
	if n := scalar(t, wh, `SELECT count(*) FROM events_all`); n != 74 {
		t.Fatalf("events_all = %v after re-ingest", n)
	}
	if n := scalar(t, wh, `SELECT count(*) FROM snapshots`); n != 2 {
		t.Fatalf("snapshots = %v after re-ingest", n)
	}
}

type complianceJSON struct {
	StartTime              string      `json:"start_time"`
	EndTime                string      `json:"end_time"`
	Verdict                verdictJSON `json:"verdict"`
	RequiredProfiles       int         `json:"required_profiles"`
	FullyCompliantProfiles int         `json:"fully_compliant_profiles"`
	ProfilesWithGaps       int         `json:"profiles_with_gaps"`
	FlaggedIssuances       int         `json:"flagged_issuances"`
	Profiles               []struct {
		Profile        string  `json:"profile"`
		PolicyRequired *bool   `json:"policy_required"`
		Tracked        int     `json:"tracked_count"`
		Untracked      int     `json:"untracked_count"`
		Orphaned       int     `json:"orphaned_count"`
		Unverified     int     `json:"unverified_count"`
		ComplianceRate float64 `json:"compliance_rate"`
		HasGap         bool    `json:"has_gap"`
	} `json:"profiles"`
	UnmappedRoles []struct {
		RoleARN    string `json:"role_arn"`
		Issuances  int    `json:"issuances"`
		Federated  int    `json:"federated"`
		NotTracked int    `json:"not_tracked"`
	} `json:"unmapped_roles"`
	Evidence struct {
		Accounts []struct {
			Kind       string `json:"kind"`
			Account    string `json:"account"`
			Region     string `json:"region"`
			From       string `json:"from"`
			Until      string `json:"until"`
			LastIngest string `json:"last_ingest"`
		} `json:"accounts"`
		Snapshots struct {
			Count int `json:"count"`
		} `json:"snapshots"`
		Integrity struct {
			Summary              string         `json:"summary"`
			Digests              int            `json:"digests"`
			ValidDigests         int            `json:"valid_digests"`
			LogFiles             int            `json:"log_files"`
			ValidLogFiles        int            `json:"valid_log_files"`
			SignaturesNotChecked int            `json:"signatures_not_checked"`
			Findings             map[string]int `json:"findings"`
		} `json:"integrity"`
	} `json:"evidence"`
}

type verdictJSON struct {
	Result  string `json:"result"`
	Reasons []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Action  string `json:"action"`
	} `json:"reasons"`
}

// codes are the reason codes of a verdict.
func (v verdictJSON) codes() string {
	var c []string
	for _, r := range v.Reasons {
		c = append(c, r.Code)
	}
	return strings.Join(c, ",")
}

func TestSessionComplianceOnFixtures(t *testing.T) {
	wh := ingestFixtures(t)
	r := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "session-compliance",
		"--since", since, "--until", until, "--format", "json").mustExit(t, 1)
	var rep complianceJSON
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	type row struct {
		required                                 bool
		tracked, untracked, orphaned, unverified int
		rate                                     float64
		gap                                      bool
	}
	// P5 names a session no snapshot holds, but no snapshot was taken within the hour after it:
	// unverified, not orphaned.
	want := map[string]row{
		"prod":          {true, 4, 2, 0, 1, 42.9, true},
		"prod-readonly": {true, 2, 0, 0, 0, 100, false},
		"staging":       {false, 1, 3, 0, 0, 25, false},
		"dev":           {false, 0, 3, 0, 0, 0, false},
	}
	if len(rep.Profiles) != len(want) {
		t.Fatalf("profiles = %+v", rep.Profiles)
	}
	for _, p := range rep.Profiles {
		w, ok := want[p.Profile]
		got := row{p.PolicyRequired != nil && *p.PolicyRequired, p.Tracked, p.Untracked, p.Orphaned, p.Unverified, p.ComplianceRate, p.HasGap}
		if !ok || got != w {
			t.Errorf("%s: got %+v, want %+v", p.Profile, got, w)
		}
	}
	// CIRunner is no profile: its role is listed apart, with its GitHub OIDC caller.
	if len(rep.UnmappedRoles) != 1 || rep.UnmappedRoles[0].RoleARN != "arn:aws:iam::444444444444:role/service-role/CIRunner" ||
		rep.UnmappedRoles[0].Issuances != 1 || rep.UnmappedRoles[0].Federated != 1 || rep.UnmappedRoles[0].NotTracked != 1 {
		t.Errorf("unmapped roles %+v", rep.UnmappedRoles)
	}
	// The gap stands; what else is unknown is said: P5's session could not be checked.
	if rep.Verdict.Result != "GAPS FOUND" || rep.Verdict.codes() != "sessions_unverified" {
		t.Errorf("verdict %+v", rep.Verdict)
	}
	// The Evidence: prod's account, its trail and digests (which cover the whole window), checked.
	in := rep.Evidence.Integrity
	if in.Digests != 336 || in.ValidDigests != 336 || in.LogFiles != 10 || in.ValidLogFiles != 10 || in.SignaturesNotChecked != 336 || len(in.Findings) != 0 {
		t.Errorf("integrity %+v", in)
	}
	digests := 0
	for _, a := range rep.Evidence.Accounts {
		if a.Account != "222222222222" {
			t.Errorf("evidence of an account out of scope: %+v", a)
		}
		if a.Kind == "digest" && a.From == since && a.Until == until {
			digests++
		}
		if !strings.HasPrefix(a.LastIngest, "20") || strings.HasPrefix(a.LastIngest, "0001") {
			t.Errorf("evidence without its last ingest: %+v", a)
		}
	}
	if digests != 2 || rep.Evidence.Snapshots.Count != 2 {
		t.Errorf("evidence %+v", rep.Evidence)
	}
	if rep.RequiredProfiles != 2 || rep.FullyCompliantProfiles != 1 || rep.ProfilesWithGaps != 1 || rep.FlaggedIssuances != 1 {
		t.Errorf("summary %+v", rep)
	}
	if rep.StartTime != since || rep.EndTime != until {
		t.Errorf("window %s..%s", rep.StartTime, rep.EndTime)
	}
	if !strings.Contains(r.stderr, "role arn:aws:iam::444444444444:role/DevAdmin is named by profiles dev, sandbox") {
		t.Errorf("ambiguous profiles not reported: %s", r.stderr)
	}
}

func TestSessionComplianceTable(t *testing.T) {
	wh := ingestFixtures(t)
	r := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "session-compliance",
		"--since", since, "--until", until).mustExit(t, 1)
	for _, want := range []string{"Time Window: 2026-11-01T00:00:00Z to 2026-11-08T00:00:00Z", "Summary", "Profiles with gaps:        1", "Result: GAPS FOUND — prod",
		"Evidence\n", "  222222222222  us-east-1  digest  2026-11-01T00:00:00Z  2026-11-08T00:00:00Z",
		"  Session snapshots: 2 snapshots, taken ", "  Integrity: log files validated 10 of 10, digests 336 of 336; signatures not checked for 336 digests (local copy)",
		"Roles not mapped to a profile\n", "arn:aws:iam::444444444444:role/service-role/CIRunner  444444444444",
		"Also unknown:\n  - 1 issuance named a server session that no snapshot of the session table holds"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "warning") {
		t.Error("warnings must go to stderr")
	}
	// Every row of the table starts its columns at the same offsets as the header.
	lines := strings.Split(r.stdout, "\n")
	var header string
	var rows []string
	for _, l := range lines {
		if strings.HasPrefix(l, "PROFILE") {
			header = l
		} else if header != "" {
			if l == "" {
				break
			}
			rows = append(rows, l)
		}
	}
	if len(rows) != 4 {
		t.Errorf("profile rows %q, want 4", rows)
	}
	col := strings.Index(header, "TRACKED") + len("TRACKED")
	for _, l := range rows {
		if r := []rune(l); len(r) < col || r[col-1] == ' ' {
			t.Errorf("misaligned row %q under header %q", l, header)
		}
	}
	if n := strings.Count(r.stdout, "⚠"); n != 1 {
		t.Errorf("%d gap marks, want 1 (prod)", n)
	}
}

// TestSessionComplianceIsCleanForACompliantProfile: every issuance of prod-readonly was tracked,
// its account's digests cover the window and check out: COMPLIANT, exit 0.
func TestSessionComplianceIsCleanForACompliantProfile(t *testing.T) {
	wh := ingestFixtures(t)
	r := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "session-compliance",
		"--since", since, "--until", until, "--profile", "prod-readonly", "--format", "csv").mustExit(t, 0)
	want := "profile,policy_required,tracked_count,untracked_count,orphaned_count,unverified_count,issuance_count,flagged_count,compliance_rate,has_gap,start_time,end_time,verdict,verdict_reasons,evidence_from,evidence_until,snapshots,integrity\n" +
		"prod-readonly,true,2,0,0,0,2,0,100.0,false,2026-11-01T00:00:00Z,2026-11-08T00:00:00Z,COMPLIANT,,2026-11-01T00:00:00Z,2026-11-08T00:00:00Z,2," +
		"\"log files validated 10 of 10, digests 336 of 336; signatures not checked for 336 digests (local copy)\"\n"
	if r.stdout != want {
		t.Fatalf("csv:\n%s\nwant:\n%s", r.stdout, want)
	}
}

// TestSessionComplianceWithoutPolicyIsInconclusive: without a policy nothing is required, so
// nothing can be judged compliant.
func TestSessionComplianceWithoutPolicyIsInconclusive(t *testing.T) {
	wh := ingestFixtures(t)
	r := sentinel(t, nil, "--warehouse", wh, "audit", "session-compliance", "--since", since, "--until", until,
		"--aws-config", fixtures+"/aws-config").mustExit(t, 3)
	if !strings.Contains(r.stdout, "Result: INCONCLUSIVE") || !strings.Contains(r.stdout, "no policy was given") || !strings.Contains(r.stdout, "what to do: pass --policy FILE") {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
}

type untrackedJSON struct {
	StartTime string      `json:"start_time"`
	Verdict   verdictJSON `json:"verdict"`
	Flagged   []struct {
		EventID  string   `json:"event_id"`
		Category string   `json:"category"`
		Flags    []string `json:"flags"`
	} `json:"flagged_issuances"`
	Sessions []struct {
		EventID        string `json:"event_id"`
		AccountID      string `json:"account_id"`
		Profile        string `json:"profile"`
		User           string `json:"user"`
		Category       string `json:"category"`
		Reason         string `json:"reason"`
		SourceIdentity string `json:"source_identity"`
		PolicyRequired *bool  `json:"policy_required"`
	} `json:"untracked_sessions"`
}

func TestUntrackedSessionsOnFixtures(t *testing.T) {
	wh := ingestFixtures(t)
	r := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "untracked-sessions",
		"--since", since, "--until", until, "--format", "json").mustExit(t, 1)
	var rep untrackedJSON
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	counts := map[string]int{}
	for _, s := range rep.Sessions {
		counts[s.Category]++
	}
	if want := map[string]int{"unverified": 1, "untracked_sentinel": 3, "non_sentinel_format": 2, "no_source_identity": 4}; !equalCounts(counts, want) {
		t.Fatalf("categories %v, want %v", counts, want)
	}
	byID := map[string]int{}
	for i, s := range rep.Sessions {
		byID[s.EventID] = i
	}
	p5 := rep.Sessions[byID["93cd456d-2c38-4014-a0ac-7311707dcabb"]]
	if p5.Category != "unverified" || p5.Profile != "prod" || p5.User != "carol" || p5.AccountID != "222222222222" ||
		p5.PolicyRequired == nil || !*p5.PolicyRequired || !strings.Contains(p5.Reason, `policy rule "prod-tracked" required a tracked server session`) {
		t.Errorf("P5: %+v", p5)
	}
	t3 := rep.Sessions[byID["c0cefd9f-4618-47e3-8fa8-0d5af08b7d41"]]
	if t3.Category != "untracked_sentinel" || t3.Profile != "staging" || t3.AccountID != "033333333333" || t3.SourceIdentity != "sentinel-r-9f8e7d6c5b4a3921-bob" {
		t.Errorf("T3 (only in the CloudWatch handoff): %+v", t3)
	}
	if _, ok := byID["c49a29a7-466b-4b83-bb39-8dc70e06e28c"]; ok {
		t.Error("the failed AssumeRole is listed")
	}
	// P4 was tracked, but issued after its session's revocation: listed apart, with why.
	if len(rep.Flagged) != 1 || rep.Flagged[0].EventID != "a4bbf650-e5bb-4a67-8dd7-4c5fa02d4ed7" || rep.Flagged[0].Category != "tracked" ||
		len(rep.Flagged[0].Flags) != 1 || rep.Flagged[0].Flags[0] != "issued_after_revocation" {
		t.Errorf("flagged %+v", rep.Flagged)
	}
	if rep.Verdict.Result != "FOUND" || rep.Verdict.codes() != "sessions_unverified" {
		t.Errorf("verdict %+v", rep.Verdict)
	}
	table := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "untracked-sessions",
		"--since", since, "--until", until).mustExit(t, 1).stdout
	for _, want := range []string{"Evidence\n", "10 issuances not tracked: 1 unverified, 3 untracked_sentinel, 2 non_sentinel_format, 4 no_source_identity",
		"Flagged issuances (issued after their session's revocation, or outside its lifetime)", "issued_after_revocation",
		"Result: FOUND — 9 issuances proven not tracked, 1 issuance flagged"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

func TestUntrackedSessionsFilters(t *testing.T) {
	wh := ingestFixtures(t)
	r := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "untracked-sessions",
		"--since", since, "--until", until, "--profile", "dev", "--category", "no_source_identity", "--format", "json").mustExit(t, 1)
	var rep untrackedJSON
	json.Unmarshal([]byte(r.stdout), &rep)
	if len(rep.Sessions) != 2 {
		t.Fatalf("dev no_source_identity: %+v", rep.Sessions)
	}
	sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "untracked-sessions",
		"--since", since, "--until", until, "--profile", "prod-readonly").mustExit(t, 0)
	bad := sentinel(t, nil, "--warehouse", wh, "audit", "untracked-sessions", "--category", "bogus").mustExit(t, 2)
	if !strings.Contains(bad.stderr, `--class "bogus": want one of orphaned, unverified, untracked_sentinel, non_sentinel_format, no_source_identity`) {
		t.Fatalf("stderr: %s", bad.stderr)
	}
}

// TestFilterValuesAreParameters: a quote in a profile name is a name no one knows, not SQL.
func TestFilterValuesAreParameters(t *testing.T) {
	wh := ingestFixtures(t)
	r := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "untracked-sessions",
		"--since", since, "--until", until, "--profile", "x' OR '1'='1", "--format", "json").mustExit(t, 2)
	if r.stdout != "" || !strings.Contains(r.stderr, "--profile x' OR '1'='1: no policy rule, profile map, session record or issuance knows this profile") {
		t.Fatalf("a quote in a profile name changed the query:\nstdout %s\nstderr %s", r.stdout, r.stderr)
	}
}

func TestCorruptFilesDoNotStopTheRun(t *testing.T) {
	src := t.TempDir()
	copyTree(t, filepath.Join(repoRoot(t), fixtures, "trail"), filepath.Join(src, "trail"))
	copyTree(t, filepath.Join(repoRoot(t), "testdata", "broken"), filepath.Join(src, "broken"))
	wh := filepath.Join(t.TempDir(), "wh")
	r := sentinel(t, nil, "--warehouse", wh, "ingest", "--source", src).mustExit(t, 1)
	if !strings.Contains(r.stdout, "17 files read") || !strings.Contains(r.stdout, "4 failed") || !strings.Contains(r.stdout, "62 events stored, 1 duplicate") {
		t.Fatalf("summary: %s", r.stdout)
	}
	for _, want := range []string{
		"failed: " + filepath.Base(src) + "/broken/corrupt.json.gz: gzip",
		"failed: " + filepath.Base(src) + "/broken/empty.json: empty file",
		"failed: " + filepath.Base(src) + "/broken/not-cloudtrail.json: not CloudTrail",
		"failed: " + filepath.Base(src) + "/broken/truncated.json: invalid JSON",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if n := scalar(t, wh, `SELECT count(*) FROM ingest_files WHERE status = 'failed' AND error IS NOT NULL`); n != 4 {
		t.Errorf("failed ledger rows = %v", n)
	}
	// Files that could not be read may have held events: no verdict can rest on the rest alone.
	c := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "session-compliance",
		"--since", since, "--until", until, "--profile", "prod-readonly").mustExit(t, 3)
	if !strings.Contains(c.stdout, "4 files of the window's evidence could not be read, so events may be missing") {
		t.Errorf("verdict:\n%s", c.stdout)
	}
	// A second run retries the failed files; nothing already stored is duplicated.
	r = sentinel(t, nil, "--warehouse", wh, "ingest", "--source", src).mustExit(t, 1)
	if !strings.Contains(r.stdout, "1361 unchanged") {
		t.Errorf("second run: %s", r.stdout)
	}
	if n := scalar(t, wh, `SELECT count(*) FROM events_all`); n != 62 {
		t.Errorf("events_all = %v after the retry, want 62", n)
	}
}

func TestChangedFileIsReReadWithoutDuplicates(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "handoff.jsonl")
	a := `{"eventID":"a","eventTime":"2026-11-02T10:00:00Z","eventName":"GetObject"}`
	b := `{"eventID":"b","eventTime":"2026-11-02T11:00:00Z","eventName":"PutObject"}`
	os.WriteFile(file, []byte(a+"\n"), 0o600)
	wh := filepath.Join(t.TempDir(), "wh")
	sentinel(t, nil, "--warehouse", wh, "ingest", "--source", dir).mustExit(t, 0)
	os.WriteFile(file, []byte(a+"\n"+b+"\n"), 0o600)
	r := sentinel(t, nil, "--warehouse", wh, "ingest", "--source", dir).mustExit(t, 0)
	if !strings.Contains(r.stdout, "1 file read") || !strings.Contains(r.stdout, "1 event stored, 1 duplicate") {
		t.Fatalf("summary: %s", r.stdout)
	}
	if n := scalar(t, wh, `SELECT count(*) FROM events_all`); n != 2 {
		t.Fatalf("events_all = %v", n)
	}
}

func TestWindowLimitsWhatIsStoredAndWideningReReads(t *testing.T) {
	wh := filepath.Join(t.TempDir(), "wh")
	r := sentinel(t, nil, "--warehouse", wh, "ingest", "--source", fixtures+"/trail",
		"--since", "2026-11-04T00:00:00Z", "--until", "2026-11-05T00:00:00Z").mustExit(t, 0)
	if !regexp.MustCompile(`[1-9]\d* out of window`).MatchString(r.stdout) || !strings.Contains(r.stdout, "outside the window") {
		t.Fatalf("summary: %s", r.stdout)
	}
	if n := scalar(t, wh, `SELECT count(*) FROM events_all WHERE event_time < '2026-11-04' OR event_time >= '2026-11-05'`); n != 0 {
		t.Fatalf("%v events outside the window stored", n)
	}
	inWindow := scalar(t, wh, `SELECT count(*) FROM events_all`)
	if inWindow == 0 {
		t.Fatal("nothing stored")
	}
	// The late delivery (eventTime 2026-11-03T23:58:40Z, delivered into the 11/04 folder) is outside.
	sentinel(t, nil, "--warehouse", wh, "ingest", "--source", fixtures+"/trail").mustExit(t, 0)
	if n := scalar(t, wh, `SELECT count(DISTINCT event_id) FROM events_all`); n != 62 {
		t.Fatalf("after widening: %v distinct events, want all 62 of the trail", n)
	}
	if n := scalar(t, wh, `SELECT count(*) - count(DISTINCT event_id) FROM events_all`); n != 0 {
		t.Fatalf("%v duplicates stored", n)
	}
}

func TestSQLIsReadOnly(t *testing.T) {
	wh := ingestFixtures(t)
	for _, q := range []string{
		`DROP VIEW events`,
		`CREATE TABLE x AS SELECT 1`,
		`COPY (SELECT * FROM events) TO '/tmp/sentinel-leak.csv'`,
		`SELECT * FROM read_csv('/etc/passwd')`,
		`ATTACH '/tmp/x.db'`,
	} {
		r := sentinel(t, nil, "--warehouse", wh, "sql", q).mustExit(t, 2)
		if !strings.Contains(r.stderr, "sentinel: query:") {
			t.Errorf("%s: %s", q, r.stderr)
		}
	}
	if _, err := os.Stat("/tmp/sentinel-leak.csv"); err == nil {
		t.Fatal("COPY TO wrote a file")
	}
	r := sentinel(t, nil, "--warehouse", wh, "sql", "--format", "csv", `SELECT class, count(*) AS n FROM issuances GROUP BY class ORDER BY class`).mustExit(t, 0)
	want := "class,n\nno_source_identity,4\nnon_sentinel_format,2\ntracked,7\nuntracked_sentinel,3\nunverified,1\n"
	if r.stdout != want {
		t.Fatalf("sql csv:\n%s\nwant:\n%s", r.stdout, want)
	}
}

// TestSQLRunsOneReadOnlyStatement: what sql refuses, with the read-only refusal for writes (not
// DuckDB's "Can only delete from base table"), and several statements, none of which runs; JSON
// keeps the SELECT's column order.
func TestSQLRunsOneReadOnlyStatement(t *testing.T) {
	wh := ingestFixtures(t)
	for q, want := range map[string]string{
		`DELETE FROM events`:                     "sentinel: query: only read-only queries (SELECT, WITH ... SELECT, VALUES, EXPLAIN, DESCRIBE, SHOW, SUMMARIZE) are allowed; this is a DELETE statement",
		`CHECKPOINT`:                             "this is a CHECKPOINT statement",
		`USE memory`:                             "this is a USE statement",
		`UPDATE sessions SET status = 'revoked'`: "this is an UPDATE statement",
		`ATTACH '/tmp/x.db'`:                     "this is an ATTACH statement",
		`SELECT 1; SELECT 2`:                     "sentinel: query: one statement at a time: the query holds several (separated by ;)",
		`SELECT 1; COPY (SELECT 1) TO '/tmp/sentinel-leak-2.csv'`: "one statement at a time",
	} {
		r := sentinel(t, nil, "--warehouse", wh, "sql", q).mustExit(t, 2)
		if r.stdout != "" || !strings.Contains(r.stderr, want) {
			t.Errorf("%s: stdout %q stderr %q, want %q", q, r.stdout, r.stderr, want)
		}
	}
	if _, err := os.Stat("/tmp/sentinel-leak-2.csv"); err == nil {
		t.Fatal("a statement before the last ran")
	}
	r := sentinel(t, nil, "--warehouse", wh, "sql", "--json", `SELECT 'tracked' AS class, 7 AS n, 1 AS a`).mustExit(t, 0)
	if want := "[\n  {\n    \"class\": \"tracked\",\n    \"n\": 7,\n    \"a\": 1\n  }\n]\n"; r.stdout != want {
		t.Fatalf("sql --json:\n%s\nwant:\n%s", r.stdout, want)
	}
	if r = sentinel(t, nil, "--warehouse", wh, "sql", "--json", `SELECT 1 AS a, 2 AS a`).mustExit(t, 2); r.stdout != "" ||
		!strings.Contains(r.stderr, `two columns are named "a", which JSON objects cannot hold`) {
		t.Fatalf("duplicate column names in JSON: stdout %q stderr %q", r.stdout, r.stderr)
	}
	for _, q := range []string{`DESCRIBE events`, `SHOW TABLES`, `VALUES (1)`, `PRAGMA version`} {
		sentinel(t, nil, "--warehouse", wh, "sql", q).mustExit(t, 0)
	}
	if r = sentinel(t, nil, "--warehouse", wh, "sql", `SELECT 1 AS one`).mustExit(t, 0); r.stderr != "(1 row)\n" {
		t.Fatalf("sql table: stderr %q", r.stderr)
	}
}

func TestAuditWithoutWarehouse(t *testing.T) {
	r := sentinel(t, nil, "--warehouse", filepath.Join(t.TempDir(), "none"), "audit", "session-compliance").mustExit(t, 2)
	if !strings.Contains(r.stderr, "no warehouse at") || !strings.Contains(r.stderr, "sentinel ingest") {
		t.Fatalf("stderr: %s", r.stderr)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if info.IsDir() {
			return os.MkdirAll(dst, 0o700)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestActivityOfUntrackedSessions(t *testing.T) {
	wh := ingestFixtures(t)
	r := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "activity",
		"--since", since, "--until", until, "--profile", "prod", "--format", "json").mustExit(t, 1)
	var rep struct {
		Sessions []struct {
			Category       string   `json:"category"`
			User           string   `json:"user"`
			EventCount     int      `json:"event_count"`
			WriteCalls     int      `json:"write_calls"`
			ErrorCalls     int      `json:"error_calls"`
			SensitiveCalls []string `json:"sensitive_calls"`
		} `json:"sessions"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if len(rep.Sessions) != 4 || rep.Sessions[0].Category != "tracked" || rep.Sessions[0].EventCount != 4 {
		t.Fatalf("prod has 3 untracked sessions and P4, flagged, that made 4 calls: %+v", rep.Sessions)
	}
	p6 := rep.Sessions[2] // 2026-11-05T07:45:10Z, alice, sentinel-r-...
	if p6.Category != "untracked_sentinel" || p6.User != "alice" || p6.EventCount != 4 || p6.WriteCalls != 3 || p6.ErrorCalls != 1 ||
		strings.Join(p6.SensitiveCalls, ",") != "iam:CreateAccessKey,iam:PutRolePolicy,s3:DeleteObject" {
		t.Errorf("P6: %+v", p6)
	}
	sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "activity",
		"--since", since, "--until", until, "--profile", "prod-readonly").mustExit(t, 0)
}

func TestSessionComplianceWithActivity(t *testing.T) {
	wh := ingestFixtures(t)
	r := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "session-compliance",
		"--since", since, "--until", until, "--with-activity", "--format", "csv").mustExit(t, 1)
	for _, want := range []string{",untracked_calls,verdict,", "\nprod,true,4,2,0,1,7,1,42.9,true,2026-11-01T00:00:00Z,2026-11-08T00:00:00Z,9,GAPS FOUND,sessions_unverified,",
		"\nprod-readonly,true,2,0,0,0,2,0,100.0,false,2026-11-01T00:00:00Z,2026-11-08T00:00:00Z,0,GAPS FOUND,sessions_unverified,"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("csv lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestCompactKeepsEveryAnswer(t *testing.T) {
	// Ingesting source by source leaves several files per partition to merge.
	wh := filepath.Join(t.TempDir(), "wh")
	for _, src := range []string{"/trail", "/handoff"} {
		sentinel(t, nil, "--warehouse", wh, "ingest", "--source", fixtures+src).mustExit(t, 0)
	}
	sentinel(t, nil, "--warehouse", wh, "ingest", "--sessions-file", fixtures+"/sessions/snapshot-2026-11-03.jsonl").mustExit(t, 0)
	sentinel(t, nil, "--warehouse", wh, "ingest", "--sessions-file", fixtures+"/sessions/snapshot-2026-11-06.json.gz").mustExit(t, 0)
	report := func() string {
		r := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "untracked-sessions", "--since", since, "--until", until, "--format", "json")
		c := complianceReport(t, wh)
		n := scalar(t, wh, `SELECT count(*) FROM events`)
		return fmt.Sprintf("%s|%s|%v", r.stdout, c, n)
	}
	before := report()
	files := scalar(t, wh, `SELECT count(*) FROM lake_files`)
	r := sentinel(t, nil, "--warehouse", wh, "warehouse", "compact").mustExit(t, 0)
	if !strings.HasPrefix(r.stdout, "compact: ") || strings.Contains(r.stdout, "nothing to do") {
		t.Fatalf("compact: %s", r.stdout)
	}
	if after := report(); after != before {
		t.Fatalf("answers changed by compaction")
	}
	if got := scalar(t, wh, `SELECT count(*) FROM lake_files`); got >= files {
		t.Fatalf("lake files %v -> %v", files, got)
	}
	if n := scalar(t, wh, `SELECT count(*) FROM events_all`); n != 74 {
		t.Fatalf("events_all = %v after compaction", n)
	}
	r = sentinel(t, nil, "--warehouse", wh, "warehouse", "compact").mustExit(t, 0)
	if !strings.Contains(r.stdout, "nothing to do") {
		t.Fatalf("second compact: %s", r.stdout)
	}
}

// TestNoFalseCompliant is each way the issue found to a false COMPLIANT, through the binary: the
// exact verdict, exit code and reasons.
func TestNoFalseCompliant(t *testing.T) {
	wh := ingestFixtures(t)
	policy := fixtures + "/policy.yaml"
	// report runs session-compliance with the fixture config (the profile map and policy) unless
	// args start with --policy.
	report := func(t *testing.T, code int, args ...string) complianceJSON {
		t.Helper()
		global := []string{"--warehouse", wh, "--config", fixtures + "/sentinel.yaml"}
		if args[0] == "--policy" {
			global = global[:2]
		}
		r := sentinel(t, nil, append(append(global, "audit", "session-compliance", "--format", "json"), args...)...).mustExit(t, code)
		var rep complianceJSON
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("%v\n%s", err, r.stdout)
		}
		return rep
	}
	t.Run("no_profile_map", func(t *testing.T) {
		// The README's tour without --config: the policy requires prod and prod-readonly, but no
		// AWS or Sentinel config maps a role to them, so their roles' untracked issuances are
		// counted under the roles' names.
		// Before P4 (prod's session used after its revocation, a gap whatever the map says).
		rep := report(t, 3, "--policy", policy, "--since", since, "--until", "2026-11-04T10:00:00Z")
		if rep.Verdict.Result != "INCONCLUSIVE" || rep.Verdict.codes() != "profile_unmapped,profile_unmapped" ||
			!strings.Contains(rep.Verdict.Reasons[0].Message, "profile prod must be tracked, but no role ARN maps to it") ||
			!strings.Contains(rep.Verdict.Reasons[0].Action, "role_arn in the AWS config file (--aws-config") ||
			!strings.Contains(rep.Verdict.Reasons[1].Message, "profile prod-readonly must be tracked") {
			t.Fatalf("verdict %+v", rep.Verdict)
		}
		// Over the whole window P4 proves a gap; what the map would show stays unknown.
		rep = report(t, 1, "--policy", policy, "--since", since, "--until", until)
		if rep.Verdict.Result != "GAPS FOUND" || rep.Verdict.codes() != "profile_unmapped,profile_unmapped" {
			t.Fatalf("verdict %+v", rep.Verdict)
		}
	})
	t.Run("window_without_evidence", func(t *testing.T) {
		rep := report(t, 3, "--since", "2020-01-01", "--until", "2020-02-01")
		if rep.Verdict.Result != "INCONCLUSIVE" || rep.Verdict.codes() != "no_evidence" ||
			!strings.Contains(rep.Verdict.Reasons[0].Message, "the warehouse holds no evidence for the window 2020-01-01T00:00:00Z to 2020-02-01T00:00:00Z") {
			t.Fatalf("verdict %+v", rep.Verdict)
		}
	})
	t.Run("window_without_evidence_in_csv", func(t *testing.T) {
		// A CSV report without a row still carries the verdict: one row, its data columns empty.
		for _, cmd := range []string{"untracked-sessions", "activity"} {
			r := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", cmd,
				"--since", "2020-01-01", "--until", "2020-02-01", "--format", "csv").mustExit(t, 3)
			rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
			if err != nil || len(rows) != 2 {
				t.Fatalf("%s: %v\n%s", cmd, err, r.stdout)
			}
			head, row := rows[0], rows[1]
			i := slices.Index(head, "verdict")
			if i < 1 || strings.Join(row[:i], "") != "" || row[i] != "INCONCLUSIVE" || row[i+1] != "no_evidence" {
				t.Fatalf("%s: %q\n%q", cmd, head, row)
			}
		}
	})
	t.Run("no_evidence_in_every_command_and_format", func(t *testing.T) {
		for _, window := range [][]string{{"--since", "2020-01-01", "--until", "2020-02-01"}, {"--since", "7d"}} {
			for _, cmd := range []string{"session-compliance", "untracked-sessions", "activity"} {
				for format, want := range map[string]string{"table": "Result: INCONCLUSIVE", "json": `"result": "INCONCLUSIVE"`, "csv": ",INCONCLUSIVE,no_evidence,"} {
					r := sentinel(t, nil, append([]string{"--warehouse", wh, "--config", fixtures + "/sentinel.yaml", "audit", cmd, "--format", format}, window...)...)
					if r.code != 3 || !strings.Contains(r.stdout, want) || (format != "csv" && !strings.Contains(r.stdout, "the warehouse holds no evidence for the window")) {
						t.Errorf("%s %s %v: exit %d\n%s", cmd, format, window, r.code, r.stdout)
					}
				}
			}
			out := filepath.Join(t.TempDir(), "report.html")
			sentinel(t, nil, append([]string{"--warehouse", wh, "--config", fixtures + "/sentinel.yaml", "audit", "report", "--out", out}, window...)...).mustExit(t, 3)
			if page, err := os.ReadFile(out); err != nil || !strings.Contains(string(page), "INCONCLUSIVE") || !strings.Contains(string(page), "the warehouse holds no evidence for the window") {
				t.Errorf("report %v: %v", window, err)
			}
		}
	})
	t.Run("no_data_yet", func(t *testing.T) {
		// The default window, the last 7 days: the newest evidence is weeks old.
		rep := report(t, 3, "--since", "7d")
		if rep.Verdict.Result != "INCONCLUSIVE" || rep.Verdict.codes() != "no_evidence" {
			t.Fatalf("verdict %+v", rep.Verdict)
		}
	})
	t.Run("window_past_the_newest_evidence", func(t *testing.T) {
		rep := report(t, 3, "--profile", "prod-readonly", "--since", "2026-11-06T00:00:00Z", "--until", "2026-11-10T00:00:00Z")
		if rep.Verdict.Result != "INCONCLUSIVE" || rep.Verdict.codes() != "evidence_ends_before_window_end" ||
			!strings.Contains(rep.Verdict.Reasons[0].Message, "222222222222 us-east-1 ends 2026-11-08T00:00:00Z") ||
			!strings.Contains(rep.Verdict.Reasons[0].Action, "run `sentinel ingest` to bring the rest") {
			t.Fatalf("verdict %+v", rep.Verdict)
		}
	})
	t.Run("window_before_the_oldest_evidence", func(t *testing.T) {
		rep := report(t, 3, "--profile", "prod-readonly", "--since", "2026-10-25T00:00:00Z", "--until", "2026-11-08T00:00:00Z")
		// The first digest starts the chain (no previous digest): validation was off before it.
		if rep.Verdict.Result != "INCONCLUSIVE" || rep.Verdict.codes() != "evidence_starts_after_window_start,integrity_findings" ||
			!strings.Contains(rep.Verdict.Reasons[0].Message, "222222222222 us-east-1 begins 2026-11-01T00:00:00Z") ||
			!strings.Contains(rep.Verdict.Reasons[1].Message, "2 logging off") {
			t.Fatalf("verdict %+v", rep.Verdict)
		}
	})
	t.Run("flagged_issuance_of_a_required_profile", func(t *testing.T) {
		// P4 (2026-11-04T10:05:00Z) names prod's session S3 after its revocation: tracked in name
		// only, as the server issues nothing for a revoked session.
		rep := report(t, 1, "--profile", "prod", "--since", "2026-11-04T10:00:00Z", "--until", "2026-11-04T10:30:00Z")
		if rep.Verdict.Result != "GAPS FOUND" || rep.FlaggedIssuances != 1 || rep.ProfilesWithGaps != 1 || !rep.Profiles[0].HasGap {
			t.Fatalf("verdict %+v, profiles %+v", rep.Verdict, rep.Profiles)
		}
		// The other audits judge it alike: listed as flagged, and its 4 calls are what it did.
		sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "untracked-sessions",
			"--profile", "prod", "--since", "2026-11-04T10:00:00Z", "--until", "2026-11-04T10:30:00Z").mustExit(t, 1)
		r := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "activity", "--format", "json",
			"--profile", "prod", "--since", "2026-11-04T10:00:00Z", "--until", "2026-11-04T10:30:00Z").mustExit(t, 1)
		var act struct {
			Sessions []struct {
				Category   string   `json:"category"`
				EventCount int      `json:"event_count"`
				Flags      []string `json:"flags"`
			} `json:"sessions"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &act); err != nil || len(act.Sessions) != 1 || act.Sessions[0].Category != "tracked" ||
			act.Sessions[0].EventCount != 4 || fmt.Sprint(act.Sessions[0].Flags) != "[issued_after_revocation]" {
			t.Fatalf("%v: %+v", err, act.Sessions)
		}
	})
	t.Run("session_of_another_profile", func(t *testing.T) {
		// An AssumeRole of prod's role outside Sentinel, with a SourceIdentity naming staging's
		// live session S7: the issuance is prod's, flagged, not staging's tracked one.
		// And DevAdmin, which dev and sandbox both name, issued for sandbox's session: not flagged
		// though the role's issuances go to dev by default.
		wh := ingestFixtures(t)
		dir, sessions := t.TempDir(), t.TempDir()
		sandbox := strings.NewReplacer("222222222222:role/ProdAdmin", "444444444444:role/DevAdmin", "222222222222:assumed-role/ProdAdmin", "444444444444:assumed-role/DevAdmin",
			"d00dfeed5a5a5a5a", "5a5a5a5a5a5a5a5a", "93cd456d-2c38-4014-a0ac-7311707dcab0", "93cd456d-2c38-4014-a0ac-7311707dcab1",
			"ASIAA4D7P6C2NKFVEJH0", "ASIAA4D7P6C2NKFVEJH1", `"recipientAccountId": "222222222222"`, `"recipientAccountId": "444444444444"`,
			"17:40:00Z", "17:45:00Z").Replace(forgedSessionEvent)
		if err := os.WriteFile(filepath.Join(dir, "forged.jsonl"), []byte(forgedSessionEvent+"\n"+sandbox+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		item := `{"id":"5a5a5a5a5a5a5a5a","user":"carol","profile":"sandbox","status":"active","started_at":"2026-11-04T17:44:00Z",` +
			`"expires_at":"2026-11-04T23:00:00Z","created_at":"2026-11-04T17:44:00Z","updated_at":"2026-11-04T17:50:00Z"}` + "\n"
		if err := os.WriteFile(filepath.Join(sessions, "snapshot-2026-11-04T1750.jsonl"), []byte(item), 0o600); err != nil {
			t.Fatal(err)
		}
		sentinel(t, nil, "--warehouse", wh, "ingest", "--source", dir, "--sessions-file", sessions).mustExit(t, 0)
		// sandbox has a role of its own too (Sentinel's config), so that it names roles.
		fixtureDir := filepath.Join(repoRoot(t), fixtures)
		config := filepath.Join(t.TempDir(), "sentinel.yaml")
		body := fmt.Sprintf("defaults:\n  policy: %s/policy.yaml\n  aws_config: %s/aws-config\nprofiles:\n  - name: sandbox\n    role_arn: arn:aws:iam::444444444444:role/SandboxOnly\n", fixtureDir, fixtureDir)
		if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		r := sentinel(t, nil, "--warehouse", wh, "--config", config, "sql", "--format", "json",
			`SELECT profile, class, len(flags) AS flags FROM issuances WHERE event_id = '93cd456d-2c38-4014-a0ac-7311707dcab1'`).mustExit(t, 0)
		var got []map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got) != 1 || got[0]["profile"] != "sandbox" || got[0]["class"] != "tracked" ||
			fmt.Sprint(got[0]["flags"]) != "0" {
			t.Fatalf("DevAdmin issued for sandbox's session: %v %s", err, r.stdout)
		}
		r = sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "session-compliance", "--format", "json",
			"--profile", "prod", "--since", "2026-11-04T17:00:00Z", "--until", "2026-11-04T18:00:00Z").mustExit(t, 1)
		var rep complianceJSON
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Verdict.Result != "GAPS FOUND" || len(rep.Profiles) != 1 ||
			rep.Profiles[0].Profile != "prod" || rep.Profiles[0].Tracked != 1 || !rep.Profiles[0].HasGap {
			t.Fatalf("%v: verdict %+v, profiles %+v", err, rep.Verdict, rep.Profiles)
		}
		u := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "untracked-sessions", "--format", "json",
			"--since", "2026-11-04T17:00:00Z", "--until", "2026-11-04T18:00:00Z").mustExit(t, 1)
		var list struct {
			Flagged []struct {
				Profile string   `json:"profile"`
				Reason  string   `json:"reason"`
				Flags   []string `json:"flags"`
			} `json:"flagged_issuances"`
		}
		if err := json.Unmarshal([]byte(u.stdout), &list); err != nil || len(list.Flagged) != 1 || list.Flagged[0].Profile != "prod" ||
			fmt.Sprint(list.Flagged[0].Flags) != "[session_of_another_profile]" ||
			!strings.Contains(list.Flagged[0].Reason, "it is a session of profile staging, which does not name this role") {
			t.Fatalf("%v: %+v", err, list.Flagged)
		}
	})
	t.Run("unknown_profile_is_an_error", func(t *testing.T) {
		r := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "session-compliance",
			"--since", since, "--until", until, "--profile", "nosuch").mustExit(t, 2)
		if r.stdout != "" || !strings.Contains(r.stderr, "--profile nosuch: no policy rule, profile map, session record or issuance knows this profile (known: CIRunner, dev, prod, prod-readonly, sandbox, staging)") {
			t.Fatalf("stdout %q\nstderr %s", r.stdout, r.stderr)
		}
		for _, cmd := range []string{"untracked-sessions", "activity"} {
			sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", cmd, "--profile", "nosuch").mustExit(t, 2)
		}
	})
	t.Run("session_no_snapshot_could_check", func(t *testing.T) {
		// P5 (2026-11-04T16:40:00Z) is prod's only issuance in this window; no snapshot was taken in
		// the hour after it.
		rep := report(t, 3, "--profile", "prod", "--since", "2026-11-04T16:00:00Z", "--until", "2026-11-04T18:00:00Z")
		if rep.Verdict.Result != "INCONCLUSIVE" || rep.Verdict.codes() != "sessions_unverified" || rep.Profiles[0].Unverified != 1 {
			t.Fatalf("verdict %+v, profiles %+v", rep.Verdict, rep.Profiles)
		}
		// A snapshot taken in that hour, without P5's session, proves it orphaned: a gap.
		dir := t.TempDir()
		item := `{"id":"0f0e0d0c0b0a0908","user":"erin","profile":"staging","status":"active","started_at":"2026-11-04T12:00:00Z",` +
			`"expires_at":"2026-11-04T23:00:00Z","created_at":"2026-11-04T12:00:00Z","updated_at":"2026-11-04T17:05:00Z"}` + "\n"
		if err := os.WriteFile(filepath.Join(dir, "snapshot-2026-11-04T1705.jsonl"), []byte(item), 0o600); err != nil {
			t.Fatal(err)
		}
		sentinel(t, nil, "--warehouse", wh, "ingest", "--sessions-file", dir).mustExit(t, 0)
		rep = report(t, 1, "--profile", "prod", "--since", "2026-11-04T16:00:00Z", "--until", "2026-11-04T18:00:00Z")
		if rep.Verdict.Result != "GAPS FOUND" || len(rep.Verdict.Reasons) != 0 || rep.Profiles[0].Orphaned != 1 || rep.Profiles[0].Unverified != 0 {
			t.Fatalf("verdict %+v, profiles %+v", rep.Verdict, rep.Profiles)
		}
	})
}

// forgedSessionEvent is an AssumeRole of prod's role made outside Sentinel, whose SourceIdentity
// names staging's live server session S7.
const forgedSessionEvent = `{"eventVersion": "1.08", "userIdentity": {"type": "IAMUser", "principalId": "AIDAKUWENKMQNKZDA7J75", ` +
	`"arn": "arn:aws:iam::111111111111:user/carol", "accountId": "111111111111", "accessKeyId": "AKIAGVWT3TI4OJOSXNDO", "userName": "carol"}, ` +
	`"eventTime": "2026-11-04T17:40:00Z", "eventSource": "sts.amazonaws.com", "eventName": "AssumeRole", "awsRegion": "us-east-1", ` +
	`"sourceIPAddress": "192.0.2.44", "userAgent": "aws-cli/2.15.0", "requestParameters": {"roleArn": "arn:aws:iam::222222222222:role/ProdAdmin", ` +
	`"roleSessionName": "carol", "durationSeconds": 3600, "sourceIdentity": "sentinel-s-d00dfeed5a5a5a5a-carol"}, ` +
	`"responseElements": {"credentials": {"accessKeyId": "ASIAA4D7P6C2NKFVEJH0", "expiration": "Nov 4, 2026, 6:40:00 PM"}, ` +
	`"assumedRoleUser": {"assumedRoleId": "AROAHSSBBSIYQO3GBKT54:carol", "arn": "arn:aws:sts::222222222222:assumed-role/ProdAdmin/carol"}, ` +
	`"sourceIdentity": "sentinel-s-d00dfeed5a5a5a5a-carol"}, "requestID": "cfcf783c-e684-49f9-88f4-5705cc729e65", ` +
	`"eventID": "93cd456d-2c38-4014-a0ac-7311707dcab0", "readOnly": true, "eventType": "AwsApiCall", "managementEvent": true, ` +
	`"recipientAccountId": "222222222222", "eventCategory": "Management"}`

// TestClassFilterNarrowsTheListNotTheVerdict: --class lists only the issuances (or sessions) of
// one class; the verdict still weighs every class, so filtering out what is unknown or proven
// cannot turn it CLEAN.
func TestClassFilterNarrowsTheListNotTheVerdict(t *testing.T) {
	wh := ingestFixtures(t)
	type row struct {
		Category string `json:"category"`
	}
	var out struct {
		Verdict   verdictJSON `json:"verdict"`
		Untracked []row       `json:"untracked_sessions"`
		Sessions  []row       `json:"sessions"`
	}
	run := func(cmd string, args ...string) (string, []row) {
		t.Helper()
		r := sentinel(t, nil, append([]string{"--warehouse", wh, "--config", fixtures + "/sentinel.yaml", "audit", cmd, "--format", "json",
			"--profile", "prod", "--since", since, "--until", until}, args...)...)
		out.Untracked, out.Sessions = nil, nil
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("%s %v: %v\n%s", cmd, args, err, r.stdout)
		}
		return out.Verdict.Result + " " + out.Verdict.codes() + fmt.Sprintf(" exit %d", r.code), append(out.Untracked, out.Sessions...)
	}
	for _, cmd := range []string{"untracked-sessions", "activity"} {
		whole, all := run(cmd)
		if !strings.HasPrefix(whole, "FOUND ") || len(all) == 0 {
			t.Fatalf("%s: %s, %d rows", cmd, whole, len(all))
		}
		for _, class := range []string{"orphaned", "unverified", "untracked_sentinel", "non_sentinel_format", "no_source_identity"} {
			got, rows := run(cmd, "--class", class)
			if got != whole {
				t.Errorf("%s --class %s: %s, without it: %s", cmd, class, got, whole)
			}
			for _, r := range rows {
				if r.Category != class {
					t.Errorf("%s --class %s lists a %s row", cmd, class, r.Category)
				}
			}
		}
	}
}

// TestRolesDeclaredNotProfilesAreCountedApart: a config's not_profiles patterns take roles out of
// the list of roles no profile maps; they are summed instead.
func TestRolesDeclaredNotProfilesAreCountedApart(t *testing.T) {
	wh := ingestFixtures(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sentinel.yaml")
	fixtureDir := filepath.Join(repoRoot(t), fixtures)
	body := fmt.Sprintf("defaults:\n  policy: %s/policy.yaml\n  aws_config: %s/aws-config\nnot_profiles:\n  - \"arn:aws:iam::*:role/service-role/**\"\n", fixtureDir, fixtureDir)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	r := sentinel(t, nil, "--warehouse", wh, "--config", cfg, "audit", "session-compliance", "--since", since, "--until", until, "--format", "json").mustExit(t, 1)
	var rep struct {
		UnmappedRoles []any `json:"unmapped_roles"`
		RolesApart    struct {
			NotProfiles         int `json:"not_profiles"`
			NotProfileIssuances int `json:"not_profile_issuances"`
		} `json:"roles_apart"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.UnmappedRoles) != 0 || rep.RolesApart.NotProfiles != 1 || rep.RolesApart.NotProfileIssuances != 1 {
		t.Fatalf("unmapped %v, apart %+v", rep.UnmappedRoles, rep.RolesApart)
	}
	table := sentinel(t, nil, "--warehouse", wh, "--config", cfg, "audit", "session-compliance", "--since", since, "--until", until).mustExit(t, 1)
	if !strings.Contains(table.stdout, "Not listed: 1 issuance to 1 role the config declares not_profiles") {
		t.Errorf("table:\n%s", table.stdout)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("not_profiles:\n  - \"arn:[\"\n"), 0o600)
	if r := sentinel(t, nil, "--warehouse", wh, "--config", bad, "audit", "session-compliance").mustExit(t, 2); !strings.Contains(r.stderr, `not_profiles[0] "arn:[" is not a valid pattern`) {
		t.Errorf("bad pattern: %s", r.stderr)
	}
}

// TestClassAndCategoryAreOneFilter: untracked-sessions and activity filter by --class, and take
// --category (the upstream name) as the same flag.
func TestClassAndCategoryAreOneFilter(t *testing.T) {
	wh := filepath.Join(t.TempDir(), "wh")
	sentinel(t, nil, "--warehouse", wh, "ingest", "--source", fixtures+"/trail", "--sessions-file", fixtures+"/sessions").mustExit(t, 0)
	for _, report := range []string{"untracked-sessions", "activity"} {
		run := func(flag, class string) result {
			return sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", report, "--since", since, "--until", until, "--json", flag, class)
		}
		class, category := run("--class", "no_source_identity"), run("--category", "no_source_identity")
		if class.code != 1 || class.stdout != category.stdout || category.code != class.code || !strings.Contains(class.stdout, `"no_source_identity"`) ||
			strings.Contains(class.stdout, `"untracked_sentinel"`) {
			t.Errorf("%s --class: exit %d\n%s\n--category: exit %d\n%s", report, class.code, class.stdout, category.code, category.stdout)
		}
		for _, flag := range []string{"--class", "--category"} {
			if r := run(flag, "nope").mustExit(t, 2); !strings.Contains(r.stderr, `--class "nope": want one of orphaned, `) {
				t.Errorf("%s %s nope: %s", report, flag, r.stderr)
			}
		}
	}
}
