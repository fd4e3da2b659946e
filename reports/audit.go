// Package reports renders Sentinel's answers: human tables, JSON and CSV for the audit reports,
// ad-hoc SQL results and the ingest summary. Each command is an input struct plus a function that
// writes to the writers it is given; nothing here touches os.Stdout, flags or the environment.
package reports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sentinel-audit/sentinel/policy"
	"github.com/sentinel-audit/sentinel/profiles"
	"github.com/sentinel-audit/sentinel/queries"
	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/sentinel-audit/sentinel/window"
)

// Output formats.
const (
	FormatTable = "table"
	FormatJSON  = "json"
	FormatCSV   = "csv"
)

// ParseFormat checks a --format value.
func ParseFormat(s string) (string, error) {
	switch s {
	case "", FormatTable:
		return FormatTable, nil
	case FormatJSON, FormatCSV:
		return s, nil
	}
	return "", fmt.Errorf("--format %q: want table, json or csv", s)
}

// AuditInput is what every audit report needs.
type AuditInput struct {
	Warehouse string
	Window    window.Window // both ends set
	Profile   string        // "" = every profile
	// PolicyPath is the policy to annotate issuances with ("" = none).
	PolicyPath string
	// AWSConfigPath is the AWS shared config file for the profile map; AWSConfigOptional says a
	// missing file is fine (the SDK's default location).
	AWSConfigPath     string
	AWSConfigOptional bool
	// Profiles are extra profile-to-role mappings (Sentinel's config file); they take precedence.
	Profiles []profiles.Profile
	// NotProfiles are role ARN patterns of roles that are deliberately no profile (config file).
	NotProfiles []string
	// RequireIntegrity makes a trail without digest files (log file validation off) a reason the
	// verdict is INCONCLUSIVE; RequireSignatures likewise digests whose signature could not be
	// checked (local copies).
	RequireIntegrity, RequireSignatures bool
	Format                              string
	// Width is the terminal width the report's tables fit (0: no limit).
	Width int
}

// audit is an opened warehouse with the audit views prepared.
type audit struct {
	in     AuditInput
	reader *warehouse.Reader
	policy *policy.Policy
	roles  map[string]string // role ARN -> profile: the profile map
	// named are the profiles of the roles several profiles name (roles holds the one chosen).
	named map[string][]string
	// checked memoizes queries.CheckIntegrity per accounts asked about, for reports that judge
	// several times (the HTML report).
	checked map[string]queries.Integrity
}

// checkIntegrity is queries.CheckIntegrity over the audit's window, computed once per accounts.
func (a *audit) checkIntegrity(ctx context.Context, accounts []string) (queries.Integrity, error) {
	key := "*"
	if accounts != nil {
		key = strings.Join(accounts, ",")
	}
	if r, ok := a.checked[key]; ok {
		return r, nil
	}
	r, err := queries.CheckIntegrity(ctx, a.reader.DB(), a.in.Window, accounts)
	if err != nil {
		return r, err
	}
	if a.checked == nil {
		a.checked = map[string]queries.Integrity{}
	}
	a.checked[key] = r
	return r, nil
}

func (a *audit) Close() error { return a.reader.Close() }

// AuditGCPercent is the garbage collector's target (GOGC) for audit commands, which hold their
// whole result: at Go's default of 100, collection cycles rescan the growing result over and over
// (untracked-sessions' query at 10M events: 0.9-1.8 s at 100, 0.9-1.3 s at 400;
// BenchmarkUntrackedIssuances, docs/performance.md) for a short-lived process that has memory to
// spare.
const AuditGCPercent = 400

// openAudit loads the policy and profile map, opens the warehouse and prepares the audit views.
// Roles with ambiguous profile names that issued in the window are reported on diag.
func openAudit(ctx context.Context, in AuditInput, diag io.Writer) (*audit, error) {
	return openAuditWith(ctx, in, diag, true)
}

// openAuditWith is openAudit; materialize computes the issuances once for several queries.
func openAuditWith(ctx context.Context, in AuditInput, diag io.Writer, materialize bool) (*audit, error) {
	var pol *policy.Policy
	if in.PolicyPath != "" {
		var err error
		if pol, err = policy.Load(in.PolicyPath); err != nil {
			return nil, err
		}
	}
	awsProfiles, err := profiles.LoadAWSConfig(in.AWSConfigPath, in.AWSConfigOptional)
	if err != nil {
		return nil, err
	}
	roles := profiles.NewRoleMap(in.Profiles, awsProfiles)
	r, err := warehouse.OpenReader(ctx, in.Warehouse)
	if err != nil {
		return nil, err
	}
	if err := queries.Prepare(ctx, r.DB(), queries.Setup{Roles: roles.Roles, Named: roles.Named(), Policy: pol, Window: in.Window, Materialize: materialize}); err != nil {
		return nil, errors.Join(err, r.Close())
	}
	if materialize {
		if err := warnAmbiguous(ctx, r.DB(), roles.Ambiguous, in.Window, in.Profile, diag); err != nil {
			return nil, errors.Join(err, r.Close())
		}
	}
	return &audit{in: in, reader: r, policy: pol, roles: roles.Roles, named: roles.Named()}, nil
}
