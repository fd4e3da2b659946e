package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/queries"
	"github.com/sentinel-audit/sentinel/reports"
	"github.com/sentinel-audit/sentinel/verdict"
	"github.com/urfave/cli/v2"
)

// auditFlags are every audit command's: the window, one profile, the policy and profile map, the
// output format, and what the verdict requires of the logs' integrity.
func auditFlags() []cli.Flag {
	return flagSet(windowFlags("7d"),
		[]cli.Flag{&cli.StringFlag{Name: "profile", Usage: "only this profile"}},
		policyMapFlags(),
		[]cli.Flag{formatFlag(reports.FormatTable, "table, json or csv")},
		integrityFlags())
}

// integrityFlags say what the verdict requires of log file validation.
func integrityFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "require-integrity", Usage: "INCONCLUSIVE when a trail in scope delivered log files without digest files (log file validation off)"},
		&cli.BoolFlag{Name: "require-signatures", Usage: "INCONCLUSIVE when digest signatures could not be checked (a local copy keeps no S3 metadata)"},
	}
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
					in, err := sessionComplianceInput(c, time.Now())
					if err != nil {
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
				Flags: append(auditFlags(),
					&cli.StringFlag{Name: "class", Usage: "only this class: " + strings.Join(queries.UntrackedClasses, ", ")}),
				Action: func(c *cli.Context) error {
					in, err := activityInput(c, time.Now())
					if err != nil {
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
					"chain are checked, its signatures are not (--require-signatures makes that a finding).\n\n" +
					"Exit status: 0 when every digest and log file checks out, 1 on any finding (an account and region whose\n" +
					"trail delivered log files but no digests counts: it is not validated), 2 on error.",
				Flags: flagSet(windowFlags("7d"), []cli.Flag{
					&cli.StringFlag{Name: "accounts", Usage: "only these account ids (comma-separated)"},
					&cli.StringFlag{Name: "regions", Usage: "only these regions (comma-separated)"},
					formatFlag(reports.FormatTable, "table, json or csv (the findings)"),
					&cli.BoolFlag{Name: "require-signatures", Usage: "a digest whose signature could not be checked (local copy) is a finding"},
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
				Flags: append(auditFlags(),
					&cli.StringFlag{Name: "category", Usage: "only this category: " + strings.Join(queries.UntrackedClasses, ", ")}),
				Action: func(c *cli.Context) error {
					in, err := untrackedSessionsInput(c, time.Now())
					if err != nil {
						return err
					}
					res, err := reports.UntrackedSessions(c.Context, in, c.App.Writer, c.App.ErrWriter)
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
	cfg, err := loadConfig(c)
	if err != nil {
		return reports.AuditInput{}, err
	}
	return auditInput(c, cfg, now)
}

func integrityInput(c *cli.Context, now time.Time) (reports.IntegrityInput, error) {
	in, err := auditFromFlags(c, now)
	return reports.IntegrityInput{AuditInput: in, Accounts: splitList(c.String("accounts")), Regions: splitList(c.String("regions"))}, err
}

func sessionComplianceInput(c *cli.Context, now time.Time) (reports.SessionComplianceInput, error) {
	in, err := auditFromFlags(c, now)
	return reports.SessionComplianceInput{AuditInput: in, WithActivity: c.Bool("with-activity")}, err
}

func activityInput(c *cli.Context, now time.Time) (reports.ActivityInput, error) {
	in, err := auditFromFlags(c, now)
	return reports.ActivityInput{AuditInput: in, Category: c.String("class")}, err
}

func untrackedSessionsInput(c *cli.Context, now time.Time) (reports.UntrackedSessionsInput, error) {
	in, err := auditFromFlags(c, now)
	return reports.UntrackedSessionsInput{AuditInput: in, Category: c.String("category")}, err
}

func sqlCommand() *cli.Command {
	return &cli.Command{
		Name:      "sql",
		Usage:     "run a read-only SQL query over the warehouse",
		ArgsUsage: `"QUERY"`,
		Description: "Views: events, events_all, issuances, issuances_base, sessions, session_snapshots, snapshots,\n" +
			"ingest_files, ingest_runs, lake_files, watermarks, profile_roles (see docs/warehouse.md).\n" +
			"Only SELECT/EXPLAIN statements run; no file can be read or written outside the lake.",
		Flags: []cli.Flag{
			formatFlag(reports.FormatTable, "table, json or csv"),
			&cli.StringFlag{Name: "policy", Usage: "policy file for the policy_* columns of issuances (default: defaults.policy of the config file)"},
			&cli.StringFlag{Name: "aws-config", Usage: "AWS shared config file mapping role ARNs to profile names", DefaultText: "$AWS_CONFIG_FILE or ~/.aws/config"},
		},
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
		return reports.SQLInput{}, fmt.Errorf("sql takes exactly one argument, the query (got %d)", c.NArg())
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
