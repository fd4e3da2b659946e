package reports

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/queries"
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
	Sessions  []SessionActivity `json:"sessions"`
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
}

// Activity answers: what did the sessions that were not tracked do? One line per non-tracked
// issuance in the window, with the calls made with its credentials. It returns how many sessions
// made any call.
func Activity(ctx context.Context, in ActivityInput, out, diag io.Writer) (int, error) {
	format, err := ParseFormat(in.Format)
	if err != nil {
		return 0, err
	}
	if in.Category != "" && !slices.Contains(queries.UntrackedClasses, in.Category) {
		return 0, fmt.Errorf("--class %q: want one of %s", in.Category, strings.Join(queries.UntrackedClasses, ", "))
	}
	a, err := openAudit(ctx, in.AuditInput, diag)
	if err != nil {
		return 0, err
	}
	defer a.Close()
	rows, err := queries.SessionActivity(ctx, a.reader.DB(), queries.Filter{Window: in.Window, Profile: in.Profile, Category: in.Category})
	if err != nil {
		return 0, err
	}
	rep := ActivityReport{StartTime: in.Window.Since.UTC(), EndTime: in.Window.Until.UTC(), Sessions: []SessionActivity{}}
	active := 0
	for _, r := range rows {
		rep.Sessions = append(rep.Sessions, SessionActivity(r))
		if r.EventCount > 0 {
			active++
		}
	}
	switch format {
	case FormatJSON:
		err = writeJSON(out, rep)
	case FormatCSV:
		err = writeActivityCSV(out, rep)
	default:
		err = writeActivityTable(out, rep)
	}
	return active, err
}

func writeActivityTable(out io.Writer, rep ActivityReport) error {
	fmt.Fprintln(out, "Activity of Untracked Sessions")
	fmt.Fprintf(out, "Time Window: %s to %s (issuances in the window; their calls at any time)\n\n", rep.StartTime.Format(time.RFC3339), rep.EndTime.Format(time.RFC3339))
	if len(rep.Sessions) == 0 {
		fmt.Fprintln(out, "None: every issuance in this window was tracked.")
		return nil
	}
	t := newTable("Issued At", "Profile", "User", "Category", "Calls", "Services", "Writes", "Errors", "First Call", "Last Call", "Sensitive Calls", "Issuance Event")
	rightAligned(t, 5, 6, 7, 8)
	var calls int64
	for _, s := range rep.Sessions {
		calls += s.EventCount
		t.AppendRow([]any{s.IssuedAt.Format(time.RFC3339), s.Profile, dash(s.User), s.Category, s.EventCount, s.ServiceCount,
			s.WriteCalls, s.ErrorCalls, timeOrDash(s.FirstActivity), timeOrDash(s.LastActivity), dash(strings.Join(s.SensitiveCalls, ", ")), s.IssuanceEventID})
	}
	render(out, t)
	fmt.Fprintf(out, "\n%d untracked sessions made %d calls.\n", len(rep.Sessions), calls)
	return nil
}

func writeActivityCSV(out io.Writer, rep ActivityReport) error {
	w := csv.NewWriter(out)
	w.Write([]string{"issuance_event_id", "issued_at", "profile", "user", "category", "account_id", "role_arn", "source_identity",
		"event_count", "service_count", "write_calls", "error_calls", "first_activity", "last_activity", "sensitive_calls"})
	for _, s := range rep.Sessions {
		w.Write([]string{s.IssuanceEventID, s.IssuedAt.Format(time.RFC3339), s.Profile, s.User, s.Category, s.AccountID, s.RoleARN,
			s.SourceIdentity, itoa(s.EventCount), itoa(s.ServiceCount), itoa(s.WriteCalls), itoa(s.ErrorCalls),
			timeOrEmpty(s.FirstActivity), timeOrEmpty(s.LastActivity), strings.Join(s.SensitiveCalls, ";")})
	}
	w.Flush()
	return w.Error()
}

func timeOrEmpty(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func timeOrDash(t *time.Time) string { return dash(timeOrEmpty(t)) }
