package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/internal/emulator/ssoportal"
	stsemu "github.com/sentinel-audit/sentinel/internal/emulator/sts"
)

// The tests here need the STS emulator (and the SSO portal's) only, no DynamoDB stand-in: the
// policy tracks no session.

// TestMFAPromptInterrupted: Ctrl-C at the MFA prompt stops the command as an interruption does
// everywhere (sentinel: interrupted, exit 2); Ctrl-D leaves the question unanswered. Nothing is
// issued either way.
func TestMFAPromptInterrupted(t *testing.T) {
	emu := stsemu.New(stsemu.Options{AllowAnyRole: true})
	const key = "AKIAALICEPROMPT00001"
	emu.SetCaller(key, "arn:aws:iam::111122223333:user/alice", "", "")
	url, stop, err := emu.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	dir := t.TempDir()
	policy, awsConfig := filepath.Join(dir, "policy.yaml"), filepath.Join(dir, "aws-config")
	os.WriteFile(policy, []byte("version: \"1\"\nrules:\n  - {name: open, effect: allow}\n"), 0o600)
	os.WriteFile(awsConfig, []byte("[profile prod-mfa]\nrole_arn = arn:aws:iam::111122223333:role/prod\nmfa_serial = arn:aws:iam::111122223333:mfa/alice\n"), 0o600)
	env := []string{"AWS_ACCESS_KEY_ID=" + key, "AWS_SECRET_ACCESS_KEY=secret", "AWS_REGION=us-east-1", "AWS_ENDPOINT_URL_STS=" + url}
	prompt := "MFA code for profile prod-mfa (arn:aws:iam::111122223333:mfa/alice): "
	for name, tc := range map[string]struct{ key, want string }{
		"ctrl_c_interrupts":      {"\x03", "sentinel: interrupted\n"},
		"ctrl_d_answers_nothing": {"\x04", "sentinel: read the MFA code for profile prod-mfa: nothing was entered\n"},
	} {
		t.Run(name, func(t *testing.T) {
			r, screen := runOnTerminal(t, env, prompt, tc.key, "credentials", "--policy", policy, "--aws-config", awsConfig, "--profile", "prod-mfa")
			if r.code != 2 || r.stderr != tc.want || r.stdout != "" {
				t.Errorf("exit %d, stderr %q, terminal %q; want exit 2 and %q", r.code, r.stderr, screen, tc.want)
			}
		})
	}
	if iss := emu.Issuances(); len(iss) != 0 {
		t.Errorf("issued %+v", iss)
	}
}

// TestSSOServerDurationOverAnHour: an SSO login's credentials are a role session, and STS lets a
// role assumed with them last an hour at most (role chaining): --server-duration 2h is refused
// by STS before the command runs, and the error says what to ask for.
func TestSSOServerDurationOverAnHour(t *testing.T) {
	const role = "arn:aws:iam::111122223333:role/prod"
	emu := stsemu.New(stsemu.Options{})
	emu.AddRole(role, 12*time.Hour)
	stsURL, stop, err := emu.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	portal := ssoportal.New(ssoportal.Options{Issued: func(c ssoportal.Credentials) { emu.SetCaller(c.AccessKeyID, c.ARN, "", "") }})
	portal.AddToken("alice-sso-token", "alice", time.Now().Add(8*time.Hour))
	portal.Grant("alice", "111122223333", "Developer")
	portalURL, stopPortal, err := portal.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer stopPortal()
	home := t.TempDir()
	const startURL = "https://example.awsapps.com/start"
	if err := ssoportal.WriteTokenCache(home, "corp", startURL, "us-east-1", "alice-sso-token", time.Now().Add(8*time.Hour)); err != nil {
		t.Fatal(err)
	}
	policy, awsConfig := filepath.Join(home, "policy.yaml"), filepath.Join(home, "aws-config")
	os.WriteFile(policy, []byte("version: \"1\"\nrules:\n  - {name: open, effect: allow}\n"), 0o600)
	os.WriteFile(awsConfig, []byte("[profile sso-base]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Developer\nregion = us-east-1\n\n"+
		"[sso-session corp]\nsso_start_url = "+startURL+"\nsso_region = us-east-1\n\n[profile prod-sso]\nrole_arn = "+role+"\nsource_profile = sso-base\n"), 0o600)
	env := []string{"HOME=" + home, "AWS_CONFIG_FILE=" + awsConfig, "AWS_ENDPOINT_URL_STS=" + stsURL, "AWS_ENDPOINT_URL_SSO=" + portalURL}
	marker := filepath.Join(home, "ran")
	r := sentinel(t, env, "exec", "--server", "--server-duration", "2h", "--policy", policy, "--profile", "prod-sso", "--", "touch", marker).mustExit(t, 2)
	want := "sentinel: sts assume-role " + role + " for profile prod-sso: the base credentials are themselves a role session (an SSO login, an assumed role), " +
		"and STS lets a role assumed with them (role chaining) last 1 hour at most; ask for 1h or less: --server-duration 1h, or duration_seconds = 3600 or less in the profile: " +
		"ValidationError: The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.\n"
	if iss := emu.Issuances(); r.stderr != want || len(iss) != 1 || !strings.Contains(iss[0].Caller.ARN, ":assumed-role/") {
		t.Errorf("stderr %q\nwant   %q\nissuances %+v", r.stderr, want, iss)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command ran")
	}
	r = sentinel(t, env, "exec", "--server", "--server-duration", "1h", "--policy", policy, "--profile", "prod-sso", "--", "touch", marker).mustExit(t, 0)
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("with --server-duration 1h the command did not run: %v\nstderr %s", err, r.stderr)
	}
}
