package reports

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/queries"
	"github.com/sentinel-audit/sentinel/verdict"
)

// ActivityInput is the input of `sentinel audit activity`.
type ActivityInput struct {
	AuditInput
	Category string // "" = every class that is not tracked
}

// ActivityReport is the JSON form of audit activity.
type ActivityReport struct {
	StartTime time.Time         `json:"start_time"`
	EndTime   time.Time         `json:"end_time"`
	Verdict   verdict.Verdict   `json:"verdict"`
	Evidence  EvidenceReport    `json:"evidence"`
	Sessions  []SessionActivity `json:"sessions"`
	// Class is the --class filter: only sessions of that class are listed; the verdict weighs
	// every class.
	Class string `json:"class,omitempty"`
}

// SessionActivity is what one non-tracked issuance did.
type SessionActivity struct {
	IssuanceEventID string     `json:"issuance_event_id"`
	IssuedAt        time.Time  `json:"issued_at"`
	Profile         string     `json:"profile"`
	User            string     `json:"user"`
	Category        string     `json:"category"`
	AccountID       string     `json:"account_id"`
	RoleARN         string     `json:"role_arn"`
	SourceIdentity  string     `json:"source_identity"`
	EventCount      int64      `json:"event_count"`
	ServiceCount    int64      `json:"service_count"`
	WriteCalls      int64      `json:"write_calls"`
	ErrorCalls      int64      `json:"error_calls"`
	FirstActivity   *time.Time `json:"first_activity"`
	LastActivity    *time.Time `json:"last_activity"`
	SensitiveCalls  []string   `json:"sensitive_calls"`
	// Flags say why a tracked session is listed: tracked in name only (docs/domain.md).
	Flags []string `json:"flags"`
}

// Activity answers: what did the sessions that were not tracked do? One line per non-tracked
// issuance in the window, with the calls made with its credentials. It returns how many sessions
// proven untracked made calls, and the verdict: FOUND when any did; INCONCLUSIVE when none did
// but the evidence cannot say so; else CLEAN.
func Activity(ctx context.Context, in ActivityInput, out, diag io.Writer) (AuditOutcome, error) {
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
	rep, found, err := a.activity(ctx, in)
	if err != nil {
		return AuditOutcome{}, err
	}
	switch format {
	case FormatJSON:
		err = writeJSON(out, rep)
	case FormatCSV:
		err = writeActivityCSV(out, rep)
	default:
		err = writeActivityTable(out, rep)
	}
	return AuditOutcome{Found: found, Result: rep.Verdict.Result}, err
}

// activity builds the report and counts the sessions proven untracked that made calls.
func (a *audit) activity(ctx context.Context, in ActivityInput) (ActivityReport, int, error) {
	known, err := queries.Scope(ctx, a.reader.DB(), in.Window)
	if err != nil {
		return ActivityReport{}, 0, err
	}
	if err := a.checkProfile(known); err != nil {
		return ActivityReport{}, 0, err
	}
	// Every class is read: --class narrows what is listed, never what the verdict weighs.
	sessions, err := a.listedActivity(ctx, in.AuditInput)
	if err != nil {
		return ActivityReport{}, 0, err
	}
	rep := ActivityReport{StartTime: in.Window.Since.UTC(), EndTime: in.Window.Until.UTC(), Sessions: []SessionActivity{}, Class: in.Category}
	s := scope{profiles: a.scopeProfiles()}
	for _, r := range sessions {
		if in.Category == "" || r.Category == in.Category {
			rep.Sessions = append(rep.Sessions, r)
		}
		switch {
		case r.Category == queries.ClassUnverified:
			s.unverified++
		case r.EventCount > 0:
			s.proven = append(s.proven, r.IssuanceEventID)
		}
	}
	rep.Verdict, rep.Evidence, err = a.judge(ctx, known, s)
	return rep, len(s.proven), err
}

// listedActivity is what the sessions of the untracked issuances, and of the flagged ones tracked
// or not (tracked in name only), did: what `audit activity` and the page list.
func (a *audit) listedActivity(ctx context.Context, in AuditInput) ([]SessionActivity, error) {
	rows, err := queries.SessionActivity(ctx, a.reader.DB(), queries.Filter{Window: in.Window, Profile: in.Profile, Flagged: true})
	if err != nil {
		return nil, err
	}
	out := make([]SessionActivity, len(rows))
	for i, r := range rows {
		out[i] = SessionActivity(r)
	}
	return out, nil
}

func writeActivityTable(out io.Writer, rep ActivityReport) error {
	fmt.Fprintln(out, "Activity of Untracked and Flagged Sessions")
	fmt.Fprintf(out, "Time Window: %s to %s (issuances in the window; their calls at any time)\n\n", rep.StartTime.Format(time.RFC3339), rep.EndTime.Format(time.RFC3339))
	writeEvidenceTable(out, rep.Evidence)
	var headline string
	switch rep.Verdict.Result {
	case verdict.Found:
		headline = "sessions proven untracked, or flagged, made calls"
		if rep.Class != "" {
			headline += " (of every class: --class " + rep.Class + " lists only that class)"
		}
	case verdict.Inconclusive:
		headline = "no session proven untracked made a call, but Sentinel cannot say every one was tracked"
	default:
		headline = "no session proven untracked made a call, over a window the evidence covers"
	}
	if len(rep.Sessions) == 0 {
		if rep.Class != "" {
			fmt.Fprintf(out, "No issuance in this window was of class %s.\n", rep.Class)
		} else {
			fmt.Fprintln(out, "No issuance in this window was untracked.")
		}
		fmt.Fprintln(out)
		writeVerdictTable(out, rep.Verdict, headline)
		return nil
	}
	t := newTable("Issued At", "Profile", "User", "Category", "Calls", "Services", "Writes", "Errors", "First Call", "Last Call", "Sensitive Calls", "Issuance Event")
	rightAligned(t, 5, 6, 7, 8)
	var calls int64
	for _, s := range rep.Sessions {
		calls += s.EventCount
		category := s.Category
		if len(s.Flags) > 0 {
			category += " (" + strings.Join(s.Flags, ", ") + ")"
		}
		t.AppendRow([]any{s.IssuedAt.Format(time.RFC3339), s.Profile, dash(s.User), category, s.EventCount, s.ServiceCount,
			s.WriteCalls, s.ErrorCalls, timeOrDash(s.FirstActivity), timeOrDash(s.LastActivity), dash(strings.Join(s.SensitiveCalls, ", ")), s.IssuanceEventID})
	}
	render(out, t)
	fmt.Fprintf(out, "\n%s not tracked, or flagged, made %s.\n\n", plural(len(rep.Sessions), "session"), plural64(calls, "call"))
	writeVerdictTable(out, rep.Verdict, headline)
	return nil
}

func writeActivityCSV(out io.Writer, rep ActivityReport) error {
	c := newVerdictCSV(out, []string{"issuance_event_id", "issued_at", "profile", "user", "category", "account_id", "role_arn", "source_identity",
		"event_count", "service_count", "write_calls", "error_calls", "first_activity", "last_activity", "sensitive_calls", "flags"}, rep.Verdict, rep.Evidence)
	for _, s := range rep.Sessions {
		c.row(s.IssuanceEventID, s.IssuedAt.Format(time.RFC3339), s.Profile, s.User, s.Category, s.AccountID, s.RoleARN,
			s.SourceIdentity, itoa(s.EventCount), itoa(s.ServiceCount), itoa(s.WriteCalls), itoa(s.ErrorCalls),
			timeOrEmpty(s.FirstActivity), timeOrEmpty(s.LastActivity), strings.Join(s.SensitiveCalls, ";"), strings.Join(s.Flags, ";"))
	}
	return c.close()
}

func timeOrEmpty(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func timeOrDash(t *time.Time) string { return dash(timeOrEmpty(t)) }
