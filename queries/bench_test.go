package queries_test

// Latency benchmarks of the audit queries over a warehouse of synthetic events (internal/trailgen),
// meant for
//
//	go test -run '^$' -bench . -benchtime 1x ./queries/
//
// The trail (shared with ingest's benchmarks) and the warehouse ingested from it are built once
// and cached under os.TempDir() (sentinel-bench/, internal/benchwh); SENTINEL_BENCH_QUERY_EVENTS sets the events
// (default 1,000,000). Each benchmark prepares the audit views with a policy, runs its query once
// to warm up and then times warmRuns runs, reporting the median; it checks every run's answer
// against the generator's counts and fails on a wrong one. It also times warmRuns whole audit
// commands as a user waits for them (reports.openAudit): open the warehouse, Prepare, run the
// query, close (command_median_ms).

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/internal/benchwh"
	"github.com/sentinel-audit/sentinel/internal/trailgen"
	"github.com/sentinel-audit/sentinel/policy"
	"github.com/sentinel-audit/sentinel/queries"
	"github.com/sentinel-audit/sentinel/reports"
	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/sentinel-audit/sentinel/window"
)

// warmRuns is how many timed runs a latency benchmark takes the median of.
const warmRuns = 5

// queryEvents is SENTINEL_BENCH_QUERY_EVENTS, or 1,000,000.
func queryEvents(b *testing.B) int {
	b.Helper()
	v := os.Getenv("SENTINEL_BENCH_QUERY_EVENTS")
	if v == "" {
		return 1_000_000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("SENTINEL_BENCH_QUERY_EVENTS=%q is not a positive number", v)
	}
	return n
}

// benchAudit is an opened warehouse with the audit views prepared.
type benchAudit struct {
	db      *warehouse.Reader
	wh      string
	setup   queries.Setup
	st      trailgen.Stats
	filter  queries.Filter
	prepare []time.Duration // every Prepare: the first on a fresh reader, then warm ones
	command []time.Duration // whole commands: open, Prepare, query, close
}

// openBenchAudit opens the cached warehouse and prepares the audit views with benchwh's policy and no
// role map, timing Prepare 1+warmRuns times (the views and policy tables are replaced each time).
func openBenchAudit(b *testing.B) *benchAudit {
	b.Helper()
	wh, st := benchwh.Cached(b, queryEvents(b))
	pol, err := policy.Load(benchwh.PolicyFile(b))
	if err != nil {
		b.Fatal(err)
	}
	// As the audit commands run (cmd/sentinel).
	gc := debug.SetGCPercent(reports.AuditGCPercent)
	b.Cleanup(func() { debug.SetGCPercent(gc) })
	ctx := context.Background()
	r, err := warehouse.OpenReader(ctx, wh)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	a := &benchAudit{db: r, wh: wh, setup: queries.Setup{Policy: pol, Materialize: true}, st: st, filter: queries.Filter{Window: window.Window{
		Since: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}}}
	for range 1 + warmRuns {
		began := time.Now()
		if err := queries.Prepare(ctx, r.DB(), a.setup); err != nil {
			b.Fatal(err)
		}
		a.prepare = append(a.prepare, time.Since(began))
	}
	var annotated, required int
	if err := r.DB().QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (policy_required) FROM issuances WHERE policy_effect IS NOT NULL`).Scan(&annotated, &required); err != nil {
		b.Fatal(err)
	}
	if annotated != st.Issuances || required != st.Issuances {
		b.Fatalf("policy annotated %d issuances (%d requiring a tracked session); generated %d, all of them named by the policy",
			annotated, required, st.Issuances)
	}
	return a
}

// timeCommands times warmRuns whole audit commands running query: open the warehouse, Prepare,
// query, close; failing on a wrong answer.
func (a *benchAudit) timeCommands(b *testing.B, query func(*sql.DB) error) {
	b.Helper()
	ctx := context.Background()
	for range warmRuns {
		began := time.Now()
		r, err := warehouse.OpenReader(ctx, a.wh)
		if err != nil {
			b.Fatal(err)
		}
		if err := queries.Prepare(ctx, r.DB(), a.setup); err != nil {
			b.Fatal(err)
		}
		err = query(r.DB())
		r.Close()
		a.command = append(a.command, time.Since(began))
		if err != nil {
			b.Fatal(err)
		}
	}
}

// report adds the Prepare timings, the first (fresh reader) and the median of the warm ones, and
// the median whole command.
func (a *benchAudit) report(b *testing.B) {
	b.ReportMetric(ms(a.prepare[0]), "prepare_first_ms")
	b.ReportMetric(ms(median(a.prepare[1:])), "prepare_median_ms")
	b.ReportMetric(ms(median(a.command)), "command_median_ms")
	b.ReportMetric(float64(a.st.Events), "events")
	b.ReportMetric(float64(a.st.Issuances), "issuances")
}

// timeRuns runs query once to warm up and then warmRuns times under the timer, failing on a
// wrong answer, and returns the timed durations.
func timeRuns(b *testing.B, query func() error) []time.Duration {
	b.Helper()
	if err := query(); err != nil {
		b.Fatal(err)
	}
	var runs []time.Duration
	b.ResetTimer()
	for range b.N {
		for range warmRuns {
			began := time.Now()
			err := query()
			runs = append(runs, time.Since(began))
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	return runs
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// explain writes EXPLAIN ANALYZE of the query in file (a .sql file of this package) into the
// directory SENTINEL_BENCH_EXPLAIN names, when it is set, to see which part of a slow query
// dominates.
func explain(b *testing.B, a *benchAudit, file string, args ...any) {
	b.Helper()
	dir := os.Getenv("SENTINEL_BENCH_EXPLAIN")
	if dir == "" {
		return
	}
	text, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	rows, err := a.db.DB().QueryContext(context.Background(), "EXPLAIN ANALYZE "+string(text), args...)
	if err != nil {
		b.Fatalf("explain %s: %v", file, err)
	}
	defer rows.Close()
	var out strings.Builder
	for rows.Next() {
		var key, plan string
		if err := rows.Scan(&key, &plan); err != nil {
			b.Fatal(err)
		}
		out.WriteString(plan)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	dest := filepath.Join(dir, file+".explain.txt")
	if err := os.WriteFile(dest, []byte(out.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Logf("EXPLAIN ANALYZE of %s written to %s", file, dest)
}

// BenchmarkSessionCompliance times session_compliance.sql over the whole warehouse.
func BenchmarkSessionCompliance(b *testing.B) {
	a := openBenchAudit(b)
	ctx := context.Background()
	st := a.st
	wantUntracked := st.ByClass[trailgen.ClassUntrackedSentinel] + st.ByClass[trailgen.ClassNonSentinelFormat] + st.ByClass[trailgen.ClassNoSourceIdentity]
	var profiles int
	check := func(db *sql.DB) error {
		rows, err := queries.SessionCompliance(ctx, db, a.filter, true)
		if err != nil {
			return err
		}
		var tracked, untracked, orphaned, issuances int64
		gaps := 0
		for _, r := range rows {
			tracked += r.Tracked
			untracked += r.Untracked
			// The generator's orphaned sessions are orphaned or, where no snapshot was taken in
			// the hour after the issuance, unverified.
			orphaned += r.Orphaned + r.Unverified
			issuances += r.Issuances
			if r.HasGap {
				gaps++
			}
		}
		if tracked != int64(st.ByClass[trailgen.ClassTracked]) || untracked != int64(wantUntracked) ||
			orphaned != int64(st.ByClass[trailgen.ClassOrphaned]) || issuances != int64(st.Issuances) || gaps == 0 {
			return fmt.Errorf("session compliance found %d tracked, %d untracked, %d orphaned of %d issuances (%d profiles with a gap); generated %d, %d, %d of %d",
				tracked, untracked, orphaned, issuances, gaps, st.ByClass[trailgen.ClassTracked], wantUntracked, st.ByClass[trailgen.ClassOrphaned], st.Issuances)
		}
		profiles = len(rows)
		return nil
	}
	runs := timeRuns(b, func() error { return check(a.db.DB()) })
	a.timeCommands(b, check)
	b.ReportMetric(ms(median(runs)), "median_ms")
	b.ReportMetric(float64(profiles), "profiles")
	a.report(b)
	explain(b, a, "session_compliance.sql", sql.Named("since", a.filter.Window.Since), sql.Named("until", a.filter.Window.Until),
		sql.Named("profile", ""), sql.Named("has_policy", true))
}

// BenchmarkSessionComplianceCommand times `sentinel audit session-compliance` as a user waits for
// it, from opening the warehouse to the report written (JSON, to nowhere): the audit views, the
// query, the roles no profile maps, the evidence, the log file integrity check, the verdict.
func BenchmarkSessionComplianceCommand(b *testing.B) {
	benchCommand(b, func(ctx context.Context, in reports.AuditInput) error {
		_, err := reports.SessionCompliance(ctx, reports.SessionComplianceInput{AuditInput: in}, io.Discard, io.Discard)
		return err
	})
}

// BenchmarkUntrackedSessionsCommand times `sentinel audit untracked-sessions --format csv` as a
// user waits for it (the untracked issuances of the whole warehouse written to nowhere).
func BenchmarkUntrackedSessionsCommand(b *testing.B) {
	benchCommand(b, func(ctx context.Context, in reports.AuditInput) error {
		in.Format = reports.FormatCSV
		_, err := reports.UntrackedSessions(ctx, reports.UntrackedSessionsInput{AuditInput: in}, io.Discard, io.Discard)
		return err
	})
}

// BenchmarkActivityCommand times `sentinel audit activity --format csv` as a user waits for it
// (what every untracked or flagged session of the whole warehouse did, written to nowhere).
func BenchmarkActivityCommand(b *testing.B) {
	benchCommand(b, func(ctx context.Context, in reports.AuditInput) error {
		in.Format = reports.FormatCSV
		_, err := reports.Activity(ctx, reports.ActivityInput{AuditInput: in}, io.Discard, io.Discard)
		return err
	})
}

// benchCommand times warmRuns whole audit commands (after one to warm up) over the benchmark
// warehouse with the benchmark policy, reporting the median.
func benchCommand(b *testing.B, command func(context.Context, reports.AuditInput) error) {
	wh, st := benchwh.Cached(b, queryEvents(b))
	path := benchwh.PolicyFile(b)
	gc := debug.SetGCPercent(reports.AuditGCPercent)
	b.Cleanup(func() { debug.SetGCPercent(gc) })
	in := reports.AuditInput{Warehouse: wh, PolicyPath: path, Format: reports.FormatJSON, Window: window.Window{
		Since: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}}
	ctx := context.Background()
	var runs []time.Duration
	for i := range 1 + warmRuns {
		began := time.Now()
		if err := command(ctx, in); err != nil {
			b.Fatal(err)
		}
		if i > 0 {
			runs = append(runs, time.Since(began))
		}
	}
	b.ReportMetric(ms(median(runs)), "command_median_ms")
	b.ReportMetric(float64(st.Events), "events")
}

// BenchmarkUntrackedIssuances times untracked_issuances.sql (every category, every profile) over
// the whole warehouse, rows read into Go values.
func BenchmarkUntrackedIssuances(b *testing.B) {
	a := openBenchAudit(b)
	ctx := context.Background()
	want := a.st.Issuances - a.st.ByClass[trailgen.ClassTracked]
	check := func(db *sql.DB) error {
		rows, err := queries.UntrackedIssuances(ctx, db, a.filter)
		if err != nil {
			return err
		}
		byClass := map[string]int{}
		for _, r := range rows {
			byClass[r.Category]++
		}
		// Tracked rows are flagged ones (issued after revocation, outside the session's lifetime).
		if len(rows)-byClass[queries.ClassTracked] != want {
			return fmt.Errorf("untracked issuances: %d rows %v; generated %d untracked", len(rows), byClass, want)
		}
		for _, c := range queries.UntrackedClasses {
			got, generated := byClass[c], a.st.ByClass[c]
			switch c {
			case queries.ClassOrphaned:
				got += byClass[queries.ClassUnverified]
			case queries.ClassUnverified:
				continue
			}
			if got != generated {
				return fmt.Errorf("untracked issuances: %d of class %s; generated %d", got, c, generated)
			}
		}
		return nil
	}
	runs := timeRuns(b, func() error { return check(a.db.DB()) })
	a.timeCommands(b, check)
	b.ReportMetric(ms(median(runs)), "median_ms")
	b.ReportMetric(float64(want), "rows")
	a.report(b)
	explain(b, a, "untracked_issuances.sql", sql.Named("since", a.filter.Window.Since), sql.Named("until", a.filter.Window.Until),
		sql.Named("profile", ""), sql.Named("category", ""))
}
