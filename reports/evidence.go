package reports

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/queries"
	"github.com/sentinel-audit/sentinel/verdict"
)

// EvidenceReport is what the verdict rests on, shown before every audit's numbers: the window, per
// account and region in scope the span of each kind of evidence and when it last grew, the
// session-table snapshots, and whether the logs' integrity was verified.
type EvidenceReport struct {
	StartTime time.Time      `json:"start_time"`
	EndTime   time.Time      `json:"end_time"`
	Accounts  []verdict.Span `json:"accounts"`
	Snapshots SnapshotsSeen  `json:"snapshots"`
	// Integrity says whether the log files were proven whole and unchanged.
	Integrity IntegritySummary `json:"integrity"`
	// LeftOut are the regions of the accounts in scope whose trail folders ingest found and left
	// out (--regions).
	LeftOut []verdict.LeftOut `json:"left_out"`
	// UnfinishedRuns are the ingest runs over the window that did not finish, whose unread part
	// no later run has read.
	UnfinishedRuns []verdict.UnfinishedRun `json:"unfinished_runs"`
	// checked is what log file validation found, which Integrity sums (the HTML report shows it).
	checked queries.Integrity
}

// IntegritySummary is what log file validation said about the window, for the accounts in scope.
type IntegritySummary struct {
	Summary string `json:"summary"`
	IntegrityCounts
	// NotValidated are the accounts and regions whose trail delivered log files in the window but
	// no digests.
	NotValidated []string `json:"not_validated"`
}

// IntegrityCounts are what log file validation counted: digests and the log files they list,
// those that check out, and the findings by kind.
type IntegrityCounts struct {
	Digests       int `json:"digests"`
	ValidDigests  int `json:"valid_digests"`
	LogFiles      int `json:"log_files"`
	ValidLogFiles int `json:"valid_log_files"`
	// SignaturesNotChecked are the digests whose signature a local copy could not give;
	// SignaturesWithoutKeys those read from S3 whose signature no CloudTrail public key was at hand
	// to check (ListPublicKeys failed when they were ingested).
	SignaturesNotChecked  int            `json:"signatures_not_checked"`
	SignaturesWithoutKeys int            `json:"signatures_without_keys"`
	Findings              map[string]int `json:"findings"`
}

// countsOf are the counts of one account and region.
func countsOf(r queries.RegionIntegrity) IntegrityCounts {
	return IntegrityCounts{Digests: r.Digests, ValidDigests: r.ValidDigests, LogFiles: r.LogFiles, ValidLogFiles: r.ValidLogFiles,
		SignaturesNotChecked: r.SignaturesNotChecked, SignaturesWithoutKeys: r.SignaturesWithoutKeys, Findings: r.Counts}
}

// add sums o into c (whose Findings must be made).
func (c *IntegrityCounts) add(o IntegrityCounts) {
	c.Digests += o.Digests
	c.ValidDigests += o.ValidDigests
	c.LogFiles += o.LogFiles
	c.ValidLogFiles += o.ValidLogFiles
	c.SignaturesNotChecked += o.SignaturesNotChecked
	c.SignaturesWithoutKeys += o.SignaturesWithoutKeys
	for k, n := range o.Findings {
		c.Findings[k] += n
	}
}

// SnapshotsSeen summarizes the session-table snapshots ingested.
type SnapshotsSeen struct {
	Count        int64      `json:"count"`
	FirstTakenAt *time.Time `json:"first_taken_at"`
	LastTakenAt  *time.Time `json:"last_taken_at"`
}

// scope is what a verdict is about: the profiles it concerns (nil: every profile), whether a
// policy is what it judges, and what stands proven whatever else is unknown.
type scope struct {
	profiles     []string
	policyNeeded bool
	proven       []string
	unverified   int64
}

// judge gathers the evidence for the accounts of the profiles in scope and decides the verdict.
func (a *audit) judge(ctx context.Context, known map[string]*queries.ProfileScope, s scope) (verdict.Verdict, EvidenceReport, error) {
	w := a.in.Window
	ev, err := queries.ReadEvidence(ctx, a.reader.DB(), w)
	if err != nil {
		return verdict.Verdict{}, EvidenceReport{}, err
	}
	f := verdict.Facts{Window: w, PolicyNeeded: s.policyNeeded, HasPolicy: a.policy != nil, Proven: s.proven,
		Unverified: s.unverified, FailedFiles: ev.FailedFiles, Outdated: a.reader.Outdated()}
	if s.profiles != nil {
		f.Accounts = []string{}
		for _, p := range s.profiles {
			mapped := false
			for role, profile := range a.roles {
				if profile == p {
					mapped = true
					f.Accounts = appendNew(f.Accounts, accountOf(role))
				}
			}
			if k := known[p]; k != nil {
				for _, acct := range k.Accounts {
					f.Accounts = appendNew(f.Accounts, acct)
				}
				mapped = mapped || k.ByRoleName
			}
			if !mapped {
				f.Unmapped = append(f.Unmapped, p)
				for role, names := range a.named {
					if slices.Contains(names, p) {
						f.SharedRoles = append(f.SharedRoles, verdict.SharedRole{Profile: p, RoleARN: role, AttributedTo: a.roles[role]})
					}
				}
			}
		}
		sort.Strings(f.Accounts)
		sort.Slice(f.SharedRoles, func(i, j int) bool {
			a, b := f.SharedRoles[i], f.SharedRoles[j]
			return a.Profile < b.Profile || a.Profile == b.Profile && a.RoleARN < b.RoleARN
		})
	}
	f.Spans, f.LeftOut = ev.Spans, ev.LeftOut
	rep := EvidenceReport{StartTime: w.Since.UTC(), EndTime: w.Until.UTC(), Accounts: []verdict.Span{}, LeftOut: []verdict.LeftOut{},
		UnfinishedRuns: []verdict.UnfinishedRun{},
		Snapshots:      SnapshotsSeen{Count: ev.Snapshots.Count, FirstTakenAt: ev.Snapshots.FirstTakenAt, LastTakenAt: ev.Snapshots.LastTakenAt}}
	if !slices.Contains(a.reader.Outdated(), "009_run_scope") {
		if f.Unfinished, err = queries.UnfinishedRuns(ctx, a.reader.DB(), w); err != nil {
			return verdict.Verdict{}, EvidenceReport{}, err
		}
		rep.UnfinishedRuns = append(rep.UnfinishedRuns, f.Unfinished...)
	}
	if !slices.Contains(a.reader.Outdated(), "006_integrity") {
		checked, err := a.checkIntegrity(ctx, f.Accounts)
		if err != nil {
			return verdict.Verdict{}, EvidenceReport{}, err
		}
		f.Spans = append(f.Spans, digestSpans(checked, ev.Spans)...)
		f.Integrity, rep.Integrity = integrityFacts(checked)
		rep.checked = checked
	} else {
		rep.Integrity = IntegritySummary{Summary: "not verified: the warehouse predates log file validation (ingest once to upgrade it)",
			IntegrityCounts: IntegrityCounts{Findings: map[string]int{}}, NotValidated: []string{}}
	}
	f.Integrity.RequireIntegrity, f.Integrity.RequireSignatures = a.in.RequireIntegrity, a.in.RequireSignatures
	for _, sp := range f.Spans {
		if f.InScope(sp.Account) {
			rep.Accounts = append(rep.Accounts, sp)
		}
	}
	for _, l := range f.LeftOut {
		if f.InScope(l.Account) {
			rep.LeftOut = append(rep.LeftOut, l)
		}
	}
	sort.SliceStable(rep.Accounts, func(i, j int) bool {
		a, b := rep.Accounts[i], rep.Accounts[j]
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		return a.Region < b.Region
	})
	return verdict.Decide(f), rep, nil
}

// digestSpans are the hours the readable digests vouch for, as evidence. Their last ingest is
// their trail's: its log files' and digests' are read by the same runs (zero, shown as none, for
// a region whose trail delivered digests only).
func digestSpans(in queries.Integrity, spans []verdict.Span) []verdict.Span {
	last := map[[2]string]time.Time{}
	for _, s := range spans {
		if k := [2]string{s.Account, s.Region}; s.Kind == "trail" && s.LastIngest.After(last[k]) {
			last[k] = s.LastIngest
		}
	}
	var out []verdict.Span
	for _, r := range in.Regions {
		for _, c := range r.Covered {
			out = append(out, verdict.Span{Kind: "digest", Account: r.Account, Region: r.Region, From: c.From.UTC(), Until: c.To.UTC(),
				LastIngest: last[[2]string{r.Account, r.Region}]})
		}
	}
	return out
}

// integrityFacts sums what log file validation found for the verdict and the Evidence: the
// accounts and regions whose trail delivers digests (their coverage is the digests'), and those
// whose trail log files speak for the window while it delivers no digests (not validated).
func integrityFacts(in queries.Integrity) (verdict.Integrity, IntegritySummary) {
	f := verdict.Integrity{Findings: map[string]int{}}
	s := IntegritySummary{IntegrityCounts: IntegrityCounts{Findings: map[string]int{}}, NotValidated: []string{}}
	for _, r := range in.Regions {
		if r.Validated {
			f.Validated = append(f.Validated, [2]string{r.Account, r.Region})
		}
		if r.NotValidated {
			s.NotValidated = append(s.NotValidated, r.Account+" "+r.Region)
		}
		s.add(countsOf(r))
	}
	maps.Copy(f.Findings, s.Findings)
	for _, fi := range in.Findings {
		if len(f.Examples) == 3 {
			break
		}
		name := fi.Object
		if name == "" {
			name = fi.Account + " " + fi.Region
		}
		f.Examples = append(f.Examples, fmt.Sprintf("%s %s", strings.ReplaceAll(fi.Kind, "_", " "), name))
	}
	sort.Strings(s.NotValidated)
	f.NotValidated, f.SignaturesNotChecked, f.SignaturesWithoutKeys = s.NotValidated, s.SignaturesNotChecked, s.SignaturesWithoutKeys
	var parts []string
	switch {
	case s.Digests == 0 && len(s.NotValidated) > 0:
		parts = append(parts, "not verified: log file validation is off for this trail (no digest files)")
	case s.Digests == 0 && len(f.Validated) > 0:
		parts = append(parts, "not verified: the trail delivers digest files, but none of the window's are in the warehouse")
	case s.Digests == 0:
		parts = append(parts, "not verified: no CloudTrail digest files in the window")
	default:
		parts = append(parts, fmt.Sprintf("log files validated %d of %d, digests %d of %d", s.ValidLogFiles, s.LogFiles, s.ValidDigests, s.Digests))
		if s.SignaturesWithoutKeys > 0 {
			parts = append(parts, fmt.Sprintf("signatures not checked for %s from S3 (no CloudTrail public keys: ListPublicKeys failed at ingest)", plural(s.SignaturesWithoutKeys, "digest")))
		}
		if s.SignaturesNotChecked > 0 {
			parts = append(parts, fmt.Sprintf("signatures not checked for %s (local copy)", plural(s.SignaturesNotChecked, "digest")))
		}
		if s.SignaturesNotChecked == 0 && s.SignaturesWithoutKeys == 0 {
			parts = append(parts, "signatures checked")
		}
		if len(s.NotValidated) > 0 {
			parts = append(parts, "no digests for "+strings.Join(s.NotValidated, ", "))
		}
	}
	if n := len(in.Findings); n > 0 {
		parts = append(parts, plural(n, "finding")+" (sentinel audit integrity)")
	}
	s.Summary = strings.Join(parts, "; ")
	return f, s
}

// knownProfiles are the profiles the warehouse, the profile map and the policy know.
func (a *audit) knownProfiles(known map[string]*queries.ProfileScope) []string {
	var out []string
	for p := range known {
		out = append(out, p)
	}
	for _, p := range a.roles {
		out = appendNew(out, p)
	}
	for _, p := range a.policy.NamedProfiles() {
		out = appendNew(out, p)
	}
	sort.Strings(out)
	return out
}

// checkProfile refuses a --profile nothing knows: a typo must not read as a clean report.
func (a *audit) checkProfile(known map[string]*queries.ProfileScope) error {
	p := a.in.Profile
	if p == "" {
		return nil
	}
	names := a.knownProfiles(known)
	if slices.Contains(names, p) {
		return nil
	}
	list := strings.Join(names, ", ")
	if list == "" {
		list = "none: ingest CloudTrail and session snapshots, or give a policy and profile map"
	}
	return fmt.Errorf("--profile %s: no policy rule, profile map, session record or issuance knows this profile (known: %s)", p, list)
}

// scopeProfiles is the profiles a report is about: --profile, else every profile (nil).
func (a *audit) scopeProfiles() []string {
	if a.in.Profile != "" {
		return []string{a.in.Profile}
	}
	return nil
}

func appendNew(list []string, s string) []string {
	if s == "" || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// accountOf is the account of an ARN (its fifth field).
func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 5 {
		return ""
	}
	return parts[4]
}

// writeEvidenceTable writes the Evidence block of a table report.
func writeEvidenceTable(out io.Writer, e EvidenceReport) {
	fmt.Fprintln(out, "Evidence")
	if len(e.Accounts) == 0 {
		fmt.Fprintln(out, "  CloudTrail: none for the accounts in scope")
	} else {
		t := newTable("Account", "Region", "Source", "From", "Until", "Last Ingest")
		for _, s := range e.Accounts {
			t.AppendRow([]any{s.Account, s.Region, s.Kind, stamp(s.From), stamp(s.Until), stampOrDash(s.LastIngest)})
		}
		renderIndented(out, t, "  ")
	}
	for _, l := range e.LeftOut {
		fmt.Fprintf(out, "  Left out: %s %s of %s (ingest --regions)\n", l.Account, l.Region, l.Source)
	}
	for _, r := range e.UnfinishedRuns {
		fmt.Fprintf(out, "  Unfinished ingest: run %d, started %s (%s): %s\n", r.Run, stamp(r.StartedAt), r.Status, r.Command)
	}
	fmt.Fprintf(out, "  Session snapshots: %s", plural(int(e.Snapshots.Count), "snapshot"))
	if e.Snapshots.FirstTakenAt != nil {
		fmt.Fprintf(out, ", taken %s .. %s", stamp(*e.Snapshots.FirstTakenAt), stamp(*e.Snapshots.LastTakenAt))
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "  Integrity: %s\n\n", e.Integrity.Summary)
}

// writeVerdictTable writes the Result line and every reason with what to do about it.
func writeVerdictTable(out io.Writer, v verdict.Verdict, headline string) {
	fmt.Fprintf(out, "Result: %s — %s\n", v.Result, headline)
	if len(v.Reasons) == 0 {
		return
	}
	switch v.Result {
	case verdict.Inconclusive:
		fmt.Fprintln(out, "No gap is proven, but Sentinel cannot know:")
	default:
		fmt.Fprintln(out, "Also unknown:")
	}
	for _, r := range v.Reasons {
		fmt.Fprintf(out, "  - %s\n    what to do: %s\n", r.Message, r.Action)
	}
}

// verdictCSV is the verdict and evidence columns every row of a CSV report ends with.
var verdictCSVHeader = []string{"verdict", "verdict_reasons", "evidence_from", "evidence_until", "snapshots", "integrity"}

// verdictCSVWriter writes a CSV report: the header and each row end with the verdict columns,
// and a report with no row gets one whose data columns are empty, so that the verdict is in the
// file whatever it holds.
type verdictCSVWriter struct {
	w       *csv.Writer
	tail    []string
	columns int
	rows    int
}

func newVerdictCSV(out io.Writer, header []string, v verdict.Verdict, e EvidenceReport) *verdictCSVWriter {
	c := &verdictCSVWriter{w: csv.NewWriter(out), tail: verdictCSV(v, e), columns: len(header)}
	c.w.Write(append(slices.Clip(header), verdictCSVHeader...))
	return c
}

func (c *verdictCSVWriter) row(cells ...string) {
	c.w.Write(append(cells, c.tail...))
	c.rows++
}

func (c *verdictCSVWriter) close() error {
	if c.rows == 0 {
		c.row(make([]string, c.columns)...)
	}
	c.w.Flush()
	return c.w.Error()
}

func verdictCSV(v verdict.Verdict, e EvidenceReport) []string {
	codes := make([]string, 0, len(v.Reasons))
	for _, r := range v.Reasons {
		codes = append(codes, r.Code)
	}
	var from, until time.Time
	for i, s := range e.Accounts {
		if i == 0 || s.From.Before(from) {
			from = s.From
		}
		if i == 0 || s.Until.After(until) {
			until = s.Until
		}
	}
	return []string{string(v.Result), strings.Join(codes, ";"), stampOrEmpty(from), stampOrEmpty(until), itoa(e.Snapshots.Count), e.Integrity.Summary}
}

func stampOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return stamp(t)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func stampOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return stamp(t)
}
