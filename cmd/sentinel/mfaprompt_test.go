package main

import (
	"os"
	"path/filepath"
	"testing"

	stsemu "github.com/sentinel-audit/sentinel/internal/emulator/sts"
)

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
