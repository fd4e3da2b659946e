package main

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/enforce"
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
		in, sync, err := sessionComplianceInput(c, flagNow)
		if sync != nil {
			t.Errorf("a sync without sync flags: %+v", sync)
		}
		return in, err
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
	t.Run("class_and_category_are_one_filter", func(t *testing.T) {
		untracked := func(c *cli.Context) (string, error) {
			in, _, err := untrackedSessionsInput(c, flagNow)
			return in.Category, err
		}
		activity := func(c *cli.Context) (string, error) {
			in, _, err := activityInput(c, flagNow)
			return in.Category, err
		}
		for _, flag := range []string{"--class", "--category"} {
			if got, err := parseInput(t, []string{"audit", "untracked-sessions"}, untracked, flag, "orphaned"); err != nil || got != "orphaned" {
				t.Errorf("untracked-sessions %s: %q, err %v", flag, got, err)
			}
			if got, err := parseInput(t, []string{"audit", "activity"}, activity, flag, "no_source_identity"); err != nil || got != "no_source_identity" {
				t.Errorf("activity %s: %q, err %v", flag, got, err)
			}
		}
	})
	t.Run("json_is_format_json", func(t *testing.T) {
		in, err := parseInput(t, []string{"audit", "session-compliance"}, build, "--json")
		if err != nil || in.Format != "json" {
			t.Fatalf("format %q, err %v", in.Format, err)
		}
		if _, err := parseInput(t, []string{"audit", "session-compliance"}, build, "--json", "--format", "csv"); err == nil ||
			!strings.Contains(err.Error(), "--json and --format csv disagree") {
			t.Fatalf("--json --format csv: err %v", err)
		}
	})
	t.Run("arguments_are_refused", func(t *testing.T) {
		if _, err := parseInput(t, []string{"audit", "session-compliance"}, build, "7d"); err == nil || !strings.Contains(err.Error(), `unexpected argument "7d"`) {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestAuditSyncFlagsBecomeTheSync: --region, --regions, --sessions-table (--table) and
// --aws-profile make an audit sync first, with the ingest options `sentinel ingest --source api
// --regions R --sessions-table T` has over the audit's window; without them there is no sync.
func TestAuditSyncFlagsBecomeTheSync(t *testing.T) {
	type inputs struct {
		report reports.UntrackedSessionsInput
		sync   *ingest.Options
	}
	build := func(c *cli.Context) (inputs, error) {
		in, sync, err := untrackedSessionsInput(c, flagNow)
		return inputs{in, sync}, err
	}
	week := window.Window{Since: flagNow.Add(-7 * 24 * time.Hour), Until: flagNow}
	for name, tc := range map[string]struct {
		args    []string
		env     map[string]string
		regions []string
		table   string // "" = no scan
		region  string
		command string
	}{
		"upstream_command_line": {args: []string{"--since", "7d", "--region", "eu-west-1", "--table", "sentinel-sessions"},
			table: "sentinel-sessions", region: "eu-west-1", command: "audit untracked-sessions sync: --source api --sessions-table sentinel-sessions window " + week.String()},
		"regions_and_the_table_from_the_environment": {args: []string{"--regions", "us-east-1, eu-west-1"}, env: map[string]string{"SENTINEL_SESSION_TABLE": "from-env", "AWS_REGION": "us-east-1"},
			regions: []string{"us-east-1", "eu-west-1"}, table: "from-env", region: "us-east-1", command: "audit untracked-sessions sync: --source api --sessions-table from-env --regions us-east-1,eu-west-1 window " + week.String()},
		"sessions_table_spelled_as_ingest": {args: []string{"--sessions-table", "t", "--region", "us-east-1"}, table: "t", region: "us-east-1",
			command: "audit untracked-sessions sync: --source api --sessions-table t window " + week.String()},
		"no_table_syncs_the_events_only": {args: []string{"--region", "us-east-1"}, region: "us-east-1",
			command: "audit untracked-sessions sync: --source api window " + week.String()},
	} {
		t.Run(name, func(t *testing.T) {
			flagEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			got, err := parseInputGlobal(t, []string{"--warehouse", "/wh"}, []string{"audit", "untracked-sessions"}, build,
				append(tc.args, "--endpoint-url", "http://127.0.0.1:1")...)
			if err != nil {
				t.Fatal(err)
			}
			s := got.sync
			if s == nil {
				t.Fatal("no sync")
			}
			if s.Warehouse != "/wh" || !reflect.DeepEqual(s.Sources, []string{"api"}) || !reflect.DeepEqual(s.Regions, tc.regions) ||
				!s.Window.Since.Equal(got.report.Window.Since) || !s.Window.Until.Equal(got.report.Window.Until) || !s.Wait || s.Command != tc.command {
				t.Errorf("sync %+v", s)
			}
			if (s.SessionsTable == nil) != (tc.table == "") || s.SessionsTable != nil && *s.SessionsTable != (ingest.TableScan{Table: tc.table, Segments: 4}) {
				t.Errorf("sessions table %+v, want %q", s.SessionsTable, tc.table)
			}
			if s.AWS == nil || s.AWS.SDK.Region != tc.region || s.AWS.EndpointURL != "http://127.0.0.1:1" {
				t.Errorf("AWS %+v", s.AWS)
			}
		})
	}
	t.Run("without_sync_flags_no_sync_whatever_the_environment", func(t *testing.T) {
		flagEnv(t)
		t.Setenv("AWS_PROFILE", "audit")
		t.Setenv("AWS_REGION", "us-east-1")
		t.Setenv("SENTINEL_SESSION_TABLE", "sentinel-sessions")
		got, err := parseInput(t, []string{"audit", "untracked-sessions"}, build)
		if err != nil || got.sync != nil {
			t.Fatalf("sync %+v, err %v", got.sync, err)
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
			"--workers", "3", "--s3-concurrency", "16", "--checkpoint", "1", "--wait", "--exclude", "archive/**", "--exclude", "*.tmp.json")
		if err != nil {
			t.Fatal(err)
		}
		want := ingest.Options{
			Warehouse: "/wh", Sources: []string{"./trail", "./handoff"}, SessionsFiles: []string{"s.jsonl"},
			Window:   window.Window{Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC)},
			Accounts: []string{"111111111111", "222222222222"}, Regions: []string{"us-east-1"}, Workers: 3, S3Concurrency: 16, Checkpoint: 1, Wait: true,
			Exclude: []string{"archive/**", "*.tmp.json"},
			Command: "--source ./trail --source ./handoff --sessions-file s.jsonl --exclude archive/** --exclude *.tmp.json --accounts 111111111111,222222222222 --regions us-east-1 window 2026-11-01T00:00:00Z to 2026-11-08T00:00:00Z",
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
		Request:    policy.Request{Profile: "prod", User: "alice", At: time.Date(2026, 11, 4, 10, 0, 0, 0, time.UTC), Mode: policy.ModeCLI},
		Invocation: enforce.Invocation{Flags: []string{"--policy", "/p.yaml"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	got, err = parseInput(t, []string{"policy", "explain"}, build, "--policy", "/p.yaml", "--profile", "prod")
	if err != nil || !got.Request.At.Equal(flagNow) || got.Request.Mode != "" {
		t.Fatalf("defaults: at %v mode %q err %v", got.Request.At, got.Request.Mode, err)
	}
	// The session tables a denial's suggested command would use: the environment's and the config
	// file's; the config file goes into the suggested command.
	t.Setenv("SENTINEL_SESSION_TABLE", "from-env")
	cfgFile := fixturePath(t, "sentinel.yaml")
	got, err = parseInputGlobal(t, []string{"--config", cfgFile}, []string{"policy", "explain"}, build, "--profile", "prod", "--json")
	if err != nil || got.Format != "json" || got.Tables != (enforce.TableChoices{Env: "from-env"}) ||
		!reflect.DeepEqual(got.Invocation, enforce.Invocation{Global: []string{"--config", cfgFile}}) {
		t.Fatalf("got %+v, err %v", got, err)
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
