package main

import (
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
