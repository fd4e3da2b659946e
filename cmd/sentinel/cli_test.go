package main

import (
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/sentinel-audit/sentinel/ingest"
)

func TestHelpIsCompleteForEveryCommand(t *testing.T) {
	top := sentinel(t, nil, "--help").mustExit(t, 0)
	for _, cmd := range []string{"ingest", "audit", "sql", "policy"} {
		if !strings.Contains(top.stdout, "   "+cmd) {
			t.Errorf("sentinel --help does not list %s:\n%s", cmd, top.stdout)
		}
	}
	// The description names every kind of source and every exit code.
	for _, what := range []string{"LookupEvents", "in S3 or on disk", "digests", "DynamoDB session table",
		"0 clean", "1 findings", "2 errors", "3 inconclusive"} {
		if !strings.Contains(top.stdout, what) {
			t.Errorf("sentinel --help does not say %q:\n%s", what, top.stdout)
		}
	}
	for _, flag := range []string{"--warehouse", "SENTINEL_WAREHOUSE", "--config", "--version"} {
		if !strings.Contains(top.stdout, flag) {
			t.Errorf("sentinel --help lacks %s", flag)
		}
	}
	for cmd, flags := range map[string][]string{
		"ingest":                   {"--source", "--sessions-file", "--since", "--until", "--quiet", "--wait"},
		"audit session-compliance": {"--since", "--until", "--profile", "--policy", "--aws-config", "--format"},
		"audit untracked-sessions": {"--since", "--profile", "--category", "--format"},
		"sql":                      {"--format", "events", "issuances"},
		"policy validate":          {"FILE"},
		"policy explain":           {"--policy", "--profile", "--user", "--at", "--mode"},
		// A backquoted word in a flag's usage would become its placeholder (--layout sentinel export).
		"warehouse ddl": {"--layout value", "what sentinel export --format parquet writes"},
	} {
		r := sentinel(t, nil, append(strings.Fields(cmd), "--help")...).mustExit(t, 0)
		for _, f := range flags {
			if !strings.Contains(r.stdout, f) {
				t.Errorf("sentinel %s --help lacks %s:\n%s", cmd, f, r.stdout)
			}
		}
	}
}

func TestVersion(t *testing.T) {
	r := sentinel(t, nil, "--version").mustExit(t, 0)
	// The gzip inflate the build has: libdeflate with make's build, klauspost/compress without it.
	if !strings.HasPrefix(r.stdout, "sentinel version ") || !strings.Contains(r.stdout, "(gzip: "+ingest.Inflater+")") {
		t.Fatalf("--version: %q", r.stdout)
	}
}

// TestUsageErrorsAreShortAndOnStderr: a mistyped command or flag is one line on stderr, with
// what it may have meant, and exit 2; nothing goes to stdout, where it would end up in a report
// file.
func TestUsageErrorsAreShortAndOnStderr(t *testing.T) {
	badConfig := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(badConfig, []byte("defaults:\n  regoin: us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	listConfig := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(listConfig, []byte("defaults: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"unknown_command":               {[]string{"audti"}, `sentinel: unknown command "audti"; did you mean "audit"? (see sentinel --help)`},
		"unknown_subcommand":            {[]string{"audit", "session-complience"}, `audit: unknown subcommand "session-complience"; did you mean "session-compliance"?`},
		"unknown_flag":                  {[]string{"audit", "session-compliance", "--regoin", "us-east-1"}, "unknown flag --regoin; did you mean --region? (see sentinel audit session-compliance --help)"},
		"unknown_flag_nothing_near":     {[]string{"audit", "session-compliance", "--bogus"}, "sentinel: unknown flag --bogus (see sentinel audit session-compliance --help)"},
		"one_letter_flag_suggests_none": {[]string{"warehouse", "--x"}, "sentinel: unknown flag -x (see sentinel warehouse --help)"},
		"one_letter_flag_in_other_case": {[]string{"ingest", "-Q"}, "sentinel: unknown flag -Q; did you mean -q? (see sentinel ingest --help)"},
		"help_for_an_unknown_command":   {[]string{"help", "nosuch"}, `sentinel: unknown command "nosuch" (see sentinel --help)`},
		"help_for_a_mistyped_command":   {[]string{"help", "audti"}, `sentinel: unknown command "audti"; did you mean "audit"? (see sentinel --help)`},
		"upstream_spelling_of_a_flag":   {[]string{"server-sessions", "--tabel", "t"}, "did you mean --table?"},
		"global_flag_after_the_command": {[]string{"ingest", "--warehouse", "/tmp/wh"}, "unknown flag --warehouse: it is a global flag, give it before the command (sentinel --warehouse ... ingest)"},
		"flag_without_its_value":        {[]string{"ingest", "--since"}, "flag needs an argument: --since"},
		"flag_with_a_bad_value":         {[]string{"ingest", "--workers", "many"}, `invalid value "many" for flag --workers`},
		"missing_required_flag":         {[]string{"policy", "explain", "--policy", fixtures + "/policy.yaml"}, "--profile is required"},
		"flags_after_the_query":         {[]string{"sql", "SELECT 1", "--format", "json"}, `flags go before the query: sentinel sql --format json "QUERY"`},
		"bad_since":                     {[]string{"--warehouse", t.TempDir(), "audit", "session-compliance", "--since", "last tuesday"}, `--since: "last tuesday" is neither`},
		"nothing_to_ingest":             {[]string{"--warehouse", t.TempDir(), "ingest"}, "nothing to ingest"},
		"unknown_config_key": {[]string{"--config", badConfig, "sql", "SELECT 1"}, "sentinel: config " + badConfig +
			`:2:3: unknown key "regoin" in defaults; did you mean "region"? (the keys there: region, policy, warehouse, session_table, aws_config)`},
		"config_value_of_the_wrong_kind": {[]string{"--config", listConfig, "sql", "SELECT 1"}, "sentinel: config " + listConfig + ":1:11: defaults must be a mapping (key: value), not a list\n"},
	} {
		t.Run(name, func(t *testing.T) {
			r := sentinel(t, nil, tc.args...).mustExit(t, 2)
			if r.stdout != "" || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Fatalf("stdout %q\nstderr %q\nwant one line on stderr with %q", r.stdout, r.stderr, tc.want)
			}
		})
	}
	// Help is there when asked for, on stdout.
	for _, args := range [][]string{{"--help"}, {"help"}, {"audit"}, {"help", "ingest"}, {"ingest", "--help"}} {
		if r := sentinel(t, nil, args...).mustExit(t, 0); !strings.Contains(r.stdout, "USAGE:") || r.stderr != "" {
			t.Errorf("sentinel %s: stdout %q stderr %q", strings.Join(args, " "), r.stdout, r.stderr)
		}
	}
}

func TestPolicyValidate(t *testing.T) {
	r := sentinel(t, nil, "policy", "validate", fixtures+"/policy.yaml").mustExit(t, 0)
	if !strings.Contains(r.stdout, "valid (3 rules)") {
		t.Fatalf("stdout: %s", r.stdout)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("version: \"1\"\nrules:\n  - name: x\n    effect: allw\n    conditions:\n      time: {days: [funday], timezone: Mars/Base}\n"), 0o600)
	r = sentinel(t, nil, "policy", "validate", bad).mustExit(t, 2)
	for _, want := range []string{bad + ":4:13: ", `"allw"`, bad + ":6:", `"funday"`, `"Mars/Base"`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

func TestPolicyExplain(t *testing.T) {
	r := sentinel(t, nil, "policy", "explain", "--policy", fixtures+"/policy.yaml", "--profile", "staging", "--user", "carol",
		"--at", "2026-11-04T14:05:00Z", "--mode", "cli").mustExit(t, 0)
	for _, want := range []string{"1. prod-tracked", `no match: profile "staging" not in [prod, prod-readonly]`, "2. staging-server", "matches", `Decision: require_server (rule "staging-server")`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("explain lacks %q:\n%s", want, r.stdout)
		}
	}
	r = sentinel(t, nil, "policy", "explain", "--policy", fixtures+"/policy.yaml", "--profile", "CIRunner").mustExit(t, 0)
	if !strings.Contains(r.stdout, "Decision: deny (no rule matched: default deny)") {
		t.Fatalf("explain: %s", r.stdout)
	}
}

// TestPolicyExplainShowsTheOutcomeOfTheMode: with --mode, explain says what exec or credentials
// would do: a require_server_session rule matches plain exec and credential_process and still
// denies them, with the command that works; server mode with the rule's table is issued.
func TestPolicyExplainShowsTheOutcomeOfTheMode(t *testing.T) {
	explain := []string{"policy", "explain", "--policy", fixtures + "/policy.yaml", "--profile", "prod", "--user", "alice", "--at", "2026-11-04T10:00:00Z"}
	for mode, want := range map[string][]string{
		"cli": {"Outcome in mode cli: denied: plain exec cannot carry a tracked session\nRun instead:\n  sentinel exec --server --policy " +
			fixtures + "/policy.yaml --profile prod -- COMMAND\n"},
		"credential_process": {"Outcome in mode credential_process: denied: credential_process cannot carry a tracked session", "sentinel exec --server"},
		"server":             {"Outcome in mode server: issued, tracked in session table sentinel-sessions\n"},
	} {
		t.Run(mode, func(t *testing.T) {
			r := sentinel(t, nil, append(explain, "--mode", mode)...).mustExit(t, 0)
			for _, w := range want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("explain lacks %q:\n%s", w, r.stdout)
				}
			}
		})
	}
	r := sentinel(t, nil, append(explain, "--mode", "cli", "--json")...).mustExit(t, 0)
	if !strings.Contains(r.stdout, `"outcome": "denied"`) || !strings.Contains(r.stdout, `"command": "sentinel exec --server --policy `) {
		t.Errorf("explain --json:\n%s", r.stdout)
	}
}

// TestPolicyValidateCountsInWords: one rule, one problem.
func TestPolicyValidateCountsInWords(t *testing.T) {
	dir := t.TempDir()
	one := filepath.Join(dir, "one.yaml")
	os.WriteFile(one, []byte("version: \"1\"\nrules:\n  - name: all\n    effect: allow\n"), 0o600)
	if r := sentinel(t, nil, "policy", "validate", one).mustExit(t, 0); r.stdout != one+": valid (1 rule)\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("version: \"1\"\nrules:\n  - name: all\n    effect: allw\n"), 0o600)
	if r := sentinel(t, nil, "policy", "validate", bad).mustExit(t, 2); !strings.Contains(r.stderr, "policy is invalid: 1 problem in "+bad) {
		t.Errorf("stderr %q", r.stderr)
	}
}

func TestWritablePolicyIsWarnedAbout(t *testing.T) {
	wh := ingestFixtures(t)
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	data, _ := os.ReadFile(filepath.Join(repoRoot(t), fixtures, "policy.yaml"))
	os.WriteFile(policy, data, 0o600)
	os.Chmod(policy, 0o666)
	r := sentinel(t, nil, "--warehouse", wh, "audit", "session-compliance", "--since", since, "--until", until, "--policy", policy, "--aws-config", fixtures+"/aws-config").mustExit(t, 1)
	if !strings.Contains(r.stderr, "warning: policy "+policy+" is writable by others (mode 0666)") {
		t.Fatalf("stderr: %s", r.stderr)
	}
}

func TestOverlappingSourcesAreReadOnce(t *testing.T) {
	wh := filepath.Join(t.TempDir(), "wh")
	r := sentinel(t, nil, "--warehouse", wh, "ingest", "--source", fixtures+"/trail", "--source", fixtures+"/trail/AWSLogs").mustExit(t, 0)
	if !strings.Contains(r.stdout, "17 files read") || !strings.Contains(r.stdout, "62 events stored, 1 duplicate") {
		t.Fatalf("summary: %s", r.stdout)
	}
}

func TestMemoryLimit(t *testing.T) {
	r := sentinel(t, nil, "--warehouse", t.TempDir(), "ingest", "--memory-limit", "lots", "--source", t.TempDir()).mustExit(t, 2)
	if !strings.Contains(r.stderr, `--memory-limit "lots" is not a size`) {
		t.Fatalf("stderr: %s", r.stderr)
	}
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	t.Setenv("GOMEMLIMIT", "")
	for in, want := range map[string]int64{"512MiB": 512 << 20, "2 GiB": 2 << 30, "300MB": 300e6, "0": math.MaxInt64} {
		if err := setMemoryLimit(in); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := debug.SetMemoryLimit(-1); got != want {
			t.Errorf("--memory-limit %s set %d, want %d", in, got, want)
		}
	}
	debug.SetMemoryLimit(123 << 20)
	t.Setenv("GOMEMLIMIT", "1GiB")
	if err := setMemoryLimit("512MiB"); err != nil || debug.SetMemoryLimit(-1) != 123<<20 {
		t.Errorf("with GOMEMLIMIT set, --memory-limit must leave the runtime's limit alone")
	}
}
