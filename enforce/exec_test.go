package enforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/sentinel-audit/sentinel/awsclient"
	"github.com/sentinel-audit/sentinel/internal/testenv"
)

const testAWSConfig = `[profile base]
region = us-east-2

[profile prod]
role_arn = ` + prodRole + `
source_profile = base
region = eu-west-1
`

// execInput runs script with sh under profile prod with the policy src.
func execInput(t *testing.T, src, script string) (ExecInput, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	return ExecInput{
		ProfileInput: ProfileInput{
			Profile:       "prod",
			PolicyPath:    writeFile(t, dir, "policy.yaml", src),
			AWSConfigPath: writeFile(t, dir, "aws-config", testAWSConfig),
		},
		Command: []string{"sh", "-c", script},
		Environ: []string{"PATH=" + os.Getenv("PATH"), "AWS_PROFILE=leaked", "AWS_ACCESS_KEY_ID=" + aliceKey, "AWS_SECRET_ACCESS_KEY=alice-secret"},
		Stdout:  &stdout,
		Stderr:  &stderr,
	}, &stdout, &stderr
}

const allowAll = "version: \"1\"\nrules:\n  - {name: open, effect: allow}\n"

func TestExecPlain(t *testing.T) {
	c := newClock()
	emu, endpoint := startSTS(t, c)
	in, stdout, _ := execInput(t, allowAll,
		`echo "$AWS_ACCESS_KEY_ID|$AWS_CREDENTIAL_EXPIRATION|$AWS_REGION|$SENTINEL_PROFILE|$AWS_PROFILE|$AWS_CONTAINER_CREDENTIALS_FULL_URI"; exit 7`)
	code, err := Exec(context.Background(), in, testEnv(c, 1, Clients{STS: stsClient(endpoint)}))
	if err != nil {
		t.Fatal(err)
	}
	if code != 7 {
		t.Errorf("exit code %d, want the command's 7", code)
	}
	iss := emu.Issuances()
	if len(iss) != 1 {
		t.Fatalf("issuances: %+v", iss)
	}
	want := iss[0].AccessKeyID + "|2026-11-02T10:30:00Z|eu-west-1|prod||\n"
	if stdout.String() != want {
		t.Errorf("command saw %q, want %q", stdout, want)
	}
	if got := iss[0].SourceIdentity; len(got) != len("sentinel-r-0123456789abcdef-alice") || !strings.HasPrefix(got, "sentinel-r-") || !strings.HasSuffix(got, "-alice") {
		t.Errorf("SourceIdentity %q, want sentinel-r-<16 hex>-alice", got)
	}
	if iss[0].RoleARN != prodRole || iss[0].Caller.ARN != aliceARN {
		t.Errorf("issuance %+v: want %s assumed by %s", iss[0], prodRole, aliceARN)
	}
}

func TestExecDeniedIssuesNothing(t *testing.T) {
	c := newClock()
	emu, endpoint := startSTS(t, c)
	marker := filepath.Join(t.TempDir(), "ran")
	in, _, _ := execInput(t, "version: \"1\"\nrules:\n  - {name: prod-tracked, effect: require_server_session, session_table: sentinel-sessions}\n", "touch "+marker)
	_, err := Exec(context.Background(), in, testEnv(c, 1, Clients{STS: stsClient(endpoint)}))
	var d *Denial
	if !errors.As(err, &d) {
		t.Fatalf("Exec = %v, want a denial", err)
	}
	want := `denied: rule "prod-tracked" (require_server_session) issues credentials for profile "prod" only through the credential server with a tracked session` + "\n" +
		"plain exec cannot carry a tracked session; run instead:\n  sentinel exec --server --profile prod -- sh -c 'touch " + marker + "'"
	if err.Error() != want {
		t.Errorf("denial:\n%s\nwant:\n%s", err, want)
	}
	if n := len(emu.Issuances()); n != 0 {
		t.Errorf("%d issuances after a denial", n)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command ran after a denial")
	}
}

// waitABit is a shell loop that waits for a signal for up to a minute, then exits 0: a signal
// that never arrives fails the test on the exit code instead of hanging it.
const waitABit = `i=0; while [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done`

func TestExecForwardsSignals(t *testing.T) {
	tests := []struct {
		name   string
		script string
		signal syscall.Signal
		code   int
	}{
		{"command_handles_the_signal_and_exits_with_its_code", `trap "exit 42" HUP; touch "$READY"; ` + waitABit, syscall.SIGHUP, 42},
		{"command_killed_by_the_signal_exits_128_plus_it", `touch "$READY"; exec sleep 60`, syscall.SIGTERM, 128 + 15},
		{"interrupt_reaches_the_command", `trap "exit 5" INT; touch "$READY"; ` + waitABit, syscall.SIGINT, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if signal.Ignored(tt.signal) {
				// Under nohup, say: the command inherits the disposition, and a shell cannot trap
				// a signal ignored when it started.
				t.Skipf("%v is ignored in this process, and so in the command", tt.signal)
			}
			c := newClock()
			_, endpoint := startSTS(t, c)
			in, _, _ := execInput(t, allowAll, tt.script)
			ready := filepath.Join(t.TempDir(), "ready")
			in.Environ = append(in.Environ, "READY="+ready)
			signals := make(chan os.Signal, 1)
			in.Signals = signals
			// The signal goes once the command is ready, however long a loaded machine takes to
			// get there, until Exec returns.
			done := make(chan struct{})
			defer close(done)
			go func() {
				for {
					if _, err := os.Stat(ready); err == nil {
						signals <- tt.signal
						return
					}
					select {
					case <-done:
						return
					case <-time.After(10 * time.Millisecond):
					}
				}
			}()
			code, err := Exec(context.Background(), in, testEnv(c, 1, Clients{STS: stsClient(endpoint)}))
			if err != nil {
				t.Fatal(err)
			}
			if code != tt.code {
				t.Errorf("exit code %d, want %d", code, tt.code)
			}
		})
	}
}

func TestExecServerTracksTheSession(t *testing.T) {
	testenv.EachDynamoDB(t, func(t *testing.T, dynamoDBEndpoint string) {
		ctx := context.Background()
		c := newClock()
		emu, endpoint := startSTS(t, c)
		db := dynamoClient(dynamoDBEndpoint)
		table := createTable(t, db)
		tokenFile := filepath.Join(t.TempDir(), "token")
		in, stdout, stderr := execInput(t, "version: \"1\"\nrules:\n  - {name: prod-tracked, effect: require_server_session, conditions: {profiles: [prod]}}\n",
			`printf %s "$AWS_CONTAINER_AUTHORIZATION_TOKEN" > `+tokenFile+`; echo "$SENTINEL_SESSION_ID|$AWS_CONTAINER_CREDENTIALS_FULL_URI|$AWS_ACCESS_KEY_ID|$AWS_PROFILE"`)
		in.Server = true
		in.Tables = TableChoices{Flag: table}
		code, err := Exec(ctx, in, testEnv(c, 5, Clients{STS: stsClient(endpoint), DynamoDB: db}))
		if err != nil || code != 0 {
			t.Fatalf("Exec = %d, %v\nstderr: %s", code, err, stderr)
		}
		fields := strings.Split(strings.TrimSpace(stdout.String()), "|")
		if len(fields) != 4 || !isID(fields[0]) || !strings.HasPrefix(fields[1], "http://127.0.0.1:") || fields[2] != "" || fields[3] != "" {
			t.Fatalf("command saw %q: want the session id, the server URL, and no other credentials", stdout)
		}
		id := fields[0]
		rec, err := SessionStore{DB: db, Table: table}.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := Session{
			ID: id, User: "alice", Profile: "prod", ServerInstanceID: rec.ServerInstanceID, Status: StatusExpired,
			StartedAt: start, ExpiresAt: start.Add(15 * time.Minute), SourceIdentity: "sentinel-s-" + id + "-alice",
			CreatedAt: start, UpdatedAt: start, TTL: start.Add(75 * time.Minute).Unix(),
		}
		if rec != want || !isID(rec.ServerInstanceID) || rec.ServerInstanceID == id {
			t.Errorf("session record after exit:\n%+v\nwant\n%+v", rec, want)
		}
		iss := emu.Issuances()
		if len(iss) != 1 || iss[0].SourceIdentity != rec.SourceIdentity || iss[0].Duration != 15*time.Minute {
			t.Errorf("issuances %+v: want one of 15m with SourceIdentity %s", iss, rec.SourceIdentity)
		}
		token, err := os.ReadFile(tokenFile)
		if err != nil || len(token) != 43 {
			t.Fatalf("token the command saw: %q, %v", token, err)
		}
		if strings.Contains(stderr.String(), string(token)) || strings.Contains(stdout.String(), string(token)) {
			t.Error("the token appears in Sentinel's output")
		}
		wantNote := "sentinel: session " + id + " for profile prod is tracked in table " + table +
			" (revoke: sentinel server-revoke " + id + " --session-table " + table + " --reason TEXT)\n"
		if stderr.String() != wantNote {
			t.Errorf("stderr %q, want %q", stderr, wantNote)
		}
	})
}

// TestExecChecksServerFlagsBeforeAWS: the credential server's flags without --server, and
// durations STS would refuse, are errors before anything is asked of AWS.
func TestExecChecksServerFlagsBeforeAWS(t *testing.T) {
	for _, tt := range []struct {
		name string
		set  func(*ExecInput)
		want string
	}{
		{"server_duration_too_short", func(in *ExecInput) { in.Server, in.ServerDuration = true, 5*time.Minute },
			"--server-duration 5m0s is out of range: STS issues credentials for 15m0s to 12h0m0s"},
		{"server_duration_too_long", func(in *ExecInput) { in.Server, in.ServerDuration = true, 13*time.Hour },
			"--server-duration 13h0m0s is out of range: STS issues credentials for 15m0s to 12h0m0s"},
		{"mfa_session_too_short", func(in *ExecInput) { in.Server, in.MFASessionDuration = true, 10*time.Minute },
			"--mfa-session-duration 10m0s is out of range: STS starts MFA sessions of 15m0s to 36h0m0s"},
		{"mfa_session_too_long", func(in *ExecInput) { in.Server, in.MFASessionDuration = true, 48*time.Hour },
			"--mfa-session-duration 48h0m0s is out of range: STS starts MFA sessions of 15m0s to 36h0m0s"},
		{"server_duration_without_server", func(in *ExecInput) { in.ServerDuration = time.Hour },
			"--server-duration is for the credential server, and it is given without --server: add --server, or drop --server-duration"},
		{"server_port_without_server", func(in *ExecInput) { in.ServerPort = 9000 },
			"--server-port is for the credential server, and it is given without --server: add --server, or drop --server-port"},
		{"mfa_session_without_server", func(in *ExecInput) { in.MFASessionDuration = time.Hour },
			"--mfa-session-duration is for the credential server, and it is given without --server: add --server, or drop --mfa-session-duration"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in, _ := mfaExecInput(t, "prod", allowAll, "true")
			tt.set(&in)
			_, err := Exec(context.Background(), in, noAWS(t))
			if err == nil || err.Error() != tt.want {
				t.Errorf("Exec = %v, want %s", err, tt.want)
			}
		})
	}
}

// noAWS is an Env whose AWS clients fail the test when they are asked for.
func noAWS(t *testing.T) Env {
	return Env{Now: newClock().Now, Rand: seeded(1), Clients: func(context.Context, awsclient.Options) (Clients, error) {
		t.Error("AWS clients were built")
		return Clients{}, errors.New("no AWS in this test")
	}}
}

func TestCredentialProcess(t *testing.T) {
	c := newClock()
	emu, endpoint := startSTS(t, c)
	in, _, _ := execInput(t, "version: \"1\"\nrules:\n  - {name: cp, effect: allow, conditions: {mode: [credential_process]}}\n", "")
	var out bytes.Buffer
	err := CredentialProcess(context.Background(), CredentialProcessInput{ProfileInput: in.ProfileInput}, &out, testEnv(c, 1, Clients{STS: stsClient(endpoint)}))
	if err != nil {
		t.Fatal(err)
	}
	var got processCredentials
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	iss := emu.Issuances()
	if len(iss) != 1 || got.Version != 1 || got.AccessKeyID != iss[0].AccessKeyID || got.SecretAccessKey == "" || got.SessionToken == "" ||
		got.Expiration != "2026-11-02T10:30:00Z" || !strings.HasPrefix(iss[0].SourceIdentity, "sentinel-r-") {
		t.Errorf("credential_process output %+v for issuances %+v", got, iss)
	}

	t.Run("denied_in_other_modes_issues_nothing", func(t *testing.T) {
		in, _, _ := execInput(t, "version: \"1\"\nrules:\n  - {name: srv, effect: require_server, conditions: {profiles: [prod]}}\n", "")
		out.Reset()
		err := CredentialProcess(context.Background(), CredentialProcessInput{ProfileInput: in.ProfileInput}, &out, testEnv(c, 1, Clients{STS: stsClient(endpoint)}))
		want := `denied: rule "srv" (require_server) issues credentials for profile "prod" only through the credential server` + "\n" +
			"credential_process hands out one-shot credentials outside the credential server; run instead:\n  sentinel exec --server --profile prod -- COMMAND"
		if err == nil || err.Error() != want || out.Len() != 0 || len(emu.Issuances()) != 1 {
			t.Errorf("got %v (output %q), want:\n%s", err, out.String(), want)
		}
	})
}

// TestExecBaseCredentialsSTSRefuses: STS refuses what some base credentials cannot do, before
// the command runs, and the error says what is wrong and what to do. A role session's (an SSO
// login's) role chaining lasts an hour at most; the root user assumes no role at all.
func TestExecBaseCredentialsSTSRefuses(t *testing.T) {
	for _, tt := range []struct {
		name, key, arn string
		duration       time.Duration
		want           string
	}{
		{"role_session_over_an_hour", "ASIASSOEXAMPLE000001", "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_0123456789abcdef/alice", 2 * time.Hour,
			"the base credentials are themselves a role session (an SSO login, an assumed role), and STS lets a role assumed with them (role chaining) last 1 hour at most; " +
				"ask for 1h or less: --server-duration 1h, or duration_seconds = 3600 or less in the profile: " +
				"ValidationError: The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."},
		{"root_user", "AKIAROOTEXAMPLE00001", "arn:aws:iam::111122223333:root", time.Hour,
			"these are the account root user's credentials, and AWS lets no root user assume a role (nor a session the root user started); " +
				"use an IAM user's keys or an SSO login as the base credentials (the profile's source_profile, or --aws-profile): AccessDenied: Roles may not be assumed by root accounts."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			emu, endpoint := startSTS(t, c)
			emu.AddRole(prodRole, 12*time.Hour)
			emu.SetCaller(tt.key, tt.arn, "", "")
			cfg := awsConfig()
			cfg.Credentials = credentials.NewStaticCredentialsProvider(tt.key, "secret", "")
			client := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(endpoint) })
			marker := filepath.Join(t.TempDir(), "ran")
			in, _, _ := execInput(t, allowAll, "touch "+marker)
			in.Server, in.ServerDuration = true, tt.duration
			_, err := Exec(context.Background(), in, testEnv(c, 1, Clients{STS: client}))
			want := "sts assume-role " + prodRole + " for profile prod: " + tt.want
			if err == nil || err.Error() != want {
				t.Fatalf("Exec = %v\nwant %s", err, want)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Error("the command ran")
			}
		})
	}
}
