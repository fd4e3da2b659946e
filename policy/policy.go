// Package policy holds Sentinel's policy: the YAML schema, loading with
// positioned errors, validation, and first-match evaluation.
//
// A policy is an ordered list of rules. Each rule has an effect and optional
// conditions (profiles, users, a time window, credential modes); the first
// rule whose conditions all match a Request decides it, and a request that no
// rule matches is denied.
//
// A policy file looks like this:
//
//	version: "1"
//	rules:
//	  - name: prod-tracked
//	    effect: require_server_session   # allow | deny | require_server | require_server_session
//	    conditions:                      # all given conditions must match; none = matches all
//	      profiles: [prod]
//	      users: [alice]
//	      time: {days: [monday, friday], hours: {start: "09:00", end: "17:00"}, timezone: Europe/Berlin}
//	      mode: [server, cli, credential_process]
//	    session_table: sentinel-sessions # optional
//	    reason: "prod access must be revocable"
//
// Load and Parse report every problem in a file at once, each with its file,
// line and column, as a *LoadError.
//
// The package never prints, exits or reads the clock: callers pass the file
// (or its bytes) and the request time in.
package policy

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Effect is what a matching rule decides.
type Effect string

// The effects a rule can have.
const (
	// EffectAllow issues credentials in any mode.
	EffectAllow Effect = "allow"
	// EffectDeny refuses to issue credentials.
	EffectDeny Effect = "deny"
	// EffectRequireServer issues credentials only through Sentinel's local
	// credential server.
	EffectRequireServer Effect = "require_server"
	// EffectRequireServerSession issues credentials only through the
	// credential server with a session record in the session table, so the
	// session is visible and revocable.
	EffectRequireServerSession Effect = "require_server_session"
)

// effects lists the valid effects in the order error messages show them.
var effects = []Effect{EffectAllow, EffectDeny, EffectRequireServer, EffectRequireServerSession}

// RequiresServer reports whether the effect only allows issuance through the
// credential server (require_server or require_server_session).
func (e Effect) RequiresServer() bool {
	return e == EffectRequireServer || e == EffectRequireServerSession
}

func (e Effect) valid() bool {
	for _, v := range effects {
		if e == v {
			return true
		}
	}
	return false
}

// Mode is how credentials are being requested.
type Mode string

// The credential modes a rule can name.
const (
	// ModeServer is Sentinel's local credential server.
	ModeServer Mode = "server"
	// ModeCLI is a one-shot command such as `sentinel exec`.
	ModeCLI Mode = "cli"
	// ModeCredentialProcess is the AWS SDK credential_process integration.
	ModeCredentialProcess Mode = "credential_process"
)

// modes lists the valid modes in the order error messages show them.
var modes = []Mode{ModeServer, ModeCLI, ModeCredentialProcess}

// ParseMode returns the Mode named by s (server, cli or credential_process;
// case-sensitive, as in policy files).
func ParseMode(s string) (Mode, error) {
	for _, m := range modes {
		if s == string(m) {
			return m, nil
		}
	}
	return "", fmt.Errorf("unknown mode %s (valid: %s)", quote(s), validModes())
}

func validModes() string { return joinStrings(modes) }

func validEffects() string { return joinStrings(effects) }

// joinStrings joins values with ", ".
func joinStrings[S ~string](values []S) string {
	var b strings.Builder
	for i, v := range values {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(v))
	}
	return b.String()
}

// Policy is a loaded, validated policy file.
type Policy struct {
	// Path is the file the policy was loaded from (as given to Load or Parse).
	Path string
	// Version is the schema version; always "1" for a loaded policy.
	Version string
	// Rules are evaluated in order; the first match wins.
	Rules []Rule
}

// Rule is one entry of a policy's rules list.
type Rule struct {
	// Name identifies the rule; unique within a policy.
	Name string
	// Effect is what the rule decides when it matches.
	Effect Effect
	// Conditions must all match for the rule to apply.
	Conditions Conditions
	// SessionTable optionally names the DynamoDB session table to use for
	// sessions this rule governs ("" = use the configured default).
	SessionTable string
	// Reason is the human explanation carried into the Decision.
	Reason string
	// Line and Column locate the rule in its file (1-based; 0 if unknown).
	Line, Column int
}

// Conditions restrict when a rule applies. Every non-empty condition must
// match; a zero Conditions matches every request.
type Conditions struct {
	// Profiles the rule applies to (exact match); empty = any profile.
	Profiles []string
	// Users the rule applies to (exact match); empty = any user.
	Users []string
	// Time restricts the rule to a window of days and hours; nil = any time.
	Time *TimeWindow
	// Modes the rule applies to; empty = any mode. A request whose mode is
	// unknown ("") matches any mode condition.
	Modes []Mode
}

// TimeWindow is a recurring weekly window in a time zone.
type TimeWindow struct {
	// Days the window is open on, as weekdays in Location; empty = every day.
	// For a window that crosses midnight (Start > End) a day names the day
	// the window starts.
	Days []time.Weekday
	// Start (inclusive) and End (exclusive) are minutes since midnight, wall
	// clock in Location. End may be 1440 (24:00). Start > End means the window
	// crosses midnight. Without HasHours the window is open all day.
	Start, End int
	// HasHours reports whether Start and End were given.
	HasHours bool
	// Location is the zone the window is read in; nil means UTC.
	Location *time.Location
}

// Request is one credential request to decide.
type Request struct {
	// Profile is the AWS profile being requested.
	Profile string
	// User is the requesting user.
	User string
	// At is when the request happens; it is converted to each rule's zone.
	At time.Time
	// Mode is how credentials are requested; "" means unknown, and then a
	// rule's mode condition matches.
	Mode Mode
}

// Decision is the outcome of evaluating a policy for a Request.
type Decision struct {
	// Effect is the matched rule's effect, or EffectDeny when none matched.
	Effect Effect
	// Rule is the matched rule's name; "" when no rule matched.
	Rule string
	// Reason is the matched rule's reason, or the default-deny reason.
	Reason string
	// SessionTable is the matched rule's session_table, if any.
	SessionTable string
	// Matched reports whether a rule matched.
	Matched bool
}

// RuleTrace records how one rule fared against a Request.
type RuleTrace struct {
	// Rule is the rule's name.
	Rule string
	// Matched reports whether all of the rule's conditions matched.
	Matched bool
	// Mismatch says which conditions failed and why, joined with "; ",
	// e.g. `profile "dev" not in [prod]`; "" when the rule matched.
	Mismatch string
}

// Explanation is a Decision together with the rules that led to it.
type Explanation struct {
	// Decision is the same Decision Evaluate returns.
	Decision Decision
	// Trace holds every rule evaluated, in order, up to and including the
	// first match.
	Trace []RuleTrace
}

// SessionProfiles returns the profiles explicitly listed in
// require_server_session rules, sorted and deduplicated. Rules without a
// profiles condition contribute nothing.
func (p *Policy) SessionProfiles() []string {
	return p.profilesOf(func(r Rule) bool { return r.Effect == EffectRequireServerSession })
}

// NamedProfiles are the profiles any rule names, sorted.
func (p *Policy) NamedProfiles() []string {
	return p.profilesOf(func(Rule) bool { return true })
}

// RequiresEveryProfile reports whether a require_server_session rule names no profiles: it may
// require any profile (and any role without one) to be tracked.
func (p *Policy) RequiresEveryProfile() bool {
	if p == nil {
		return false
	}
	for _, r := range p.Rules {
		if r.Effect == EffectRequireServerSession && len(r.Conditions.Profiles) == 0 {
			return true
		}
	}
	return false
}

// profilesOf are the profiles the rules that match name, sorted and once each.
func (p *Policy) profilesOf(match func(Rule) bool) []string {
	if p == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range p.Rules {
		if !match(r) {
			continue
		}
		for _, profile := range r.Conditions.Profiles {
			if !seen[profile] {
				seen[profile] = true
				out = append(out, profile)
			}
		}
	}
	sort.Strings(out)
	return out
}
