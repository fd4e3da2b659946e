package reports

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/queries"
)

// UntrackedSessionsInput is the input of `sentinel audit untracked-sessions`.
type UntrackedSessionsInput struct {
	AuditInput
	Category string // "" = every untracked class
}

// UntrackedReport is the JSON form of untracked-sessions.
type UntrackedReport struct {
	StartTime         time.Time          `json:"start_time"`
	EndTime           time.Time          `json:"end_time"`
	Policy            *string            `json:"policy"`
	UntrackedSessions []UntrackedSession `json:"untracked_sessions"`
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

// UntrackedSessions lists every issuance in the window that was not tracked, with why. It returns
// how many it found.
func UntrackedSessions(ctx context.Context, in UntrackedSessionsInput, out, diag io.Writer) (int, error) {
	format, err := ParseFormat(in.Format)
	if err != nil {
		return 0, err
	}
	if in.Category != "" && !slices.Contains(queries.UntrackedClasses, in.Category) {
		return 0, fmt.Errorf("--category %q: want one of %s", in.Category, strings.Join(queries.UntrackedClasses, ", "))
	}
	a, err := openAudit(ctx, in.AuditInput, diag)
	if err != nil {
		return 0, err
	}
	defer a.Close()
	rows, err := queries.UntrackedIssuances(ctx, a.reader.DB(), queries.Filter{Window: in.Window, Profile: in.Profile, Category: in.Category})
	if err != nil {
		return 0, err
	}
	rep := UntrackedReport{StartTime: in.Window.Since.UTC(), EndTime: in.Window.Until.UTC(), UntrackedSessions: make([]UntrackedSession, 0, len(rows))}
	if in.PolicyPath != "" {
		p := in.PolicyPath
		rep.Policy = &p
	}
	for _, r := range rows {
		reason := r.Reason
		if r.PolicyRequired != nil && *r.PolicyRequired {
			reason += fmt.Sprintf("; policy rule %q required a tracked server session", r.PolicyRule)
		}
		flags := r.Flags
		if flags == nil {
			flags = []string{}
		}
		rep.UntrackedSessions = append(rep.UntrackedSessions, UntrackedSession{
			EventID: r.EventID, EventTime: r.EventTime, AccountID: r.AccountID, RoleARN: r.RoleARN, Profile: r.Profile,
			User: r.User, SourceIPAddress: r.SourceIPAddress, UserAgent: r.UserAgent, SourceIdentity: r.SourceIdentity,
			Category: r.Category, Reason: reason, PolicyRequired: r.PolicyRequired, PolicyRule: r.PolicyRule, Flags: flags,
		})
	}
	return len(rows), writeUntracked(out, rep, format)
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
	if len(rep.UntrackedSessions) == 0 {
		fmt.Fprintln(out, "None: every issuance in this window was tracked.")
		return nil
	}
	t := newTable("Time", "Profile", "User", "Category", "Account", "Role", "Source IP", "Source Identity", "Event ID", "Required", "User Agent", "Reason")
	for _, s := range rep.UntrackedSessions {
		t.AppendRow([]any{s.EventTime.Format(time.RFC3339), s.Profile, dash(s.User), s.Category, dash(s.AccountID), dash(roleName(s.RoleARN)),
			dash(s.SourceIPAddress), dash(s.SourceIdentity), s.EventID, required(s.PolicyRequired), dash(clipCell(s.UserAgent, 40)), s.Reason})
	}
	render(out, t)
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
	fmt.Fprintf(out, "\n%d untracked issuances: %s\n", len(rep.UntrackedSessions), strings.Join(parts, ", "))
	return nil
}

func writeUntrackedCSV(out io.Writer, rep UntrackedReport) error {
	w := csv.NewWriter(out)
	w.Write([]string{"event_id", "event_time", "account_id", "role_arn", "profile", "user", "source_ip_address", "user_agent",
		"source_identity", "category", "reason", "policy_required", "policy_rule", "flags"})
	for _, s := range rep.UntrackedSessions {
		req := ""
		if s.PolicyRequired != nil {
			req = strconv.FormatBool(*s.PolicyRequired)
		}
		w.Write([]string{s.EventID, s.EventTime.Format(time.RFC3339), s.AccountID, s.RoleARN, s.Profile, s.User, s.SourceIPAddress,
			s.UserAgent, s.SourceIdentity, s.Category, s.Reason, req, s.PolicyRule, strings.Join(s.Flags, ";")})
	}
	w.Flush()
	return w.Error()
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
