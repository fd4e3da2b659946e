// Package sts is a test-only emulator of AWS STS AssumeRole,
// GetSessionToken and GetCallerIdentity. It speaks the real Query/XML wire protocol, so the
// project's tests point the unmodified aws-sdk-go-v2 STS client at it
// (BaseEndpoint or AWS_ENDPOINT_URL_STS), the way users point clients at
// LocalStack.
//
// Every AssumeRole call, successful or failed, is kept as an Issuance and as a
// CloudTrail record shaped like the ones real STS delivers, so the same test
// can issue credentials and then audit the trail (see TrailArchive).
//
// The caller of a request is the access key id in its SigV4 credential scope:
// a key registered with SetCaller, a key this server issued (an assumed-role
// session, so role chaining works, or a GetSessionToken session, which acts
// as its IAM user), or else a default IAM user. Signatures are not verified.
//
// Roles can demand what trust policies demand (SetTrust): MFA, or no
// SourceIdentity. MFA devices (AddMFADevice) are virtual TOTP devices, as
// IAM's: a code is checked against the emulated clock and works only once. No secret, session token or signature ever appears in an
// error message.
package sts

import (
	"crypto/rand"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/sentinel-audit/sentinel/internal/emulator/loopback"
)

// Defaults used when Options or SetCaller leave them out.
const (
	// DefaultRegion is used when a request's credential scope names no region.
	DefaultRegion = "us-east-1"
	// DefaultAccount is the account of callers not registered with SetCaller.
	DefaultAccount = "123456789012"
	// DefaultMaxSessionDuration is a role's MaxSessionDuration unless
	// AddRole says otherwise (IAM's default).
	DefaultMaxSessionDuration = time.Hour
	// ChainedSessionLimit caps DurationSeconds when an assumed-role session
	// assumes a role (role chaining).
	ChainedSessionLimit = time.Hour
	// DefaultSessionTokenDuration is GetSessionToken's lifetime without
	// DurationSeconds (root: RootSessionTokenLimit).
	DefaultSessionTokenDuration = 12 * time.Hour
	// RootSessionTokenLimit caps GetSessionToken for the account root: a
	// longer DurationSeconds is not refused, the session lasts this long.
	RootSessionTokenLimit = time.Hour
)

// Options configures a Server.
type Options struct {
	// Now is the emulated present: issuance times, expirations and record
	// times come from it. Default time.Now.
	Now func() time.Time
	// AllowAnyRole lets callers assume roles never registered with AddRole
	// (their MaxSessionDuration is DefaultMaxSessionDuration). Otherwise
	// assuming an unknown role is AccessDenied, as for a role whose trust
	// policy does not name the caller.
	AllowAnyRole bool
	// Rand is the source of key ids, secrets, session tokens, request ids,
	// event ids and archive file names. Default crypto/rand.
	Rand io.Reader
	// Region is the region of requests whose credential scope names none.
	// Default us-east-1.
	Region string
}

// Identity is a principal as GetCallerIdentity reports it.
type Identity struct {
	AccessKeyID string
	ARN         string
	Account     string
	UserID      string
}

// Issuance is one AssumeRole call, successful or failed.
type Issuance struct {
	Time           time.Time
	Region         string
	RequestID      string
	Caller         Identity
	RoleARN        string
	SessionName    string
	SourceIdentity string // the session's source identity (requested or inherited)
	Duration       time.Duration
	AccessKeyID    string // issued key; empty if the call failed
	Expiration     time.Time
	// MFA says the call was authenticated with MFA: a valid code in the
	// call, or a caller whose session was.
	MFA       bool
	ErrorCode string // empty on success
}

// SessionToken is one GetSessionToken call, successful or failed.
type SessionToken struct {
	Time        time.Time
	Caller      Identity
	MFASerial   string // the SerialNumber sent, if any
	Duration    time.Duration
	AccessKeyID string // issued key; empty if the call failed
	Expiration  time.Time
	ErrorCode   string // empty on success
}

// Trust is what a role's trust policy demands of a caller it names.
type Trust struct {
	// Principals, when set, are the principals the trust policy names: ARNs of
	// users, roles or assumed-role sessions, or an account's root
	// (arn:aws:iam::ACCOUNT:root: any principal of the account). Others are
	// denied. Empty: any caller.
	Principals []string
	// MFARequired is the condition aws:MultiFactorAuthPresent = true: the
	// call must carry a valid MFA code, or come from a session that did.
	MFARequired bool
	// NoSetSourceIdentity is a trust policy that allows sts:AssumeRole but
	// not sts:SetSourceIdentity: a call that sets a SourceIdentity is denied.
	NoSetSourceIdentity bool
}

// Server is an in-memory STS. It is safe for concurrent use.
type Server struct {
	opts Options

	randMu sync.Mutex // guards opts.Rand; may be taken while holding mu

	mu       sync.Mutex
	roles    map[string]*role
	callers  map[string]Identity
	devices  map[string]*mfaDevice // by serial number
	sessions map[string]*session   // by issued access key id
	revoked  map[string]bool
	log      []Issuance
	tokens   []SessionToken
	records  []trailRecord
}

// role is a registered role.
type role struct {
	maxSession time.Duration
	trust      Trust
}

// session is the state behind an access key this server issued: an
// assumed-role session, or (userToken) a GetSessionToken session of a user.
type session struct {
	identity       Identity
	userToken      bool
	roleARN        string // the IAM role ARN as requested
	roleID         string // AROA...
	sourceIdentity string
	mfa            bool // authenticated with MFA
	issued         time.Time
	expires        time.Time
}

// trailRecord is a CloudTrail record with the fields its archive key needs.
type trailRecord struct {
	account string
	region  string
	time    time.Time
	raw     []byte
}

// New returns a Server with opts, defaults filled in.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	return &Server{
		opts:     opts,
		roles:    make(map[string]*role),
		callers:  make(map[string]Identity),
		devices:  make(map[string]*mfaDevice),
		sessions: make(map[string]*session),
		revoked:  make(map[string]bool),
	}
}

// AddRole registers a role that callers may assume. A maxSessionDuration of
// zero means DefaultMaxSessionDuration.
func (s *Server) AddRole(arn string, maxSessionDuration time.Duration) {
	if maxSessionDuration <= 0 {
		maxSessionDuration = DefaultMaxSessionDuration
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.roles[arn]; ok {
		r.maxSession = maxSessionDuration
		return
	}
	s.roles[arn] = &role{maxSession: maxSessionDuration}
}

// SetTrust sets what a role's trust policy demands, registering the role
// (with DefaultMaxSessionDuration) if AddRole has not.
func (s *Server) SetTrust(arn string, t Trust) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.roles[arn]; ok {
		r.trust = t
		return
	}
	s.roles[arn] = &role{maxSession: DefaultMaxSessionDuration, trust: t}
}

// SetCaller registers the identity behind accessKeyID: GetCallerIdentity
// returns it and AssumeRole records it as the caller. arn decides the
// CloudTrail userIdentity type (user/ → IAMUser, assumed-role/ → AssumedRole,
// :root → Root). Empty account or userID are derived from the ARN and key.
func (s *Server) SetCaller(accessKeyID, arn, account, userID string) {
	if account == "" {
		account = arnAccount(arn)
	}
	if userID == "" {
		userID = principalID(arn, accessKeyID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callers[accessKeyID] = Identity{AccessKeyID: accessKeyID, ARN: arn, Account: account, UserID: userID}
}

// RevokeKey makes later calls signed with accessKeyID fail with ExpiredToken,
// as after the session's expiry.
func (s *Server) RevokeKey(accessKeyID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked[accessKeyID] = true
}

// Issuances returns every AssumeRole call so far, in order.
func (s *Server) Issuances() []Issuance {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Issuance(nil), s.log...)
}

// SessionTokens returns every GetSessionToken call so far, in order.
func (s *Server) SessionTokens() []SessionToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SessionToken(nil), s.tokens...)
}

// CloudTrailRecords returns one CloudTrail record (a JSON object) per
// AssumeRole call so far, in order.
func (s *Server) CloudTrailRecords() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, len(s.records))
	for i, r := range s.records {
		out[i] = append([]byte(nil), r.raw...)
	}
	return out
}

// Handler returns the HTTP handler that serves the STS Query API.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Start serves Handler on a new listener on 127.0.0.1 with a free port. It
// returns the endpoint URL ("http://127.0.0.1:PORT") and a stop function that
// shuts the listener down, giving in-flight requests up to a second to finish.
func (s *Server) Start() (endpoint string, stop func(), err error) {
	return loopback.Serve(s.Handler())
}
