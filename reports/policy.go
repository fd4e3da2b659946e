package reports

import (
	"errors"
	"fmt"
	"io"
	"time"

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
			return fmt.Errorf("%w: %d problems in %s", ErrInvalidPolicy, len(le.Problems), path)
		}
		return err
	}
	fmt.Fprintf(out, "%s: valid (%d rules)\n", path, len(p.Rules))
	return nil
}

// PolicyExplainInput is the input of `sentinel policy explain`.
type PolicyExplainInput struct {
	PolicyPath string
	Request    policy.Request
	Format     string
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
	if format == FormatJSON {
		j := explainJSON{Profile: in.Request.Profile, User: in.Request.User, At: in.Request.At.UTC(), Mode: string(in.Request.Mode),
			Effect: string(d.Effect), Rule: d.Rule, Reason: d.Reason, SessionTable: d.SessionTable, Matched: d.Matched, Trace: []traceJSON{}}
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
	return nil
}
