// Package ssoportal is a test-only stand-in for the AWS IAM Identity Center (SSO) portal's
// GetRoleCredentials, the call the SDKs' SSO credential provider makes with the access token that
// `aws sso login` cached. It speaks the real REST/JSON wire protocol, so the tests point the
// unmodified SDK at it with AWS_ENDPOINT_URL_SSO, with a token cache file written by
// WriteTokenCache.
//
// A token is accepted while it is registered (AddToken) and unexpired; a role while the token's
// user is granted it (Grant). The credentials it issues are an assumed-role session of the role
// AWSReservedSSO_<role>_<id> in the account; Options.Issued hears of each, so a test can tell
// the STS emulator who they belong to.
package ssoportal

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sentinel-audit/sentinel/internal/emulator/loopback"
)

// DefaultDuration is how long issued credentials last unless Options.Duration says otherwise.
const DefaultDuration = time.Hour

// Options configures a Server.
type Options struct {
	// Now is the emulated present. Default time.Now.
	Now func() time.Time
	// Rand is the source of the credentials. Default crypto/rand.
	Rand io.Reader
	// Duration of issued credentials. Default DefaultDuration.
	Duration time.Duration
	// Issued, when set, is called with each issuance (the server's lock is not held).
	Issued func(Credentials)
}

// Credentials are role credentials the portal issued.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
	// ARN is the session's principal: arn:aws:sts::ACCOUNT:assumed-role/AWSReservedSSO_ROLE_ID/USER.
	ARN string
}

// Server is an in-memory SSO portal. It is safe for concurrent use.
type Server struct {
	opts Options

	mu     sync.Mutex
	tokens map[string]login           // access token -> login
	grants map[string]map[string]bool // user -> "account/role"
	issued []Credentials
}

type login struct {
	user    string
	expires time.Time
}

// New returns a Server with opts, defaults filled in.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.Duration == 0 {
		opts.Duration = DefaultDuration
	}
	return &Server{opts: opts, tokens: map[string]login{}, grants: map[string]map[string]bool{}}
}

// AddToken registers accessToken as user's login, valid until expires.
func (s *Server) AddToken(accessToken, user string, expires time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[accessToken] = login{user: user, expires: expires}
}

// Grant lets user get credentials for roleName in accountID.
func (s *Server) Grant(user, accountID, roleName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.grants[user] == nil {
		s.grants[user] = map[string]bool{}
	}
	s.grants[user][accountID+"/"+roleName] = true
}

// Issued returns every issuance so far, in order.
func (s *Server) Issued() []Credentials {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Credentials(nil), s.issued...)
}

// Handler serves GET /federation/credentials.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Start serves Handler on 127.0.0.1 with a free port; see loopback.Serve.
func (s *Server) Start() (endpoint string, stop func(), err error) {
	return loopback.Serve(s.Handler())
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.URL.Path != "/federation/credentials" {
		writeError(w, http.StatusNotFound, "ResourceNotFoundException", "No such operation")
		return
	}
	q := r.URL.Query()
	account, roleName, token := q.Get("account_id"), q.Get("role_name"), r.Header.Get("x-amz-sso_bearer_token")
	if account == "" || roleName == "" || token == "" {
		writeError(w, http.StatusBadRequest, "InvalidRequestException", "account_id, role_name and the bearer token are required")
		return
	}
	creds, status, code, msg := s.issue(account, roleName, token)
	if status != http.StatusOK {
		writeError(w, status, code, msg)
		return
	}
	if s.opts.Issued != nil {
		s.opts.Issued(creds)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"roleCredentials": map[string]any{
		"accessKeyId":     creds.AccessKeyID,
		"secretAccessKey": creds.SecretAccessKey,
		"sessionToken":    creds.SessionToken,
		"expiration":      creds.Expiration.UnixMilli(),
	}})
}

func (s *Server) issue(account, roleName, token string) (c Credentials, status int, code, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	l, ok := s.tokens[token]
	if !ok || !now.Before(l.expires) {
		return Credentials{}, http.StatusUnauthorized, "UnauthorizedException", "Session token not found or invalid"
	}
	if !s.grants[l.user][account+"/"+roleName] {
		return Credentials{}, http.StatusForbidden, "ForbiddenException", "No access"
	}
	b := make([]byte, 10+30+120)
	if _, err := io.ReadFull(s.opts.Rand, b); err != nil {
		return Credentials{}, http.StatusInternalServerError, "InternalServerException", "read random bytes"
	}
	sum := sha1.Sum([]byte(account + "/" + roleName))
	c = Credentials{
		AccessKeyID:     "ASIA" + base32.StdEncoding.EncodeToString(b[:10]),
		SecretAccessKey: base64.StdEncoding.EncodeToString(b[10:40]),
		SessionToken:    base64.StdEncoding.EncodeToString(b[40:]),
		Expiration:      now.Add(s.opts.Duration).Truncate(time.Millisecond).UTC(),
		ARN:             fmt.Sprintf("arn:aws:sts::%s:assumed-role/AWSReservedSSO_%s_%s/%s", account, roleName, hex.EncodeToString(sum[:8]), l.user),
	}
	s.issued = append(s.issued, c)
	return c, http.StatusOK, "", ""
}

// writeError writes the portal's REST/JSON error: the type in X-Amzn-ErrorType, the message in
// the body.
func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": message})
}

// WriteTokenCache writes the token cache file that `aws sso login` leaves for the sso-session
// named session, below home (~/.aws/sso/cache/<sha1 of the session name>.json), as the SDKs read
// it. It has no refresh token, so once expired only a new login helps.
func WriteTokenCache(home, session, startURL, region, accessToken string, expires time.Time) error {
	sum := sha1.Sum([]byte(session))
	dir := filepath.Join(home, ".aws", "sso", "cache")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, err := json.Marshal(map[string]string{
		"startUrl":    startURL,
		"region":      region,
		"accessToken": accessToken,
		"expiresAt":   expires.UTC().Format(time.RFC3339),
	})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, hex.EncodeToString(sum[:])+".json"), b, 0o600)
}
