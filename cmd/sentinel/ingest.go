package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/sentinel-audit/sentinel/ingest"
	"github.com/sentinel-audit/sentinel/reports"
	"github.com/sentinel-audit/sentinel/window"
	"github.com/urfave/cli/v2"
)

func ingestCommand() *cli.Command {
	return &cli.Command{
		Name:  "ingest",
		Usage: "sync CloudTrail records and session-table snapshots into the warehouse",
		Description: "--source PATH reads a local copy of trail archives: the S3 layout\n" +
			"AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/*.json.gz anywhere below PATH, plus any\n" +
			".json/.jsonl/.json.gz file holding {\"Records\":[...]}, a bare array, JSON lines, saved LookupEvents\n" +
			"output or CloudWatch Logs subscription envelopes. Digest and Insight files are skipped and counted.\n\n" +
			"Re-running is safe: unchanged files are not read again, changed files are re-read without\n" +
			"duplicating events. A file that cannot be read is recorded with its error and the run goes on.\n\n" +
			"Exit status: 0 when every file was ingested, 1 when some failed (the rest is stored), 2 on error.",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "source", Usage: "directory or file with CloudTrail records (repeatable)"},
			&cli.StringSliceFlag{Name: "sessions-file", Usage: "session-table snapshot: JSON lines of plain items or DynamoDB JSON, gzip or not (repeatable; a directory takes every file in it)"},
			&cli.StringFlag{Name: "since", Usage: "only events at or after this time: a duration back from now (30d, 12h, 90m) or an RFC 3339 time / date (default: no limit)"},
			&cli.StringFlag{Name: "until", Usage: "only events before this time (default: no limit)"},
			&cli.IntFlag{Name: "workers", Usage: "files read in parallel", DefaultText: "number of CPUs"},
			&cli.BoolFlag{Name: "wait", Usage: "wait for another running ingest instead of failing"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress bar (it is also off when stderr is not a terminal)"},
		},
		Action: func(c *cli.Context) error {
			now := time.Now()
			cfg, err := loadConfig(c)
			if err != nil {
				return err
			}
			dir, err := warehouseDir(c, cfg)
			if err != nil {
				return err
			}
			w, err := window.Parse(c.String("since"), c.String("until"), now)
			if err != nil {
				return err
			}
			if c.NArg() > 0 {
				return fmt.Errorf("unexpected argument %q: give sources with --source", c.Args().First())
			}
			opts := ingest.Options{
				Warehouse:     dir,
				Sources:       c.StringSlice("source"),
				SessionsFiles: c.StringSlice("sessions-file"),
				Window:        w,
				Workers:       c.Int("workers"),
				Wait:          c.Bool("wait"),
			}
			opts.Command = describeRun(opts)
			var bar *progressBar
			if showProgress(c) {
				bar = &progressBar{errOut: c.App.ErrWriter}
				opts.Progress = bar
			}
			res, err := ingest.Run(c.Context, opts)
			bar.finish()
			if res != nil {
				reports.IngestSummary(c.App.Writer, c.App.ErrWriter, res)
			}
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

func describeRun(o ingest.Options) string {
	var parts []string
	for _, s := range o.Sources {
		parts = append(parts, "--source "+s)
	}
	for _, s := range o.SessionsFiles {
		parts = append(parts, "--sessions-file "+s)
	}
	parts = append(parts, "window "+o.Window.String())
	return strings.Join(parts, " ")
}

// progressBar shows files, bytes, events and rate on a terminal.
type progressBar struct {
	errOut interface{ Write([]byte) (int, error) }
	bar    *progressbar.ProgressBar
	files  int
	total  int
	events int64
}

func (p *progressBar) Planned(objects int, bytes int64) {
	p.total = objects
	p.bar = progressbar.NewOptions64(bytes,
		progressbar.OptionSetWriter(p.errOut),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionSetDescription(p.describe()),
		progressbar.OptionClearOnFinish(),
	)
}

func (p *progressBar) Advance(objects int, bytes, events int64) {
	if p.bar == nil {
		return
	}
	p.files += objects
	p.events += events
	p.bar.Describe(p.describe())
	_ = p.bar.Add64(bytes)
}

func (p *progressBar) describe() string {
	return fmt.Sprintf("files %d/%d, events %d", p.files, p.total, p.events)
}

func (p *progressBar) finish() {
	if p != nil && p.bar != nil {
		_ = p.bar.Finish()
	}
}
