package reports

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/sentinel-audit/sentinel/queries"
	"github.com/sentinel-audit/sentinel/verdict"
)

// SessionComplianceInput is the input of `sentinel audit session-compliance`.
type SessionComplianceInput struct {
	AuditInput
	// WithActivity adds, per profile, the calls made by its untracked sessions.
	WithActivity bool
}

// ComplianceOutcome says how the report ended, for the exit code.
type ComplianceOutcome struct {
	Result verdict.Result
}

// ComplianceReport is the session-compliance report (its JSON form is part of the CLI contract).
type ComplianceReport struct {
	StartTime              time.Time           `json:"start_time"`
	EndTime                time.Time           `json:"end_time"`
	Policy                 *string             `json:"policy"`
	Verdict                verdict.Verdict     `json:"verdict"`
	Evidence               EvidenceReport      `json:"evidence"`
	Profiles               []ProfileCompliance `json:"profiles"`
	TotalProfiles          int                 `json:"total_profiles"`
	RequiredProfiles       int                 `json:"required_profiles"`
	FullyCompliantProfiles int                 `json:"fully_compliant_profiles"`
	ProfilesWithGaps       int                 `json:"profiles_with_gaps"`
	FlaggedIssuances       int64               `json:"flagged_issuances"`
	HasGap                 bool                `json:"has_gap"`
	// UnmappedRoles are the roles issued in the window that map to no profile; roles of AWS
	// services, service-linked roles and those the config declares not_profiles are summed in
	// RolesApart instead.
	UnmappedRoles []UnmappedRole `json:"unmapped_roles"`
	RolesApart    RolesApart     `json:"roles_apart"`
}

// ProfileCompliance is one profile's line of the report. ComplianceRate is a percentage.
type ProfileCompliance struct {
	Profile        string `json:"profile"`
	PolicyRequired *bool  `json:"policy_required"`
	TrackedCount   int64  `json:"tracked_count"`
	UntrackedCount int64  `json:"untracked_count"`
	OrphanedCount  int64  `json:"orphaned_count"`
	// UnverifiedCount: issuances naming a server session no snapshot holds, taken when no
	// snapshot could tell whether its record existed.
	UnverifiedCount int64   `json:"unverified_count"`
	IssuanceCount   int64   `json:"issuance_count"`
	FlaggedCount    int64   `json:"flagged_count"`
	ComplianceRate  float64 `json:"compliance_rate"`
	HasGap          bool    `json:"has_gap"`
	UntrackedCalls  *int64  `json:"untracked_calls,omitempty"` // with --with-activity
}

// UnmappedRole is a role issued in the window that no profile maps, with its issuances by caller.
type UnmappedRole struct {
	RoleARN        string `json:"role_arn"`
	AccountID      string `json:"account_id"`
	Issuances      int64  `json:"issuances"`
	IAMUser        int64  `json:"iam_user"`
	Federated      int64  `json:"federated"`
	AssumedRole    int64  `json:"assumed_role"`
	AWSService     int64  `json:"aws_service"`
	Other          int64  `json:"other"`
	NotTracked     int64  `json:"not_tracked"`
	PolicyRequired bool   `json:"policy_required"`
}

// RolesApart sums the unmapped roles not listed one by one: service-linked roles and roles only
// AWS services assumed, and roles the config declares not_profiles.
type RolesApart struct {
	ServiceRoles        int   `json:"service_roles"`
	ServiceIssuances    int64 `json:"service_issuances"`
	NotProfiles         int   `json:"not_profiles"`
	NotProfileIssuances int64 `json:"not_profile_issuances"`
}

// SessionCompliance answers: for every profile, were the issuances the policy required to be
// tracked actually tracked, and can the evidence say so? It writes the report to out and warnings
// to diag.
func SessionCompliance(ctx context.Context, in SessionComplianceInput, out, diag io.Writer) (ComplianceOutcome, error) {
	format, err := ParseFormat(in.Format)
	if err != nil {
		return ComplianceOutcome{}, err
	}
	out = fitTo(out, in.Width)
	a, err := openAudit(ctx, in.AuditInput, diag)
	if err != nil {
		return ComplianceOutcome{}, err
	}
	defer a.Close()
	rep, err := a.sessionCompliance(ctx, in)
	if err != nil {
		return ComplianceOutcome{}, err
	}
	switch format {
	case FormatJSON:
		err = writeJSON(out, rep)
	case FormatCSV:
		err = writeComplianceCSV(out, rep)
	default:
		err = writeComplianceTable(out, rep)
	}
	return ComplianceOutcome{Result: rep.Verdict.Result}, err
}

// sessionCompliance builds the report: the profiles' numbers, the roles no profile maps, the
// evidence, and the verdict over them.
func (a *audit) sessionCompliance(ctx context.Context, in SessionComplianceInput) (ComplianceReport, error) {
	db := a.reader.DB()
	f := queries.Filter{Window: in.Window, Profile: in.Profile}
	known, err := queries.Scope(ctx, db, in.Window)
	if err != nil {
		return ComplianceReport{}, err
	}
	if err := a.checkProfile(known); err != nil {
		return ComplianceReport{}, err
	}
	rows, err := queries.SessionCompliance(ctx, db, f, a.policy != nil)
	if err != nil {
		return ComplianceReport{}, err
	}
	rep := buildCompliance(in, rows)
	roles, err := queries.UnmappedRoles(ctx, db, f)
	if err != nil {
		return ComplianceReport{}, err
	}
	rep.UnmappedRoles, rep.RolesApart = splitUnmapped(roles, in.NotProfiles)
	if in.WithActivity {
		calls, err := queries.UntrackedCalls(ctx, db, f)
		if err != nil {
			return ComplianceReport{}, err
		}
		for i := range rep.Profiles {
			n := calls[rep.Profiles[i].Profile]
			rep.Profiles[i].UntrackedCalls = &n
		}
	}
	s := scope{policyNeeded: true}
	var unverified int64
	for _, r := range rows {
		if r.HasGap {
			s.proven = append(s.proven, r.Profile)
		}
		unverified += r.RequiredUnverified
	}
	s.unverified = unverified
	switch {
	case in.Profile != "":
		s.profiles = []string{in.Profile}
	case !a.policy.RequiresEveryProfile():
		s.profiles = append([]string{}, a.policy.SessionProfiles()...)
	}
	rep.Verdict, rep.Evidence, err = a.judge(ctx, known, s)
	return rep, err
}

// splitUnmapped lists the unmapped roles an auditor must look at and sums the rest: service
// roles (service-linked, or assumed only by AWS services) and roles matching a not_profiles
// pattern.
func splitUnmapped(roles []queries.UnmappedRole, notProfiles []string) ([]UnmappedRole, RolesApart) {
	listed := []UnmappedRole{}
	var apart RolesApart
	for _, r := range roles {
		gap := r.PolicyRequired && r.NotTracked > 0 // a gap is listed, whatever the role
		switch {
		case !gap && (r.ServiceLinked || r.AWSService == r.Issuances):
			apart.ServiceRoles++
			apart.ServiceIssuances += r.Issuances
		case !gap && matchesAny(notProfiles, r.RoleARN):
			apart.NotProfiles++
			apart.NotProfileIssuances += r.Issuances
		default:
			listed = append(listed, UnmappedRole{RoleARN: r.RoleARN, AccountID: r.AccountID, Issuances: r.Issuances,
				IAMUser: r.IAMUser, Federated: r.Federated, AssumedRole: r.AssumedRole, AWSService: r.AWSService,
				Other: r.Other, NotTracked: r.NotTracked, PolicyRequired: r.PolicyRequired})
		}
	}
	return listed, apart
}

// matchesAny reports whether the role ARN matches one of the patterns (validated when the config
// file was loaded).
func matchesAny(patterns []string, arn string) bool {
	for _, p := range patterns {
		if ok, _ := doublestar.Match(p, arn); ok {
			return true
		}
	}
	return false
}

func buildCompliance(in SessionComplianceInput, rows []queries.ComplianceRow) ComplianceReport {
	rep := ComplianceReport{StartTime: in.Window.Since.UTC(), EndTime: in.Window.Until.UTC(), Profiles: []ProfileCompliance{}}
	if in.PolicyPath != "" {
		p := in.PolicyPath
		rep.Policy = &p
	}
	for _, r := range rows {
		rep.HasGap = rep.HasGap || r.HasGap
		rep.FlaggedIssuances += r.Flagged
		if r.ProfileSource == "role_name" {
			continue
		}
		rep.Profiles = append(rep.Profiles, ProfileCompliance{
			Profile: r.Profile, PolicyRequired: r.PolicyRequired, TrackedCount: r.Tracked, UntrackedCount: r.Untracked,
			OrphanedCount: r.Orphaned, UnverifiedCount: r.Unverified, IssuanceCount: r.Issuances, FlaggedCount: r.Flagged,
			ComplianceRate: math.Round(r.ComplianceRate*1000) / 10, HasGap: r.HasGap,
		})
		rep.TotalProfiles++
		if r.PolicyRequired != nil && *r.PolicyRequired {
			rep.RequiredProfiles++
			if r.HasGap {
				rep.ProfilesWithGaps++
			} else {
				rep.FullyCompliantProfiles++
			}
		}
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
	writeEvidenceTable(out, rep.Evidence)
	if len(rep.Profiles) == 0 {
		fmt.Fprintln(out, "No profile had credential issuances in this window.")
	} else {
		withCalls := rep.Profiles[0].UntrackedCalls != nil
		header := []any{"Profile", "Policy Required", "Tracked", "Untracked", "Orphaned", "Unverified", "Compliance"}
		if withCalls {
			header = append(header, "Untracked Calls")
		}
		t := newTable(header...)
		rightAligned(t, 3, 4, 5, 6, 7, 8)
		for _, p := range rep.Profiles {
			rate := fmt.Sprintf("%.1f%%", p.ComplianceRate)
			if p.HasGap {
				rate += " ⚠"
			} else {
				rate += "  "
			}
			row := []any{p.Profile, required(p.PolicyRequired), p.TrackedCount, p.UntrackedCount, p.OrphanedCount, p.UnverifiedCount, rate}
			if withCalls {
				row = append(row, *p.UntrackedCalls)
			}
			t.AppendRow(row)
		}
		render(out, t)
	}
	writeUnmappedRolesTable(out, rep.UnmappedRoles, rep.RolesApart)
	fmt.Fprintln(out)
	fmt.Fprintln(out, "Summary")
	fmt.Fprintf(out, "  Profiles:                  %d\n", rep.TotalProfiles)
	fmt.Fprintf(out, "  Required profiles:         %d\n", rep.RequiredProfiles)
	fmt.Fprintf(out, "  Fully compliant profiles:  %d\n", rep.FullyCompliantProfiles)
	fmt.Fprintf(out, "  Profiles with gaps:        %d\n", rep.ProfilesWithGaps)
	if rep.FlaggedIssuances > 0 {
		fmt.Fprintf(out, "  Flagged issuances:         %d (issued after revocation or outside the session's lifetime: see `sentinel audit untracked-sessions`)\n", rep.FlaggedIssuances)
	}
	fmt.Fprintln(out)
	writeVerdictTable(out, rep.Verdict, complianceHeadline(rep))
	return nil
}

// complianceHeadline says in words what the verdict of a session-compliance report means.
func complianceHeadline(rep ComplianceReport) string {
	var headline string
	switch rep.Verdict.Result {
	case verdict.GapsFound:
		var gaps []string
		for _, p := range rep.Profiles {
			if p.HasGap {
				gaps = append(gaps, p.Profile)
			}
		}
		for _, r := range rep.UnmappedRoles {
			if r.PolicyRequired && r.NotTracked > 0 {
				gaps = append(gaps, roleName(r.RoleARN))
			}
		}
		headline = fmt.Sprintf("%s issued credentials that the policy required to be tracked, untracked or flagged (see `sentinel audit untracked-sessions`)", strings.Join(gaps, ", "))
	case verdict.Inconclusive:
		headline = "Sentinel cannot say whether every issuance the policy required to be tracked was tracked"
	default:
		headline = "every issuance the policy required to be tracked was tracked, over a window the evidence covers"
	}
	return headline
}

// writeUnmappedRolesTable lists the roles no profile maps, and what was summed apart.
func writeUnmappedRolesTable(out io.Writer, roles []UnmappedRole, apart RolesApart) {
	if len(roles) == 0 && apart.ServiceRoles == 0 && apart.NotProfiles == 0 {
		return
	}
	fmt.Fprintln(out)
	fmt.Fprintln(out, "Roles not mapped to a profile")
	if len(roles) > 0 {
		t := newTable("Role", "Account", "Issuances", "IAM User", "Federated", "Assumed Role", "AWS Service", "Other", "Not Tracked")
		rightAligned(t, 3, 4, 5, 6, 7, 8, 9)
		for _, r := range roles {
			t.AppendRow([]any{r.RoleARN, dash(r.AccountID), r.Issuances, r.IAMUser, r.Federated, r.AssumedRole, r.AWSService, r.Other, r.NotTracked})
		}
		render(out, t)
	}
	if apart.ServiceRoles > 0 {
		fmt.Fprintf(out, "  Not listed: %s to %s (service-linked, or assumed only by AWS services)\n",
			plural64(apart.ServiceIssuances, "issuance"), plural(apart.ServiceRoles, "AWS service role"))
	}
	if apart.NotProfiles > 0 {
		fmt.Fprintf(out, "  Not listed: %s to %s the config declares not_profiles\n",
			plural64(apart.NotProfileIssuances, "issuance"), plural(apart.NotProfiles, "role"))
	}
}

func writeComplianceCSV(out io.Writer, rep ComplianceReport) error {
	header := []string{"profile", "policy_required", "tracked_count", "untracked_count", "orphaned_count", "unverified_count",
		"issuance_count", "flagged_count", "compliance_rate", "has_gap", "start_time", "end_time"}
	withCalls := len(rep.Profiles) > 0 && rep.Profiles[0].UntrackedCalls != nil
	if withCalls {
		header = append(header, "untracked_calls")
	}
	c := newVerdictCSV(out, header, rep.Verdict, rep.Evidence)
	for _, p := range rep.Profiles {
		req := ""
		if p.PolicyRequired != nil {
			req = strconv.FormatBool(*p.PolicyRequired)
		}
		line := []string{p.Profile, req, itoa(p.TrackedCount), itoa(p.UntrackedCount), itoa(p.OrphanedCount), itoa(p.UnverifiedCount),
			itoa(p.IssuanceCount), itoa(p.FlaggedCount), strconv.FormatFloat(p.ComplianceRate, 'f', 1, 64), strconv.FormatBool(p.HasGap),
			rep.StartTime.Format(time.RFC3339), rep.EndTime.Format(time.RFC3339)}
		if withCalls {
			line = append(line, itoa(*p.UntrackedCalls))
		}
		c.row(line...)
	}
	return c.close()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
