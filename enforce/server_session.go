package enforce

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sentinel-audit/sentinel/policy"
	"github.com/sentinel-audit/sentinel/sourceid"
)

// refreshBefore is how long before their expiry served credentials are replaced by new ones.
const refreshBefore = 5 * time.Minute

// serverSession is what the credential server serves: on every request it re-reads and
// re-evaluates the policy, checks the session record, and hands out the current credentials.
type serverSession struct {
	now        func() time.Time
	random     io.Reader
	policyPath string
	// request is the exec's request in server mode; At is set per credential request.
	request Request
	issuer  Issuer
	// mfa is set when the issuer's credentials are an MFA session's.
	mfa *mfaSession
	// store and record are set when the session is tracked.
	store  *SessionStore
	record Session

	mu     sync.Mutex
	cached Credentials
}

// credentials serves one credential request.
func (s *serverSession) credentials(ctx context.Context) (Credentials, error) {
	now := s.now()
	if err := s.allowed(now); err != nil {
		return Credentials{}, err
	}
	if s.store != nil {
		rec, err := s.store.Get(ctx, s.record.ID)
		if err != nil {
			return Credentials{}, sessionDenied(err)
		}
		if rec.Status != StatusActive {
			return Credentials{}, sessionDenied(&InactiveError{Session: rec})
		}
	}
	creds, err := s.current(ctx, now)
	if err != nil {
		return Credentials{}, err
	}
	if s.store != nil {
		if err := s.store.Touch(ctx, s.record.ID, now, creds.Expiration); err != nil {
			return Credentials{}, sessionDenied(err)
		}
	}
	return creds, nil
}

// allowed re-evaluates the policy file as it is now. A policy that no longer loads denies.
func (s *serverSession) allowed(now time.Time) error {
	p, err := policy.Load(s.policyPath)
	if err != nil {
		return &requestDenied{Code: "PolicyDenied", Err: fmt.Errorf("the policy no longer loads, so nothing is served: %w", err)}
	}
	r := s.request
	r.At = now
	g, err := Check(p, r)
	if err != nil {
		return &requestDenied{Code: "PolicyDenied", Err: err}
	}
	if g.Decision.Effect != policy.EffectRequireServerSession {
		return nil
	}
	switch {
	case s.store == nil:
		return &requestDenied{Code: "PolicyDenied", Err: fmt.Errorf("rule %q (%s) now requires a tracked session in table %s, and this server's session is untracked: restart sentinel exec", g.Decision.Rule, g.Decision.Effect, g.Table.Name)}
	case g.Table.Name != s.store.Table:
		return &requestDenied{Code: "PolicyDenied", Err: fmt.Errorf("rule %q (%s) now requires a tracked session in table %s, and this server's session is tracked in table %s: restart sentinel exec", g.Decision.Rule, g.Decision.Effect, g.Table.Name, s.store.Table)}
	}
	return nil
}

// sessionDenied maps a session record problem to the refusal the child sees; other errors (the
// table cannot be reached) pass through as server errors.
func sessionDenied(err error) error {
	var inactive *InactiveError
	switch {
	case errors.As(err, &inactive) && inactive.Session.Status == StatusRevoked:
		return &requestDenied{Code: "SessionRevoked", Err: err}
	case errors.As(err, &inactive):
		return &requestDenied{Code: "SessionExpired", Err: err}
	case errors.Is(err, ErrSessionNotFound):
		return &requestDenied{Code: "SessionNotFound", Err: err}
	}
	return err
}

// current returns the cached credentials, or new ones when they expire within refreshBefore.
func (s *serverSession) current(ctx context.Context, now time.Time) (Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cached.AccessKeyID != "" && now.Add(refreshBefore).Before(s.cached.Expiration) {
		return s.cached, nil
	}
	if err := s.mfa.ended(now); err != nil {
		return Credentials{}, err
	}
	var creds Credentials
	var err error
	if s.store != nil {
		creds, err = s.issuer.Issue(ctx, s.record.SourceIdentity)
	} else {
		creds, err = s.issuer.issueOneShot(ctx, s.random, s.request.User)
	}
	if err != nil {
		return Credentials{}, err
	}
	s.cached = creds
	return creds, nil
}

// startSession creates the session record for a tracked server session.
func startSession(ctx context.Context, store *SessionStore, now time.Time, random io.Reader, user, profile, instanceID string, duration time.Duration) (Session, error) {
	id, err := newID(random)
	if err != nil {
		return Session{}, err
	}
	si, err := sourceid.Mint(sourceid.KindSession, id, user)
	if err != nil {
		return Session{}, err
	}
	now = now.UTC().Truncate(time.Second)
	expires := now.Add(duration)
	rec := Session{
		ID:               id,
		User:             user,
		Profile:          profile,
		ServerInstanceID: instanceID,
		Status:           StatusActive,
		StartedAt:        now,
		ExpiresAt:        expires,
		SourceIdentity:   si,
		CreatedAt:        now,
		UpdatedAt:        now,
		TTL:              ttlFor(expires),
	}
	if err := store.Create(ctx, rec); err != nil {
		return Session{}, err
	}
	return rec, nil
}
