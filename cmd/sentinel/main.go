// Command sentinel proves that every AWS credential session a policy requires to be tracked was
// tracked, and shows what the untracked ones did. This package only wires flags, environment and
// the config file to the functions that do the work, and maps outcomes to exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/sentinel-audit/sentinel/enforce"
	"github.com/sentinel-audit/sentinel/ingest"
	"github.com/urfave/cli/v2"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

// Exit codes: 0 clean, 1 findings (gaps, untracked sessions, files that failed to ingest),
// 2 errors (bad input, unusable warehouse, invalid policy), 3 inconclusive (no finding is proven,
// but Sentinel cannot know: the monitoring-plugin convention for UNKNOWN).
const (
	exitFindings     = 1
	exitError        = 2
	exitInconclusive = 3
)

// findings is returned by an action whose work succeeded but found what the user must look at.
type findings struct{ msg string }

func (f findings) Error() string { return f.msg }

// inconclusive is returned by an audit whose verdict is INCONCLUSIVE.
type inconclusive struct{}

func (inconclusive) Error() string { return "inconclusive" }

// childExit carries the exit code of the command `sentinel exec` ran, which becomes sentinel's.
type childExit int

func (c childExit) Error() string { return fmt.Sprintf("command exited with status %d", int(c)) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the CLI and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	err := app.RunContext(ctx, args)
	var f findings
	var child childExit
	switch {
	case err == nil:
		return 0
	case errors.As(err, new(inconclusive)):
		return exitInconclusive
	case errors.As(err, &child):
		return int(child)
	case errors.As(err, &f):
		if f.msg != "" {
			fmt.Fprintln(stderr, f.msg)
		}
		return exitFindings
	case errors.Is(err, context.Canceled) && ctx.Err() != nil, errors.Is(err, enforce.ErrInterrupted):
		fmt.Fprintln(stderr, "sentinel: interrupted")
		return exitError
	default:
		fmt.Fprintf(stderr, "sentinel: %v\n", err)
		return exitError
	}
}

func newApp(stdout, stderr io.Writer) *cli.App {
	return withUsageErrors(&cli.App{
		Name:    "sentinel",
		Usage:   "prove that every AWS credential session your policy requires to be tracked was tracked",
		Version: version + " (gzip: " + ingest.Inflater + ")",
		Description: "Sentinel ingests CloudTrail (the LookupEvents API, trail archives in S3 or on disk, with their signed\n" +
			"digests) and snapshots of its DynamoDB session table into a local warehouse (a Parquet lake plus a DuckDB\n" +
			"catalog), then audits every credential issuance against the policy: tracked, orphaned, untracked, and\n" +
			"what the policy required at that moment.\n\n" +
			"Exit codes: 0 clean, 1 findings (gaps, untracked sessions, files that failed), 2 errors,\n" +
			"3 inconclusive (an audit proves no finding, but the evidence cannot say there is none).",
		Writer:    stdout,
		ErrWriter: stderr,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "warehouse", Usage: "warehouse directory (default: defaults.warehouse of the config file, else the user's data dir, e.g. ~/.local/share/sentinel)", EnvVars: []string{"SENTINEL_WAREHOUSE"}},
			&cli.StringFlag{Name: "config", Usage: "Sentinel config file", EnvVars: []string{"SENTINEL_CONFIG"}, DefaultText: "~/.sentinel/config.yaml"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress bars"},
		},
		Commands: []*cli.Command{
			ingestCommand(),
			auditCommand(),
			sqlCommand(),
			exportCommand(),
			policyCommand(),
			execCommand(),
			credentialsCommand(),
			serverSessionsCommand(),
			serverRevokeCommand(),
			warehouseCommand(),
		},
		HideHelpCommand:      true,
		EnableBashCompletion: true,
		ExitErrHandler:       func(*cli.Context, error) {},
	})
}
