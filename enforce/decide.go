// Package enforce gates credential issuance: it decides, for exec, credential_process and the
// local credential server, whether the policy lets a request through; resolves the session table;
// assumes the profile's role with Sentinel's SourceIdentity; runs the credential server; and keeps
// the session record of every server session in DynamoDB, where it can be listed and revoked.
//
// Time and randomness come from an Env (a clock and an io.Reader), and the AWS clients sit behind
// small interfaces that the SDK clients satisfy, so every decision and every id is exact in tests.
package enforce

import (
	"fmt"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/policy"
)

// TableSource says where a session table name came from.
type TableSource string

// Where a session table can come from, in order of precedence.
const (
	// TableFromPolicy is the matched rule's session_table.
	TableFromPolicy TableSource = "policy"
	// TableFromFlag is the --session-table flag.
	TableFromFlag TableSource = "flag"
	// TableFromEnv is SENTINEL_SESSION_TABLE (server mode only).
	TableFromEnv TableSource = "env"
	// TableFromConfig is defaults.session_table of the Sentinel config file.
	TableFromConfig TableSource = "config"
	// TableNone means no session table was resolved.
	TableNone TableSource = ""
)

// TableChoices are the session table names given outside the policy.
type TableChoices struct {
	// Flag is --session-table.
	Flag string
	// Env is SENTINEL_SESSION_TABLE.
	Env string
	// Config is defaults.session_table of the Sentinel config file.
	Config string
}

// SessionTable is a resolved session table and where its name came from.
type SessionTable struct {
	Name   string
	Source TableSource
}

// ResolveSessionTable applies the precedence policy rule's session_table > --session-table >
// SENTINEL_SESSION_TABLE (server mode only) > config defaults.session_table.
func ResolveSessionTable(ruleTable string, mode policy.Mode, c TableChoices) SessionTable {
	switch {
	case ruleTable != "":
		return SessionTable{ruleTable, TableFromPolicy}
	case c.Flag != "":
		return SessionTable{c.Flag, TableFromFlag}
	case c.Env != "" && mode == policy.ModeServer:
		return SessionTable{c.Env, TableFromEnv}
	case c.Config != "":
		return SessionTable{c.Config, TableFromConfig}
	}
	return SessionTable{}
}

// Invocation is how the user ran Sentinel, so that a denial can show the command that would work.
type Invocation struct {
	// Global are the global flags given before the command, e.g. ["--config", "FILE"].
	Global []string
	// Flags are the command's flags a suggested command repeats, e.g. ["--policy", "FILE"];
	// --profile, --server, --session-table and --no-session-tracking are decided by the suggestion.
	Flags []string
	// Command is the child command of exec; empty for credential_process.
	Command []string
}

// Request is one credential request to gate.
type Request struct {
	Profile string
	// User is the requesting user (sanitized caller identity).
	User string
	At   time.Time
	Mode policy.Mode
	// NoSessionTracking is --no-session-tracking: serve without a session record.
	NoSessionTracking bool
	Tables            TableChoices
	Invocation        Invocation
}

// Grant is a request the policy lets through.
type Grant struct {
	// Decision is the policy's decision for the request.
	Decision policy.Decision
	// Tracked reports whether the credentials must be served with a session record in Table.
	Tracked bool
	// Table is the resolved session table (set even when the request is not tracked, if one
	// resolved).
	Table SessionTable
}

// Denial is a refused request: which rule refused it, why, and the command that would work.
type Denial struct {
	Profile  string
	User     string
	Mode     policy.Mode
	Decision policy.Decision
	// Problem says what is wrong with this request beyond the rule itself; may be empty.
	Problem string
	// Command is the command that would work; empty when none would.
	Command string
	// Note follows the command, e.g. what to put in for a placeholder; may be empty.
	Note string
}

// Error is the message a user sees: the rule, the problem and the command to run instead.
func (d *Denial) Error() string {
	var b strings.Builder
	b.WriteString("denied: ")
	b.WriteString(d.Headline())
	if d.Problem != "" {
		b.WriteString("\n")
		b.WriteString(d.Problem)
	}
	if d.Command != "" {
		b.WriteString("; run instead:\n  ")
		b.WriteString(d.Command)
	}
	if d.Note != "" {
		b.WriteString("\n")
		b.WriteString(d.Note)
	}
	return b.String()
}

// Headline names the rule that decided and what it requires.
func (d *Denial) Headline() string {
	dec := d.Decision
	if !dec.Matched {
		return fmt.Sprintf("no policy rule matches profile %q (user %q, mode %s): default deny", d.Profile, d.User, d.Mode)
	}
	var s string
	switch dec.Effect {
	case policy.EffectRequireServer:
		s = fmt.Sprintf("rule %q (%s) issues credentials for profile %q only through the credential server", dec.Rule, dec.Effect, d.Profile)
	case policy.EffectRequireServerSession:
		s = fmt.Sprintf("rule %q (%s) issues credentials for profile %q only through the credential server with a tracked session", dec.Rule, dec.Effect, d.Profile)
	default:
		s = fmt.Sprintf("rule %q (%s) denies profile %q", dec.Rule, dec.Effect, d.Profile)
	}
	if dec.Reason != "" {
		s += ": " + dec.Reason
	}
	return s
}

// placeholderTable stands for the session table in a suggested command when none resolved.
const placeholderTable = "TABLE"

// noTableNote explains where a session table can come from.
const noTableNote = "the rule names no session_table, and --session-table, SENTINEL_SESSION_TABLE and defaults.session_table are all empty"

// Check gates r against p. A refusal is a *Denial whose message shows the command that would work:
// the server-mode command that the policy, evaluated for server mode, lets through.
func Check(p *policy.Policy, r Request) (Grant, error) {
	d := evaluate(p, r, r.Mode)
	g, denial := decide(d, r)
	if denial == nil {
		return g, nil
	}
	if denial.Problem == "" {
		return Grant{}, denial
	}
	sr := r
	sr.Mode, sr.NoSessionTracking = policy.ModeServer, false
	sd := d
	if r.Mode != policy.ModeServer {
		sd = evaluate(p, r, policy.ModeServer)
	}
	if _, inner := decide(sd, sr); inner != nil && inner.Problem == "" {
		denial.Problem += ", and the credential server is denied too: " + inner.Headline()
		return Grant{}, denial
	}
	denial.Command, denial.Note = suggestion(sd, sr)
	return Grant{}, denial
}

func evaluate(p *policy.Policy, r Request, mode policy.Mode) policy.Decision {
	return p.Evaluate(policy.Request{Profile: r.Profile, User: r.User, At: r.At, Mode: mode})
}

// decide applies the effect × mode × table rules to one policy decision. A denial's Problem is
// empty when no mode of Sentinel would help (deny, default deny).
func decide(d policy.Decision, r Request) (Grant, *Denial) {
	table := ResolveSessionTable(d.SessionTable, r.Mode, r.Tables)
	deny := func(problem string) *Denial {
		return &Denial{Profile: r.Profile, User: r.User, Mode: r.Mode, Decision: d, Problem: problem}
	}
	serve := Grant{Decision: d, Tracked: table.Name != "" && !r.NoSessionTracking, Table: table}
	switch d.Effect {
	case policy.EffectAllow:
		if r.Mode != policy.ModeServer {
			serve.Tracked = false
		}
		return serve, nil
	case policy.EffectRequireServer:
		switch r.Mode {
		case policy.ModeServer:
			return serve, nil
		case policy.ModeCredentialProcess:
			return Grant{}, deny("credential_process hands out one-shot credentials outside the credential server")
		default:
			return Grant{}, deny("plain exec puts credentials in the command's environment, outside the credential server")
		}
	case policy.EffectRequireServerSession:
		switch {
		case r.Mode == policy.ModeCredentialProcess:
			return Grant{}, deny("credential_process cannot carry a tracked session: each call is a one-shot issuance with no session record to track or revoke")
		case r.Mode != policy.ModeServer:
			return Grant{}, deny("plain exec cannot carry a tracked session")
		case r.NoSessionTracking:
			return Grant{}, deny("--no-session-tracking is refused: the rule requires a session record")
		case table.Name == "":
			return Grant{}, deny("no session table is set")
		}
		return serve, nil
	}
	return Grant{}, deny("")
}

// suggestion is the server-mode command that the server-mode decision d would let through, and a
// note when the session table is a placeholder.
func suggestion(d policy.Decision, r Request) (command, note string) {
	parts := append([]string{"sentinel"}, r.Invocation.Global...)
	parts = append(parts, "exec", "--server")
	table := ResolveSessionTable(d.SessionTable, policy.ModeServer, r.Tables)
	switch {
	case table.Source == TableFromPolicy:
	case table.Name != "":
		parts = append(parts, "--session-table", table.Name)
	case d.Effect == policy.EffectRequireServerSession:
		parts = append(parts, "--session-table", placeholderTable)
		note = "replace " + placeholderTable + " with your DynamoDB session table: " + noTableNote
	}
	parts = append(parts, r.Invocation.Flags...)
	parts = append(parts, "--profile", r.Profile, "--")
	words := make([]string, 0, len(parts)+len(r.Invocation.Command))
	for _, p := range parts {
		words = append(words, shellQuote(p))
	}
	if len(r.Invocation.Command) == 0 {
		words = append(words, "COMMAND")
	}
	for _, a := range r.Invocation.Command {
		words = append(words, shellQuote(a))
	}
	return strings.Join(words, " "), note
}

// shellQuote quotes s for a POSIX shell when it holds anything but plainly safe characters.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_-./:=@%+,", c)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
