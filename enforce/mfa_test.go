package enforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/sentinel-audit/sentinel/awsclient"
	stsemu "github.com/sentinel-audit/sentinel/internal/emulator/sts"
)

const aliceMFA = "arn:aws:iam::111122223333:mfa/alice"

var mfaSecret = []byte("alice's virtual mfa")

const mfaAWSConfig = `[profile base]
region = us-east-2

[profile prod]
role_arn = ` + prodRole + `
source_profile = base
mfa_serial = ` + aliceMFA + `
region = eu-west-1

[profile plain]
role_arn = ` + prodRole + `
source_profile = base
`

// mfaSTS is the STS emulator where prod requires MFA and alice has a virtual MFA device.
func mfaSTS(t *testing.T, c *clock) (*stsemu.Server, string) {
	t.Helper()
	emu, endpoint := startSTS(t, c)
	emu.SetTrust(prodRole, stsemu.Trust{MFARequired: true})
	emu.AddMFADevice(aliceARN, aliceMFA, mfaSecret)
	return emu, endpoint
}

// prompter is a terminal that answers with answer (or err) and counts the questions.
type prompter struct {
	mu      sync.Mutex
	answer  string
	err     error
	prompts []string
}

func (p *prompter) Prompt(_ context.Context, prompt string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.prompts = append(p.prompts, prompt)
	return p.answer, p.err
}

func (p *prompter) asked() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.prompts...)
}

// sdkEnv is an Env on the test clock whose clients are SDK clients of the STS emulator, signed
// with alice's keys unless the options carry other credentials (an MFA session's).
func sdkEnv(c *clock, seed uint64, endpoint string, p *prompter) Env {
	return Env{
		Now:  c.Now,
		Rand: seeded(seed),
		Clients: func(_ context.Context, o awsclient.Options) (Clients, error) {
			cfg := awsConfig()
			if o.Credentials != nil {
				cfg.Credentials = o.Credentials
			}
			return Clients{STS: sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(endpoint) })}, nil
		},
		Prompt: p.Prompt,
	}
}

// mfaExecInput runs script under profile with the policy src and mfaAWSConfig.
func mfaExecInput(t *testing.T, profile, src, script string) (ExecInput, *bytes.Buffer) {
	t.Helper()
	in, stdout, _ := execInput(t, src, script)
	in.Profile = profile
	in.AWSConfigPath = writeFile(t, t.TempDir(), "aws-config", mfaAWSConfig)
	return in, stdout
}

func TestExecMFA(t *testing.T) {
	const deny = "version: \"1\"\nrules:\n  - {name: freeze, effect: deny, reason: change freeze}\n"
	noTerminal := errors.New("open /dev/tty: no such device or address")
	tests := []struct {
		name    string
		profile string
		policy  string
		flag    string                  // --mfa-token; "current" is the device's current code
		answer  string                  // what the user types; "current" likewise
		err     error                   // the prompt's error
		prompts int                     // questions asked
		want    string                  // the error; "" when the command runs
		check   func(*testing.T, error) // more about the error
	}{
		{name: "flag_code_is_sent_with_mfa_serial", profile: "prod", policy: allowAll, flag: "current"},
		{name: "code_typed_at_the_terminal_is_sent", profile: "prod", policy: allowAll, answer: "current", prompts: 1},
		{name: "denied_request_asks_for_no_code", profile: "prod", policy: deny,
			want: `denied: rule "freeze" (deny) denies profile "prod": change freeze`},
		{name: "no_terminal_names_the_profile_and_the_flag", profile: "prod", policy: allowAll, err: errors.Join(ErrNoTerminal, noTerminal), prompts: 1,
			want: "profile prod requires an MFA code (mfa_serial " + aliceMFA + "), and there is no terminal to ask for it: pass --mfa-token CODE"},
		{name: "flag_that_is_no_code_is_refused_unshown", profile: "prod", policy: allowAll, flag: "12345x",
			want: "--mfa-token for profile prod is not an MFA code: give the 6 digits your MFA device shows"},
		{name: "typed_answer_that_is_no_code_is_refused_unshown", profile: "prod", policy: allowAll, answer: "12 34 56", prompts: 1,
			want: "that is not an MFA code for profile prod: give the 6 digits your MFA device shows"},
		{name: "flag_for_a_profile_without_mfa_serial_is_refused", profile: "plain", policy: allowAll, flag: "123456",
			want: "--mfa-token is given, but profile plain has no mfa_serial in AWSCONFIG: drop --mfa-token, or set mfa_serial to the ARN of the MFA device the role requires"},
		{name: "wrong_code_says_so_and_not_which", profile: "prod", policy: allowAll, flag: "wrong", check: func(t *testing.T, err error) {
			if err == nil || !strings.HasPrefix(err.Error(), "sts assume-role "+prodRole+" for profile prod: the MFA code was not accepted; ") {
				t.Errorf("err = %v", err)
			}
		}},
		{name: "role_requiring_mfa_from_a_profile_without_mfa_serial_says_to_set_it", profile: "plain", policy: allowAll, check: func(t *testing.T, err error) {
			if err == nil || !strings.HasPrefix(err.Error(), "sts assume-role "+prodRole+" for profile plain: the role cannot be assumed with these credentials; ") ||
				!strings.Contains(err.Error(), "MFA: set mfa_serial in the profile") {
				t.Errorf("err = %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			emu, endpoint := mfaSTS(t, c)
			current := stsemu.MFACode(mfaSecret, c.Now())
			code := func(s string) string {
				switch s {
				case "current":
					return current
				case "wrong":
					return stsemu.MFACode(mfaSecret, c.Now().Add(-time.Hour))
				}
				return s
			}
			p := &prompter{answer: code(tt.answer), err: tt.err}
			in, stdout := mfaExecInput(t, tt.profile, tt.policy, `echo "$AWS_ACCESS_KEY_ID"`)
			in.MFAToken = code(tt.flag)
			_, err := Exec(context.Background(), in, sdkEnv(c, 1, endpoint, p))
			if n := len(p.asked()); n != tt.prompts {
				t.Errorf("asked %d times, want %d", n, tt.prompts)
			}
			if tt.prompts > 0 && p.asked()[0] != "MFA code for profile prod ("+aliceMFA+"): " {
				t.Errorf("prompt %q", p.asked()[0])
			}
			for _, secret := range []string{in.MFAToken, p.answer} {
				if err != nil && secret != "" && strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows the code: %v", err)
				}
			}
			iss := emu.Issuances()
			switch {
			case tt.check != nil:
				tt.check(t, err)
			case tt.want != "":
				if err == nil || err.Error() != strings.ReplaceAll(tt.want, "AWSCONFIG", in.AWSConfigPath) {
					t.Errorf("err = %v\nwant  %s", err, tt.want)
				}
				if len(iss) != 0 {
					t.Errorf("issued %+v", iss)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if len(iss) != 1 || !iss[0].MFA || stdout.String() != iss[0].AccessKeyID+"\n" {
					t.Errorf("issuances %+v, command saw %q", iss, stdout)
				}
			}
		})
	}
}

func TestCredentialProcessMFA(t *testing.T) {
	c := newClock()
	emu, endpoint := mfaSTS(t, c)
	in, _ := mfaExecInput(t, "prod", allowAll, "")
	p := &prompter{answer: stsemu.MFACode(mfaSecret, c.Now())}
	var out bytes.Buffer
	if err := CredentialProcess(context.Background(), CredentialProcessInput{ProfileInput: in.ProfileInput}, &out, sdkEnv(c, 1, endpoint, p)); err != nil {
		t.Fatal(err)
	}
	var got processCredentials
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	iss := emu.Issuances()
	if len(iss) != 1 || !iss[0].MFA || got.AccessKeyID != iss[0].AccessKeyID || len(p.asked()) != 1 || strings.Contains(out.String(), p.answer) {
		t.Errorf("issuances %+v, output %s, asked %d times", iss, out.String(), len(p.asked()))
	}
}

// TestExecServerMFASession: the credential server asks for one code, starts one MFA session with
// it and issues every refresh with that session, each with a SourceIdentity, until the session
// ends; then it refuses with MFASessionExpired.
func TestExecServerMFASession(t *testing.T) {
	c := newClock()
	emu, endpoint := mfaSTS(t, c)
	dir := t.TempDir()
	server, done := filepath.Join(dir, "server"), filepath.Join(dir, "done")
	in, _ := mfaExecInput(t, "prod", allowAll,
		`printf '%s %s' "$AWS_CONTAINER_CREDENTIALS_FULL_URI" "$AWS_CONTAINER_AUTHORIZATION_TOKEN" > `+server+`.tmp && mv `+server+`.tmp `+server+
			`; while [ ! -e `+done+` ]; do sleep 0.02; done`)
	in.Server, in.MFASessionDuration = true, time.Hour
	p := &prompter{answer: stsemu.MFACode(mfaSecret, c.Now())}
	type result struct {
		code int
		err  error
	}
	finished := make(chan result, 1)
	go func() {
		code, err := Exec(context.Background(), in, sdkEnv(c, 7, endpoint, p))
		finished <- result{code, err}
	}()
	var url, token string
	for deadline := time.Now().Add(30 * time.Second); url == ""; time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(server); err == nil {
			url, token, _ = strings.Cut(string(b), " ")
		}
		select {
		case r := <-finished:
			t.Fatalf("Exec ended early: %d, %v", r.code, r.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the command never saw the server")
		}
	}
	fetch := func() (int, map[string]string) {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]string
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, body
	}
	steps := []struct {
		name    string
		advance time.Duration
		status  int
		fresh   bool // a new issuance
	}{
		{"first_request_gets_the_first_issuance", 0, http.StatusOK, false},
		{"refresh_near_expiry_is_issued_with_the_mfa_session", 11 * time.Minute, http.StatusOK, true},
		{"another_refresh_later_asks_nothing_either", 14 * time.Minute, http.StatusOK, true},
		{"after_the_mfa_session_ends_nothing_is_issued", 40 * time.Minute, http.StatusForbidden, false},
	}
	last := ""
	for _, s := range steps {
		c.Advance(s.advance)
		before := len(emu.Issuances())
		status, body := fetch()
		if status != s.status {
			t.Fatalf("%s: %d %v", s.name, status, body)
		}
		if fresh := len(emu.Issuances()) > before; fresh != s.fresh || (status == http.StatusOK && body["AccessKeyId"] == last) {
			t.Errorf("%s: new issuance %v, key %s after %s", s.name, fresh, body["AccessKeyId"], last)
		}
		last = body["AccessKeyId"]
		if status == http.StatusForbidden {
			want := "the MFA session of profile prod ended at 2026-11-02T10:30:00Z (--mfa-session-duration 1h0m0s): restart sentinel exec to enter a new MFA code"
			if body["code"] != "MFASessionExpired" || body["message"] != want {
				t.Errorf("%s: %v, want MFASessionExpired %q", s.name, body, want)
			}
		}
	}
	if err := os.WriteFile(done, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := <-finished; r.err != nil || r.code != 0 {
		t.Fatalf("Exec = %d, %v", r.code, r.err)
	}
	toks, iss := emu.SessionTokens(), emu.Issuances()
	if len(p.asked()) != 1 || len(toks) != 1 || toks[0].MFASerial != aliceMFA || toks[0].Duration != time.Hour {
		t.Fatalf("asked %d times; session tokens %+v", len(p.asked()), toks)
	}
	if len(iss) != 3 {
		t.Fatalf("issuances %+v, want the first and two refreshes", iss)
	}
	for _, i := range iss {
		if !i.MFA || i.Caller.AccessKeyID != toks[0].AccessKeyID || i.Caller.ARN != aliceARN || !strings.HasPrefix(i.SourceIdentity, "sentinel-r-") {
			t.Errorf("issuance %+v: want it made with the MFA session %s, with a SourceIdentity", i, toks[0].AccessKeyID)
		}
	}
}

// TestExecRefusesMFASessionDurationWithoutMFASerial: for a profile without mfa_serial the server
// starts no MFA session, so --mfa-session-duration is an error, found before AWS is asked.
func TestExecRefusesMFASessionDurationWithoutMFASerial(t *testing.T) {
	in, _ := mfaExecInput(t, "plain", allowAll, "true")
	in.Server, in.MFASessionDuration = true, 2*time.Hour
	_, err := Exec(context.Background(), in, noAWS(t))
	want := "--mfa-session-duration is given, but profile plain has no mfa_serial in " + in.AWSConfigPath +
		", so the server starts no MFA session: drop --mfa-session-duration, or set mfa_serial to the ARN of the MFA device the role requires"
	if err == nil || err.Error() != want {
		t.Errorf("Exec = %v\nwant %s", err, want)
	}
}

// TestExecServerMFASessionLastsTwelveHoursByDefault: without --mfa-session-duration the server's
// MFA session is STS's default for IAM users, 12 hours.
func TestExecServerMFASessionLastsTwelveHoursByDefault(t *testing.T) {
	c := newClock()
	emu, endpoint := mfaSTS(t, c)
	in, _ := mfaExecInput(t, "prod", allowAll, "true")
	in.Server = true
	code, err := Exec(context.Background(), in, sdkEnv(c, 1, endpoint, &prompter{answer: stsemu.MFACode(mfaSecret, c.Now())}))
	if err != nil || code != 0 {
		t.Fatalf("Exec = %d, %v", code, err)
	}
	if toks := emu.SessionTokens(); len(toks) != 1 || toks[0].Duration != DefaultMFASessionDuration || DefaultMFASessionDuration != 12*time.Hour {
		t.Errorf("session tokens %+v, want one of 12h", toks)
	}
}
