package main

import (
	"context"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/bundle"
	"github.com/sentinel-audit/sentinel/ddl"
	"github.com/sentinel-audit/sentinel/window"
	"github.com/urfave/cli/v2"
)

// parse runs args (after "sentinel") through the app's flag parsing, with the action of the
// command named by path replaced by action, which sees the parsed command line.
func parse(t *testing.T, path []string, action cli.ActionFunc, args ...string) error {
	t.Helper()
	app := newApp(io.Discard, io.Discard)
	var cmd *cli.Command
	for cmds := app.Commands; len(path) > 0; path = path[1:] {
		i := slices.IndexFunc(cmds, func(c *cli.Command) bool { return c.Name == path[0] })
		if i < 0 {
			t.Fatalf("no command %s", path[0])
		}
		cmd, cmds = cmds[i], cmds[i].Subcommands
	}
	cmd.Action = action
	return app.RunContext(context.Background(), append([]string{"sentinel"}, args...))
}

func TestDDLFlagsMakeTheInput(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		want ddl.Input
	}{
		"defaults": {[]string{"--engine", "athena", "--location", "s3://acme/sentinel"},
			ddl.Input{Engine: "athena", Location: "s3://acme/sentinel", Layout: ddl.LayoutExport, Database: "sentinel"}},
		"every_flag": {[]string{"--engine", "trino", "--location", "gs://acme", "--layout", "lake", "--database", "audit"},
			ddl.Input{Engine: "trino", Location: "gs://acme", Layout: ddl.LayoutLake, Database: "audit"}},
	} {
		t.Run(name, func(t *testing.T) {
			var got ddl.Input
			err := parse(t, []string{"warehouse", "ddl"}, func(c *cli.Context) error { got = ddlInput(c); return nil },
				append([]string{"warehouse", "ddl"}, tc.args...)...)
			if err != nil || got != tc.want {
				t.Fatalf("input %+v (%v), want %+v", got, err, tc.want)
			}
		})
	}
}

func TestExportFlagsMakeTheInput(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	root := repoRoot(t)
	config := filepath.Join(root, fixtures, "sentinel.yaml")
	now := time.Date(2026, 11, 9, 12, 0, 0, 0, time.UTC)
	week := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	for name, tc := range map[string]struct {
		args  []string
		want  bundle.Input // without Evidence and AWS
		toS3  bool
		error string
	}{
		"every_flag": {args: []string{"--to", "/tmp/evidence", "--format", "csv", "--gzip", "--tables", "sessions,events",
			"--since", since, "--until", until, "--policy", "/etc/policy.yaml"},
			want: bundle.Input{Window: window.Window{Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC)}, PolicyPath: "/etc/policy.yaml", To: "/tmp/evidence", Format: "csv",
				Gzip: true, Tables: []string{"sessions", "events"}, Version: version, CreatedAt: now}},
		"defaults_to_s3": {args: []string{"--to", "s3://acme/2026-11"}, toS3: true,
			want: bundle.Input{Window: window.Window{Since: week, Until: now},
				PolicyPath: filepath.Join(root, fixtures, "policy.yaml"), To: "s3://acme/2026-11", Format: bundle.Parquet,
				Version: version, CreatedAt: now}},
		"argument": {args: []string{"/tmp/evidence"}, error: `unexpected argument "/tmp/evidence": give the destination with --to`},
	} {
		t.Run(name, func(t *testing.T) {
			var got bundle.Input
			err := parse(t, []string{"export"}, func(c *cli.Context) error {
				var err error
				got, err = exportInput(c, now)
				return err
			}, append([]string{"--config", config, "--warehouse", "/var/wh", "export"}, tc.args...)...)
			if tc.error != "" {
				if err == nil || !strings.Contains(err.Error(), tc.error) {
					t.Fatalf("error %v, want %q", err, tc.error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Evidence == nil || (got.AWS != nil) != tc.toS3 {
				t.Fatalf("evidence set: %v, AWS configuration: %v (want one: %v)", got.Evidence != nil, got.AWS != nil, tc.toS3)
			}
			got.Evidence, got.AWS = nil, nil
			if !got.Window.Since.Equal(tc.want.Window.Since) || !got.Window.Until.Equal(tc.want.Window.Until) {
				t.Fatalf("window %v, want %v", got.Window, tc.want.Window)
			}
			got.Window = tc.want.Window
			if got.PolicyPath != tc.want.PolicyPath || got.To != tc.want.To || got.Format != tc.want.Format || got.Gzip != tc.want.Gzip ||
				!slices.Equal(got.Tables, tc.want.Tables) || got.Version != tc.want.Version || !got.CreatedAt.Equal(tc.want.CreatedAt) {
				t.Fatalf("input %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestExportVerifyFlagsMakeTheInput(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	config := filepath.Join(repoRoot(t), fixtures, "sentinel.yaml")
	for name, tc := range map[string]struct {
		args  []string
		from  string
		toS3  bool
		error string
	}{
		"directory":     {args: []string{"/tmp/evidence"}, from: "/tmp/evidence"},
		"s3":            {args: []string{"--region", "eu-west-1", "s3://acme/2026-11"}, from: "s3://acme/2026-11", toS3: true},
		"no_argument":   {error: "export verify takes one argument"},
		"two_arguments": {args: []string{"a", "b"}, error: "(got 2; options go before it)"},
	} {
		t.Run(name, func(t *testing.T) {
			var got bundle.VerifyInput
			err := parse(t, []string{"export", "verify"}, func(c *cli.Context) error {
				var err error
				got, err = verifyInput(c)
				return err
			}, append([]string{"--config", config, "export", "verify"}, tc.args...)...)
			if tc.error != "" {
				if err == nil || !strings.Contains(err.Error(), tc.error) {
					t.Fatalf("error %v, want %q", err, tc.error)
				}
				return
			}
			if err != nil || got.From != tc.from || (got.AWS != nil) != tc.toS3 {
				t.Fatalf("input %+v (%v), want from %s, AWS configuration %v", got, err, tc.from, tc.toS3)
			}
		})
	}
}
