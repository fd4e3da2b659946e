// Package queries holds the audit SQL: each question is its own .sql file, embedded, named for what
// it answers, parameterised and golden-tested on the fixtures. Prepare installs the audit views in
// a warehouse reader; the functions run one query each and return typed rows.
package queries

import (
	"context"
	"database/sql"
	"database/sql/driver"
	_ "embed"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/internal/appender"
	"github.com/sentinel-audit/sentinel/policy"
	"github.com/sentinel-audit/sentinel/window"
)

var (
	//go:embed issuances_base.sql
	issuancesBaseSQL string
	//go:embed issuances.sql
	issuancesSQL string
	//go:embed policy_tables.sql
	policyTablesSQL string
	//go:embed policy_minutes.sql
	policyMinutesSQL string
	//go:embed policy_instants.sql
	policyInstantsSQL string
	//go:embed policy_requests.sql
	policyRequestsSQL string
	//go:embed session_compliance.sql
	sessionComplianceSQL string
	//go:embed untracked_issuances.sql
	untrackedIssuancesSQL string
	//go:embed activity.sql
	activitySQL string
	//go:embed session_activity.sql
	sessionActivitySQL string
	//go:embed untracked_calls.sql
	untrackedCallsSQL string
)

// Classes of an issuance.
const (
	ClassTracked           = "tracked"
	ClassOrphaned          = "orphaned"
	ClassUnverified        = "unverified"
	ClassUntrackedSentinel = "untracked_sentinel"
	ClassNonSentinelFormat = "non_sentinel_format"
	ClassNoSourceIdentity  = "no_source_identity"
)

// UntrackedClasses are the classes of issuances that are not tracked, which untracked-sessions
// lists and can filter on: all but unverified are proven not tracked.
var UntrackedClasses = []string{ClassOrphaned, ClassUnverified, ClassUntrackedSentinel, ClassNonSentinelFormat, ClassNoSourceIdentity}

// Setup is what the audit views need beyond the warehouse.
type Setup struct {
	Roles map[string]string // role ARN -> profile name
	// Named are the profiles of each role ARN that more than one profile names (Roles holds the
	// one its issuances are attributed to): a session record of any of them may issue the role.
	Named  map[string][]string
	Policy *policy.Policy // nil: no policy, policy columns stay NULL
	// Window limits policy evaluation to issuances inside it (zero = all issuances).
	Window window.Window
	// Materialize computes issuances_base once, as a table, instead of a view every query
	// re-evaluates: right for audit commands, which run several queries over it; ad-hoc SQL keeps
	// the view, so queries that do not touch issuances do not pay for it.
	Materialize bool
}

// Prepare creates the audit views (issuances_base, issuances, activity) and their inputs (profile_roles,
// required_profiles and the policy tables of policy_tables.sql) in db, the engine of a warehouse reader.
func Prepare(ctx context.Context, db *sql.DB, s Setup) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("prepare audit views: %w", err)
	}
	defer conn.Close()
	for _, stmt := range []string{
		`CREATE OR REPLACE TABLE profile_roles (role_arn VARCHAR PRIMARY KEY, profile VARCHAR NOT NULL)`,
		`CREATE OR REPLACE TABLE profile_names (role_arn VARCHAR NOT NULL, profile VARCHAR NOT NULL, PRIMARY KEY (profile, role_arn))`,
		`CREATE OR REPLACE TABLE required_profiles (profile VARCHAR PRIMARY KEY)`,
		policyTablesSQL,
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("prepare audit views: %w", err)
		}
	}
	roles := make([]string, 0, len(s.Roles))
	for r := range s.Roles {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	if err := appender.Rows(ctx, conn, "profile_roles", len(roles), func(i int) []driver.Value {
		return []driver.Value{roles[i], s.Roles[roles[i]]}
	}); err != nil {
		return err
	}
	var names [][2]string
	for _, r := range roles {
		profiles := s.Named[r]
		if !slices.Contains(profiles, s.Roles[r]) {
			profiles = append([]string{s.Roles[r]}, profiles...)
		}
		for _, p := range profiles {
			names = append(names, [2]string{r, p})
		}
	}
	if err := appender.Rows(ctx, conn, "profile_names", len(names), func(i int) []driver.Value {
		return []driver.Value{names[i][0], names[i][1]}
	}); err != nil {
		return err
	}
	base := issuancesBaseSQL
	if s.Materialize {
		base = strings.Replace(base, "CREATE OR REPLACE VIEW issuances_base AS", "CREATE OR REPLACE TABLE issuances_base AS", 1)
	}
	if _, err := conn.ExecContext(ctx, base); err != nil {
		return fmt.Errorf("create issuances_base: %w", err)
	}
	if s.Policy != nil {
		required := s.Policy.SessionProfiles()
		if err := appender.Rows(ctx, conn, "required_profiles", len(required), func(i int) []driver.Value {
			return []driver.Value{required[i]}
		}); err != nil {
			return err
		}
		if err := annotate(ctx, conn, s.Policy, s.Window); err != nil {
			return err
		}
	}
	if _, err := conn.ExecContext(ctx, issuancesSQL); err != nil {
		return fmt.Errorf("create issuances view: %w", err)
	}
	if _, err := conn.ExecContext(ctx, activitySQL); err != nil {
		return fmt.Errorf("create activity view: %w", err)
	}
	return nil
}

// annotate evaluates the policy for the issuances in w: what did it require for this profile,
// user, time and mode? Issuances not made through Sentinel have no known mode, so rules
// conditioned on mode apply to them. The policy is evaluated once per distinct request (see
// policy_tables.sql), not once per issuance.
func annotate(ctx context.Context, conn *sql.Conn, p *policy.Policy, w window.Window) error {
	until := w.Until
	if until.IsZero() {
		until = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	args := []any{sql.Named("since", w.Since), sql.Named("until", until)}
	if p.Timed() {
		if err := classifyTimes(ctx, conn, p, args); err != nil {
			return err
		}
	}
	type decision struct {
		profile, user, mode, class string
		policy.Decision
	}
	var decisions []decision
	rows, err := conn.QueryContext(ctx, policyRequestsSQL, args...)
	if err != nil {
		return fmt.Errorf("read issuances for policy evaluation: %w", err)
	}
	for rows.Next() {
		var d decision
		var at time.Time
		if err := rows.Scan(&d.profile, &d.user, &d.mode, &d.class, &at); err != nil {
			rows.Close()
			return fmt.Errorf("read issuances for policy evaluation: %w", err)
		}
		d.Decision = p.Evaluate(policy.Request{Profile: d.profile, User: d.user, At: at, Mode: policy.Mode(d.mode)})
		decisions = append(decisions, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read issuances for policy evaluation: %w", err)
	}
	return appender.Rows(ctx, conn, "policy_decisions", len(decisions), func(i int) []driver.Value {
		d := decisions[i]
		return []driver.Value{w.Since, until, d.profile, d.user, d.mode, d.class,
			string(d.Effect), nullable(d.Rule), nullable(d.Reason), d.Effect == policy.EffectRequireServerSession}
	})
}

// classifyTimes fills policy_minutes with the time class of every minute issuances in the
// window fall in and, for the minutes that have no single class, policy_instants with the class
// of each of their issuances' times.
func classifyTimes(ctx context.Context, conn *sql.Conn, p *policy.Policy, args []any) error {
	minutes, err := queryMicros(ctx, conn, policyMinutesSQL, args)
	if err != nil {
		return fmt.Errorf("read issuance times for policy evaluation: %w", err)
	}
	steady := minutes[:0]
	for _, m := range minutes {
		if p.MinuteSteady(m) {
			steady = append(steady, m)
		}
	}
	unsteady := len(steady) < len(minutes)
	if err := appendTimeClasses(ctx, conn, p, "policy_minutes", steady); err != nil {
		return err
	}
	if !unsteady {
		return nil
	}
	instants, err := queryMicros(ctx, conn, policyInstantsSQL, args)
	if err != nil {
		return fmt.Errorf("read issuance times for policy evaluation: %w", err)
	}
	return appendTimeClasses(ctx, conn, p, "policy_instants", instants)
}

// queryMicros runs a query of one column of microseconds since the epoch.
func queryMicros(ctx context.Context, conn *sql.Conn, query string, args []any) ([]time.Time, error) {
	rows, err := conn.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var us int64
		if err := rows.Scan(&us); err != nil {
			return nil, err
		}
		out = append(out, time.UnixMicro(us).UTC())
	}
	return out, rows.Err()
}

// appendTimeClasses loads times and their time classes into table.
func appendTimeClasses(ctx context.Context, conn *sql.Conn, p *policy.Policy, table string, times []time.Time) error {
	return appender.Rows(ctx, conn, table, len(times), func(i int) []driver.Value {
		return []driver.Value{times[i].UnixMicro(), p.TimeClass(times[i])}
	})
}

func nullable(s string) driver.Value {
	if s == "" {
		return nil
	}
	return s
}

// Filter narrows a report.
type Filter struct {
	Window  window.Window // both ends must be set
	Profile string        // "" = all profiles
	// Flagged adds to session activity the tracked issuances that are flagged.
	Flagged bool
}

func (f Filter) args(hasPolicy bool) []any {
	return []any{
		sql.Named("since", f.Window.Since.UTC()),
		sql.Named("until", f.Window.Until.UTC()),
		sql.Named("profile", f.Profile),
		sql.Named("has_policy", hasPolicy),
		sql.Named("flagged", f.Flagged),
	}
}

// ComplianceRow is one profile of the session-compliance report.
type ComplianceRow struct {
	Profile string
	// ProfileSource says how the profile's issuances were attributed: "config", "session",
	// "role_name" (an unmapped role) or "policy" (named by the policy, no issuances).
	ProfileSource      string
	PolicyRequired     *bool // nil without a policy
	Tracked            int64
	Untracked          int64
	Orphaned           int64
	Unverified         int64
	Issuances          int64
	Flagged            int64
	ComplianceRate     float64
	HasGap             bool
	RequiredUnverified int64 // issuances required to be tracked whose session could not be checked
}

// SessionComplianceSQL is the text of session_compliance.sql, for records of what produced a
// number (export manifests).
func SessionComplianceSQL() string { return sessionComplianceSQL }

// SessionCompliance runs session_compliance.sql.
func SessionCompliance(ctx context.Context, db *sql.DB, f Filter, hasPolicy bool) ([]ComplianceRow, error) {
	args := f.args(hasPolicy)
	rows, err := db.QueryContext(ctx, sessionComplianceSQL, args[0], args[1], args[2], args[3])
	if err != nil {
		return nil, fmt.Errorf("session compliance query: %w", err)
	}
	defer rows.Close()
	var out []ComplianceRow
	for rows.Next() {
		var r ComplianceRow
		var required sql.NullBool
		if err := rows.Scan(&r.Profile, &r.ProfileSource, &required, &r.Tracked, &r.Untracked, &r.Orphaned, &r.Unverified,
			&r.Issuances, &r.Flagged, &r.ComplianceRate, &r.HasGap, &r.RequiredUnverified); err != nil {
			return nil, fmt.Errorf("session compliance query: %w", err)
		}
		if hasPolicy {
			b := required.Valid && required.Bool
			r.PolicyRequired = &b
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// UntrackedRow is one non-tracked issuance.
type UntrackedRow struct {
	EventID         string
	EventTime       time.Time
	AccountID       string
	RoleARN         string
	Profile         string
	User            string
	SourceIPAddress string
	UserAgent       string
	SourceIdentity  string
	Category        string
	Reason          string
	PolicyRequired  *bool
	PolicyRule      string
	Flags           []string
}

// UntrackedIssuances runs untracked_issuances.sql.
func UntrackedIssuances(ctx context.Context, db *sql.DB, f Filter) ([]UntrackedRow, error) {
	args := f.args(false)
	rows, err := db.QueryContext(ctx, untrackedIssuancesSQL, args[0], args[1], args[2])
	if err != nil {
		return nil, fmt.Errorf("untracked issuances query: %w", err)
	}
	defer rows.Close()
	var out chunks[UntrackedRow]
	for rows.Next() {
		var r UntrackedRow
		var account, role, user, ip, ua, si, rule sql.NullString
		var required sql.NullBool
		var flags []any
		if err := rows.Scan(&r.EventID, &r.EventTime, &account, &role, &r.Profile, &user, &ip, &ua, &si,
			&r.Category, &r.Reason, &required, &rule, &flags); err != nil {
			return nil, fmt.Errorf("untracked issuances query: %w", err)
		}
		r.AccountID, r.RoleARN, r.User, r.SourceIPAddress, r.UserAgent, r.SourceIdentity = account.String, role.String, user.String, ip.String, ua.String, si.String
		r.PolicyRule = rule.String
		if required.Valid {
			b := required.Bool
			r.PolicyRequired = &b
		}
		if len(flags) > 0 {
			r.Flags = stringList(flags)
		}
		r.EventTime = r.EventTime.UTC()
		out.add(r)
	}
	return out.all(), rows.Err()
}

// ActivityRow is what one non-tracked (or, with Filter.Flagged, flagged) issuance did with its
// credentials.
type ActivityRow struct {
	IssuanceEventID string
	IssuedAt        time.Time
	Profile         string
	User            string
	Category        string
	AccountID       string
	RoleARN         string
	SourceIdentity  string
	EventCount      int64
	ServiceCount    int64
	WriteCalls      int64
	ErrorCalls      int64
	FirstActivity   *time.Time
	LastActivity    *time.Time
	SensitiveCalls  []string
	Flags           []string // issuances_base.sql's flags: tracked in name only
}

// SessionActivity runs session_activity.sql.
func SessionActivity(ctx context.Context, db *sql.DB, f Filter) ([]ActivityRow, error) {
	args := f.args(false)
	rows, err := db.QueryContext(ctx, sessionActivitySQL, args[0], args[1], args[2], args[4])
	if err != nil {
		return nil, fmt.Errorf("session activity query: %w", err)
	}
	defer rows.Close()
	var out chunks[ActivityRow]
	for rows.Next() {
		var r ActivityRow
		var user, account, role, si sql.NullString
		var first, last sql.NullTime
		var sensitive, flags []any
		if err := rows.Scan(&r.IssuanceEventID, &r.IssuedAt, &r.Profile, &user, &r.Category, &account, &role, &si,
			&r.EventCount, &r.ServiceCount, &r.WriteCalls, &r.ErrorCalls, &first, &last, &sensitive, &flags); err != nil {
			return nil, fmt.Errorf("session activity query: %w", err)
		}
		r.User, r.AccountID, r.RoleARN, r.SourceIdentity = user.String, account.String, role.String, si.String
		r.IssuedAt = r.IssuedAt.UTC()
		if first.Valid {
			t := first.Time.UTC()
			r.FirstActivity = &t
		}
		if last.Valid {
			t := last.Time.UTC()
			r.LastActivity = &t
		}
		r.SensitiveCalls, r.Flags = stringList(sensitive), stringList(flags)
		out.add(r)
	}
	return out.all(), rows.Err()
}

// UntrackedCalls runs untracked_calls.sql: calls made by untracked issuances, per profile.
func UntrackedCalls(ctx context.Context, db *sql.DB, f Filter) (map[string]int64, error) {
	args := f.args(false)
	rows, err := db.QueryContext(ctx, untrackedCallsSQL, args[0], args[1], args[2])
	if err != nil {
		return nil, fmt.Errorf("untracked calls query: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var profile string
		var n int64
		if err := rows.Scan(&profile, &n); err != nil {
			return nil, fmt.Errorf("untracked calls query: %w", err)
		}
		out[profile] = n
	}
	return out, rows.Err()
}

// stringList keeps the string elements of a DuckDB list.
func stringList(list []any) []string {
	out := []string{}
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// chunks gathers query rows in fixed-size chunks: a result of hundreds of thousands of rows is
// copied once into a slice of its size instead of at every doubling of a growing one, which would
// be a sixth of untracked-sessions' query time at 10M events (BenchmarkUntrackedIssuances;
// docs/performance.md).
type chunks[T any] struct {
	full [][]T
	cur  []T
}

const chunkRows = 4096

func (c *chunks[T]) add(v T) {
	if len(c.cur) == cap(c.cur) {
		if c.cur != nil {
			c.full = append(c.full, c.cur)
		}
		c.cur = make([]T, 0, chunkRows)
	}
	c.cur = append(c.cur, v)
}

// all is every row in order (nil when there were none).
func (c *chunks[T]) all() []T {
	n := len(c.cur)
	for _, f := range c.full {
		n += len(f)
	}
	if n == 0 {
		return nil
	}
	out := make([]T, 0, n)
	for _, f := range c.full {
		out = append(out, f...)
	}
	return append(out, c.cur...)
}
