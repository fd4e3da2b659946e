package reports

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/queries"
	"github.com/sentinel-audit/sentinel/verdict"
)

// UntrackedSessionsInput is the input of `sentinel audit untracked-sessions`.
type UntrackedSessionsInput struct {
	AuditInput
	Category string // "" = every untracked class
}

// UntrackedReport is the JSON form of untracked-sessions.
type UntrackedReport struct {
	StartTime time.Time       `json:"start_time"`
	EndTime   time.Time       `json:"end_time"`
	Policy    *string         `json:"policy"`
	Verdict   verdict.Verdict `json:"verdict"`
	Evidence  EvidenceReport  `json:"evidence"`
	// FlaggedIssuances are the issuances, tracked or not, that were issued after their session's
	// revocation or outside its lifetime.
	FlaggedIssuances  []UntrackedSession `json:"flagged_issuances"`
	UntrackedSessions []UntrackedSession `json:"untracked_sessions"`
	// Class is the --class filter: only issuances of that class are listed; the verdict weighs
	// every class.
	Class string `json:"class,omitempty"`
	// proven counts the issuances of every class proven untracked or flagged.
	proven int
}

// AuditOutcome says how an audit that lists what happened ended, for the exit code: what it
// found, and the verdict.
type AuditOutcome struct {
	Found  int
	Result verdict.Result
}

// UntrackedSession is one issuance that was not tracked.
type UntrackedSession struct {
	EventID         string    `json:"event_id"`
	EventTime       time.Time `json:"event_time"`
	AccountID       string    `json:"account_id"`
	RoleARN         string    `json:"role_arn"`
	Profile         string    `json:"profile"`
	User            string    `json:"user"`
	SourceIPAddress string    `json:"source_ip_address"`
	UserAgent       string    `json:"user_agent"`
	SourceIdentity  string    `json:"source_identity"`
	Category        string    `json:"category"`
	Reason          string    `json:"reason"`
	PolicyRequired  *bool     `json:"policy_required"`
	PolicyRule      string    `json:"policy_rule"`
	Flags           []string  `json:"flags"`
}

// UntrackedSessions lists every issuance in the window that was not tracked, with why, and the
// flagged ones (tracked or not). It returns how many it found and the verdict: FOUND when any
// issuance is proven untracked or flagged; INCONCLUSIVE when none is but the evidence cannot
// say so (unverified sessions, evidence that does not cover the window, ...); else CLEAN.
func UntrackedSessions(ctx context.Context, in UntrackedSessionsInput, out, diag io.Writer) (AuditOutcome, error) {
	format, err := ParseFormat(in.Format)
	if err != nil {
		return AuditOutcome{}, err
	}
	if in.Category != "" && !slices.Contains(queries.UntrackedClasses, in.Category) {
		return AuditOutcome{}, fmt.Errorf("--class %q: want one of %s", in.Category, strings.Join(queries.UntrackedClasses, ", "))
	}
	out = fitTo(out, in.Width)
	a, err := openAudit(ctx, in.AuditInput, diag)
	if err != nil {
		return AuditOutcome{}, err
	}
	defer a.Close()
	rep, found, err := a.untrackedSessions(ctx, in)
	if err != nil {
		return AuditOutcome{}, err
	}
	return AuditOutcome{Found: found, Result: rep.Verdict.Result}, writeUntracked(out, rep, format)
}

// untrackedSessions builds the report and counts the issuances proven untracked or flagged.
func (a *audit) untrackedSessions(ctx context.Context, in UntrackedSessionsInput) (UntrackedReport, int, error) {
	known, err := queries.Scope(ctx, a.reader.DB(), in.Window)
	if err != nil {
		return UntrackedReport{}, 0, err
	}
	if err := a.checkProfile(known); err != nil {
		return UntrackedReport{}, 0, err
	}
	// Every class is read: --class narrows what is listed, never what the verdict weighs.
	rows, err := queries.UntrackedIssuances(ctx, a.reader.DB(), queries.Filter{Window: in.Window, Profile: in.Profile})
	if err != nil {
		return UntrackedReport{}, 0, err
	}
	rep := UntrackedReport{StartTime: in.Window.Since.UTC(), EndTime: in.Window.Until.UTC(), Class: in.Category,
		UntrackedSessions: make([]UntrackedSession, 0, len(rows)), FlaggedIssuances: []UntrackedSession{}}
	if in.PolicyPath != "" {
		p := in.PolicyPath
		rep.Policy = &p
	}
	s := scope{profiles: a.scopeProfiles()}
	for _, r := range rows {
		reason := r.Reason
		if r.PolicyRequired != nil && *r.PolicyRequired {
			reason += fmt.Sprintf("; policy rule %q required a tracked server session", r.PolicyRule)
		}
		flags := r.Flags
		if flags == nil {
			flags = []string{}
		}
		u := UntrackedSession{
			EventID: r.EventID, EventTime: r.EventTime, AccountID: r.AccountID, RoleARN: r.RoleARN, Profile: r.Profile,
			User: r.User, SourceIPAddress: r.SourceIPAddress, UserAgent: r.UserAgent, SourceIdentity: r.SourceIdentity,
			Category: r.Category, Reason: reason, PolicyRequired: r.PolicyRequired, PolicyRule: r.PolicyRule, Flags: flags,
		}
		listed := in.Category == "" || r.Category == in.Category
		if len(flags) > 0 {
			s.proven = append(s.proven, r.EventID)
			if listed {
				rep.FlaggedIssuances = append(rep.FlaggedIssuances, u)
			}
		}
		switch r.Category {
		case queries.ClassTracked:
			continue
		case queries.ClassUnverified:
			s.unverified++
		default:
			if len(flags) == 0 {
				s.proven = append(s.proven, r.EventID)
			}
		}
		if listed {
			rep.UntrackedSessions = append(rep.UntrackedSessions, u)
		}
	}
	rep.proven = len(s.proven)
	rep.Verdict, rep.Evidence, err = a.judge(ctx, known, s)
	return rep, len(s.proven), err
}

func writeUntracked(out io.Writer, rep UntrackedReport, format string) error {
	switch format {
	case FormatJSON:
		return writeJSON(out, rep)
	case FormatCSV:
		return writeUntrackedCSV(out, rep)
	default:
		return writeUntrackedTable(out, rep)
	}
}

func writeUntrackedTable(out io.Writer, rep UntrackedReport) error {
	fmt.Fprintln(out, "Untracked Sessions")
	fmt.Fprintf(out, "Time Window: %s to %s\n\n", rep.StartTime.Format(time.RFC3339), rep.EndTime.Format(time.RFC3339))
	writeEvidenceTable(out, rep.Evidence)
	switch {
	case len(rep.UntrackedSessions) == 0 && rep.Class != "":
		fmt.Fprintf(out, "No issuance in this window was of class %s.\n", rep.Class)
	case len(rep.UntrackedSessions) == 0:
		fmt.Fprintln(out, "No issuance in this window was untracked.")
	default:
		writeIssuancesTable(out, rep.UntrackedSessions)
		counts := map[string]int{}
		for _, s := range rep.UntrackedSessions {
			counts[s.Category]++
		}
		var parts []string
		for _, c := range queries.UntrackedClasses {
			if counts[c] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", counts[c], c))
			}
		}
		fmt.Fprintf(out, "\n%s not tracked: %s\n", plural(len(rep.UntrackedSessions), "issuance"), strings.Join(parts, ", "))
	}
	if len(rep.FlaggedIssuances) > 0 {
		fmt.Fprintln(out, "\nFlagged issuances (issued after their session's revocation, or outside its lifetime)")
		writeIssuancesTable(out, rep.FlaggedIssuances)
	}
	fmt.Fprintln(out)
	var headline string
	switch {
	case rep.Verdict.Result == verdict.Found && rep.Class != "":
		headline = fmt.Sprintf("%s of every class proven not tracked or flagged (--class %s lists only that class)", plural(rep.proven, "issuance"), rep.Class)
	case rep.Verdict.Result == verdict.Found:
		headline = fmt.Sprintf("%s proven not tracked, %s flagged", plural(len(rep.UntrackedSessions)-unverifiedIn(rep.UntrackedSessions), "issuance"), plural(len(rep.FlaggedIssuances), "issuance"))
	case rep.Verdict.Result == verdict.Inconclusive:
		headline = "no issuance is proven untracked, but Sentinel cannot say every one was tracked"
	default:
		headline = "every issuance in the window was tracked, over a window the evidence covers"
	}
	writeVerdictTable(out, rep.Verdict, headline)
	return nil
}

// writeIssuancesTable is the table of untracked or flagged issuances.
func writeIssuancesTable(out io.Writer, list []UntrackedSession) {
	t := newTable("Time", "Profile", "User", "Category", "Account", "Role", "Source IP", "Source Identity", "Event ID", "Required", "Flags", "User Agent", "Reason")
	for _, s := range list {
		t.AppendRow([]any{s.EventTime.Format(time.RFC3339), s.Profile, dash(s.User), s.Category, dash(s.AccountID), dash(roleName(s.RoleARN)),
			dash(s.SourceIPAddress), dash(s.SourceIdentity), s.EventID, required(s.PolicyRequired), dash(strings.Join(s.Flags, ", ")),
			dash(s.UserAgent), s.Reason})
	}
	render(out, t)
}

func unverifiedIn(list []UntrackedSession) int {
	n := 0
	for _, s := range list {
		if s.Category == queries.ClassUnverified {
			n++
		}
	}
	return n
}

func writeUntrackedCSV(out io.Writer, rep UntrackedReport) error {
	c := newVerdictCSV(out, []string{"event_id", "event_time", "account_id", "role_arn", "profile", "user", "source_ip_address", "user_agent",
		"source_identity", "category", "reason", "policy_required", "policy_rule", "flags"}, rep.Verdict, rep.Evidence)
	for _, s := range append(append([]UntrackedSession{}, rep.UntrackedSessions...), trackedOnly(rep.FlaggedIssuances)...) {
		req := ""
		if s.PolicyRequired != nil {
			req = strconv.FormatBool(*s.PolicyRequired)
		}
		c.row(s.EventID, s.EventTime.Format(time.RFC3339), s.AccountID, s.RoleARN, s.Profile, s.User, s.SourceIPAddress,
			s.UserAgent, s.SourceIdentity, s.Category, s.Reason, req, s.PolicyRule, strings.Join(s.Flags, ";"))
	}
	return c.close()
}

// trackedOnly are the flagged issuances that were tracked (the others are among the untracked).
func trackedOnly(list []UntrackedSession) []UntrackedSession {
	var out []UntrackedSession
	for _, s := range list {
		if s.Category == queries.ClassTracked {
			out = append(out, s)
		}
	}
	return out
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func roleName(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}
