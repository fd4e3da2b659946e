package main

import (
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

func TestDDLFlagsBecomeTheInput(t *testing.T) {
	flagEnv(t)
	build := func(c *cli.Context) (ddl.Input, error) { return ddlInput(c), nil }
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
			got, err := parseInput(t, []string{"warehouse", "ddl"}, build, tc.args...)
			if err != nil || got != tc.want {
				t.Fatalf("input %+v (%v), want %+v", got, err, tc.want)
			}
		})
	}
}

func TestExportFlagsBecomeTheInput(t *testing.T) {
	flagEnv(t)
	cfgFile := fixturePath(t, "sentinel.yaml")
	global := []string{"--config", cfgFile, "--warehouse", "/wh"}
	build := func(c *cli.Context) (bundle.Input, error) { return exportInput(c, flagNow) }
	for name, tc := range map[string]struct {
		args []string
		want bundle.Input // Evidence and AWS apart
		toS3 bool
	}{
		"every_flag": {args: []string{"--to", "/evidence", "--format", "csv", "--gzip", "--tables", "sessions,events",
			"--since", "2026-11-01", "--until", "2026-11-08T00:00:00Z", "--policy", "/p.yaml"},
			want: bundle.Input{Window: window.Window{Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC)},
				PolicyPath: "/p.yaml", To: "/evidence", Format: "csv", Gzip: true, Tables: []string{"sessions", "events"},
				Version: version, CreatedAt: flagNow}},
		"defaults_come_from_the_config_file": {args: []string{"--to", "s3://acme/2026-11", "--region", "eu-west-1"}, toS3: true,
			want: bundle.Input{Window: window.Window{Since: flagNow.Add(-7 * 24 * time.Hour), Until: flagNow},
				PolicyPath: filepath.Join(filepath.Dir(cfgFile), "policy.yaml"), To: "s3://acme/2026-11", Format: bundle.Parquet,
				Version: version, CreatedAt: flagNow}},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := parseInputGlobal(t, global, []string{"export"}, build, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if got.Evidence == nil || (got.AWS != nil) != tc.toS3 {
				t.Fatalf("evidence set: %v, AWS configuration: %v (want one: %v)", got.Evidence != nil, got.AWS != nil, tc.toS3)
			}
			w := tc.want
			if !got.Window.Since.Equal(w.Window.Since) || !got.Window.Until.Equal(w.Window.Until) || got.PolicyPath != w.PolicyPath ||
				got.To != w.To || got.Format != w.Format || got.Gzip != w.Gzip || !slices.Equal(got.Tables, w.Tables) ||
				got.Version != w.Version || !got.CreatedAt.Equal(w.CreatedAt) {
				t.Fatalf("got  %+v\nwant %+v", got, w)
			}
		})
	}
	t.Run("the_destination_is_no_argument", func(t *testing.T) {
		_, err := parseInputGlobal(t, global, []string{"export"}, build, "/evidence")
		if err == nil || !strings.Contains(err.Error(), `unexpected argument "/evidence": give the destination with --to`) {
			t.Fatalf("error %v", err)
		}
	})
}

func TestExportVerifyFlagsBecomeTheInput(t *testing.T) {
	flagEnv(t)
	for name, tc := range map[string]struct {
		args  []string
		from  string
		toS3  bool
		error string
	}{
		"directory":     {args: []string{"/evidence"}, from: "/evidence"},
		"s3":            {args: []string{"--region", "eu-west-1", "s3://acme/2026-11"}, from: "s3://acme/2026-11", toS3: true},
		"no_argument":   {error: "export verify takes one argument"},
		"two_arguments": {args: []string{"a", "b"}, error: "(got 2; options go before it)"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := parseInput(t, []string{"export", "verify"}, verifyInput, tc.args...)
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
