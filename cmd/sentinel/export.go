package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/awsclient"
	"github.com/sentinel-audit/sentinel/bundle"
	"github.com/sentinel-audit/sentinel/config"
	"github.com/sentinel-audit/sentinel/reports"
	"github.com/urfave/cli/v2"
)

// exportAWSFlags reach S3 for an s3:// destination.
func exportAWSFlags() []cli.Flag {
	return awsFlags("s3:// destinations "+sdkCredentials, "S3 endpoint (S3-compatible stores, LocalStack; path-style addressing); else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL")
}

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write a window's evidence (events, issuances, sessions, compliance, the HTML report) to a directory or S3 with a verifiable manifest",
		UsageText: "sentinel export --to DIR|s3://BUCKET/PREFIX [options]\nsentinel export verify [options] DIR|s3://BUCKET/PREFIX",
		Description: "Tables (--tables, default all): events (deduplicated, in the window), issuances (classified, with profile,\n" +
			"user and policy columns, in the window), sessions (latest state of every session ever seen), compliance (the\n" +
			"session-compliance result for the window, one row per profile); and report/report.html, the evidence report of\n" +
			"`sentinel audit report` for the window (unless --report=false).\n" +
			"Parquet (zstd; events Hive-partitioned by event_date) or CSV (one file per table, --gzip optional), with\n" +
			"manifest.json beside the data: version, window, policy SHA-256, and per file rows, bytes, SHA-256 and query.\n" +
			"Re-exporting to the same place replaces the export as a whole; a destination holding files an export\n" +
			"never writes is refused. To S3 the data files go first and the manifest last, so a failed upload leaves\n" +
			"no manifest.\n\n" +
			"Exit status: 0 exported, 2 on error. `export verify`: 0 intact, 1 any mismatch, 2 on error.",
		Flags: flagSet([]cli.Flag{
			&cli.StringFlag{Name: "to", Usage: "destination: a directory or s3://BUCKET/PREFIX"},
			&cli.StringFlag{Name: "format", Value: bundle.Parquet, Usage: "data format: parquet or csv"},
			&cli.BoolFlag{Name: "gzip", Usage: "gzip the CSV files"},
			&cli.StringFlag{Name: "tables", Usage: "tables to export, comma-separated: " + strings.Join(bundle.Tables, ","), DefaultText: "all"},
			&cli.BoolFlag{Name: "report", Value: true, Usage: "add report/report.html, the evidence report as sentinel audit report writes it (--report=false: leave it out)"},
		}, windowFlags("7d"), policyMapFlags(), exportAWSFlags()),
		Action: func(c *cli.Context) error {
			in, err := exportInput(c, time.Now())
			if err != nil {
				return err
			}
			_, err = bundle.Write(c.Context, in, c.App.Writer)
			return err
		},
		Subcommands: []*cli.Command{
			{
				Name:      "verify",
				Usage:     "re-check an export against its manifest: every checksum, byte count and row count, and no unlisted file",
				ArgsUsage: "DIR|s3://BUCKET/PREFIX",
				Description: "Rows are counted by reading each file back with DuckDB; s3:// exports are downloaded file by file.\n\n" +
					"Exit status: 0 intact, 1 when any file is missing, changed, unreadable or unexpected, 2 on error.",
				Flags: exportAWSFlags(),
				Action: func(c *cli.Context) error {
					in, err := verifyInput(c)
					if err != nil {
						return err
					}
					res, err := bundle.Verify(c.Context, in, c.App.Writer)
					if err != nil {
						return err
					}
					if len(res.Problems) > 0 {
						return findings{}
					}
					return nil
				},
			},
		},
	}
}

// exportInput is the input of `sentinel export`: its flags, the config file and the environment,
// with the audit views (the policy's verdicts, the profile map) as the evidence.
func exportInput(c *cli.Context, now time.Time) (bundle.Input, error) {
	if c.NArg() > 0 {
		return bundle.Input{}, fmt.Errorf("unexpected argument %q: give the destination with --to", c.Args().First())
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return bundle.Input{}, err
	}
	audit, err := auditInput(c, cfg, now)
	if err != nil {
		return bundle.Input{}, err
	}
	aws, err := exportAWS(c, cfg, c.String("to"))
	if err != nil {
		return bundle.Input{}, err
	}
	in := bundle.Input{
		Evidence:   reports.AuditViews(audit, c.App.ErrWriter),
		Window:     audit.Window,
		PolicyPath: audit.PolicyPath,
		To:         c.String("to"),
		Format:     c.String("format"),
		Gzip:       c.Bool("gzip"),
		Tables:     splitList(c.String("tables")),
		Version:    version,
		CreatedAt:  now,
		AWS:        aws,
	}
	if c.Bool("report") {
		report := reports.HTMLReportInput{AuditInput: audit, ConfigPath: c.String("config"), OutPath: "report.html", Version: version, GeneratedAt: now.UTC()}
		// The warnings of the profile map were written as the evidence was opened.
		in.Report = func(ctx context.Context, w io.Writer) error {
			_, err := reports.HTMLReport(ctx, report, w, io.Discard)
			return err
		}
	}
	return in, nil
}

// verifyInput is the input of `sentinel export verify`: its argument, flags and the config file.
func verifyInput(c *cli.Context) (bundle.VerifyInput, error) {
	if c.NArg() != 1 {
		return bundle.VerifyInput{}, fmt.Errorf("export verify takes one argument, the export's directory or s3://BUCKET/PREFIX (got %d; options go before it)", c.NArg())
	}
	from := c.Args().First()
	cfg, err := loadConfig(c)
	if err != nil {
		return bundle.VerifyInput{}, err
	}
	aws, err := exportAWS(c, cfg, from)
	if err != nil {
		return bundle.VerifyInput{}, err
	}
	return bundle.VerifyInput{From: from, AWS: aws}, nil
}

// exportAWS loads the AWS configuration when location is in S3 (nil otherwise).
func exportAWS(c *cli.Context, cfg *config.Config, location string) (*awsclient.Config, error) {
	if !strings.HasPrefix(location, "s3://") {
		return nil, nil
	}
	return loadAWS(c, cfg.Defaults.Region)
}
