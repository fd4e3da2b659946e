package enforce

import (
	"errors"
	"fmt"
	"testing"

	"github.com/sentinel-audit/sentinel/policy"
)

func mustParse(t *testing.T, src string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse("policy.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse policy: %v", err)
	}
	return p
}

// onePolicy has one rule "r" for profile prod with effect and, when table is set, a session_table.
func onePolicy(t *testing.T, effect policy.Effect, table string) *policy.Policy {
	src := fmt.Sprintf("version: \"1\"\nrules:\n  - name: r\n    effect: %s\n    conditions: {profiles: [prod]}\n    reason: why\n", effect)
	if table != "" {
		src += "    session_table: " + table + "\n"
	}
	return mustParse(t, src)
}

// Headlines of the denials below.
const (
	denyHead          = `denied: rule "r" (deny) denies profile "prod": why`
	serverHead        = `denied: rule "r" (require_server) issues credentials for profile "prod" only through the credential server: why`
	sessionHead       = `denied: rule "r" (require_server_session) issues credentials for profile "prod" only through the credential server with a tracked session: why`
	cliServer         = "plain exec puts credentials in the command's environment, outside the credential server; run instead:\n  "
	cpServer          = "credential_process hands out one-shot credentials outside the credential server; run instead:\n  "
	cliSession        = "plain exec cannot carry a tracked session; run instead:\n  "
	cpSession         = "credential_process cannot carry a tracked session: each call is a one-shot issuance with no session record to track or revoke; run instead:\n  "
	noTable           = "no session table is set; run instead:\n  "
	refused           = "--no-session-tracking is refused: the rule requires a session record; run instead:\n  "
	placeholderNote   = "\nreplace TABLE with your DynamoDB session table: the rule names no session_table, and --session-table, SENTINEL_SESSION_TABLE and defaults.session_table are all empty"
	execCmd           = "sentinel exec --server --profile prod -- aws s3 ls"
	cpCmd             = "sentinel exec --server --profile prod -- COMMAND"
	defaultDenyFormat = `denied: no policy rule matches profile "other" (user "alice", mode %s): default deny`
)

// withTable is a suggested command with --session-table name.
func withTable(name, child string) string {
	return "sentinel exec --server --session-table " + name + " --profile prod -- " + child
}

func TestCheck(t *testing.T) {
	// Where the session table comes from: the rule, or one of the choices outside the policy.
	sources := map[TableSource]TableChoices{
		TableFromPolicy: {},
		TableFromFlag:   {Flag: "flag-table"},
		TableFromEnv:    {Env: "env-table"},
		TableFromConfig: {Config: "config-table"},
		TableNone:       {},
	}
	const (
		cli    = policy.ModeCLI
		cp     = policy.ModeCredentialProcess
		server = policy.ModeServer
	)
	tests := []struct {
		effect  policy.Effect
		mode    policy.Mode
		source  TableSource
		tracked string // the session table of a tracked grant; "" = untracked
		denial  string // "" = granted
	}{
		{policy.EffectAllow, cli, TableFromPolicy, "", ""},
		{policy.EffectAllow, cli, TableFromFlag, "", ""},
		{policy.EffectAllow, cli, TableFromEnv, "", ""},
		{policy.EffectAllow, cli, TableFromConfig, "", ""},
		{policy.EffectAllow, cli, TableNone, "", ""},
		{policy.EffectAllow, cp, TableFromPolicy, "", ""},
		{policy.EffectAllow, cp, TableFromFlag, "", ""},
		{policy.EffectAllow, cp, TableFromEnv, "", ""},
		{policy.EffectAllow, cp, TableFromConfig, "", ""},
		{policy.EffectAllow, cp, TableNone, "", ""},
		{policy.EffectAllow, server, TableFromPolicy, "policy-table", ""},
		{policy.EffectAllow, server, TableFromFlag, "flag-table", ""},
		{policy.EffectAllow, server, TableFromEnv, "env-table", ""},
		{policy.EffectAllow, server, TableFromConfig, "config-table", ""},
		{policy.EffectAllow, server, TableNone, "", ""},

		{policy.EffectDeny, cli, TableFromPolicy, "", denyHead},
		{policy.EffectDeny, cli, TableFromFlag, "", denyHead},
		{policy.EffectDeny, cli, TableFromEnv, "", denyHead},
		{policy.EffectDeny, cli, TableFromConfig, "", denyHead},
		{policy.EffectDeny, cli, TableNone, "", denyHead},
		{policy.EffectDeny, cp, TableFromPolicy, "", denyHead},
		{policy.EffectDeny, cp, TableFromFlag, "", denyHead},
		{policy.EffectDeny, cp, TableFromEnv, "", denyHead},
		{policy.EffectDeny, cp, TableFromConfig, "", denyHead},
		{policy.EffectDeny, cp, TableNone, "", denyHead},
		{policy.EffectDeny, server, TableFromPolicy, "", denyHead},
		{policy.EffectDeny, server, TableFromFlag, "", denyHead},
		{policy.EffectDeny, server, TableFromEnv, "", denyHead},
		{policy.EffectDeny, server, TableFromConfig, "", denyHead},
		{policy.EffectDeny, server, TableNone, "", denyHead},

		{policy.EffectRequireServer, cli, TableFromPolicy, "", serverHead + "\n" + cliServer + execCmd},
		{policy.EffectRequireServer, cli, TableFromFlag, "", serverHead + "\n" + cliServer + withTable("flag-table", "aws s3 ls")},
		{policy.EffectRequireServer, cli, TableFromEnv, "", serverHead + "\n" + cliServer + withTable("env-table", "aws s3 ls")},
		{policy.EffectRequireServer, cli, TableFromConfig, "", serverHead + "\n" + cliServer + withTable("config-table", "aws s3 ls")},
		{policy.EffectRequireServer, cli, TableNone, "", serverHead + "\n" + cliServer + execCmd},
		{policy.EffectRequireServer, cp, TableFromPolicy, "", serverHead + "\n" + cpServer + cpCmd},
		{policy.EffectRequireServer, cp, TableFromFlag, "", serverHead + "\n" + cpServer + withTable("flag-table", "COMMAND")},
		{policy.EffectRequireServer, cp, TableFromEnv, "", serverHead + "\n" + cpServer + withTable("env-table", "COMMAND")},
		{policy.EffectRequireServer, cp, TableFromConfig, "", serverHead + "\n" + cpServer + withTable("config-table", "COMMAND")},
		{policy.EffectRequireServer, cp, TableNone, "", serverHead + "\n" + cpServer + cpCmd},
		{policy.EffectRequireServer, server, TableFromPolicy, "policy-table", ""},
		{policy.EffectRequireServer, server, TableFromFlag, "flag-table", ""},
		{policy.EffectRequireServer, server, TableFromEnv, "env-table", ""},
		{policy.EffectRequireServer, server, TableFromConfig, "config-table", ""},
		{policy.EffectRequireServer, server, TableNone, "", ""},

		{policy.EffectRequireServerSession, cli, TableFromPolicy, "", sessionHead + "\n" + cliSession + execCmd},
		{policy.EffectRequireServerSession, cli, TableFromFlag, "", sessionHead + "\n" + cliSession + withTable("flag-table", "aws s3 ls")},
		{policy.EffectRequireServerSession, cli, TableFromEnv, "", sessionHead + "\n" + cliSession + withTable("env-table", "aws s3 ls")},
		{policy.EffectRequireServerSession, cli, TableFromConfig, "", sessionHead + "\n" + cliSession + withTable("config-table", "aws s3 ls")},
		{policy.EffectRequireServerSession, cli, TableNone, "", sessionHead + "\n" + cliSession + withTable("TABLE", "aws s3 ls") + placeholderNote},
		{policy.EffectRequireServerSession, cp, TableFromPolicy, "", sessionHead + "\n" + cpSession + cpCmd},
		{policy.EffectRequireServerSession, cp, TableFromFlag, "", sessionHead + "\n" + cpSession + withTable("flag-table", "COMMAND")},
		{policy.EffectRequireServerSession, cp, TableFromEnv, "", sessionHead + "\n" + cpSession + withTable("env-table", "COMMAND")},
		{policy.EffectRequireServerSession, cp, TableFromConfig, "", sessionHead + "\n" + cpSession + withTable("config-table", "COMMAND")},
		{policy.EffectRequireServerSession, cp, TableNone, "", sessionHead + "\n" + cpSession + withTable("TABLE", "COMMAND") + placeholderNote},
		{policy.EffectRequireServerSession, server, TableFromPolicy, "policy-table", ""},
		{policy.EffectRequireServerSession, server, TableFromFlag, "flag-table", ""},
		{policy.EffectRequireServerSession, server, TableFromEnv, "env-table", ""},
		{policy.EffectRequireServerSession, server, TableFromConfig, "config-table", ""},
		{policy.EffectRequireServerSession, server, TableNone, "", sessionHead + "\n" + noTable + withTable("TABLE", "aws s3 ls") + placeholderNote},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s/%s/table_from_%s", tt.effect, tt.mode, tt.source)
		if tt.source == TableNone {
			name = fmt.Sprintf("%s/%s/no_table", tt.effect, tt.mode)
		}
		t.Run(name, func(t *testing.T) {
			table := ""
			if tt.source == TableFromPolicy {
				table = "policy-table"
			}
			r := Request{Profile: "prod", User: "alice", At: start, Mode: tt.mode, Tables: sources[tt.source]}
			if tt.mode != cp {
				r.Invocation.Command = []string{"aws", "s3", "ls"}
			}
			g, err := Check(onePolicy(t, tt.effect, table), r)
			checkOutcome(t, g, err, tt.tracked, tt.denial)
		})
	}
	for _, mode := range []policy.Mode{cli, cp, server} {
		t.Run("no_rule_matches/"+string(mode), func(t *testing.T) {
			r := Request{Profile: "other", User: "alice", At: start, Mode: mode, Tables: TableChoices{Flag: "flag-table"}}
			_, err := Check(onePolicy(t, policy.EffectAllow, ""), r)
			checkOutcome(t, Grant{}, err, "", fmt.Sprintf(defaultDenyFormat, mode))
		})
	}
}

func TestCheckNoSessionTracking(t *testing.T) {
	tests := []struct {
		name    string
		effect  policy.Effect
		mode    policy.Mode
		tracked string
		denial  string
	}{
		{"refused_where_the_rule_requires_a_session", policy.EffectRequireServerSession, policy.ModeServer, "",
			sessionHead + "\n" + refused + withTable("flag-table", "aws s3 ls")},
		{"dropped_from_the_suggestion_in_plain_exec", policy.EffectRequireServerSession, policy.ModeCLI, "",
			sessionHead + "\n" + cliSession + withTable("flag-table", "aws s3 ls")},
		{"serves_untracked_under_require_server", policy.EffectRequireServer, policy.ModeServer, "", ""},
		{"serves_untracked_under_allow", policy.EffectAllow, policy.ModeServer, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Request{Profile: "prod", User: "alice", At: start, Mode: tt.mode, NoSessionTracking: true,
				Tables: TableChoices{Flag: "flag-table"}, Invocation: Invocation{Command: []string{"aws", "s3", "ls"}}}
			g, err := Check(onePolicy(t, tt.effect, ""), r)
			checkOutcome(t, g, err, tt.tracked, tt.denial)
		})
	}
}

func TestCheckSuggestion(t *testing.T) {
	t.Run("follows_the_rule_that_matches_in_server_mode", func(t *testing.T) {
		p := mustParse(t, `version: "1"
rules:
  - name: cli-needs-server
    effect: require_server
    conditions: {profiles: [prod], mode: [cli]}
  - name: server-needs-session
    effect: require_server_session
    conditions: {profiles: [prod], mode: [server]}
`)
		r := Request{Profile: "prod", User: "alice", At: start, Mode: policy.ModeCLI, Invocation: Invocation{Command: []string{"make", "deploy"}}}
		_, err := Check(p, r)
		checkOutcome(t, Grant{}, err, "", `denied: rule "cli-needs-server" (require_server) issues credentials for profile "prod" only through the credential server`+"\n"+
			cliServer+withTable("TABLE", "make deploy")+placeholderNote)
	})
	t.Run("none_when_server_mode_is_denied_too", func(t *testing.T) {
		p := mustParse(t, `version: "1"
rules:
  - name: cli-needs-session
    effect: require_server_session
    conditions: {profiles: [prod], mode: [cli]}
    session_table: sentinel-sessions
  - name: freeze
    effect: deny
    conditions: {profiles: [prod], mode: [server]}
    reason: change freeze
`)
		r := Request{Profile: "prod", User: "alice", At: start, Mode: policy.ModeCLI, Invocation: Invocation{Command: []string{"aws", "s3", "ls"}}}
		_, err := Check(p, r)
		checkOutcome(t, Grant{}, err, "", `denied: rule "cli-needs-session" (require_server_session) issues credentials for profile "prod" only through the credential server with a tracked session`+"\n"+
			`plain exec cannot carry a tracked session, and the credential server is denied too: rule "freeze" (deny) denies profile "prod": change freeze`)
	})
	t.Run("repeats_the_given_flags_shell_quoted", func(t *testing.T) {
		r := Request{Profile: "prod", User: "alice", At: start, Mode: policy.ModeCLI, Tables: TableChoices{Config: "sessions"},
			Invocation: Invocation{
				Global:  []string{"--config", "/etc/sentinel/config.yaml"},
				Flags:   []string{"--policy", "my policy.yaml", "--region", "eu-west-1"},
				Command: []string{"sh", "-c", "echo it's $HOME"},
			}}
		_, err := Check(onePolicy(t, policy.EffectRequireServerSession, ""), r)
		checkOutcome(t, Grant{}, err, "", sessionHead+"\n"+cliSession+
			`sentinel --config /etc/sentinel/config.yaml exec --server --session-table sessions --policy 'my policy.yaml' --region eu-west-1 --profile prod -- sh -c 'echo it'\''s $HOME'`)
	})
}

func TestResolveSessionTable(t *testing.T) {
	all := TableChoices{Flag: "flag-table", Env: "env-table", Config: "config-table"}
	tests := []struct {
		name      string
		ruleTable string
		mode      policy.Mode
		choices   TableChoices
		want      SessionTable
	}{
		{"policy_beats_everything", "policy-table", policy.ModeServer, all, SessionTable{"policy-table", TableFromPolicy}},
		{"flag_beats_env_and_config", "", policy.ModeServer, all, SessionTable{"flag-table", TableFromFlag}},
		{"env_beats_config_in_server_mode", "", policy.ModeServer, TableChoices{Env: "env-table", Config: "config-table"}, SessionTable{"env-table", TableFromEnv}},
		{"env_is_ignored_in_plain_exec", "", policy.ModeCLI, TableChoices{Env: "env-table", Config: "config-table"}, SessionTable{"config-table", TableFromConfig}},
		{"env_is_ignored_in_credential_process", "", policy.ModeCredentialProcess, TableChoices{Env: "env-table"}, SessionTable{}},
		{"config_last", "", policy.ModeServer, TableChoices{Config: "config-table"}, SessionTable{"config-table", TableFromConfig}},
		{"none", "", policy.ModeServer, TableChoices{}, SessionTable{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ResolveSessionTable(tt.ruleTable, tt.mode, tt.choices); got != tt.want {
				t.Errorf("ResolveSessionTable = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// checkOutcome compares Check's result with a tracked table ("" = untracked) or a denial message
// ("" = granted).
func checkOutcome(t *testing.T, g Grant, err error, tracked, denial string) {
	t.Helper()
	if denial != "" {
		var d *Denial
		if !errors.As(err, &d) {
			t.Fatalf("Check = %+v, %v; want a denial", g, err)
		}
		if got := err.Error(); got != denial {
			t.Errorf("denial message:\n%s\nwant:\n%s", got, denial)
		}
		return
	}
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if (tracked != "") != g.Tracked || (tracked != "" && g.Table.Name != tracked) {
		t.Errorf("grant tracked=%v in table %q, want tracked in %q", g.Tracked, g.Table.Name, tracked)
	}
}
