package main

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/ingest"
	"github.com/sentinel-audit/sentinel/policy"
	"github.com/sentinel-audit/sentinel/profiles"
	"github.com/sentinel-audit/sentinel/reports"
	"github.com/sentinel-audit/sentinel/window"
	"github.com/urfave/cli/v2"
)

// The tests here check that each command's flags, environment and config file become the input
// its function gets (as gh tests its options): the command's action is replaced by one that only
// builds the input.

// flagNow is the clock the inputs are built with.
var flagNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// parseInput runs the command at path (e.g. "audit", "session-compliance") with args and returns
// what build made of them.
func parseInput[T any](t *testing.T, path []string, build func(*cli.Context) (T, error), args ...string) (T, error) {
	t.Helper()
	return parseInputGlobal(t, nil, path, build, args...)
}

// parseInputGlobal is parseInput with global flags (--config, --warehouse) before the command.
func parseInputGlobal[T any](t *testing.T, global, path []string, build func(*cli.Context) (T, error), args ...string) (T, error) {
	t.Helper()
	app := newApp(io.Discard, io.Discard)
	cmds := app.Commands
	var cmd *cli.Command
	for _, name := range path {
		cmd = nil
		for _, c := range cmds {
			if c.Name == name {
				cmd = c
			}
		}
		if cmd == nil {
			t.Fatalf("no command %s", strings.Join(path, " "))
		}
		cmds = cmd.Subcommands
	}
	var got T
	var buildErr error
	ran := false
	cmd.Action = func(c *cli.Context) error {
		ran = true
		got, buildErr = build(c)
		return nil
	}
	argv := append(append(append([]string{"sentinel"}, global...), path...), args...)
	if err := app.Run(argv); err != nil {
		t.Fatalf("sentinel %s: %v", strings.Join(args, " "), err)
	}
	if !ran {
		t.Fatalf("sentinel %s %s did not run its action", strings.Join(path, " "), strings.Join(args, " "))
	}
	return got, buildErr
}

// flagEnv isolates the test from the developer's environment: no config file, AWS files or
// Sentinel variables of theirs.
func flagEnv(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_DATA_HOME", filepath.Join(home, "data"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "no-aws-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "no-aws-credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, k := range []string{"SENTINEL_WAREHOUSE", "SENTINEL_CONFIG", "SENTINEL_SESSION_TABLE", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	return home
}

func fixturePath(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAuditFlagsBecomeTheInput(t *testing.T) {
	flagEnv(t)
	cfgFile := fixturePath(t, "sentinel.yaml")
	build := func(c *cli.Context) (reports.SessionComplianceInput, error) {
		return sessionComplianceInput(c, flagNow)
	}

	t.Run("every_flag", func(t *testing.T) {
		got, err := parseInput(t, []string{"audit", "session-compliance"}, build,
			"--since", "2026-11-01", "--until", "2026-11-08T00:00:00Z", "--profile", "prod", "--policy", "/p.yaml",
			"--aws-config", "/aws", "--format", "json", "--with-activity")
		if err != nil {
			t.Fatal(err)
		}
		want := reports.SessionComplianceInput{AuditInput: reports.AuditInput{
			Warehouse: filepath.Join(os.Getenv("HOME"), "data", "sentinel"),
			Window:    window.Window{Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC)},
			Profile:   "prod", PolicyPath: "/p.yaml", AWSConfigPath: "/aws", Format: "json", Profiles: []profiles.Profile{},
		}, WithActivity: true}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got  %+v\nwant %+v", got, want)
		}
	})
	t.Run("defaults_come_from_the_config_file", func(t *testing.T) {
		in, err := parseInputGlobal(t, []string{"--config", cfgFile, "--warehouse", "/wh"}, []string{"audit", "session-compliance"}, build)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Dir(cfgFile)
		want := reports.AuditInput{
			Warehouse:  "/wh",
			Window:     window.Window{Since: flagNow.Add(-7 * 24 * time.Hour), Until: flagNow},
			PolicyPath: filepath.Join(dir, "policy.yaml"), AWSConfigPath: filepath.Join(dir, "aws-config"), Format: "table",
			Profiles: []profiles.Profile{},
		}
		if !reflect.DeepEqual(in.AuditInput, want) {
			t.Fatalf("got  %+v\nwant %+v", in.AuditInput, want)
		}
	})
	t.Run("without_an_aws_config_the_sdk_default_is_optional", func(t *testing.T) {
		in, err := parseInput(t, []string{"audit", "session-compliance"}, build)
		if err != nil {
			t.Fatal(err)
		}
		if in.AWSConfigPath != filepath.Join(os.Getenv("HOME"), "no-aws-config") || !in.AWSConfigOptional {
			t.Fatalf("AWS config %q optional %v", in.AWSConfigPath, in.AWSConfigOptional)
		}
	})
	t.Run("a_bad_window_is_an_error", func(t *testing.T) {
		if _, err := parseInput(t, []string{"audit", "session-compliance"}, build, "--since", "last tuesday"); err == nil || !strings.Contains(err.Error(), "--since") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("untracked_sessions_category", func(t *testing.T) {
		in, err := parseInput(t, []string{"audit", "untracked-sessions"}, func(c *cli.Context) (reports.UntrackedSessionsInput, error) {
			return untrackedSessionsInput(c, flagNow)
		}, "--category", "orphaned")
		if err != nil || in.Category != "orphaned" {
			t.Fatalf("category %q, err %v", in.Category, err)
		}
	})
	t.Run("activity_class", func(t *testing.T) {
		in, err := parseInput(t, []string{"audit", "activity"}, func(c *cli.Context) (reports.ActivityInput, error) {
			return activityInput(c, flagNow)
		}, "--class", "no_source_identity")
		if err != nil || in.Category != "no_source_identity" {
			t.Fatalf("class %q, err %v", in.Category, err)
		}
	})
}

func TestIngestFlagsBecomeTheOptions(t *testing.T) {
	build := func(c *cli.Context) (ingest.Options, error) { return ingestOptions(c, flagNow) }
	t.Run("local_sources", func(t *testing.T) {
		flagEnv(t)
		t.Setenv("SENTINEL_SESSION_TABLE", "from-env")
		got, err := parseInputGlobal(t, []string{"--warehouse", "/wh"}, []string{"ingest"}, build,
			"--source", "./trail", "--source", "./handoff", "--sessions-file", "s.jsonl", "--since", "2026-11-01",
			"--until", "2026-11-08", "--accounts", "111111111111, 222222222222", "--regions", "us-east-1",
			"--workers", "3", "--checkpoint", "1", "--wait")
		if err != nil {
			t.Fatal(err)
		}
		want := ingest.Options{
			Warehouse: "/wh", Sources: []string{"./trail", "./handoff"}, SessionsFiles: []string{"s.jsonl"},
			Window:   window.Window{Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC)},
			Accounts: []string{"111111111111", "222222222222"}, Regions: []string{"us-east-1"}, Workers: 3, Checkpoint: 1, Wait: true,
			Command: "--source ./trail --source ./handoff --sessions-file s.jsonl window 2026-11-01T00:00:00Z to 2026-11-08T00:00:00Z",
		}
		// SENTINEL_SESSION_TABLE names the table of server mode and of AWS runs, not of a local ingest.
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got  %+v\nwant %+v", got, want)
		}
	})
	t.Run("aws_sources_take_the_session_table_and_region_from_environment_and_config", func(t *testing.T) {
		flagEnv(t)
		t.Setenv("SENTINEL_SESSION_TABLE", "from-env")
		got, err := parseInputGlobal(t, []string{"--config", fixturePath(t, "sentinel.yaml"), "--warehouse", "/wh"}, []string{"ingest"}, build,
			"--source", "s3://bucket/prefix", "--endpoint-url", "http://127.0.0.1:1")
		if err != nil {
			t.Fatal(err)
		}
		if got.SessionsTable == nil || *got.SessionsTable != (ingest.TableScan{Table: "from-env", Segments: 4}) {
			t.Fatalf("sessions table %+v", got.SessionsTable)
		}
		if got.AWS == nil || got.AWS.SDK.Region != "us-east-1" || got.AWS.EndpointURL != "http://127.0.0.1:1" {
			t.Fatalf("AWS %+v", got.AWS)
		}
	})
	t.Run("arguments_are_refused", func(t *testing.T) {
		flagEnv(t)
		if _, err := parseInput(t, []string{"ingest"}, build, "./trail"); err == nil || !strings.Contains(err.Error(), "give sources with --source") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestSQLFlagsBecomeTheInput(t *testing.T) {
	flagEnv(t)
	got, err := parseInputGlobal(t, []string{"--warehouse", "/wh"}, []string{"sql"}, sqlInput, "--format", "csv", "--policy", "/p.yaml", "SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Query != "SELECT 1" || got.Format != "csv" || got.PolicyPath != "/p.yaml" || got.Warehouse != "/wh" {
		t.Fatalf("got %+v", got)
	}
	if _, err := parseInput(t, []string{"sql"}, sqlInput, "SELECT 1", "SELECT 2"); err == nil || !strings.Contains(err.Error(), "exactly one argument") {
		t.Fatalf("two queries: err = %v", err)
	}
}

func TestPolicyExplainFlagsBecomeTheInput(t *testing.T) {
	flagEnv(t)
	build := func(c *cli.Context) (reports.PolicyExplainInput, error) { return policyExplainInput(c, flagNow) }
	got, err := parseInput(t, []string{"policy", "explain"}, build,
		"--policy", "/p.yaml", "--profile", "prod", "--user", "alice", "--at", "2026-11-04T10:00:00Z", "--mode", "cli", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	want := reports.PolicyExplainInput{PolicyPath: "/p.yaml", Format: "json",
		Request: policy.Request{Profile: "prod", User: "alice", At: time.Date(2026, 11, 4, 10, 0, 0, 0, time.UTC), Mode: policy.ModeCLI}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	got, err = parseInput(t, []string{"policy", "explain"}, build, "--policy", "/p.yaml", "--profile", "prod")
	if err != nil || !got.Request.At.Equal(flagNow) || got.Request.Mode != "" {
		t.Fatalf("defaults: at %v mode %q err %v", got.Request.At, got.Request.Mode, err)
	}
	for _, tc := range []struct{ args []string }{
		{[]string{"--profile", "prod"}},
		{[]string{"--policy", "/p.yaml", "--profile", "prod", "--at", "someday"}},
		{[]string{"--policy", "/p.yaml", "--profile", "prod", "--mode", "ssh"}},
	} {
		if _, err := parseInput(t, []string{"policy", "explain"}, build, tc.args...); err == nil {
			t.Errorf("%v: no error", tc.args)
		}
	}
}

func TestWarehouseFlagsBecomeTheInput(t *testing.T) {
	flagEnv(t)
	t.Setenv("SENTINEL_WAREHOUSE", "/from-env")
	info, err := parseInput(t, []string{"warehouse", "info"}, warehouseInfoInput, "--format", "json")
	if err != nil || info != (reports.WarehouseInfoInput{Warehouse: "/from-env", Format: "json"}) {
		t.Fatalf("info %+v, err %v", info, err)
	}
	compact, err := parseInputGlobal(t, []string{"--warehouse", "/flag"}, []string{"warehouse", "compact"},
		func(c *cli.Context) (reports.CompactInput, error) { return compactInput(c, flagNow) }, "--wait")
	if err != nil || compact != (reports.CompactInput{Warehouse: "/flag", Wait: true, Now: flagNow}) {
		t.Fatalf("compact %+v, err %v", compact, err)
	}
}
