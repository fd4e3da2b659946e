package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAmbiguousProfileIsWarnedWhereItMatters: a role two profiles name (DevAdmin: dev and
// sandbox) is warned about once by an audit whose window holds its issuances, and not by an audit
// without them, of another profile or of the logs' integrity, nor by sql.
func TestAmbiguousProfileIsWarnedWhereItMatters(t *testing.T) {
	wh := ingestFixtures(t)
	const warning = "warning: role arn:aws:iam::444444444444:role/DevAdmin is named by profiles dev, sandbox; reporting it as \"dev\""
	for name, tc := range map[string]struct {
		args []string
		warn int
	}{
		"audit_with_its_issuances":    {[]string{"audit", "untracked-sessions", "--since", since, "--until", until, "--format", "json"}, 1},
		"audit_without_its_issuances": {[]string{"audit", "untracked-sessions", "--since", "2026-11-05", "--until", "2026-11-06", "--format", "json"}, 0},
		"audit_of_one_of_its_names":   {[]string{"audit", "untracked-sessions", "--since", since, "--until", until, "--profile", "sandbox", "--format", "json"}, 1},
		"audit_of_another_profile":    {[]string{"audit", "untracked-sessions", "--since", since, "--until", until, "--profile", "prod", "--format", "json"}, 0},
		"integrity":                   {[]string{"audit", "integrity", "--since", since, "--until", until}, 0},
		"sql":                         {[]string{"sql", "SELECT profile FROM issuances"}, 0},
	} {
		t.Run(name, func(t *testing.T) {
			r := sentinel(t, nil, append([]string{"--warehouse", wh, "--config", fixtures + "/sentinel.yaml"}, tc.args...)...)
			if r.code > 3 || strings.Count(r.stderr, warning) != tc.warn {
				t.Fatalf("exit %d, want the warning %d times on stderr:\n%s", r.code, tc.warn, r.stderr)
			}
		})
	}
}

// TestRequiredProfileSharingItsRoleSaysSo: an AWS config where break-glass names prod's role too
// attributes the role's issuances to break-glass (first in sorted order); prod, which the policy
// requires, is then mapped to no role, and the reason names the profile that took it and how to
// give it back.
func TestRequiredProfileSharingItsRoleSaysSo(t *testing.T) {
	wh := ingestFixtures(t)
	dir := t.TempDir()
	config, err := os.ReadFile(filepath.Join(repoRoot(t), fixtures, "aws-config"))
	if err != nil {
		t.Fatal(err)
	}
	config = append(config, "\n[profile break-glass]\nrole_arn = arn:aws:iam::222222222222:role/ProdAdmin\nsource_profile = identity\n"...)
	if err := os.WriteFile(filepath.Join(dir, "config"), config, 0o600); err != nil {
		t.Fatal(err)
	}
	r := sentinel(t, nil, "--warehouse", wh, "audit", "session-compliance", "--policy", fixtures+"/policy.yaml", "--aws-config", filepath.Join(dir, "config"),
		"--profile", "prod", "--since", since, "--until", "2026-11-04T10:00:00Z", "--format", "json").mustExit(t, 3)
	var rep complianceJSON
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Verdict.codes() != "profile_unmapped" ||
		rep.Verdict.Reasons[0].Message != "profile prod must be tracked, but its role arn:aws:iam::222222222222:role/ProdAdmin is also named by profile break-glass, to which its issuances are attributed: a gap of prod could not be seen" ||
		!strings.Contains(rep.Verdict.Reasons[0].Action, "{name: prod, role_arn: arn:aws:iam::222222222222:role/ProdAdmin}") {
		t.Fatalf("verdict %+v", rep.Verdict)
	}
}
