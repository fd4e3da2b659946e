package reports

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/queries"
	"github.com/sentinel-audit/sentinel/warehouse"
)

// HTMLReportInput is the input of `sentinel audit report`.
type HTMLReportInput struct {
	AuditInput
	// ConfigPath (Sentinel's config file, "" = none given) and OutPath (the page's file) are
	// named in the command that makes the report again, under "How to reproduce".
	ConfigPath, OutPath string
	// Version is Sentinel's version, GeneratedAt when the report was made.
	Version     string
	GeneratedAt time.Time
}

// maxIssuanceRows is how many untracked or flagged issuances the page lists one by one, the
// flagged and the required first: past it the page stays small enough to open and print, and
// names the commands that list every one.
const maxIssuanceRows = 1000

// maxRunRows is how many ingest runs the page lists, the newest first.
const maxRunRows = 50

// reportSQL are the queries whose answers the page shows, in the order they run.
var reportSQL = []string{
	"issuances_base.sql", "policy_tables.sql", "issuances.sql", "scope.sql", "session_compliance.sql",
	"unmapped_roles.sql", "untracked_calls.sql", "issuances_per_bucket.sql", "untracked_issuances.sql",
	"activity.sql", "session_activity.sql", "profile_rules.sql", "evidence.sql", "failed_files.sql",
}

// htmlPage is everything the page shows: the session-compliance and untracked-sessions reports as
// the terminal and JSON reports build them, the activity of the issuances it lists, and what only
// the page has (charts, coverage map, the rules that decided each profile, policy text, the
// warehouse's history, the SQL).
type htmlPage struct {
	In         HTMLReportInput
	Compliance ComplianceReport
	Headline   string
	Untracked  UntrackedReport
	// Rules are, per profile, the policy rules that decided its issuances (none without a policy).
	Rules    map[string][]queries.ProfileRule
	Bucket   bucketing
	Charts   []profileChart // one per Compliance.Profiles, in its order
	Coverage coverageMap
	// Integrity is what log file validation found for the accounts of the verdict (nothing when
	// the warehouse predates it).
	Integrity queries.Integrity
	Issuances []issuanceRow
	Omitted   int // untracked or flagged issuances not listed
	Policy    *policyText
	Warehouse *warehouse.Info
	Runs      []ingestRunRow // the newest maxRunRows ingest runs, newest first
	OlderRuns int64          // the runs not listed
	Command   string         // the command that makes this report again
	Reproduce []string       // the commands that show the same numbers
	SQL       []sqlText
}

// issuanceRow is one untracked or flagged issuance with what its session did (nil: no activity
// row, which session_activity.sql gives every issuance listed).
type issuanceRow struct {
	UntrackedSession
	Flagged  bool
	Activity *SessionActivity
}

type policyText struct {
	Path, SHA256, Text string
}

type sqlText struct {
	Name, SHA256, Text string
}

// HTMLReport writes the evidence report: one self-contained HTML page (no request leaves it:
// styles, script and charts are inline, and its Content-Security-Policy forbids the rest) with
// the verdict and the Evidence first, per profile the numbers and a chart of the compliance rate
// per day, the coverage map, the untracked and flagged issuances with what they did, the
// integrity findings, the policy, the warehouse's ingest history and how to reproduce every
// number. The verdict is session-compliance's, for the exit code.
func HTMLReport(ctx context.Context, in HTMLReportInput, out, diag io.Writer) (ComplianceOutcome, error) {
	a, err := openAudit(ctx, in.AuditInput, diag)
	if err != nil {
		return ComplianceOutcome{}, err
	}
	defer a.Close()
	p, err := a.htmlPage(ctx, in)
	if err != nil {
		return ComplianceOutcome{}, err
	}
	w := bufio.NewWriter(out)
	if err := writeHTML(w, p); err != nil {
		return ComplianceOutcome{}, err
	}
	return ComplianceOutcome{Result: p.Compliance.Verdict.Result}, w.Flush()
}

func (a *audit) htmlPage(ctx context.Context, in HTMLReportInput) (*htmlPage, error) {
	p := &htmlPage{In: in, Bucket: bucketFor(in.Window)}
	var err error
	if p.Compliance, err = a.sessionCompliance(ctx, SessionComplianceInput{AuditInput: in.AuditInput}); err != nil {
		return nil, err
	}
	p.Headline = complianceHeadline(p.Compliance)
	if p.Untracked, _, err = a.untrackedSessions(ctx, UntrackedSessionsInput{AuditInput: in.AuditInput}); err != nil {
		return nil, err
	}
	activity, err := a.listedActivity(ctx, in.AuditInput)
	if err != nil {
		return nil, err
	}
	addUntrackedCalls(p.Compliance.Profiles, activity)
	db := a.reader.DB()
	filter := queries.Filter{Window: in.Window, Profile: in.Profile}
	buckets, err := queries.IssuancesPerBucket(ctx, db, filter, p.Bucket.Width)
	if err != nil {
		return nil, err
	}
	rules, err := queries.ProfileRules(ctx, db, filter)
	if err != nil {
		return nil, err
	}
	p.Rules = map[string][]queries.ProfileRule{}
	for _, r := range rules {
		p.Rules[r.Profile] = append(p.Rules[r.Profile], r)
	}
	p.Charts = profileCharts(p.Compliance.Profiles, buckets, p.Bucket)
	p.Integrity = p.Compliance.Evidence.checked
	p.Coverage = buildCoverage(in.Window, p.Bucket, p.Compliance.Evidence.Accounts, coverageFromIntegrity(p.Integrity))
	p.Issuances, p.Omitted = issuanceRows(p.Untracked, activity)
	if in.PolicyPath != "" {
		text, err := os.ReadFile(in.PolicyPath)
		if err != nil {
			return nil, fmt.Errorf("read the policy for the report: %w", err)
		}
		sum := sha256.Sum256(text)
		p.Policy = &policyText{Path: in.PolicyPath, SHA256: hex.EncodeToString(sum[:]), Text: string(text)}
	}
	if p.Warehouse, err = a.reader.Info(ctx); err != nil {
		return nil, fmt.Errorf("warehouse info %s: %w", in.Warehouse, err)
	}
	p.Warehouse.Warehouse = in.Warehouse
	runs, err := a.reader.IngestRuns(ctx, maxRunRows)
	if err != nil {
		return nil, fmt.Errorf("warehouse info %s: %w", in.Warehouse, err)
	}
	for _, r := range runs {
		p.Runs = append(p.Runs, newIngestRunRow(r))
	}
	p.OlderRuns = p.Warehouse.Runs - int64(len(runs))
	p.Command, p.Reproduce = reproduce(in)
	for _, name := range reportSQL {
		text, err := queries.SQLFile(name)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256([]byte(text))
		p.SQL = append(p.SQL, sqlText{Name: name, SHA256: hex.EncodeToString(sum[:]), Text: text})
	}
	return p, nil
}

// addUntrackedCalls fills each profile's untracked calls (session-compliance --with-activity)
// from the activity of its sessions that were not tracked, which count the same calls: one pass
// over the events instead of two.
func addUntrackedCalls(profiles []ProfileCompliance, sessions []SessionActivity) {
	calls := map[string]int64{}
	for _, s := range sessions {
		if s.Category != queries.ClassTracked {
			calls[s.Profile] += s.EventCount
		}
	}
	for i := range profiles {
		n := calls[profiles[i].Profile]
		profiles[i].UntrackedCalls = &n
	}
}

// issuanceRows joins the untracked and flagged issuances with what their sessions did: flagged
// first, then those the policy required to be tracked, then by sensitive calls, writes and time;
// at most maxIssuanceRows, and how many more there were.
func issuanceRows(u UntrackedReport, activity []SessionActivity) ([]issuanceRow, int) {
	byEvent := make(map[string]*SessionActivity, len(activity))
	for i := range activity {
		byEvent[activity[i].IssuanceEventID] = &activity[i]
	}
	rows := make([]issuanceRow, 0, len(u.UntrackedSessions)+len(u.FlaggedIssuances))
	for _, s := range u.UntrackedSessions {
		rows = append(rows, issuanceRow{UntrackedSession: s, Flagged: len(s.Flags) > 0, Activity: byEvent[s.EventID]})
	}
	for _, s := range trackedOnly(u.FlaggedIssuances) {
		rows = append(rows, issuanceRow{UntrackedSession: s, Flagged: true, Activity: byEvent[s.EventID]})
	}
	weight := func(r issuanceRow) (sensitive, writes int64) {
		if r.Activity == nil {
			return 0, 0
		}
		return int64(len(r.Activity.SensitiveCalls)), r.Activity.WriteCalls
	}
	slices.SortStableFunc(rows, func(x, y issuanceRow) int {
		if x.Flagged != y.Flagged {
			return boolFirst(x.Flagged)
		}
		xr, yr := x.PolicyRequired != nil && *x.PolicyRequired, y.PolicyRequired != nil && *y.PolicyRequired
		if xr != yr {
			return boolFirst(xr)
		}
		xs, xw := weight(x)
		ys, yw := weight(y)
		return cmp.Or(cmp.Compare(ys, xs), cmp.Compare(yw, xw), x.EventTime.Compare(y.EventTime), strings.Compare(x.EventID, y.EventID))
	})
	if len(rows) > maxIssuanceRows {
		return rows[:maxIssuanceRows], len(rows) - maxIssuanceRows
	}
	return rows, 0
}

// ingestRunRow is an ingest run as the page lists it: the command it amounts to and its window.
type ingestRunRow struct {
	warehouse.IngestRun
	// AsCommand is `sentinel ingest` with the run's sources and window (an audit's sync is one),
	// `sentinel warehouse compact`, or the command as recorded for a run that read nothing else.
	AsCommand string
	By        string // the audit whose sync the run was ("" for an ingest of its own)
	Window    string // the event-time window it read, in words
}

func newIngestRunRow(r warehouse.IngestRun) ingestRunRow {
	row := ingestRunRow{IngestRun: r, AsCommand: r.AsCommand(), Window: runWindow(r.WindowStart, r.WindowEnd)}
	switch {
	case r.Command == "compact":
		row.Window = "-"
	case r.Sources != "":
		if audit, _, ok := strings.Cut(r.Command, " sync: "); ok && strings.HasPrefix(audit, "audit ") {
			row.By = "sentinel " + audit
		}
	}
	return row
}

// runWindow is an ingest run's event-time window in words (nil ends are open).
func runWindow(start, end *time.Time) string {
	switch {
	case start != nil && end != nil:
		return stamp(*start) + " to " + stamp(*end)
	case start != nil:
		return "from " + stamp(*start)
	case end != nil:
		return "before " + stamp(*end)
	}
	return "any time"
}

// boolFirst orders the one that is true first.
func boolFirst(x bool) int {
	if x {
		return -1
	}
	return 1
}

// reproduce is the command that makes the report again and those that show its numbers, from
// the same warehouse over the same window (resolved to times), profile, policy and profile map.
func reproduce(in HTMLReportInput) (string, []string) {
	sentinel := "sentinel --warehouse " + shellQuote(in.Warehouse)
	if in.ConfigPath != "" {
		sentinel += " --config " + shellQuote(in.ConfigPath)
	}
	flags := []string{"--since " + stamp(in.Window.Since), "--until " + stamp(in.Window.Until)}
	if in.Profile != "" {
		flags = append(flags, "--profile "+shellQuote(in.Profile))
	}
	if in.PolicyPath != "" {
		flags = append(flags, "--policy "+shellQuote(in.PolicyPath))
	}
	if in.AWSConfigPath != "" && !in.AWSConfigOptional {
		flags = append(flags, "--aws-config "+shellQuote(in.AWSConfigPath))
	}
	if in.RequireIntegrity {
		flags = append(flags, "--require-integrity")
	}
	if in.RequireSignatures {
		flags = append(flags, "--require-signatures")
	}
	common := strings.Join(flags, " ")
	out := in.OutPath
	if out == "" {
		out = "report.html"
	}
	return sentinel + " audit report " + common + " --out " + shellQuote(out), []string{
		sentinel + " audit session-compliance --with-activity " + common,
		sentinel + " audit untracked-sessions " + common,
		sentinel + " audit activity " + common,
		sentinel + " warehouse info",
	}
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
