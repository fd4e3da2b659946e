package reports

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/queries"
)

// SessionComplianceInput is the input of `sentinel audit session-compliance`.
type SessionComplianceInput struct {
	AuditInput
	// WithActivity adds, per profile, the calls made by its untracked sessions.
	WithActivity bool
}

// ComplianceOutcome says how the report ended, for the exit code.
type ComplianceOutcome struct {
	HasGap bool
}

// ComplianceReport is the session-compliance report (its JSON form is part of the CLI contract).
type ComplianceReport struct {
	StartTime              time.Time           `json:"start_time"`
	EndTime                time.Time           `json:"end_time"`
	Policy                 *string             `json:"policy"`
	Profiles               []ProfileCompliance `json:"profiles"`
	TotalProfiles          int                 `json:"total_profiles"`
	RequiredProfiles       int                 `json:"required_profiles"`
	FullyCompliantProfiles int                 `json:"fully_compliant_profiles"`
	ProfilesWithGaps       int                 `json:"profiles_with_gaps"`
	FlaggedIssuances       int64               `json:"flagged_issuances"`
	HasGap                 bool                `json:"has_gap"`
}

// ProfileCompliance is one profile's line of the report. ComplianceRate is a percentage.
type ProfileCompliance struct {
	Profile        string  `json:"profile"`
	PolicyRequired *bool   `json:"policy_required"`
	TrackedCount   int64   `json:"tracked_count"`
	UntrackedCount int64   `json:"untracked_count"`
	OrphanedCount  int64   `json:"orphaned_count"`
	IssuanceCount  int64   `json:"issuance_count"`
	FlaggedCount   int64   `json:"flagged_count"`
	ComplianceRate float64 `json:"compliance_rate"`
	HasGap         bool    `json:"has_gap"`
	UntrackedCalls *int64  `json:"untracked_calls,omitempty"` // with --with-activity
}

// SessionCompliance answers: for every profile, were the issuances the policy required to be
// tracked actually tracked? It writes the report to out and warnings to diag.
func SessionCompliance(ctx context.Context, in SessionComplianceInput, out, diag io.Writer) (ComplianceOutcome, error) {
	format, err := ParseFormat(in.Format)
	if err != nil {
		return ComplianceOutcome{}, err
	}
	a, err := openAudit(ctx, in.AuditInput, diag)
	if err != nil {
		return ComplianceOutcome{}, err
	}
	defer a.Close()
	rows, err := queries.SessionCompliance(ctx, a.reader.DB(), queries.Filter{Window: in.Window, Profile: in.Profile}, a.policy != nil)
	if err != nil {
		return ComplianceOutcome{}, err
	}
	rep := buildCompliance(in, rows)
	if in.WithActivity {
		calls, err := queries.UntrackedCalls(ctx, a.reader.DB(), queries.Filter{Window: in.Window, Profile: in.Profile})
		if err != nil {
			return ComplianceOutcome{}, err
		}
		for i := range rep.Profiles {
			n := calls[rep.Profiles[i].Profile]
			rep.Profiles[i].UntrackedCalls = &n
		}
	}
	if a.policy == nil && format == FormatTable {
		fmt.Fprintln(diag, "warning: no policy given (--policy or defaults.policy): nothing is required, so no gap can be found")
	}
	switch format {
	case FormatJSON:
		err = writeJSON(out, rep)
	case FormatCSV:
		err = writeComplianceCSV(out, rep)
	default:
		err = writeComplianceTable(out, rep)
	}
	return ComplianceOutcome{HasGap: rep.HasGap}, err
}

func buildCompliance(in SessionComplianceInput, rows []queries.ComplianceRow) ComplianceReport {
	rep := ComplianceReport{StartTime: in.Window.Since.UTC(), EndTime: in.Window.Until.UTC(), Profiles: []ProfileCompliance{}}
	if in.PolicyPath != "" {
		p := in.PolicyPath
		rep.Policy = &p
	}
	for _, r := range rows {
		rep.Profiles = append(rep.Profiles, ProfileCompliance{
			Profile: r.Profile, PolicyRequired: r.PolicyRequired, TrackedCount: r.Tracked, UntrackedCount: r.Untracked,
			OrphanedCount: r.Orphaned, IssuanceCount: r.Issuances, FlaggedCount: r.Flagged,
			ComplianceRate: math.Round(r.ComplianceRate*1000) / 10, HasGap: r.HasGap,
		})
		rep.TotalProfiles++
		rep.FlaggedIssuances += r.Flagged
		if r.PolicyRequired != nil && *r.PolicyRequired {
			rep.RequiredProfiles++
			if r.HasGap {
				rep.ProfilesWithGaps++
			} else {
				rep.FullyCompliantProfiles++
			}
		}
		rep.HasGap = rep.HasGap || r.HasGap
	}
	return rep
}

func required(b *bool) string {
	switch {
	case b == nil:
		return "no policy"
	case *b:
		return "yes"
	default:
		return "no"
	}
}

func writeComplianceTable(out io.Writer, rep ComplianceReport) error {
	fmt.Fprintln(out, "Session Compliance Report")
	fmt.Fprintf(out, "Time Window: %s to %s\n", rep.StartTime.Format(time.RFC3339), rep.EndTime.Format(time.RFC3339))
	if rep.Policy != nil {
		fmt.Fprintf(out, "Policy: %s\n", *rep.Policy)
	}
	fmt.Fprintln(out)
	if len(rep.Profiles) == 0 {
		fmt.Fprintln(out, "No credential issuances in this window.")
	} else {
		withCalls := len(rep.Profiles) > 0 && rep.Profiles[0].UntrackedCalls != nil
		header := []any{"Profile", "Policy Required", "Tracked", "Untracked", "Orphaned", "Compliance"}
		if withCalls {
			header = append(header, "Untracked Calls")
		}
		t := newTable(header...)
		rightAligned(t, 3, 4, 5, 6, 7)
		for _, p := range rep.Profiles {
			rate := fmt.Sprintf("%.1f%%", p.ComplianceRate)
			if p.HasGap {
				rate += " ⚠"
			} else {
				rate += "  "
			}
			row := []any{p.Profile, required(p.PolicyRequired), p.TrackedCount, p.UntrackedCount, p.OrphanedCount, rate}
			if withCalls {
				row = append(row, *p.UntrackedCalls)
			}
			t.AppendRow(row)
		}
		render(out, t)
	}
	fmt.Fprintln(out)
	fmt.Fprintln(out, "Summary")
	fmt.Fprintf(out, "  Profiles:                  %d\n", rep.TotalProfiles)
	fmt.Fprintf(out, "  Required profiles:         %d\n", rep.RequiredProfiles)
	fmt.Fprintf(out, "  Fully compliant profiles:  %d\n", rep.FullyCompliantProfiles)
	fmt.Fprintf(out, "  Profiles with gaps:        %d\n", rep.ProfilesWithGaps)
	if rep.FlaggedIssuances > 0 {
		fmt.Fprintf(out, "  Flagged issuances:         %d (issued after revocation or outside the session's lifetime)\n", rep.FlaggedIssuances)
	}
	fmt.Fprintln(out)
	var gaps []string
	for _, p := range rep.Profiles {
		if p.HasGap {
			gaps = append(gaps, p.Profile)
		}
	}
	switch {
	case len(gaps) > 0:
		fmt.Fprintf(out, "Result: GAPS FOUND — %s issued credentials that policy required to be tracked, untracked (see `sentinel audit untracked-sessions`)\n", strings.Join(gaps, ", "))
	case rep.Policy == nil:
		fmt.Fprintln(out, "Result: NO POLICY — nothing was required; pass --policy to check compliance")
	default:
		fmt.Fprintln(out, "Result: COMPLIANT — every issuance the policy required to be tracked was tracked")
	}
	return nil
}

func writeComplianceCSV(out io.Writer, rep ComplianceReport) error {
	w := csv.NewWriter(out)
	header := []string{"profile", "policy_required", "tracked_count", "untracked_count", "orphaned_count", "issuance_count", "flagged_count", "compliance_rate", "has_gap", "start_time", "end_time"}
	withCalls := len(rep.Profiles) > 0 && rep.Profiles[0].UntrackedCalls != nil
	if withCalls {
		header = append(header, "untracked_calls")
	}
	w.Write(header)
	for _, p := range rep.Profiles {
		req := ""
		if p.PolicyRequired != nil {
			req = strconv.FormatBool(*p.PolicyRequired)
		}
		line := []string{p.Profile, req, itoa(p.TrackedCount), itoa(p.UntrackedCount), itoa(p.OrphanedCount), itoa(p.IssuanceCount),
			itoa(p.FlaggedCount), strconv.FormatFloat(p.ComplianceRate, 'f', 1, 64), strconv.FormatBool(p.HasGap),
			rep.StartTime.Format(time.RFC3339), rep.EndTime.Format(time.RFC3339)}
		if withCalls {
			line = append(line, itoa(*p.UntrackedCalls))
		}
		w.Write(line)
	}
	w.Flush()
	return w.Error()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
