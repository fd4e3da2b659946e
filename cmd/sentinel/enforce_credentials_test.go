package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/sentinel-audit/sentinel/internal/emulator/ssoportal"
	stsemu "github.com/sentinel-audit/sentinel/internal/emulator/sts"
	"github.com/sentinel-audit/sentinel/internal/testenv"
)

// Beyond the enforce stack: a role that requires MFA and alice's virtual MFA device; an SSO login
// of alice's (profile sso-base) in front of role prod-sso; roles that cannot be assumed.
const (
	enfMFARole     = "arn:aws:iam::111122223333:role/prod-mfa"
	enfSSORole     = "arn:aws:iam::111122223333:role/prod-sso"
	enfLockedRole  = "arn:aws:iam::111122223333:role/locked"
	enfNoSIRole    = "arn:aws:iam::111122223333:role/no-source-identity"
	enfAliceMFA    = "arn:aws:iam::111122223333:mfa/alice"
	enfSSOStartURL = "https://example.awsapps.com/start"
)

var enfMFASecret = []byte("alice's virtual MFA device")

const credentialProfiles = `
[profile prod-mfa]
role_arn = ` + enfMFARole + `
source_profile = base
mfa_serial = ` + enfAliceMFA + `

[profile sso-base]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Developer
region = us-east-1

[sso-session corp]
sso_start_url = ` + enfSSOStartURL + `
sso_region = us-east-1

[profile prod-sso]
role_arn = ` + enfSSORole + `
source_profile = sso-base

[profile locked]
role_arn = ` + enfLockedRole + `
source_profile = base

[profile no-si]
role_arn = ` + enfNoSIRole + `
source_profile = base

[profile empty]
region = us-east-1

[profile hollow]
role_arn = ` + enfDevRole + `
source_profile = empty

[profile orphan]
role_arn = ` + enfDevRole + `

[profile broken]
role_arn = ` + enfDevRole + `
source_profile = gone
`

const credentialRules = `  - name: open
    effect: allow
    conditions: {profiles: [prod-mfa, prod-sso, locked, no-si, hollow, orphan, broken, nosuch]}
`

// credentialStack is the enforce stack with MFA, SSO and the profiles above.
type credentialStack struct {
	*enforceStack
	portal *ssoportal.Server
	home   string // where the SSO token cache is
}

func newCredentialStack(t *testing.T, ddbURL string) *credentialStack {
	t.Helper()
	s := &credentialStack{enforceStack: newEnforceStack(t, ddbURL), home: t.TempDir()}
	s.sts.SetTrust(enfMFARole, stsemu.Trust{MFARequired: true})
	s.sts.AddMFADevice(enfAliceARN, enfAliceMFA, enfMFASecret)
	s.sts.SetTrust(enfLockedRole, stsemu.Trust{Principals: []string{"arn:aws:iam::111122223333:user/bob"}})
	s.sts.SetTrust(enfNoSIRole, stsemu.Trust{NoSetSourceIdentity: true})
	s.portal = ssoportal.New(ssoportal.Options{Issued: func(c ssoportal.Credentials) { s.sts.SetCaller(c.AccessKeyID, c.ARN, "", "") }})
	s.portal.AddToken("alice-sso-token", "alice", time.Now().Add(8*time.Hour))
	s.portal.Grant("alice", "111122223333", "Developer")
	portalURL, stop, err := s.portal.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	s.ssoLogin(t, time.Now().Add(8*time.Hour))
	appendFile(t, s.awsConfig, credentialProfiles)
	appendFile(t, s.policy, credentialRules)
	s.env = append(s.env, "HOME="+s.home, "AWS_ENDPOINT_URL_SSO="+portalURL)
	return s
}

func appendFile(t *testing.T, path, content string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// ssoLogin writes the token cache `aws sso login --profile sso-base` leaves, expiring at expires.
func (s *credentialStack) ssoLogin(t *testing.T, expires time.Time) {
	t.Helper()
	if err := ssoportal.WriteTokenCache(s.home, "corp", enfSSOStartURL, "us-east-1", "alice-sso-token", expires); err != nil {
		t.Fatal(err)
	}
}

// mfaCode is the code of alice's device for STS's present, shifted to offset first so that every
// use is of a time step of its own (a code works once).
func (s *credentialStack) mfaCode(offset time.Duration) string {
	s.stsOffset.Store(int64(offset))
	return stsemu.MFACode(enfMFASecret, time.Now().Add(offset))
}

// issuancesSince are the issuances after the first n.
func (s *credentialStack) issuancesSince(n int) []stsemu.Issuance { return s.sts.Issuances()[n:] }

// runDetached runs sentinel in a session of its own, so it has no terminal, with stdin as input.
func runDetached(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	cmd := sentinelCommand(t, env, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}

// openPTY opens a pseudo-terminal pair.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	unlock := 0
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); errno != 0 {
		t.Fatalf("unlock pty: %v", errno)
	}
	var n uint32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); errno != 0 {
		t.Fatalf("pty number: %v", errno)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return master, tty
}

// runOnTerminal runs sentinel with a pseudo-terminal as its controlling terminal (and stdin),
// answers answer once the terminal shows prompt, and returns what the terminal showed.
func runOnTerminal(t *testing.T, env []string, prompt, answer string, args ...string) (result, string) {
	t.Helper()
	master, tty := openPTY(t)
	defer master.Close()
	cmd := sentinelCommand(t, env, args...)
	cmd.Stdin = tty
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	var mu sync.Mutex
	var screen bytes.Buffer
	go func() {
		buf := make([]byte, 1024)
		for {
			n, err := master.Read(buf)
			mu.Lock()
			screen.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	shown := func() string { mu.Lock(); defer mu.Unlock(); return screen.String() }
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(shown(), prompt); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("no prompt %q after 20s; the terminal shows %q; stderr %s", prompt, shown(), stderr.String())
		}
	}
	if _, err := io.WriteString(master, answer+"\n"); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the last of the terminal's output
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}, shown()
}

// TestEnforceMFAAndSSO runs the built binary against the STS emulator, the SSO portal stand-in and
// each DynamoDB implementation: MFA by flag and at the terminal, the credential server's single
// MFA session, SSO source profiles in every mode, and credential errors in words.
func TestEnforceMFAAndSSO(t *testing.T) {
	child := buildChildcreds(t)
	testenv.EachDynamoDB(t, func(t *testing.T, ddbURL string) { testEnforceMFAAndSSO(t, newCredentialStack(t, ddbURL), child) })
}

func testEnforceMFAAndSSO(t *testing.T, s *credentialStack, child string) {
	prompt := "MFA code for profile prod-mfa (" + enfAliceMFA + "): "

	t.Run("mfa_code_from_the_flag_issues", func(t *testing.T) {
		n := len(s.sts.Issuances())
		code := s.mfaCode(-1 * time.Hour)
		r := sentinel(t, s.env, "credentials", "--policy", s.policy, "--profile", "prod-mfa", "--mfa-token", code).mustExit(t, 0)
		iss := s.issuancesSince(n)
		if len(iss) != 1 || !iss[0].MFA || iss[0].RoleARN != enfMFARole || !strings.Contains(r.stdout, `"AccessKeyId": "`+iss[0].AccessKeyID+`"`) {
			t.Errorf("issuances %+v; output %s", iss, r.stdout)
		}
		if strings.Contains(r.stdout+r.stderr, code) {
			t.Error("the output shows the MFA code")
		}
	})

	t.Run("mfa_code_typed_at_the_terminal_issues_and_is_not_echoed", func(t *testing.T) {
		n := len(s.sts.Issuances())
		code := s.mfaCode(-2 * time.Hour)
		r, screen := runOnTerminal(t, s.env, prompt, code, "exec", "--policy", s.policy, "--profile", "prod-mfa", "--", child)
		if r.code != 0 {
			t.Fatalf("exit %d\nstdout %s\nstderr %s\nterminal %q", r.code, r.stdout, r.stderr, screen)
		}
		iss := s.issuancesSince(n)
		if len(iss) != 1 || !iss[0].MFA || r.stdout != "first fetch: "+iss[0].AccessKeyID+" from EnvConfigCredentials\n" {
			t.Errorf("issuances %+v; command printed %q", iss, r.stdout)
		}
		if strings.Count(screen, prompt) != 1 || strings.Contains(screen+r.stdout+r.stderr, code) {
			t.Errorf("the terminal shows %q: want the prompt once and not the code", screen)
		}
	})

	t.Run("mfa_without_flag_or_terminal_is_refused_and_stdin_is_not_read", func(t *testing.T) {
		n := len(s.sts.Issuances())
		code := s.mfaCode(-3 * time.Hour)
		for _, args := range [][]string{
			{"exec", "--policy", s.policy, "--profile", "prod-mfa", "--", child},
			{"credentials", "--policy", s.policy, "--profile", "prod-mfa"},
		} {
			r := runDetached(t, s.env, code+"\n", args...)
			want := "sentinel: profile prod-mfa requires an MFA code (mfa_serial " + enfAliceMFA + "), and there is no terminal to ask for it: pass --mfa-token CODE\n"
			if r.code != 2 || r.stderr != want || r.stdout != "" {
				t.Errorf("sentinel %s: exit %d\nstderr %q\nwant   %q", args[0], r.code, r.stderr, want)
			}
		}
		if iss := s.issuancesSince(n); len(iss) != 0 {
			t.Errorf("issued %+v", iss)
		}
	})

	t.Run("wrong_mfa_code_says_so", func(t *testing.T) {
		s.mfaCode(-4 * time.Hour)
		wrong := stsemu.MFACode(enfMFASecret, time.Now().Add(-5*time.Hour))
		r := sentinel(t, s.env, "credentials", "--policy", s.policy, "--profile", "prod-mfa", "--mfa-token", wrong).mustExit(t, 2)
		want := "sentinel: sts assume-role " + enfMFARole + " for profile prod-mfa: the MFA code was not accepted; enter the code your MFA device shows now " +
			"(each code works only once: after a failure, wait for the next one): AccessDenied: MultiFactorAuthentication failed with invalid MFA one time pass code. \n"
		if r.stderr != want {
			t.Errorf("stderr %q\nwant   %q", r.stderr, want)
		}
	})

	t.Run("mfa_server_refreshes_after_its_first_credentials_expire_without_asking_again", func(t *testing.T) {
		// STS's clock runs 14 minutes behind: the 15-minute credentials it issues are within
		// Sentinel's refresh margin at once, so every request issues anew.
		n, tokens := len(s.sts.Issuances()), len(s.sts.SessionTokens())
		code := s.mfaCode(-14 * time.Minute)
		ready, cont := filepath.Join(t.TempDir(), "ready"), filepath.Join(t.TempDir(), "continue")
		running := sentinelAsync(t, s.env, "exec", "--server", "--session-table", s.table, "--policy", s.policy, "--profile", "prod-mfa",
			"--mfa-token", code, "--mfa-session-duration", "2h", "--", child, "-ready", ready, "-continue", cont)
		awaitFile(t, ready, running)
		s.stsOffset.Store(int64(6 * time.Minute)) // 20 minutes on: the first credentials have expired for STS
		if err := os.WriteFile(cont, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		r := awaitSentinel(t, running).mustExit(t, 0)
		toks, iss := s.sts.SessionTokens()[tokens:], s.issuancesSince(n)
		if len(toks) != 1 || toks[0].MFASerial != enfAliceMFA || toks[0].Duration != 2*time.Hour || toks[0].Caller.ARN != enfAliceARN {
			t.Fatalf("session tokens %+v: want one MFA session of 2h", toks)
		}
		if len(iss) != 3 {
			t.Fatalf("issuances %+v: want the first, and one per request", iss)
		}
		sessionID := strings.TrimSuffix(strings.TrimPrefix(iss[0].SourceIdentity, "sentinel-s-"), "-alice")
		for _, i := range iss {
			if !i.MFA || i.Caller.AccessKeyID != toks[0].AccessKeyID || i.RoleARN != enfMFARole || i.SourceIdentity != "sentinel-s-"+sessionID+"-alice" || i.ErrorCode != "" {
				t.Errorf("issuance %+v: want it made with the MFA session, for the tracked session", i)
			}
		}
		want := "first fetch: " + iss[1].AccessKeyID + " from CredentialsEndpointProvider\nsecond fetch: " + iss[2].AccessKeyID + " from CredentialsEndpointProvider\n"
		if r.stdout != want {
			t.Errorf("command printed %q, want %q", r.stdout, want)
		}
		if strings.Contains(r.stdout+r.stderr, code) {
			t.Error("the output shows the MFA code")
		}
		var list sessionsJSON
		out := sentinel(t, s.env, "server-sessions", "--session-table", s.table, "--profile", "prod-mfa", "--format", "json").mustExit(t, 0)
		if err := json.Unmarshal([]byte(out.stdout), &list); err != nil || len(list) != 1 || list[0].ID != sessionID || list[0].RequestCount != 2 || list[0].Status != "expired" {
			t.Errorf("session records %s (%v)", out.stdout, err)
		}
		s.stsOffset.Store(0)
	})

	t.Run("sso_profile_issues_in_every_mode", func(t *testing.T) {
		n := len(s.sts.Issuances())
		r := sentinel(t, s.env, "exec", "--policy", s.policy, "--profile", "prod-sso", "--", child).mustExit(t, 0)
		r2 := sentinel(t, s.env, "credentials", "--policy", s.policy, "--profile", "prod-sso").mustExit(t, 0)
		ready, cont := filepath.Join(t.TempDir(), "ready"), filepath.Join(t.TempDir(), "continue")
		running := sentinelAsync(t, s.env, "exec", "--server", "--session-table", s.table, "--policy", s.policy, "--profile", "prod-sso",
			"--", child, "-ready", ready, "-continue", cont)
		awaitFile(t, ready, running)
		if err := os.WriteFile(cont, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		r3 := awaitSentinel(t, running).mustExit(t, 0)
		iss, portal := s.issuancesSince(n), s.portal.Issued()
		if len(iss) != 3 || len(portal) != 3 {
			t.Fatalf("issuances %+v; portal issued %d", iss, len(portal))
		}
		for k, i := range iss {
			if i.RoleARN != enfSSORole || i.Caller.ARN != portal[k].ARN || !strings.HasSuffix(i.SourceIdentity, "-alice") {
				t.Errorf("issuance %+v: want it made with the SSO credentials %s", i, portal[k].ARN)
			}
		}
		if r.stdout != "first fetch: "+iss[0].AccessKeyID+" from EnvConfigCredentials\n" || !strings.Contains(r2.stdout, `"AccessKeyId": "`+iss[1].AccessKeyID+`"`) ||
			r3.stdout != "first fetch: "+iss[2].AccessKeyID+" from CredentialsEndpointProvider\nsecond fetch: "+iss[2].AccessKeyID+" from CredentialsEndpointProvider\n" ||
			!strings.HasPrefix(iss[2].SourceIdentity, "sentinel-s-") {
			t.Errorf("exec %q, credentials %q, server %q", r.stdout, r2.stdout, r3.stdout)
		}
	})

	t.Run("credential_errors_say_what_is_wrong_and_what_to_do", func(t *testing.T) {
		noKeys := []string{}
		for _, kv := range s.env {
			if !strings.HasPrefix(kv, "AWS_ACCESS_KEY_ID=") && !strings.HasPrefix(kv, "AWS_SECRET_ACCESS_KEY=") {
				noKeys = append(noKeys, kv)
			}
		}
		credentialsFile := ""
		for _, kv := range s.env {
			if v, ok := strings.CutPrefix(kv, "AWS_SHARED_CREDENTIALS_FILE="); ok {
				credentialsFile = v
			}
		}
		denied := func(action, role string) string {
			return "AccessDenied: User: " + enfAliceARN + " is not authorized to perform: " + action + " on resource: " + role + "\n"
		}
		tests := []struct {
			name    string
			profile string
			env     []string
			setup   func(t *testing.T)
			want    string // the whole of stderr; a prefix when it ends in ": "
		}{
			{"expired_sso_login_says_to_log_in", "prod-sso", s.env, func(t *testing.T) { s.ssoLogin(t, time.Now().Add(-time.Minute)) },
				"sentinel: profile prod-sso: base credentials (source_profile sso-base): sts get-caller-identity: " +
					"the AWS SSO login of profile sso-base has expired; run aws sso login --profile sso-base: "},
			{"missing_sso_login_says_to_log_in", "prod-sso", s.env, func(t *testing.T) {
				if err := os.RemoveAll(filepath.Join(s.home, ".aws", "sso")); err != nil {
					t.Fatal(err)
				}
			}, "sentinel: profile prod-sso: base credentials (source_profile sso-base): sts get-caller-identity: " +
				"profile sso-base has no AWS SSO login on this machine; run aws sso login --profile sso-base: "},
			{"no_credentials_at_all", "orphan", noKeys, nil,
				"sentinel: profile orphan: base credentials (the SDK's default credential chain): sts get-caller-identity: no AWS credentials found; " +
					"name a profile that has some (AWS_PROFILE, --aws-profile, or the source_profile of the profile Sentinel assumes) or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: "},
			{"source_profile_without_credentials", "hollow", s.env, nil,
				"sentinel: profile hollow: base credentials (source_profile empty): sts get-caller-identity: profile empty gives no AWS credentials; " +
					"give it keys (aws configure --profile empty), an SSO login (aws configure sso), credential_process or a source_profile: "},
			{"unknown_profile", "nosuch", s.env, nil,
				"sentinel: profile nosuch is not in the AWS config file " + s.awsConfig + ": add a [profile nosuch] section with its role_arn and source_profile, or name the file with --aws-config\n"},
			{"unknown_source_profile", "broken", s.env, nil,
				"sentinel: profile broken: base credentials (source_profile gone): load AWS configuration for profile gone: profile gone is in neither the AWS config file " +
					s.awsConfig + " nor the credentials file " + credentialsFile + "; add it there, or name a profile that exists (aws configure list-profiles): failed to get shared config profile, gone\n"},
			{"trust_policy_that_does_not_name_the_caller", "locked", s.env, nil,
				"sentinel: sts assume-role " + enfLockedRole + " for profile locked: the role cannot be assumed with these credentials; check that the role's trust policy names " +
					"the caller and allows sts:AssumeRole and sts:SetSourceIdentity, that its conditions hold (MFA: set mfa_serial in the profile), and that the caller's " +
					"policies allow sts:AssumeRole on the role: " + denied("sts:AssumeRole", enfLockedRole)},
			{"trust_policy_without_set_source_identity", "no-si", s.env, nil,
				"sentinel: sts assume-role " + enfNoSIRole + " for profile no-si: the role's trust policy does not allow sts:SetSourceIdentity; add sts:SetSourceIdentity " +
					"beside sts:AssumeRole in the role's trust policy (Sentinel sets a SourceIdentity on every issuance): " + denied("sts:SetSourceIdentity", enfNoSIRole)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if tt.setup != nil {
					tt.setup(t)
					t.Cleanup(func() { s.ssoLogin(t, time.Now().Add(8*time.Hour)) })
				}
				r := sentinel(t, tt.env, "credentials", "--policy", s.policy, "--profile", tt.profile).mustExit(t, 2)
				prefix := strings.HasSuffix(tt.want, ": ")
				if prefix && !strings.HasPrefix(r.stderr, tt.want) || !prefix && r.stderr != tt.want || r.stdout != "" {
					t.Errorf("stderr %q\nwant   %q", r.stderr, tt.want)
				}
			})
		}
	})
}
