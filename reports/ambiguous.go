package reports

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/sentinel-audit/sentinel/profiles"
	"github.com/sentinel-audit/sentinel/window"
)

// warnAmbiguous warns on diag about the roles that more than one profile names and that issued
// credentials in the window: only there does the name chosen for them change an answer. An audit
// over a window without them, of a profile (--profile) none of their names is, and sql, say
// nothing (sql's profile_roles view lists the mapping).
func warnAmbiguous(ctx context.Context, db *sql.DB, ambiguous []profiles.Ambiguity, w window.Window, profile string, diag io.Writer) error {
	if len(ambiguous) == 0 {
		return nil
	}
	rows, err := db.QueryContext(ctx, `SELECT DISTINCT role_arn FROM issuances WHERE event_time >= $1 AND event_time < $2 AND role_arn IS NOT NULL`, w.Since, w.Until)
	if err != nil {
		return fmt.Errorf("roles issued in the window: %w", err)
	}
	defer rows.Close()
	var issued []string
	for rows.Next() {
		var role string
		if err := rows.Scan(&role); err != nil {
			return fmt.Errorf("roles issued in the window: %w", err)
		}
		issued = append(issued, role)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("roles issued in the window: %w", err)
	}
	for _, a := range ambiguous {
		if slices.Contains(issued, a.RoleARN) && (profile == "" || slices.Contains(a.Profiles, profile)) {
			fmt.Fprintf(diag, "warning: role %s is named by profiles %s; reporting it as %q (name it in one profile, or map it in the config file's profiles)\n",
				a.RoleARN, strings.Join(a.Profiles, ", "), a.Chosen)
		}
	}
	return nil
}
