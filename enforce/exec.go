package enforce

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/sentinel-audit/sentinel/awsclient"
	"github.com/sentinel-audit/sentinel/policy"
	"github.com/sentinel-audit/sentinel/profiles"
)

// STS issues credentials for 15 minutes to 12 hours.
const (
	minDuration = 15 * time.Minute
	maxDuration = 12 * time.Hour
	// DefaultServerDuration is how long each issuance of the credential server lasts unless
	// ExecInput.ServerDuration says otherwise.
	DefaultServerDuration = 15 * time.Minute
)

// ProfileInput says which profile credentials are for and where its settings come from.
type ProfileInput struct {
	// Profile is the AWS profile: its role_arn is assumed with the base credentials of
	// AWSProfile, else of its source_profile, else of the SDK's default chain.
	Profile string
	// AWSProfile is --aws-profile: the profile whose credentials assume Profile's role.
	AWSProfile string
	// PolicyPath is the policy file; required.
	PolicyPath string
	// AWSConfigPath is the AWS shared config file holding the profile; AWSConfigOptional says a
	// missing file is fine (the default location).
	AWSConfigPath     string
	AWSConfigOptional bool
	// Region is --region (or AWS_REGION); it beats the profile's region, which beats
	// DefaultRegion (defaults.region of the Sentinel config file).
	Region        string
	DefaultRegion string
	// EndpointURL is --endpoint-url, for both STS and DynamoDB.
	EndpointURL string
	// MFAToken is --mfa-token, the current code of the profile's MFA device (mfa_serial); empty,
	// the user is asked at the terminal, once the policy allows the request.
	MFAToken string
	// Tables are the session table names given outside the policy.
	Tables TableChoices
	// Invocation is how Sentinel was run, for the command a denial shows.
	Invocation Invocation
}

// ExecInput is the input of `sentinel exec`.
type ExecInput struct {
	ProfileInput
	// Server runs the credential server instead of putting credentials in the environment.
	Server bool
	// NoSessionTracking serves without a session record, where the policy allows it.
	NoSessionTracking bool
	// ServerDuration is how long each issuance of the credential server lasts (15m..12h); 0 is
	// DefaultServerDuration. Given without Server, it is an error.
	ServerDuration time.Duration
	// ServerPort is the credential server's port on 127.0.0.1; 0 picks a free one. Given without
	// Server, it is an error.
	ServerPort int
	// MFASessionDuration is how long the server's MFA session lasts (15m..36h), for a profile
	// with mfa_serial: the server issues with it, and never asks for a code again; 0 is
	// DefaultMFASessionDuration. Given without Server, or for a profile without mfa_serial, it is
	// an error.
	MFASessionDuration time.Duration
	// Command is the program to run and its arguments.
	Command []string
	// Environ is the environment the command inherits (before Sentinel's changes).
	Environ []string
	Stdin   io.Reader
	Stdout  io.Writer
	// Stderr receives the command's stderr and Sentinel's own notes and refusals.
	Stderr io.Writer
	// Signals are forwarded to the command (SIGINT, SIGTERM, SIGHUP).
	Signals <-chan os.Signal
}

// CredentialProcessInput is the input of `sentinel credentials`.
type CredentialProcessInput struct {
	ProfileInput
}

// target is a profile ready to issue for: the policy, the profile, the clients and the caller.
type target struct {
	policy  *policy.Policy
	profile profiles.Profile
	region  string
	// base is the profile of the base credentials ("" = the SDK's default chain).
	base    string
	clients Clients
	caller  Caller
}

// prepare loads the policy and the profile, builds the clients for its base credentials and asks
// STS who the caller is.
func prepare(ctx context.Context, in ProfileInput, env Env) (target, error) {
	t, err := load(in)
	if err != nil {
		return target{}, err
	}
	return t, t.connect(ctx, in, env)
}

// load loads the policy and the profile and checks --mfa-token against it: no AWS call yet.
func load(in ProfileInput) (target, error) {
	if in.Profile == "" {
		return target{}, errors.New("no profile: pass --profile")
	}
	if in.PolicyPath == "" {
		return target{}, errors.New("no policy: pass --policy FILE or set defaults.policy in the config file")
	}
	p, err := policy.Load(in.PolicyPath)
	if err != nil {
		return target{}, err
	}
	prof, err := findProfile(in.AWSConfigPath, in.AWSConfigOptional, in.Profile)
	if err != nil {
		return target{}, err
	}
	if prof.RoleARN == "" {
		return target{}, fmt.Errorf("profile %s has no role_arn in %s: Sentinel issues credentials by assuming the profile's role", prof.Name, prof.Source)
	}
	t := target{policy: p, profile: prof, region: firstSet(in.Region, prof.Region, in.DefaultRegion)}
	if err := t.checkMFAToken(in); err != nil {
		return target{}, err
	}
	return t, nil
}

// connect builds the clients of the profile's base credentials and asks STS who the caller is.
func (t *target) connect(ctx context.Context, in ProfileInput, env Env) error {
	base := "the SDK's default credential chain"
	switch {
	case in.AWSProfile != "":
		t.base, base = in.AWSProfile, "--aws-profile "+in.AWSProfile
	case t.profile.SourceProfile != "":
		t.base, base = t.profile.SourceProfile, "source_profile "+t.profile.SourceProfile
	}
	var err error
	if t.clients, err = env.Clients(ctx, awsclient.Options{Profile: t.base, Region: t.region, EndpointURL: in.EndpointURL}); err != nil {
		return fmt.Errorf("profile %s: base credentials (%s): %w", in.Profile, base, err)
	}
	if t.caller, err = CallerIdentity(ctx, t.clients.STS); err != nil {
		return fmt.Errorf("profile %s: base credentials (%s): %w", in.Profile, base, err)
	}
	return nil
}

func findProfile(path string, optional bool, name string) (profiles.Profile, error) {
	list, err := profiles.LoadAWSConfig(path, optional)
	if err != nil {
		return profiles.Profile{}, err
	}
	for _, p := range list {
		if p.Name == name {
			return p, nil
		}
	}
	return profiles.Profile{}, fmt.Errorf("profile %s is not in the AWS config file %s: add a [profile %s] section with its role_arn and source_profile, or name the file with --aws-config", name, path, name)
}

func (t target) request(in ProfileInput, mode policy.Mode, now time.Time) Request {
	return Request{Profile: in.Profile, User: t.caller.User, At: now, Mode: mode, Tables: in.Tables, Invocation: in.Invocation}
}

// processCredentials is the JSON a credential_process prints.
type processCredentials struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken"`
	Expiration      string `json:"Expiration"`
}

// CredentialProcess issues one-shot credentials for the AWS SDKs' credential_process and writes
// them to out. A policy refusal is a *Denial, and then nothing is issued.
func CredentialProcess(ctx context.Context, in CredentialProcessInput, out io.Writer, env Env) error {
	t, err := prepare(ctx, in.ProfileInput, env)
	if err != nil {
		return err
	}
	if _, err := Check(t.policy, t.request(in.ProfileInput, policy.ModeCredentialProcess, env.Now())); err != nil {
		return err
	}
	code, err := t.mfaCode(ctx, in.ProfileInput, env)
	if err != nil {
		return err
	}
	creds, err := Issuer{STS: t.clients.STS, Profile: t.profile, MFACode: code}.issueOneShot(ctx, env.Rand, t.caller.User)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(processCredentials{
		Version:         1,
		AccessKeyID:     creds.AccessKeyID,
		SecretAccessKey: creds.SecretAccessKey,
		SessionToken:    creds.SessionToken,
		Expiration:      creds.Expiration.UTC().Format(time.RFC3339),
	})
}

// Exec runs in.Command with credentials for the profile and returns its exit code. Without
// Server the credentials are in the command's environment; with Server the command gets the
// credential server's URL and token, and the server re-checks the policy and the session record
// on every request. A policy refusal is a *Denial, and then nothing is issued or run.
func Exec(ctx context.Context, in ExecInput, env Env) (int, error) {
	if len(in.Command) == 0 {
		return 0, errors.New("no command: give it after --, e.g. sentinel exec --profile P -- aws s3 ls")
	}
	if err := in.checkServerFlags(); err != nil {
		return 0, err
	}
	in.ServerDuration = cmp.Or(in.ServerDuration, DefaultServerDuration)
	in.Invocation.Command = in.Command
	t, err := load(in.ProfileInput)
	if err != nil {
		return 0, err
	}
	if in.MFASessionDuration != 0 && t.profile.MFASerial == "" {
		return 0, fmt.Errorf("--mfa-session-duration is given, but profile %s has no mfa_serial in %s, so the server starts no MFA session: drop --mfa-session-duration, or set mfa_serial to the ARN of the MFA device the role requires",
			t.profile.Name, t.profile.Source)
	}
	in.MFASessionDuration = cmp.Or(in.MFASessionDuration, DefaultMFASessionDuration)
	if err := t.connect(ctx, in.ProfileInput, env); err != nil {
		return 0, err
	}
	mode := policy.ModeCLI
	if in.Server {
		mode = policy.ModeServer
	}
	r := t.request(in.ProfileInput, mode, env.Now())
	r.NoSessionTracking = in.NoSessionTracking
	g, err := Check(t.policy, r)
	if err != nil {
		return 0, err
	}
	code, err := t.mfaCode(ctx, in.ProfileInput, env)
	if err != nil {
		return 0, err
	}
	childEnv := scrubEnv(in.Environ)
	if t.region != "" {
		childEnv = append(childEnv, "AWS_REGION="+t.region, "AWS_DEFAULT_REGION="+t.region)
	}
	childEnv = append(childEnv, "SENTINEL_PROFILE="+in.Profile)
	if !in.Server {
		issuer := Issuer{STS: t.clients.STS, Profile: t.profile, MFACode: code}
		creds, err := issuer.issueOneShot(ctx, env.Rand, t.caller.User)
		if err != nil {
			return 0, err
		}
		childEnv = append(childEnv,
			"AWS_ACCESS_KEY_ID="+creds.AccessKeyID,
			"AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey,
			"AWS_SESSION_TOKEN="+creds.SessionToken,
			"AWS_CREDENTIAL_EXPIRATION="+creds.Expiration.UTC().Format(time.RFC3339))
		return runChild(in, childEnv)
	}
	var mfa *mfaSession
	if code != "" {
		if mfa, t.clients, err = startMFASession(ctx, t, in, env, code); err != nil {
			return 0, err
		}
	}
	issuer := Issuer{STS: t.clients.STS, Profile: t.profile, Duration: in.ServerDuration}
	return serve(ctx, in, env, t, r, g, issuer, mfa, childEnv)
}

// checkServerFlags refuses the credential server's flags without --server, rather than ignore
// them, and durations STS would refuse: before anything is loaded or asked of AWS.
func (in ExecInput) checkServerFlags() error {
	if !in.Server {
		for _, f := range []struct {
			name  string
			given bool
		}{{"--server-duration", in.ServerDuration != 0}, {"--server-port", in.ServerPort != 0}, {"--mfa-session-duration", in.MFASessionDuration != 0}} {
			if f.given {
				return fmt.Errorf("%s is for the credential server, and it is given without --server: add --server, or drop %s", f.name, f.name)
			}
		}
		return nil
	}
	if d := in.ServerDuration; d != 0 && (d < minDuration || d > maxDuration) {
		return fmt.Errorf("--server-duration %s is out of range: STS issues credentials for %s to %s", d, minDuration, maxDuration)
	}
	if d := in.MFASessionDuration; d != 0 && (d < minMFASession || d > maxMFASession) {
		return fmt.Errorf("--mfa-session-duration %s is out of range: STS starts MFA sessions of %s to %s", d, minMFASession, maxMFASession)
	}
	return nil
}

// serve runs the command under the credential server, tracking the session when g says so. With
// an MFA session, t's clients are those of its credentials.
func serve(ctx context.Context, in ExecInput, env Env, t target, r Request, g Grant, issuer Issuer, mfa *mfaSession, childEnv []string) (int, error) {
	// The session must end cleanly even when ctx is cancelled by a signal meant for the child.
	ctx = context.WithoutCancel(ctx)
	token, err := newToken(env.Rand)
	if err != nil {
		return 0, err
	}
	session := &serverSession{now: env.Now, random: env.Rand, policyPath: in.PolicyPath, request: r, issuer: issuer, mfa: mfa}
	if g.Tracked {
		instanceID, err := newID(env.Rand)
		if err != nil {
			return 0, err
		}
		store := &SessionStore{DB: t.clients.DynamoDB, Table: g.Table.Name}
		rec, err := startSession(ctx, store, env.Now(), env.Rand, t.caller.User, in.Profile, instanceID, in.ServerDuration)
		if err != nil {
			return 0, err
		}
		session.store, session.record = store, rec
		childEnv = append(childEnv, "SENTINEL_SESSION_ID="+rec.ID)
	}
	code, ran, err := serveSession(ctx, in, session, token, childEnv)
	if session.store != nil {
		if expErr := session.store.Expire(ctx, session.record.ID, env.Now()); expErr != nil {
			if !ran {
				return code, errors.Join(err, expErr)
			}
			// The command's exit code matters more than the bookkeeping: warn and keep it.
			fmt.Fprintf(in.Stderr, "sentinel: warning: session %s stays active in table %s until its ttl: %v\n", session.record.ID, session.store.Table, expErr)
		}
	}
	return code, err
}

// serveSession issues the first credentials (so a role that cannot be assumed fails before the
// command starts), starts the server and runs the command. ran reports whether the command ran.
func serveSession(ctx context.Context, in ExecInput, session *serverSession, token string, childEnv []string) (code int, ran bool, err error) {
	if _, err := session.current(ctx, session.now()); err != nil {
		return 0, false, err
	}
	srv := newServer(token, session, in.Stderr)
	url, err := srv.Start(in.ServerPort)
	if err != nil {
		return 0, false, err
	}
	if session.store != nil {
		rec := session.record
		fmt.Fprintf(in.Stderr, "sentinel: session %s for profile %s is tracked in table %s (revoke: sentinel server-revoke %s --session-table %s --reason TEXT)\n",
			rec.ID, rec.Profile, session.store.Table, rec.ID, shellQuote(session.store.Table))
	}
	childEnv = append(childEnv, "AWS_CONTAINER_CREDENTIALS_FULL_URI="+url, "AWS_CONTAINER_AUTHORIZATION_TOKEN="+token)
	code, err = runChild(in, childEnv)
	if closeErr := srv.Close(); closeErr != nil {
		fmt.Fprintf(in.Stderr, "sentinel: warning: %v\n", closeErr)
	}
	return code, err == nil, err
}

// scrubbedEnv are the variables that would make an SDK in the command use other credentials
// than Sentinel's.
var scrubbedEnv = []string{
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
	"AWS_CREDENTIAL_EXPIRATION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
	"SENTINEL_PROFILE", "SENTINEL_SESSION_ID",
}

// scrubEnv copies environ without the variables in scrubbedEnv.
func scrubEnv(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, s := range scrubbedEnv {
			if name == s {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

// runChild runs the command with environ, forwarding signals until it exits, and returns its exit
// code (128 + the signal number when a signal ended it, as shells report it).
func runChild(in ExecInput, environ []string) (int, error) {
	cmd := exec.Command(in.Command[0], in.Command[1:]...)
	cmd.Env = environ
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in.Stdin, in.Stdout, in.Stderr
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", in.Command[0], err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-in.Signals:
			_ = cmd.Process.Signal(sig) // the command may have exited already
		case err := <-done:
			var exitErr *exec.ExitError
			if err != nil && !errors.As(err, &exitErr) {
				return 0, fmt.Errorf("run %s: %w", in.Command[0], err)
			}
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return 128 + int(ws.Signal()), nil
			}
			return cmd.ProcessState.ExitCode(), nil
		}
	}
}

func firstSet(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
