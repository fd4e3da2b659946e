package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/sentinel-audit/sentinel/awsclient"
	"github.com/sentinel-audit/sentinel/ingest"
	"github.com/sentinel-audit/sentinel/reports"
	"github.com/sentinel-audit/sentinel/window"
	"github.com/urfave/cli/v2"
)

func ingestCommand() *cli.Command {
	return &cli.Command{
		Name:  "ingest",
		Usage: "sync CloudTrail records and session-table snapshots into the warehouse",
		Description: "Sources (--source, repeatable):\n" +
			"  PATH                a local copy of trail archives: the S3 layout\n" +
			"                      AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/*.json.gz anywhere below PATH, plus\n" +
			"                      any .json/.jsonl/.json.gz file holding {\"Records\":[...]}, a bare array, JSON lines,\n" +
			"                      saved LookupEvents output or CloudWatch Logs subscription envelopes\n" +
			"  s3://BUCKET[/PREFIX] trail archives in S3; only the day prefixes inside --since/--until are listed,\n" +
			"                      narrowed by --accounts and --regions\n" +
			"  api                 the CloudTrail LookupEvents API for --regions, paced at 2 requests/s per region,\n" +
			"                      resuming from the last sync's watermark\n" +
			"Session-table snapshots: --sessions-file (local or s3://, DynamoDB export-to-S3 output included) and\n" +
			"--sessions-table (a parallel Scan of the live table). Digest and Insight files are skipped and counted.\n\n" +
			"Re-running is safe: unchanged files are not read again, changed files are re-read without\n" +
			"duplicating events. A file that cannot be read is recorded with its error and the run goes on.\n\n" +
			"Exit status: 0 when every file was ingested, 1 when some failed (the rest is stored), 2 on error.",
		Flags: append([]cli.Flag{
			&cli.StringSliceFlag{Name: "source", Usage: "PATH, s3://BUCKET[/PREFIX] or api (repeatable)"},
			&cli.StringSliceFlag{Name: "sessions-file", Usage: "session-table snapshot: JSON lines of plain items or DynamoDB JSON, gzip or not; a directory or s3://BUCKET/PREFIX takes every file in it (repeatable)"},
			&cli.StringFlag{Name: "sessions-table", Usage: "snapshot the live DynamoDB session table too (parallel Scan); with an AWS source it defaults to SENTINEL_SESSION_TABLE or defaults.session_table"},
			&cli.IntFlag{Name: "scan-segments", Value: defaultScanSegments, Usage: "parallel Scan segments for --sessions-table"},
			&cli.BoolFlag{Name: "consistent-read", Usage: "strongly consistent Scan of --sessions-table (eventual by default)"},
			&cli.StringFlag{Name: "since", Usage: "only events at or after this time: a duration back from now (30d, 12h, 90m) or an RFC 3339 time / date (default: no limit; for --source api: from the last sync, else 90 days)"},
			&cli.StringFlag{Name: "until", Usage: "only events before this time (default: no limit)"},
			&cli.StringFlag{Name: "accounts", Usage: "S3 trails: only these account ids (comma-separated)"},
			&cli.StringSliceFlag{Name: "exclude", Usage: "do not read files whose path below their source (or a folder of it) matches this glob: * within a folder, ** across, e.g. 'archive/**' or '**/*-old.json.gz' (repeatable; macOS metadata, __MACOSX/, ._* and .DS_Store, is always left out)"},
			&cli.StringFlag{Name: "regions", Usage: "S3 trails: only these regions; --source api: the regions to sync (default: the configured region)"},
			&cli.IntFlag{Name: "workers", Usage: "files read in parallel", DefaultText: "number of CPUs"},
			&cli.IntFlag{Name: "s3-concurrency", Value: ingest.DefaultS3Concurrency, Usage: "S3 objects downloaded at once, ahead of the workers (what they hold waiting is bounded in bytes, so memory does not grow with it)"},
			&cli.IntFlag{Name: "checkpoint", Usage: "commit after this many events (an interrupted run keeps everything up to its last commit; 1 = after every file)", DefaultText: "250000"},
			&cli.BoolFlag{Name: "wait", Usage: "wait for another running ingest instead of failing"},
			&cli.StringFlag{Name: "memory-limit", Value: humanize.IBytes(uint64(ingest.DefaultMemoryLimit)), Usage: "soft limit of the heap (e.g. 512MiB, 2GiB; 0 = none): above it, memory is reclaimed more often instead of growing; the GOMEMLIMIT environment variable takes precedence"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress bar (it is also off when stderr is not a terminal)"},
		}, awsFlags("AWS sources "+sdkCredentials, "endpoint for every AWS service (S3-compatible stores, LocalStack); per service: AWS_ENDPOINT_URL_S3 and friends")...),
		Action: func(c *cli.Context) error {
			opts, err := ingestOptions(c, time.Now())
			if err != nil {
				return err
			}
			if err := setMemoryLimit(c.String("memory-limit")); err != nil {
				return err
			}
			res, err := runIngest(c, opts, c.App.Writer)
			if err != nil {
				return err
			}
			if res.FilesFailed > 0 {
				return findings{}
			}
			return nil
		},
	}
}

// ingestOptions loads the config file and turns the ingest flags into the run's options.
func ingestOptions(c *cli.Context, now time.Time) (ingest.Options, error) {
	cfg, err := loadConfig(c)
	if err != nil {
		return ingest.Options{}, err
	}
	dir, err := warehouseDir(c, cfg)
	if err != nil {
		return ingest.Options{}, err
	}
	w, err := window.Parse(c.String("since"), c.String("until"), now)
	if err != nil {
		return ingest.Options{}, err
	}
	if c.NArg() > 0 {
		return ingest.Options{}, fmt.Errorf("unexpected argument %q: give sources with --source", c.Args().First())
	}
	opts := ingest.Options{
		Warehouse:     dir,
		Sources:       c.StringSlice("source"),
		SessionsFiles: c.StringSlice("sessions-file"),
		Window:        w,
		Accounts:      splitList(c.String("accounts")),
		Regions:       splitList(c.String("regions")),
		Exclude:       c.StringSlice("exclude"),
		Workers:       c.Int("workers"),
		S3Concurrency: c.Int("s3-concurrency"),
		Checkpoint:    c.Int("checkpoint"),
		Wait:          c.Bool("wait"),
	}
	table := c.String("sessions-table")
	if usesAWS(opts) {
		table = firstSet(table, os.Getenv("SENTINEL_SESSION_TABLE"), cfg.Defaults.SessionTable)
	}
	if table != "" {
		opts.SessionsTable = &ingest.TableScan{Table: table, Segments: c.Int("scan-segments"), ConsistentRead: c.Bool("consistent-read")}
	}
	if usesAWS(opts) {
		if opts.AWS, err = loadAWS(c, cfg.Defaults.Region); err != nil {
			return ingest.Options{}, err
		}
	}
	opts.Command = describeRun(opts)
	return opts, nil
}

// defaultScanSegments is how many segments scan the session table in parallel.
const defaultScanSegments = 4

// runIngest runs an ingest, with a progress bar on stderr when it is a terminal, and writes its
// summary line to summary and its failures and warnings to stderr.
func runIngest(c *cli.Context, opts ingest.Options, summary io.Writer) (*ingest.Result, error) {
	var bar *reports.ProgressBar
	if showProgress(c) {
		bar = reports.NewProgressBar(c.App.ErrWriter)
		opts.Progress = bar
	}
	res, err := ingest.Run(c.Context, opts)
	bar.Finish()
	if res != nil {
		reports.IngestSummary(summary, c.App.ErrWriter, res)
	}
	return res, err
}

// setMemoryLimit sets the runtime's soft memory limit from --memory-limit, unless GOMEMLIMIT
// (which the runtime read at start) is set.
func setMemoryLimit(limit string) error {
	if os.Getenv("GOMEMLIMIT") != "" {
		return nil
	}
	n, err := humanize.ParseBytes(limit)
	if err != nil {
		return fmt.Errorf("--memory-limit %q is not a size: give one such as 512MiB or 2GiB, or 0 for none", limit)
	}
	if n == 0 {
		debug.SetMemoryLimit(math.MaxInt64)
		return nil
	}
	debug.SetMemoryLimit(int64(min(n, math.MaxInt64)))
	return nil
}

// usesAWS reports whether the run reads from AWS (and so needs credentials and a region).
func usesAWS(o ingest.Options) bool {
	if o.SessionsTable != nil {
		return true
	}
	for _, s := range append(append([]string{}, o.Sources...), o.SessionsFiles...) {
		if s == "api" || strings.HasPrefix(s, "s3://") {
			return true
		}
	}
	return false
}

// loadAWS reads the SDK's configuration the usual way (environment, shared files, --aws-profile,
// --region), falling back to the config file's region; --endpoint-url applies to every client.
func loadAWS(c *cli.Context, defaultRegion string) (*awsclient.Config, error) {
	a, err := awsclient.Load(c.Context, awsclient.Options{Profile: c.String("aws-profile"), Region: c.String("region"),
		DefaultRegion: defaultRegion, EndpointURL: c.String("endpoint-url")})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func describeRun(o ingest.Options) string {
	return strings.TrimPrefix(o.Scope()+" window "+o.Window.String(), " ")
}
