package main

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/bundle"
	"github.com/sentinel-audit/sentinel/ddl"
	"github.com/sentinel-audit/sentinel/enforce"
	"github.com/sentinel-audit/sentinel/reports"
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

// TestEnforceFlagsBecomeTheInput: exec, credentials, server-sessions and server-revoke take their
// AWS settings (--aws-profile, --region, --endpoint-url) from the shared flag set.
func TestEnforceFlagsBecomeTheInput(t *testing.T) {
	cfgFile := fixturePath(t, "sentinel.yaml")
	dir := filepath.Dir(cfgFile)
	t.Run("exec_every_flag", func(t *testing.T) {
		flagEnv(t)
		got, err := parseInput(t, []string{"exec"}, execInput,
			"--profile", "prod", "--policy", "/p.yaml", "--aws-config", "/aws", "--aws-profile", "base", "--region", "eu-west-1",
			"--endpoint-url", "http://127.0.0.1:1", "--mfa-token", "123456", "--server", "--session-table", "t", "--no-session-tracking",
			"--server-duration", "1h", "--server-port", "9000", "--mfa-session-duration", "2h", "--", "aws", "s3", "ls")
		if err != nil {
			t.Fatal(err)
		}
		got.Environ = nil
		want := enforce.ExecInput{
			ProfileInput: enforce.ProfileInput{Profile: "prod", AWSProfile: "base", PolicyPath: "/p.yaml", AWSConfigPath: "/aws",
				Region: "eu-west-1", EndpointURL: "http://127.0.0.1:1", MFAToken: "123456", Tables: enforce.TableChoices{Flag: "t"},
				Invocation: enforce.Invocation{Flags: []string{"--policy", "/p.yaml", "--aws-config", "/aws", "--aws-profile", "base", "--region", "eu-west-1",
					"--endpoint-url", "http://127.0.0.1:1", "--server-duration", "1h0m0s", "--server-port", "9000", "--mfa-session-duration", "2h0m0s"}}},
			Server: true, NoSessionTracking: true, ServerDuration: time.Hour, ServerPort: 9000, MFASessionDuration: 2 * time.Hour,
			Command: []string{"aws", "s3", "ls"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got  %+v\nwant %+v", got, want)
		}
	})
	t.Run("credentials_defaults_come_from_the_config_file_and_environment", func(t *testing.T) {
		flagEnv(t)
		t.Setenv("SENTINEL_SESSION_TABLE", "from-env")
		t.Setenv("AWS_REGION", "ap-south-1")
		got, err := parseInputGlobal(t, []string{"--config", cfgFile}, []string{"credentials"}, credentialsInput, "--profile", "prod", "--aws-profile", "base")
		if err != nil {
			t.Fatal(err)
		}
		want := enforce.ProfileInput{Profile: "prod", AWSProfile: "base", PolicyPath: filepath.Join(dir, "policy.yaml"),
			AWSConfigPath: filepath.Join(dir, "aws-config"), Region: "ap-south-1", DefaultRegion: "us-east-1",
			Tables:     enforce.TableChoices{Env: "from-env"},
			Invocation: enforce.Invocation{Global: []string{"--config", cfgFile}, Flags: []string{"--aws-profile", "base"}}}
		if !reflect.DeepEqual(got.ProfileInput, want) {
			t.Fatalf("got  %+v\nwant %+v", got.ProfileInput, want)
		}
	})
	t.Run("server_sessions_every_flag", func(t *testing.T) {
		flagEnv(t)
		got, err := parseInputGlobal(t, []string{"--config", cfgFile}, []string{"server-sessions"}, func(c *cli.Context) (reports.ServerSessionsInput, error) {
			return serverSessionsInput(c, flagNow)
		}, "--table", "t", "--aws-profile", "audit", "--region", "eu-west-1", "--endpoint-url", "http://127.0.0.1:1",
			"--status", "active", "--profile", "prod", "--since", "2026-11-01", "--json", "--wide")
		if err != nil {
			t.Fatal(err)
		}
		want := reports.ServerSessionsInput{Format: "json", ListSessionsInput: enforce.ListSessionsInput{
			TableInput: enforce.TableInput{Table: "t", AWSProfile: "audit", Region: "eu-west-1", DefaultRegion: "us-east-1", EndpointURL: "http://127.0.0.1:1"},
			Filter:     enforce.SessionFilter{Status: enforce.StatusActive, Profile: "prod", Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got  %+v\nwant %+v", got, want)
		}
	})
	t.Run("server_revoke_flags_after_the_id", func(t *testing.T) {
		flagEnv(t)
		t.Setenv("SENTINEL_SESSION_TABLE", "from-env")
		got, err := parseInput(t, []string{"server-revoke"}, revokeInput, "0123456789abcdef", "--reason", "stolen laptop", "--aws-profile", "audit")
		if err != nil {
			t.Fatal(err)
		}
		want := enforce.RevokeInput{TableInput: enforce.TableInput{Table: "from-env", AWSProfile: "audit"}, ID: "0123456789abcdef", Reason: "stolen laptop"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got  %+v\nwant %+v", got, want)
		}
		// The upstream spelling, --table, after the id too.
		got, err = parseInput(t, []string{"server-revoke"}, revokeInput, "0123456789abcdef", "--reason", "r", "--table", "t", "--region", "eu-west-1")
		if err != nil || got.Table != "t" || got.Region != "eu-west-1" {
			t.Fatalf("got %+v, err %v", got, err)
		}
	})
}
