package queries

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"slices"
	"time"

	"github.com/sentinel-audit/sentinel/verdict"
	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/sentinel-audit/sentinel/window"
)

var (
	//go:embed evidence.sql
	evidenceSQL string
	//go:embed failed_files.sql
	failedFilesSQL string
	//go:embed unmapped_roles.sql
	unmappedRolesSQL string
	//go:embed scope.sql
	scopeSQL string
	//go:embed unfinished_runs.sql
	unfinishedRunsSQL string
)

// Snapshots summarizes the session-table snapshots: how many, the first and last taken.
type Snapshots struct {
	Count                     int64
	FirstTakenAt, LastTakenAt *time.Time
}

// Evidence is what the warehouse holds that a verdict rests on.
type Evidence struct {
	Spans       []verdict.Span
	Snapshots   Snapshots
	FailedFiles []verdict.FailedFile // those that can hold events of the window
	LeftOut     []verdict.LeftOut    // trail folders the last listing left out (--regions)
}

// ReadEvidence runs evidence.sql and failed_files.sql and summarizes the snapshots.
func ReadEvidence(ctx context.Context, db *sql.DB, w window.Window) (Evidence, error) {
	var ev Evidence
	rows, err := db.QueryContext(ctx, evidenceSQL)
	if err != nil {
		return ev, fmt.Errorf("evidence query: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s verdict.Span
		var last sql.NullTime
		if err := rows.Scan(&s.Kind, &s.Account, &s.Region, &s.From, &s.Until, &last); err != nil {
			return ev, fmt.Errorf("evidence query: %w", err)
		}
		s.From, s.Until, s.LastIngest = s.From.UTC(), s.Until.UTC(), last.Time.UTC()
		ev.Spans = append(ev.Spans, s)
	}
	if err := rows.Err(); err != nil {
		return ev, fmt.Errorf("evidence query: %w", err)
	}
	var first, last sql.NullTime
	if err := db.QueryRowContext(ctx, `SELECT count(*), min(taken_at), max(taken_at) FROM snapshots`).Scan(&ev.Snapshots.Count, &first, &last); err != nil {
		return ev, fmt.Errorf("snapshots: %w", err)
	}
	ev.Snapshots.FirstTakenAt, ev.Snapshots.LastTakenAt = utcOrNil(first), utcOrNil(last)
	day := func(t time.Time) string { return t.UTC().Format("2006/01/02") }
	frows, err := db.QueryContext(ctx, failedFilesSQL,
		sql.Named("first_day", day(w.Since.Add(-24*time.Hour))), sql.Named("last_day", day(w.Until.Add(24*time.Hour))))
	if err != nil {
		return ev, fmt.Errorf("failed files query: %w", err)
	}
	defer frows.Close()
	for frows.Next() {
		var f verdict.FailedFile
		if err := frows.Scan(&f.Source, &f.Error); err != nil {
			return ev, fmt.Errorf("failed files query: %w", err)
		}
		ev.FailedFiles = append(ev.FailedFiles, f)
	}
	if err := frows.Err(); err != nil {
		return ev, fmt.Errorf("failed files query: %w", err)
	}
	lrows, err := db.QueryContext(ctx, `SELECT source, account, region FROM left_out ORDER BY account, region, source`)
	if err != nil {
		return ev, fmt.Errorf("left-out regions: %w", err)
	}
	defer lrows.Close()
	for lrows.Next() {
		var l verdict.LeftOut
		if err := lrows.Scan(&l.Source, &l.Account, &l.Region); err != nil {
			return ev, fmt.Errorf("left-out regions: %w", err)
		}
		ev.LeftOut = append(ev.LeftOut, l)
	}
	return ev, lrows.Err()
}

// UnfinishedRuns runs unfinished_runs.sql: the ingest runs over the window that did not finish and
// whose unread part no later run has read.
func UnfinishedRuns(ctx context.Context, db *sql.DB, w window.Window) ([]verdict.UnfinishedRun, error) {
	rows, err := db.QueryContext(ctx, unfinishedRunsSQL, sql.Named("since", w.Since.UTC()), sql.Named("until", w.Until.UTC()))
	if err != nil {
		return nil, fmt.Errorf("unfinished runs query: %w", err)
	}
	defer rows.Close()
	var out []verdict.UnfinishedRun
	for rows.Next() {
		var r warehouse.IngestRun
		var since, until sql.NullTime
		if err := rows.Scan(&r.Run, &r.StartedAt, &r.Status, &r.Command, &r.Sources, &since, &until); err != nil {
			return nil, fmt.Errorf("unfinished runs query: %w", err)
		}
		r.WindowStart, r.WindowEnd = utcOrNil(since), utcOrNil(until)
		out = append(out, verdict.UnfinishedRun{Run: r.Run, StartedAt: r.StartedAt.UTC(), Status: r.Status, Command: r.AsCommand()})
	}
	return out, rows.Err()
}

func utcOrNil(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// ProfileScope is what the warehouse knows of one profile (scope.sql).
type ProfileScope struct {
	// Accounts are those of the roles its issuances in the window assumed.
	Accounts []string
	// ByRoleName: the profile is only a role's name (no profile map entry or session record).
	ByRoleName bool
}

// Scope runs scope.sql: every profile known from issuances and session records.
func Scope(ctx context.Context, db *sql.DB, w window.Window) (map[string]*ProfileScope, error) {
	rows, err := db.QueryContext(ctx, scopeSQL, sql.Named("since", w.Since.UTC()), sql.Named("until", w.Until.UTC()))
	if err != nil {
		return nil, fmt.Errorf("scope query: %w", err)
	}
	defer rows.Close()
	out := map[string]*ProfileScope{}
	for rows.Next() {
		var profile string
		var account sql.NullString
		var byRoleName bool
		if err := rows.Scan(&profile, &account, &byRoleName); err != nil {
			return nil, fmt.Errorf("scope query: %w", err)
		}
		s := out[profile]
		if s == nil {
			s = &ProfileScope{ByRoleName: true}
			out[profile] = s
		}
		s.ByRoleName = s.ByRoleName && byRoleName
		if account.Valid && account.String != "" && !slices.Contains(s.Accounts, account.String) {
			s.Accounts = append(s.Accounts, account.String)
		}
	}
	return out, rows.Err()
}

// UnmappedRole is a role issued in the window that maps to no profile (unmapped_roles.sql).
type UnmappedRole struct {
	RoleARN, AccountID                                     string
	Issuances, IAMUser, Federated, AssumedRole, AWSService int64
	Other, NotTracked                                      int64
	PolicyRequired, ServiceLinked                          bool
}

// UnmappedRoles runs unmapped_roles.sql.
func UnmappedRoles(ctx context.Context, db *sql.DB, f Filter) ([]UnmappedRole, error) {
	args := f.args(false)
	rows, err := db.QueryContext(ctx, unmappedRolesSQL, args[0], args[1], args[2])
	if err != nil {
		return nil, fmt.Errorf("unmapped roles query: %w", err)
	}
	defer rows.Close()
	var out []UnmappedRole
	for rows.Next() {
		var r UnmappedRole
		if err := rows.Scan(&r.RoleARN, &r.AccountID, &r.Issuances, &r.IAMUser, &r.Federated, &r.AssumedRole, &r.AWSService,
			&r.Other, &r.NotTracked, &r.PolicyRequired, &r.ServiceLinked); err != nil {
			return nil, fmt.Errorf("unmapped roles query: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
