package reports

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/sentinel-audit/sentinel/enforce"
)

// ServerSessionsInput is the input of `sentinel server-sessions`.
type ServerSessionsInput struct {
	enforce.ListSessionsInput
	Format string
	// Width is the terminal width the table fits (0: no limit).
	Width int
	// Env is the clock, randomness and AWS clients enforce uses.
	Env enforce.Env
}

// ServerSessions lists the session records of the session table that the filter selects, newest
// first, as a table, JSON (an array of records) or CSV.
func ServerSessions(ctx context.Context, in ServerSessionsInput, out io.Writer) error {
	format, err := ParseFormat(in.Format)
	if err != nil {
		return err
	}
	sessions, err := enforce.ListSessions(ctx, in.ListSessionsInput, in.Env)
	if err != nil {
		return err
	}
	switch format {
	case FormatJSON:
		if sessions == nil {
			sessions = []enforce.Session{}
		}
		return writeJSON(out, sessions)
	case FormatCSV:
		return writeSessionsCSV(out, sessions)
	default:
		return writeSessionsTable(fitTo(out, in.Width), in.Table, sessions)
	}
}

func writeSessionsTable(out io.Writer, table string, sessions []enforce.Session) error {
	if len(sessions) == 0 {
		fmt.Fprintf(out, "No sessions in table %s match.\n", table)
		return nil
	}
	t := newTable("ID", "Status", "Profile", "User", "Started", "Last Access", "Expires", "Requests", "Revoked By", "Reason")
	rightAligned(t, 8)
	for _, s := range sessions {
		t.AppendRow([]any{s.ID, s.Status, s.Profile, s.User, sessionTime(s.StartedAt), sessionTime(s.LastAccessAt), sessionTime(s.ExpiresAt),
			s.RequestCount, s.RevokedBy, s.RevokedReason})
	}
	render(out, t)
	return nil
}

// sessionColumns are the CSV columns: the session record's attributes.
var sessionColumns = []string{"id", "user", "profile", "server_instance_id", "status", "started_at", "last_access_at",
	"expires_at", "request_count", "source_identity", "created_at", "updated_at", "ttl", "revoked_by", "revoked_reason", "revoked_at"}

func writeSessionsCSV(out io.Writer, sessions []enforce.Session) error {
	w := csv.NewWriter(out)
	w.Write(sessionColumns)
	for _, s := range sessions {
		w.Write([]string{s.ID, s.User, s.Profile, s.ServerInstanceID, string(s.Status), sessionTime(s.StartedAt), sessionTime(s.LastAccessAt),
			sessionTime(s.ExpiresAt), itoa(s.RequestCount), s.SourceIdentity, sessionTime(s.CreatedAt), sessionTime(s.UpdatedAt),
			strconv.FormatInt(s.TTL, 10), s.RevokedBy, s.RevokedReason, sessionTime(s.RevokedAt)})
	}
	w.Flush()
	return w.Error()
}

// sessionTime formats a record time as RFC 3339 UTC, or "" when it is not set.
func sessionTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
