package reports

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sentinel-audit/sentinel/enforce"
	"github.com/sentinel-audit/sentinel/policy"
)

// ErrInvalidPolicy is returned by PolicyValidate after it printed the problems of a policy.
var ErrInvalidPolicy = errors.New("policy is invalid")

// PolicyValidate loads the policy at path and reports it valid on out, or writes every positioned
// problem to diag and returns ErrInvalidPolicy.
func PolicyValidate(path string, out, diag io.Writer) error {
	p, err := policy.Load(path)
	if err != nil {
		var le *policy.LoadError
		if errors.As(err, &le) {
			for _, pr := range le.Problems {
				fmt.Fprintln(diag, pr.Error())
			}
			return fmt.Errorf("%w: %s in %s", ErrInvalidPolicy, plural(len(le.Problems), "problem"), path)
		}
		return err
	}
	fmt.Fprintf(out, "%s: valid (%s)\n", path, plural(len(p.Rules), "rule"))
	return nil
}

// PolicyExplainInput is the input of `sentinel policy explain`.
type PolicyExplainInput struct {
	PolicyPath string
	Request    policy.Request
	Format     string
	// Tables are the session tables given outside the policy, and Invocation how Sentinel was
	// run: with a mode, the outcome of the request shows the command that would work (as
	// exec and credentials do).
	Tables     enforce.TableChoices
	Invocation enforce.Invocation
}

type explainJSON struct {
	Profile      string      `json:"profile"`
	User         string      `json:"user"`
	At           time.Time   `json:"at"`
	Mode         string      `json:"mode"`
	Effect       string      `json:"effect"`
	Rule         string      `json:"rule"`
	Reason       string      `json:"reason"`
	SessionTable string      `json:"session_table"`
	Matched      bool        `json:"matched"`
	Trace        []traceJSON `json:"trace"`
	// Outcome, with a mode: what exec or credentials would do (issued or denied), and for a
	// denial what is wrong and the command that would work.
	Outcome string `json:"outcome,omitempty"`
	Problem string `json:"problem,omitempty"`
	Command string `json:"command,omitempty"`
	Note    string `json:"note,omitempty"`
}

type traceJSON struct {
	Rule     string `json:"rule"`
	Matched  bool   `json:"matched"`
	Mismatch string `json:"mismatch,omitempty"`
}

// PolicyExplain shows which rule decides a request and why each earlier rule did not match.
func PolicyExplain(in PolicyExplainInput, out io.Writer) error {
	format, err := ParseFormat(in.Format)
	if err != nil {
		return err
	}
	p, err := policy.Load(in.PolicyPath)
	if err != nil {
		return err
	}
	ex := p.Explain(in.Request)
	d := ex.Decision
	o := outcome(p, in)
	if format == FormatJSON {
		j := explainJSON{Profile: in.Request.Profile, User: in.Request.User, At: in.Request.At.UTC(), Mode: string(in.Request.Mode),
			Effect: string(d.Effect), Rule: d.Rule, Reason: d.Reason, SessionTable: d.SessionTable, Matched: d.Matched, Trace: []traceJSON{},
			Outcome: o.outcome, Problem: o.problem, Command: o.command, Note: o.note}
		for _, t := range ex.Trace {
			j.Trace = append(j.Trace, traceJSON{t.Rule, t.Matched, t.Mismatch})
		}
		return writeJSON(out, j)
	}
	mode := string(in.Request.Mode)
	if mode == "" {
		mode = "any"
	}
	fmt.Fprintf(out, "Request: profile=%s user=%s at=%s mode=%s\n", in.Request.Profile, dash(in.Request.User), in.Request.At.UTC().Format(time.RFC3339), mode)
	for i, t := range ex.Trace {
		if t.Matched {
			fmt.Fprintf(out, "  %d. %-24s matches\n", i+1, t.Rule)
		} else {
			fmt.Fprintf(out, "  %d. %-24s no match: %s\n", i+1, t.Rule, t.Mismatch)
		}
	}
	if d.Matched {
		fmt.Fprintf(out, "Decision: %s (rule %q)\n", d.Effect, d.Rule)
	} else {
		fmt.Fprintf(out, "Decision: %s (no rule matched: default deny)\n", d.Effect)
	}
	if d.Reason != "" && d.Matched {
		fmt.Fprintf(out, "Reason: %s\n", d.Reason)
	}
	if d.SessionTable != "" {
		fmt.Fprintf(out, "Session table: %s\n", d.SessionTable)
	}
	if o.outcome == "" {
		return nil
	}
	fmt.Fprintf(out, "Outcome in mode %s: %s", mode, o.outcome)
	if o.problem != "" {
		fmt.Fprintf(out, ": %s", o.problem)
	}
	fmt.Fprintln(out)
	if o.command != "" {
		fmt.Fprintf(out, "Run instead:\n  %s\n", o.command)
	}
	if o.note != "" {
		fmt.Fprintln(out, o.note)
	}
	return nil
}

// requestOutcome is what exec or credentials would make of an explained request.
type requestOutcome struct{ outcome, problem, command, note string }

// outcome gates the request as exec (mode server or cli) or credentials (credential_process)
// would: a rule can match and still not let the request through in its mode, such as
// require_server_session for plain exec. Without a mode there is none.
func outcome(p *policy.Policy, in PolicyExplainInput) requestOutcome {
	r := in.Request
	if r.Mode == "" {
		return requestOutcome{}
	}
	g, err := enforce.Check(p, enforce.Request{Profile: r.Profile, User: r.User, At: r.At, Mode: r.Mode, Tables: in.Tables, Invocation: in.Invocation})
	var d *enforce.Denial
	switch {
	case errors.As(err, &d):
		return requestOutcome{outcome: "denied", problem: d.Problem, command: d.Command, note: d.Note}
	case g.Tracked:
		return requestOutcome{outcome: fmt.Sprintf("issued, tracked in session table %s", g.Table.Name)}
	default:
		return requestOutcome{outcome: "issued"}
	}
}
