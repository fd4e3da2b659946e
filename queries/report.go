package queries

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"time"
)

var (
	//go:embed issuances_per_bucket.sql
	issuancesPerBucketSQL string
	//go:embed profile_rules.sql
	profileRulesSQL string
	//go:embed *.sql
	sqlFiles embed.FS
)

// SQLFile is the text of one of this package's .sql files, for records of what produced a
// number (the HTML report's "how to reproduce").
func SQLFile(name string) (string, error) {
	b, err := sqlFiles.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("query %s: %w", name, err)
	}
	return string(b), nil
}

// BucketRow is one profile's issuances in one time bucket (issuances_per_bucket.sql).
type BucketRow struct {
	Profile string
	// Bucket is the bucket's number from the window's start: 0 is [since, since+width).
	Bucket                                          int64
	Tracked, Untracked, Orphaned, Unverified, Total int64
	// Compliant are the tracked issuances without a flag: the rate's numerator.
	Compliant int64
}

// IssuancesPerBucket runs issuances_per_bucket.sql: per profile and bucket of width from the
// window's start, the issuances by class.
func IssuancesPerBucket(ctx context.Context, db *sql.DB, f Filter, width time.Duration) ([]BucketRow, error) {
	args := f.args(false)
	rows, err := db.QueryContext(ctx, issuancesPerBucketSQL, args[0], args[1], args[2],
		sql.Named("origin_us", f.Window.Since.UnixMicro()), sql.Named("width_us", width.Microseconds()))
	if err != nil {
		return nil, fmt.Errorf("issuances per bucket query: %w", err)
	}
	defer rows.Close()
	var out []BucketRow
	for rows.Next() {
		var r BucketRow
		if err := rows.Scan(&r.Profile, &r.Bucket, &r.Tracked, &r.Untracked, &r.Orphaned, &r.Unverified, &r.Total, &r.Compliant); err != nil {
			return nil, fmt.Errorf("issuances per bucket query: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ProfileRule is a policy rule that decided some of a profile's issuances (profile_rules.sql).
type ProfileRule struct {
	Profile string
	// Rule is the rule's name; "" when no rule matched (the default deny).
	Rule      string
	Effect    string // allow, deny, require_server or require_server_session
	Reason    string // the rule's reason ("" when it has none)
	Issuances int64
}

// ProfileRules runs profile_rules.sql: per profile, the rules that decided its issuances in the
// window, with their effect, reason and how many issuances each decided (none without a policy).
func ProfileRules(ctx context.Context, db *sql.DB, f Filter) ([]ProfileRule, error) {
	args := f.args(false)
	rows, err := db.QueryContext(ctx, profileRulesSQL, args[0], args[1], args[2])
	if err != nil {
		return nil, fmt.Errorf("profile rules query: %w", err)
	}
	defer rows.Close()
	var out []ProfileRule
	for rows.Next() {
		var r ProfileRule
		var rule sql.NullString
		if err := rows.Scan(&r.Profile, &rule, &r.Effect, &r.Reason, &r.Issuances); err != nil {
			return nil, fmt.Errorf("profile rules query: %w", err)
		}
		r.Rule = rule.String
		out = append(out, r)
	}
	return out, rows.Err()
}
