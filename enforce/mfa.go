package enforce

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/sentinel-audit/sentinel/awsclient"
	"golang.org/x/term"
)

// STS starts MFA sessions (GetSessionToken) of 15 minutes to 36 hours for IAM users, 12 hours
// unless asked otherwise. (The account root user's last at most an hour, whatever is asked; but
// AWS lets no root user assume a role, so Sentinel cannot issue with one in any case.)
const (
	minMFASession = 15 * time.Minute
	maxMFASession = 36 * time.Hour
	// DefaultMFASessionDuration is the server's MFA session unless
	// ExecInput.MFASessionDuration says otherwise.
	DefaultMFASessionDuration = 12 * time.Hour
)

// ErrNoTerminal is the error of a prompt when there is no terminal to ask at.
var ErrNoTerminal = errors.New("no terminal")

// ErrInterrupted is the error of a prompt the user interrupted with Ctrl-C.
var ErrInterrupted = errors.New("interrupted")

// ctrlC is what Ctrl-C sends in raw mode: a byte, not a signal.
const ctrlC = 3

// interruptWatch passes a terminal's input on and notes a Ctrl-C: term.Terminal ends the line with
// io.EOF for it as for Ctrl-D, and only one of them is the user stopping the command.
type interruptWatch struct {
	io.ReadWriter
	interrupted atomic.Bool
}

func (w *interruptWatch) Read(p []byte) (int, error) {
	n, err := w.ReadWriter.Read(p)
	if bytes.IndexByte(p[:n], ctrlC) >= 0 {
		w.interrupted.Store(true)
	}
	return n, err
}

// TerminalPrompt asks at the controlling terminal (/dev/tty) and returns the line typed, which
// the terminal does not show. It never reads standard input, so an MFA code is never taken
// silently from a pipe; without a terminal it fails with ErrNoTerminal. Ctrl-C ends the question
// with ErrInterrupted, Ctrl-D on an empty line unanswered, cancelling ctx with ctx's error.
func TerminalPrompt(ctx context.Context, prompt string) (string, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoTerminal, err)
	}
	fd := int(tty.Fd())
	// Raw before the prompt shows, so nothing typed is ever echoed.
	state, err := term.MakeRaw(fd)
	if err != nil {
		tty.Close()
		return "", fmt.Errorf("%w: %v", ErrNoTerminal, err)
	}
	type answer struct {
		line string
		err  error
	}
	answers := make(chan answer, 1)
	input := &interruptWatch{ReadWriter: tty}
	go func() {
		line, err := term.NewTerminal(input, "").ReadPassword(prompt)
		answers <- answer{line, err}
	}()
	select {
	case a := <-answers:
		_ = term.Restore(fd, state)
		defer tty.Close()
		switch {
		case errors.Is(a.err, io.EOF) && input.interrupted.Load():
			fmt.Fprintln(tty)
			return "", ErrInterrupted
		case errors.Is(a.err, io.EOF):
			fmt.Fprintln(tty)
			return "", errors.New("nothing was entered")
		}
		return strings.TrimSpace(a.line), a.err
	case <-ctx.Done():
		// The read goes on until the process exits; give the terminal back now.
		_ = term.Restore(fd, state)
		fmt.Fprintln(tty)
		return "", ctx.Err()
	}
}

// checkMFAToken checks --mfa-token against the profile before anything is asked or issued.
func (t target) checkMFAToken(in ProfileInput) error {
	switch {
	case in.MFAToken == "":
		return nil
	case t.profile.MFASerial == "":
		return fmt.Errorf("--mfa-token is given, but profile %s has no mfa_serial in %s: drop --mfa-token, or set mfa_serial to the ARN of the MFA device the role requires",
			t.profile.Name, t.profile.Source)
	case !isMFACode(in.MFAToken):
		return fmt.Errorf("--mfa-token for profile %s is not an MFA code: give the 6 digits your MFA device shows", t.profile.Name)
	}
	return nil
}

// mfaCode is the MFA code for a profile with mfa_serial ("" without): --mfa-token, else what the
// user types at the terminal. It is called only once the policy allows the request.
func (t target) mfaCode(ctx context.Context, in ProfileInput, env Env) (string, error) {
	p := t.profile
	if p.MFASerial == "" || in.MFAToken != "" {
		return in.MFAToken, nil
	}
	code, err := env.Prompt(ctx, fmt.Sprintf("MFA code for profile %s (%s): ", p.Name, p.MFASerial))
	switch {
	case errors.Is(err, ErrNoTerminal):
		return "", fmt.Errorf("profile %s requires an MFA code (mfa_serial %s), and there is no terminal to ask for it: pass --mfa-token CODE", p.Name, p.MFASerial)
	case err != nil:
		return "", fmt.Errorf("read the MFA code for profile %s: %w", p.Name, err)
	case !isMFACode(code):
		return "", fmt.Errorf("that is not an MFA code for profile %s: give the 6 digits your MFA device shows", p.Name)
	}
	return code, nil
}

// isMFACode reports whether s has the form of an MFA code: 6 digits.
func isMFACode(s string) bool {
	if len(s) != 6 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// mfaSession is the MFA session of a credential server: the credentials of one GetSessionToken
// with the code, with which every issuance of the server is made until they expire, so the server
// never asks again. Roles that require MFA (aws:MultiFactorAuthPresent) accept them.
type mfaSession struct {
	profile  string
	duration time.Duration
	expires  time.Time
}

// startMFASession calls GetSessionToken with the profile's mfa_serial and code for duration, and
// builds the clients of its credentials.
func startMFASession(ctx context.Context, t target, in ExecInput, env Env, code string) (*mfaSession, Clients, error) {
	p := t.profile
	what := fmt.Sprintf("profile %s: sts get-session-token with MFA device %s", p.Name, p.MFASerial)
	out, err := t.clients.STS.GetSessionToken(ctx, &sts.GetSessionTokenInput{
		SerialNumber:    aws.String(p.MFASerial),
		TokenCode:       aws.String(code),
		DurationSeconds: aws.Int32(int32(in.MFASessionDuration / time.Second)),
	})
	if err != nil {
		return nil, Clients{}, awsclient.Describe(what, err)
	}
	c := out.Credentials
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil || c.SessionToken == nil || c.Expiration == nil {
		return nil, Clients{}, fmt.Errorf("%s: response has no complete credentials", what)
	}
	clients, err := env.Clients(ctx, awsclient.Options{
		Profile:     t.base,
		Region:      t.region,
		EndpointURL: in.EndpointURL,
		Credentials: credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken),
	})
	if err != nil {
		return nil, Clients{}, err
	}
	return &mfaSession{profile: p.Name, duration: in.MFASessionDuration, expires: c.Expiration.UTC()}, clients, nil
}

// ended refuses an issuance once the MFA session has expired: a new one needs a new code.
func (m *mfaSession) ended(now time.Time) error {
	if m == nil || now.Before(m.expires) {
		return nil
	}
	return &requestDenied{Code: "MFASessionExpired", Err: fmt.Errorf(
		"the MFA session of profile %s ended at %s (--mfa-session-duration %s): restart sentinel exec to enter a new MFA code",
		m.profile, timestamp(m.expires), m.duration)}
}
