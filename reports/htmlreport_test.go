package reports

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/ingest"
	"github.com/sentinel-audit/sentinel/integrity"
	"github.com/sentinel-audit/sentinel/queries"
	"github.com/sentinel-audit/sentinel/verdict"
	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/sentinel-audit/sentinel/window"
)

// hostile is text an attacker can put in a CloudTrail record (a user agent, a role or session
// name, a SourceIdentity) or a config file, trying every context of the page: element text,
// attributes, SVG text and titles, <pre>.
const hostile = `"'><script>window.pwned=1</script><img src=x onerror="window.pwned=2"></title></text></pre><svg onload="window.pwned=3">`

// hostilePage is a report whose every value from the evidence is hostile.
func hostilePage() *htmlPage {
	w := window.Window{Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC)}
	yes := true
	p := &htmlPage{In: HTMLReportInput{AuditInput: AuditInput{Window: w, Profile: hostile}, Version: hostile}, Bucket: bucketFor(w),
		Command: hostile, Reproduce: []string{hostile}}
	p.Compliance.Verdict = verdict.Verdict{Result: verdict.GapsFound, Reasons: []verdict.Reason{{Code: hostile, Message: hostile, Action: hostile},
		{Code: "code_spans", Message: "see `" + hostile + "`", Action: "`" + hostile}}}
	p.Headline = hostile
	p.Compliance.Profiles = []ProfileCompliance{{Profile: hostile, PolicyRequired: &yes, UntrackedCount: 1, IssuanceCount: 1, HasGap: true}}
	p.Compliance.UnmappedRoles = []UnmappedRole{{RoleARN: hostile, AccountID: hostile, Issuances: 1}}
	p.Charts = profileCharts(p.Compliance.Profiles, []queries.BucketRow{{Profile: hostile, Bucket: 2, Untracked: 1, Total: 1}}, p.Bucket)
	span := verdict.Span{Kind: hostile, Account: hostile, Region: hostile, From: w.Since.Add(30 * time.Hour), Until: w.Since.Add(50 * time.Hour)}
	p.Compliance.Evidence = EvidenceReport{StartTime: w.Since, EndTime: w.Until, Accounts: []verdict.Span{span}, Integrity: IntegritySummary{Summary: hostile},
		LeftOut:        []verdict.LeftOut{{Source: hostile, Account: hostile, Region: hostile}},
		UnfinishedRuns: []verdict.UnfinishedRun{{Run: 7, StartedAt: w.Since, Status: hostile, Command: hostile}}}
	p.Integrity = queries.Integrity{Regions: []queries.RegionIntegrity{{Account: hostile, Region: hostile, Digests: 1}},
		Findings: []queries.IntegrityFinding{{Kind: hostile, Reason: hostile, Account: hostile, Region: hostile, Object: hostile, By: hostile, Detail: hostile}}}
	p.Coverage = buildCoverage(w, p.Bucket, p.Compliance.Evidence.Accounts, coverageFromIntegrity(p.Integrity))
	u := UntrackedSession{EventID: hostile, EventTime: w.Since.Add(50 * time.Hour), AccountID: hostile, RoleARN: hostile, Profile: hostile,
		User: hostile, SourceIPAddress: hostile, UserAgent: hostile, SourceIdentity: hostile, Category: hostile, Reason: hostile,
		Flags: []string{hostile}}
	p.Untracked.UntrackedSessions = []UntrackedSession{u}
	p.Issuances = []issuanceRow{{UntrackedSession: u, Flagged: true, Activity: &SessionActivity{EventCount: 1, SensitiveCalls: []string{hostile}}}}
	p.Policy = &policyText{Path: hostile, SHA256: hostile, Text: hostile}
	p.Rules = map[string][]queries.ProfileRule{hostile: {{Profile: hostile, Rule: hostile, Effect: hostile, Reason: hostile, Issuances: 1}}}
	p.Warehouse = &warehouse.Info{Warehouse: hostile, Runs: 1, Sources: []warehouse.LedgerSource{{Kind: hostile, Scheme: hostile, Prefix: hostile}}}
	p.Runs = []ingestRunRow{newIngestRunRow(warehouse.IngestRun{Run: 1, Status: hostile, Command: hostile + " sync: " + hostile, Sources: hostile})}
	p.SQL = []sqlText{{Name: hostile, SHA256: hostile, Text: hostile}}
	return p
}

func TestHTMLReportEscapesEveryValueFromTheEvidence(t *testing.T) {
	var out bytes.Buffer
	if err := writeHTML(&out, hostilePage()); err != nil {
		t.Fatal(err)
	}
	page := out.String()
	if strings.Contains(page, hostile) || strings.Contains(page, "<script>window") || strings.Contains(page, "<img") {
		t.Fatal("hostile text reached the page as markup")
	}
	if n := strings.Count(page, "<script"); n != 1 {
		t.Fatalf("%d script elements, want the page's own one", n)
	}
	if !strings.Contains(page, `<p id="left-out">`) || !strings.Contains(page, `<p id="unfinished-runs">`) {
		t.Fatal("the Evidence does not name the regions ingest left out and the runs that did not finish")
	}
	if n := strings.Count(page, "&lt;script&gt;window.pwned=1&lt;/script&gt;"); n < 20 {
		t.Fatalf("the hostile text is shown, escaped, %d times; want it in every place it was put", n)
	}
}

// TestCoverageOfEveryFindingKind: each kind of integrity finding colours its hours missing or
// tampered on the coverage map, none is left out of it.
func TestCoverageOfEveryFindingKind(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	want := map[string]CoverageState{
		integrity.Missing.String(): CoverageMissing, integrity.Gap.String(): CoverageMissing, integrity.DigestsEnd.String(): CoverageMissing,
		integrity.RegionMissing.String(): CoverageMissing, integrity.DigestsMissing.String(): CoverageMissing,
		integrity.Modified.String(): CoverageTampered, integrity.ChainBroken.String(): CoverageTampered, integrity.Unlisted.String(): CoverageTampered,
		queries.FindingExtraGzipData: CoverageTampered,
	}
	// Logging off leaves its hours without data; a signature not checked leaves its hour validated.
	apart := []string{integrity.LoggingOff.String(), integrity.SignatureNotChecked.String()}
	for k := integrity.Missing; k <= integrity.DigestsMissing; k++ {
		if _, ok := want[k.String()]; !ok && !slices.Contains(apart, k.String()) {
			t.Errorf("finding kind %s: neither on the map nor said to stay off it", k)
		}
	}
	for kind, state := range want {
		spans := coverageFromIntegrity(queries.Integrity{Findings: []queries.IntegrityFinding{{Kind: kind, Account: "1", Region: "r", From: t0, To: t0.Add(time.Hour)}}})
		if len(spans) != 1 || spans[0].State != state {
			t.Errorf("%s: %+v, want %v", kind, spans, state)
		}
	}
	for _, kind := range apart {
		if spans := coverageFromIntegrity(queries.Integrity{Findings: []queries.IntegrityFinding{{Kind: kind, From: t0, To: t0.Add(time.Hour)}}}); len(spans) != 0 {
			t.Errorf("%s: %+v, want no span", kind, spans)
		}
	}
}

func TestBucketsAreHoursForShortWindowsDaysThenWeeks(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		span time.Duration
		unit string
		n    int
	}{
		{90 * time.Minute, "hour", 2},
		{72 * time.Hour, "hour", 72},
		{73 * time.Hour, "day", 4},
		{30 * 24 * time.Hour, "day", 30},
		{401 * 24 * time.Hour, "week", 58},
	} {
		b := bucketFor(window.Window{Since: t0, Until: t0.Add(c.span)})
		if b.Unit != c.unit || b.N != c.n {
			t.Errorf("%s: %d %ss, want %d %ss", c.span, b.N, b.Unit, c.n, c.unit)
		}
	}
}

func TestCoverageHourShowsTheStrongestEvidenceAndABucketItsWorstHour(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	w := window.Window{Since: t0, Until: t0.Add(72 * time.Hour)}
	b := bucketing{Since: t0, Width: 24 * time.Hour, N: 3, Unit: "day"}
	// Events delivered all three days; digests validate day 0 and day 1, where one hour is
	// tampered; day 2 is delivered only until noon.
	spans := []verdict.Span{{Kind: "trail", Account: "1", Region: "r", From: t0, Until: t0.Add(60*time.Hour - time.Second)}}
	hours := []CoverageSpan{
		{Account: "1", Region: "r", From: t0, Until: t0.Add(48 * time.Hour), State: CoverageValidated},
		{Account: "1", Region: "r", From: t0.Add(30 * time.Hour), Until: t0.Add(31 * time.Hour), State: CoverageTampered},
	}
	m := buildCoverage(w, b, spans, hours)
	if len(m.Rows) != 1 {
		t.Fatalf("rows %+v", m.Rows)
	}
	var got []string
	for _, r := range m.Rows[0].Runs {
		s := r.State
		if r.Partial {
			s += "~"
		}
		got = append(got, s)
	}
	if strings.Join(got, " ") != "validated tampered delivered~" {
		t.Fatalf("runs %v, want validated, tampered, delivered (partly without data)", got)
	}
	if title := m.Rows[0].Runs[1].Title; !strings.Contains(title, "tampered 1 hour, validated by digests 23 hours") {
		t.Fatalf("tampered day's title %q", title)
	}
}

func TestUntrackedCallsFromActivityAreSessionCompliancesWithActivity(t *testing.T) {
	ctx := context.Background()
	wh := filepath.Join(t.TempDir(), "wh")
	if _, err := ingest.Run(ctx, ingest.Options{Warehouse: wh, Sources: []string{fixtures + "/trail", fixtures + "/handoff"},
		SessionsFiles: []string{fixtures + "/sessions"}}); err != nil {
		t.Fatal(err)
	}
	in := AuditInput{Warehouse: wh, Window: fixtureWindow, PolicyPath: fixtures + "/policy.yaml", AWSConfigPath: fixtures + "/aws-config"}
	a, err := openAudit(ctx, in, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	want, err := a.sessionCompliance(ctx, SessionComplianceInput{AuditInput: in, WithActivity: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.sessionCompliance(ctx, SessionComplianceInput{AuditInput: in})
	if err != nil {
		t.Fatal(err)
	}
	// The page's activity holds the flagged issuances that were tracked too (P4, prod's): their
	// calls are not untracked calls.
	act, err := a.listedActivity(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	addUntrackedCalls(got.Profiles, act)
	for i, p := range want.Profiles {
		if *p.UntrackedCalls != *got.Profiles[i].UntrackedCalls {
			t.Errorf("%s: %d untracked calls from the activity, %d from untracked_calls.sql", p.Profile, *got.Profiles[i].UntrackedCalls, *p.UntrackedCalls)
		}
	}
}

func TestCodeSpansEscapeTheTextFirst(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"see `sentinel audit untracked-sessions`", "see <code>sentinel audit untracked-sessions</code>"},
		{"`a` and `b`", "<code>a</code> and <code>b</code>"},
		{"`<script>x</script>` & <b>", "<code>&lt;script&gt;x&lt;/script&gt;</code> &amp; &lt;b&gt;"},
		{"a lone ` stays", "a lone ` stays"},
		{"`x` then `<y>", "<code>x</code> then `&lt;y&gt;"},
		{`run "sentinel sql 'x'"`, "run &#34;sentinel sql &#39;x&#39;&#34;"},
	} {
		if got := string(codeSpans(c.in)); got != c.want {
			t.Errorf("codeSpans(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestLedgerSourcesAreShortenedToTheirEnds(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"file:///work/repo/testdata/fixtures/", "file:///…/testdata/fixtures/"},
		{"file:///data/trail/", "file:///data/trail/"},
		{"s3://bucket/org/AWSLogs/o-1/", "s3://bucket/…/AWSLogs/o-1/"},
		{"s3://bucket/AWSLogs/", "s3://bucket/AWSLogs/"},
		{"dynamodb://sessions", "dynamodb://sessions"},
		{"file:///a/b/c/d.json.gz", "file:///…/c/d.json.gz"},
	} {
		if got := shortSource(c.in); got != c.want {
			t.Errorf("shortSource(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestIngestRunsReadAsTheCommandTheyAmountTo(t *testing.T) {
	since := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	until := since.AddDate(0, 0, 7)
	for _, c := range []struct {
		run                  warehouse.IngestRun
		command, by, inWords string
	}{
		{warehouse.IngestRun{Command: "--source /trail window the beginning to the end", Sources: "--source /trail"},
			"sentinel ingest --source /trail", "", "any time"},
		{warehouse.IngestRun{Command: "--source s3://b window 2026-11-01T00:00:00Z to the end", Sources: "--source s3://b", WindowStart: &since},
			"sentinel ingest --source s3://b --since 2026-11-01T00:00:00Z", "", "from 2026-11-01T00:00:00Z"},
		{warehouse.IngestRun{Command: "--source /t window the beginning to 2026-11-08T00:00:00Z", Sources: "--source /t", WindowEnd: &until},
			"sentinel ingest --source /t --until 2026-11-08T00:00:00Z", "", "before 2026-11-08T00:00:00Z"},
		{warehouse.IngestRun{Command: "audit activity sync: --source api window 2026-11-01T00:00:00Z to 2026-11-08T00:00:00Z", Sources: "--source api",
			WindowStart: &since, WindowEnd: &until},
			"sentinel ingest --source api --since 2026-11-01T00:00:00Z --until 2026-11-08T00:00:00Z", "sentinel audit activity",
			"2026-11-01T00:00:00Z to 2026-11-08T00:00:00Z"},
		{warehouse.IngestRun{Command: "compact"}, "sentinel warehouse compact", "", "-"},
	} {
		got := newIngestRunRow(c.run)
		if got.AsCommand != c.command || got.By != c.by || got.Window != c.inWords {
			t.Errorf("%q: %q by %q over %q; want %q by %q over %q", c.run.Command, got.AsCommand, got.By, got.Window, c.command, c.by, c.inWords)
		}
	}
}

func TestHTMLReportSaysHowManyRunsItDoesNotList(t *testing.T) {
	p := hostilePage()
	p.Warehouse.Runs, p.OlderRuns = 51+maxRunRows, 51
	var out bytes.Buffer
	if err := writeHTML(&out, p); err != nil {
		t.Fatal(err)
	}
	if want := "the 51 older ones are in <code>sentinel sql"; !strings.Contains(out.String(), want) {
		t.Errorf("the page does not say %q", want)
	}
}
