package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/config"
	"github.com/sentinel-audit/sentinel/ingest"
	"github.com/sentinel-audit/sentinel/queries"
	"github.com/sentinel-audit/sentinel/reports"
	"github.com/sentinel-audit/sentinel/verdict"
	"github.com/urfave/cli/v2"
)

// auditFlags are every audit command's: the window, one profile, the policy and profile map, the
// output, what to sync from AWS before the report, and what the verdict requires of the logs'
// integrity.
func auditFlags() []cli.Flag {
	return flagSet(windowFlags("7d"),
		[]cli.Flag{&cli.StringFlag{Name: "profile", Usage: "only this profile"}},
		policyMapFlags(),
		formatFlags(reports.FormatTable, "table, json or csv"),
		[]cli.Flag{wideFlag()},
		integrityFlags(),
		syncFlags())
}

// integrityFlags say what the verdict requires of log file validation.
func integrityFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "require-integrity", Usage: "INCONCLUSIVE when a trail in scope delivered log files without digest files (log file validation off)"},
		&cli.BoolFlag{Name: "require-signatures", Usage: "INCONCLUSIVE when digest signatures could not be checked (a local copy keeps no S3 metadata)"},
	}
}

// classFlag is the class filter of untracked-sessions and activity.
func classFlag() cli.Flag {
	return &cli.StringFlag{Name: "class", Aliases: []string{"category"}, Usage: "only this class: " + strings.Join(queries.UntrackedClasses, ", ")}
}

// syncFlags ask an audit to sync the warehouse from AWS before it reports, as `sentinel ingest
// --source api --regions R --sessions-table T` does: the quick path, without an ingest first.
func syncFlags() []cli.Flag {
	return flagSet([]cli.Flag{
		&cli.StringFlag{Name: "sessions-table", Aliases: []string{"table"}, Usage: "sync first: snapshot this DynamoDB session table (a Scan); with another sync flag it defaults to SENTINEL_SESSION_TABLE or defaults.session_table"},
		&cli.StringFlag{Name: "regions", Usage: "sync first: the regions whose LookupEvents to read (comma-separated; default: --region)"},
	}, awsFlags("the sync before the report "+sdkCredentials+"; sync first when given",
		"endpoint for every AWS service (LocalStack); per service: AWS_ENDPOINT_URL_CLOUDTRAIL, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_STS"))
}

// syncRequested reports whether the audit's flags ask for a sync before the report.
func syncRequested(c *cli.Context) bool {
	for _, name := range []string{"sessions-table", "regions", "region", "aws-profile"} {
		if c.IsSet(name) {
			return true
		}
	}
	return false
}

func auditCommand() *cli.Command {
	return &cli.Command{
		Name:  "audit",
		Usage: "audit credential issuances in the warehouse against the policy",
		Before: func(*cli.Context) error {
			setAuditGC()
			return nil
		},
		Subcommands: []*cli.Command{
			{
				Name:  "session-compliance",
				Usage: "per profile: tracked, untracked and orphaned issuances, what the policy required, and the gaps",
				Description: "Before the numbers, the Evidence: per account and region in scope, what the warehouse holds and\n" +
					"when it last grew; the session-table snapshots; whether the logs' integrity was verified.\n\n" +
					"Exit status: 0 COMPLIANT (every issuance the policy required to be tracked was tracked, over a window\n" +
					"the evidence covers), 1 GAPS FOUND (a required profile has a gap), 3 INCONCLUSIVE (no gap is proven, but\n" +
					"Sentinel cannot know; every reason is printed with what to do), 2 on error.",
				Flags: append(auditFlags(),
					&cli.BoolFlag{Name: "with-activity", Usage: "add a column: calls made by each profile's untracked sessions"}),
				Action: func(c *cli.Context) error {
					in, sync, err := sessionComplianceInput(c, time.Now())
					if err != nil {
						return err
					}
					if err := syncFirst(c, sync); err != nil {
						return err
					}
					res, err := reports.SessionCompliance(c.Context, in, c.App.Writer, c.App.ErrWriter)
					if err != nil {
						return err
					}
					return verdictExit(res.Result)
				},
			},
			{
				Name:  "activity",
				Usage: "what the untracked sessions did: per non-tracked issuance, its calls, services, writes, errors and sensitive calls",
				Description: "Calls are linked to the issuance that minted their credentials (userIdentity.accessKeyId = the issued\n" +
					"access key; for role-chained sessions whose issuance is not in the warehouse, by the Sentinel SourceIdentity\n" +
					"they carry). Issuances are those in the window; their calls are counted whenever they happened.\n\n" +
					"Exit status: 0 when no untracked session made a call, 1 when any proven untracked did, 3 INCONCLUSIVE\n" +
					"(none is proven, but Sentinel cannot know), 2 on error.",
				Flags: append(auditFlags(), classFlag()),
				Action: func(c *cli.Context) error {
					in, sync, err := activityInput(c, time.Now())
					if err != nil {
						return err
					}
					if err := syncFirst(c, sync); err != nil {
						return err
					}
					res, err := reports.Activity(c.Context, in, c.App.Writer, c.App.ErrWriter)
					if err != nil {
						return err
					}
					return verdictExit(res.Result)
				},
			},
			{
				Name:  "integrity",
				Usage: "are the CloudTrail logs of the window whole? digests, their signatures and the log files they list",
				Description: "CloudTrail's log file validation delivers, per account, region and hour, a signed digest file listing\n" +
					"each log file of that hour with its SHA-256, chained to the previous digest. Per account and region this\n" +
					"checks the chain, the signatures (S3 sources; the public keys come from CloudTrail ListPublicKeys at ingest)\n" +
					"and the hashes ingest computed, and names every log file that is missing, modified or unlisted, every broken\n" +
					"link, gap, and span when logging or validation was off. A local copy keeps no S3 metadata: its hashes and\n" +
					"chain are checked, its signatures are not (--require-signatures makes that unknown).\n\n" +
					"Exit status: 0 when every digest and log file checks out, 1 on any finding, 3 INCONCLUSIVE when it cannot\n" +
					"know (no log or digest file in the window, a trail with log file validation off, digests none of which\n" +
					"cover the window, or with --require-signatures a signature not checked), 2 on error.",
				Flags: flagSet(windowFlags("7d"), formatFlags(reports.FormatTable, "table, json or csv (the findings)"), []cli.Flag{
					&cli.StringFlag{Name: "accounts", Usage: "only these account ids (comma-separated)"},
					&cli.StringFlag{Name: "regions", Usage: "only these regions (comma-separated)"},
					wideFlag(),
					&cli.BoolFlag{Name: "require-signatures", Usage: "a digest whose signature could not be checked (local copy) makes the result INCONCLUSIVE"},
				}),
				Action: func(c *cli.Context) error {
					in, err := integrityInput(c, time.Now())
					if err != nil {
						return err
					}
					res, err := reports.Integrity(c.Context, in, c.App.Writer, c.App.ErrWriter)
					if err != nil {
						return err
					}
					return verdictExit(res)
				},
			},
			{
				Name:  "untracked-sessions",
				Usage: "every issuance that was not tracked, with who, where from, and why",
				Description: "Lists the issuances not tracked (orphaned, unverified, untracked_sentinel, non_sentinel_format,\n" +
					"no_source_identity) and, apart, the flagged ones: issued after their session's revocation or outside\n" +
					"its lifetime, tracked or not.\n\n" +
					"Exit status: 0 when there are none, 1 when any is proven untracked or flagged, 3 INCONCLUSIVE (none is\n" +
					"proven, but Sentinel cannot know), 2 on error.",
				Flags: append(auditFlags(), classFlag()),
				Action: func(c *cli.Context) error {
					in, sync, err := untrackedSessionsInput(c, time.Now())
					if err != nil {
						return err
					}
					if err := syncFirst(c, sync); err != nil {
						return err
					}
					res, err := reports.UntrackedSessions(c.Context, in, c.App.Writer, c.App.ErrWriter)
					if err != nil {
						return err
					}
					return verdictExit(res.Result)
				},
			},
			{
				Name:  "report",
				Usage: "the evidence report auditors open: one self-contained HTML page with the verdict, the evidence, charts per profile, the coverage map and the untracked sessions",
				Description: "Writes --out FILE.html (or - for standard output): the session-compliance verdict with its reasons and the\n" +
					"Evidence; per profile the numbers and a chart of the compliance rate per day (per hour for windows up to\n" +
					"three days); the coverage map (accounts x regions x days); the untracked and flagged issuances with what\n" +
					"their sessions did; integrity findings; the policy and its SHA-256; the warehouse's ingest history; and\n" +
					"how to reproduce every number. The page loads nothing from anywhere, reads without JavaScript and prints\n" +
					"(see docs/report.md).\n\n" +
					"Exit status: as session-compliance: 0 COMPLIANT, 1 GAPS FOUND, 3 INCONCLUSIVE, 2 on error (the page is\n" +
					"written in the first three cases).",
				Flags: flagSet(windowFlags("7d"),
					[]cli.Flag{&cli.StringFlag{Name: "profile", Usage: "only this profile"}},
					policyMapFlags(),
					[]cli.Flag{&cli.StringFlag{Name: "out", Usage: "the HTML file to write (- for standard output)"}},
					integrityFlags()),
				Action: func(c *cli.Context) error {
					in, err := htmlReportInput(c, time.Now())
					if err != nil {
						return err
					}
					var res reports.ComplianceOutcome
					err = writeOut(c.String("out"), c.App.Writer, func(w io.Writer) error {
						res, err = reports.HTMLReport(c.Context, in, w, c.App.ErrWriter)
						return err
					})
					if err != nil {
						return err
					}
					return verdictExit(res.Result)
				},
			},
		},
	}
}

// verdictExit maps a verdict to the exit code: 0 COMPLIANT or CLEAN, 1 GAPS FOUND or FOUND, 3
// INCONCLUSIVE.
func verdictExit(r verdict.Result) error {
	switch r {
	case verdict.GapsFound, verdict.Found:
		return findings{}
	case verdict.Inconclusive:
		return inconclusive{}
	}
	return nil
}

// auditFromFlags loads the config file and builds the audit input from the flags.
func auditFromFlags(c *cli.Context, now time.Time) (reports.AuditInput, error) {
	in, _, err := loadAuditInput(c, now)
	return in, err
}

// syncedAuditFromFlags is auditFromFlags for the audits that can sync first (syncFlags), with the
// sync their flags ask for (nil: none).
func syncedAuditFromFlags(c *cli.Context, now time.Time) (reports.AuditInput, *ingest.Options, error) {
	in, cfg, err := loadAuditInput(c, now)
	if err != nil {
		return in, nil, err
	}
	sync, err := auditSync(c, cfg, in)
	return in, sync, err
}

func loadAuditInput(c *cli.Context, now time.Time) (reports.AuditInput, *config.Config, error) {
	cfg, err := loadConfig(c)
	if err != nil {
		return reports.AuditInput{}, nil, err
	}
	if c.NArg() > 0 {
		return reports.AuditInput{}, nil, fmt.Errorf("unexpected argument %q: an audit takes flags only (see %s --help)", c.Args().First(), c.Command.HelpName)
	}
	in, err := auditInput(c, cfg, now)
	return in, cfg, err
}

func integrityInput(c *cli.Context, now time.Time) (reports.IntegrityInput, error) {
	in, err := auditFromFlags(c, now)
	return reports.IntegrityInput{AuditInput: in, Accounts: splitList(c.String("accounts")), Regions: splitList(c.String("regions"))}, err
}

// auditSync is the ingest an audit runs before its report when its flags ask for one (nil
// otherwise): LookupEvents of --regions (else of the region) over the audit's window and a scan
// of the session table, as `sentinel ingest --source api --regions R --sessions-table T` does.
// It waits for an ingest that holds the warehouse.
func auditSync(c *cli.Context, cfg *config.Config, in reports.AuditInput) (*ingest.Options, error) {
	if !syncRequested(c) {
		return nil, nil
	}
	opts := ingest.Options{Warehouse: in.Warehouse, Sources: []string{"api"}, Window: in.Window, Regions: splitList(c.String("regions")), Wait: true}
	if table := firstSet(c.String("sessions-table"), os.Getenv(sessionTableEnv), cfg.Defaults.SessionTable); table != "" {
		opts.SessionsTable = &ingest.TableScan{Table: table, Segments: defaultScanSegments}
	}
	var err error
	if opts.AWS, err = loadAWS(c, cfg.Defaults.Region); err != nil {
		return nil, err
	}
	opts.Command = strings.TrimPrefix(c.Command.HelpName, c.App.HelpName+" ") + " sync: " + describeRun(opts)
	return &opts, nil
}

// syncFirst runs an audit's sync (none when nil), its progress and summary on stderr: stdout is
// the report's. A source that fails stops the audit: a report would not hold what was asked for.
func syncFirst(c *cli.Context, sync *ingest.Options) error {
	if sync == nil {
		return nil
	}
	res, err := runIngest(c, *sync, c.App.ErrWriter)
	if err != nil {
		return fmt.Errorf("sync before the report: %w", err)
	}
	if res.FilesFailed > 0 {
		return fmt.Errorf("sync before the report: not every source could be read (see above), so nothing is reported: fix it and run again, " +
			"or leave out --region, --regions, --sessions-table and --aws-profile to report on what the warehouse holds")
	}
	return nil
}

func sessionComplianceInput(c *cli.Context, now time.Time) (reports.SessionComplianceInput, *ingest.Options, error) {
	in, sync, err := syncedAuditFromFlags(c, now)
	return reports.SessionComplianceInput{AuditInput: in, WithActivity: c.Bool("with-activity")}, sync, err
}

func activityInput(c *cli.Context, now time.Time) (reports.ActivityInput, *ingest.Options, error) {
	in, sync, err := syncedAuditFromFlags(c, now)
	return reports.ActivityInput{AuditInput: in, Category: c.String("class")}, sync, err
}

func untrackedSessionsInput(c *cli.Context, now time.Time) (reports.UntrackedSessionsInput, *ingest.Options, error) {
	in, sync, err := syncedAuditFromFlags(c, now)
	return reports.UntrackedSessionsInput{AuditInput: in, Category: c.String("class")}, sync, err
}

func htmlReportInput(c *cli.Context, now time.Time) (reports.HTMLReportInput, error) {
	if c.String("out") == "" {
		return reports.HTMLReportInput{}, fmt.Errorf("--out is required: the HTML file to write (- for standard output)")
	}
	in, err := auditFromFlags(c, now)
	return reports.HTMLReportInput{AuditInput: in, ConfigPath: c.String("config"), OutPath: c.String("out"), Version: version, GeneratedAt: now.UTC()}, err
}

// writeOut runs write on standard output for "-", else on a new file beside path that replaces
// path only once write succeeded: a failed report leaves no half-written page.
func writeOut(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "-" {
		return write(stdout)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("--out %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--out %s: %w", path, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("--out %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("--out %s: %w", path, err)
	}
	return nil
}

func sqlCommand() *cli.Command {
	return &cli.Command{
		Name:      "sql",
		Usage:     "run a read-only SQL query over the warehouse",
		ArgsUsage: `"QUERY"`,
		Description: "Views: events, events_all, issuances, issuances_base, sessions, session_snapshots, snapshots,\n" +
			"ingest_files, ingest_runs, lake_files, watermarks, coverage, digests, public_keys, left_out, profile_roles, profile_names\n" +
			"(see docs/warehouse.md).\n" +
			"Only one read-only statement runs (SELECT, WITH ... SELECT, VALUES, EXPLAIN, DESCRIBE, SHOW, SUMMARIZE);\n" +
			"no file can be read or written outside the lake.",
		Flags: flagSet(formatFlags(reports.FormatTable, "table, json or csv"), []cli.Flag{
			wideFlag(),
			&cli.StringFlag{Name: "policy", Usage: "policy file for the policy_* columns of issuances (default: defaults.policy of the config file)"},
			&cli.StringFlag{Name: "aws-config", Usage: "AWS shared config file mapping role ARNs to profile names", DefaultText: awsConfigDefault},
		}),
		Action: func(c *cli.Context) error {
			in, err := sqlInput(c)
			if err != nil {
				return err
			}
			return reports.SQL(c.Context, in, c.App.Writer, c.App.ErrWriter)
		},
	}
}

func sqlInput(c *cli.Context) (reports.SQLInput, error) {
	if c.NArg() != 1 {
		hint := ""
		if slices.ContainsFunc(c.Args().Slice(), func(a string) bool { return strings.HasPrefix(a, "-") }) {
			hint = `; flags go before the query: sentinel sql --format json "QUERY"`
		}
		return reports.SQLInput{}, fmt.Errorf("sql takes exactly one argument, the query (got %d)%s", c.NArg(), hint)
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return reports.SQLInput{}, err
	}
	in, err := baseInput(c, cfg)
	return reports.SQLInput{AuditInput: in, Query: c.Args().First()}, err
}

// setAuditGC sets the garbage collector's target for an audit command (reports.AuditGCPercent),
// unless GOGC is set.
func setAuditGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(reports.AuditGCPercent)
	}
}
