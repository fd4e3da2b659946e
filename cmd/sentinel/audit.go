package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/queries"
	"github.com/sentinel-audit/sentinel/reports"
	"github.com/urfave/cli/v2"
)

// auditFlags are every audit command's: the window, one profile, the policy and profile map, the
// output format.
func auditFlags() []cli.Flag {
	return flagSet(windowFlags("7d"),
		[]cli.Flag{&cli.StringFlag{Name: "profile", Usage: "only this profile"}},
		policyMapFlags(),
		[]cli.Flag{formatFlag(reports.FormatTable, "table, json or csv")})
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
				Description: "Exit status: 0 when every issuance the policy required to be tracked was tracked,\n" +
					"1 when a required profile has a gap, 2 on error.",
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
					if res.HasGap {
						return findings{}
					}
					return nil
				},
			},
			{
				Name:  "activity",
				Usage: "what the untracked sessions did: per non-tracked issuance, its calls, services, writes, errors and sensitive calls",
				Description: "Calls are linked to the issuance that minted their credentials (userIdentity.accessKeyId = the issued\n" +
					"access key; for role-chained sessions whose issuance is not in the warehouse, by the Sentinel SourceIdentity\n" +
					"they carry). Issuances are those in the window; their calls are counted whenever they happened.\n\n" +
					"Exit status: 0 when no untracked session made a call, 1 when any did, 2 on error.",
				Flags: append(auditFlags(),
					&cli.StringFlag{Name: "class", Usage: "only this class: " + strings.Join(queries.UntrackedClasses, ", ")}),
				Action: func(c *cli.Context) error {
					in, err := activityInput(c, time.Now())
					if err != nil {
						return err
					}
					return findingsIf(reports.Activity(c.Context, in, c.App.Writer, c.App.ErrWriter))
				},
			},
			{
				Name:        "untracked-sessions",
				Usage:       "every issuance that was not tracked, with who, where from, and why",
				Description: "Exit status: 0 when there are none, 1 when any exist, 2 on error.",
				Flags: append(auditFlags(),
					&cli.StringFlag{Name: "category", Usage: "only this category: " + strings.Join(queries.UntrackedClasses, ", ")}),
				Action: func(c *cli.Context) error {
					in, err := untrackedSessionsInput(c, time.Now())
					if err != nil {
						return err
					}
					return findingsIf(reports.UntrackedSessions(c.Context, in, c.App.Writer, c.App.ErrWriter))
				},
			},
		},
	}
}

// auditFromFlags loads the config file and builds the audit input from the flags.
func auditFromFlags(c *cli.Context, now time.Time) (reports.AuditInput, error) {
	cfg, err := loadConfig(c)
	if err != nil {
		return reports.AuditInput{}, err
	}
	return auditInput(c, cfg, now)
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
