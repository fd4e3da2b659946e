package reports

import (
	"context"
	"fmt"
	"io"
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
	Integrity string `json:"integrity"`
}

// SnapshotsSeen summarizes the session-table snapshots ingested.
type SnapshotsSeen struct {
	Count        int64      `json:"count"`
	FirstTakenAt *time.Time `json:"first_taken_at"`
	LastTakenAt  *time.Time `json:"last_taken_at"`
}

// integrityNotVerified is the Evidence's integrity line until digests are checked.
const integrityNotVerified = "not verified: no CloudTrail digest files were checked"

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
			}
		}
		sort.Strings(f.Accounts)
	}
	f.Spans = ev.Spans
	rep := EvidenceReport{StartTime: w.Since.UTC(), EndTime: w.Until.UTC(), Accounts: []verdict.Span{}, Integrity: integrityNotVerified,
		Snapshots: SnapshotsSeen{Count: ev.Snapshots.Count, FirstTakenAt: ev.Snapshots.FirstTakenAt, LastTakenAt: ev.Snapshots.LastTakenAt}}
	for _, sp := range ev.Spans {
		if f.Accounts == nil || slices.Contains(f.Accounts, sp.Account) {
			rep.Accounts = append(rep.Accounts, sp)
		}
	}
	return verdict.Decide(f), rep, nil
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
	fmt.Fprintf(out, "  Session snapshots: %s", plural(int(e.Snapshots.Count), "snapshot"))
	if e.Snapshots.FirstTakenAt != nil {
		fmt.Fprintf(out, ", taken %s .. %s", stamp(*e.Snapshots.FirstTakenAt), stamp(*e.Snapshots.LastTakenAt))
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "  Integrity: %s\n\n", e.Integrity)
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
	return []string{string(v.Result), strings.Join(codes, ";"), stampOrEmpty(from), stampOrEmpty(until), itoa(e.Snapshots.Count), e.Integrity}
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
