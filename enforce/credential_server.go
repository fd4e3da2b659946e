package enforce

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// credentialSource decides and serves one credential request of the credential server.
type credentialSource interface {
	credentials(ctx context.Context) (Credentials, error)
}

// requestDenied is a credential request the server refuses (HTTP 403): the policy no longer
// allows it, or the session was revoked, expired or deleted.
type requestDenied struct {
	// Code is the error code the SDKs show: PolicyDenied, SessionRevoked, SessionExpired or
	// SessionNotFound.
	Code string
	Err  error
}

// Error is the reason the request was refused.
func (e *requestDenied) Error() string { return e.Err.Error() }

// Unwrap is the underlying reason.
func (e *requestDenied) Unwrap() error { return e.Err }

// tokenBytes is the size of the server's random bearer token.
const tokenBytes = 32

// newToken reads a bearer token from random: URL-safe base64, no newlines.
func newToken(random io.Reader) (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", fmt.Errorf("read random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// credentialServer is the local credential server. It listens on 127.0.0.1 only and answers
// requests that carry its token in the Authorization header (as the AWS SDKs send
// AWS_CONTAINER_AUTHORIZATION_TOKEN) with the container-credentials JSON the SDKs read.
type credentialServer struct {
	token  string
	source credentialSource
	// log receives one line per refused or failed request; never credentials or the token.
	log io.Writer

	mu   sync.Mutex
	srv  *http.Server
	done chan struct{}
}

// newServer serves source's credentials to requests carrying token, logging refusals to log.
func newServer(token string, source credentialSource, log io.Writer) *credentialServer {
	return &credentialServer{token: token, source: source, log: log}
}

// Start listens on 127.0.0.1:port (port 0 picks a free one) and returns the URL to put in
// AWS_CONTAINER_CREDENTIALS_FULL_URI.
func (s *credentialServer) Start(port int) (string, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("credential server: listen on %s: %w", addr, err)
	}
	s.mu.Lock()
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.done = make(chan struct{})
	srv, done := s.srv, s.done
	s.mu.Unlock()
	go func() {
		defer close(done)
		_ = srv.Serve(ln) // http.ErrServerClosed after Close; clients see any other failure
	}()
	return "http://" + ln.Addr().String() + "/", nil
}

// Close stops the server, giving in-flight requests a second to finish.
func (s *credentialServer) Close() error {
	s.mu.Lock()
	srv, done := s.srv, s.done
	s.srv = nil
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := srv.Shutdown(ctx)
	if err != nil {
		err = srv.Close()
	}
	<-done
	if err != nil {
		return fmt.Errorf("credential server: close: %w", err)
	}
	return nil
}

// containerCredentials is the JSON the SDKs' container credentials provider reads.
type containerCredentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
}

// ServeHTTP answers one credential request: loopback clients only, then the token (401 when
// missing, 403 when wrong, compared in constant time), then the credential source's decision.
func (s *credentialServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !loopback(r.RemoteAddr) {
		s.fail(w, http.StatusForbidden, "Forbidden", "the credential server answers loopback clients only")
		return
	}
	got := r.Header.Get("Authorization")
	if got == "" {
		s.fail(w, http.StatusUnauthorized, "Unauthorized", "no Authorization header: set AWS_CONTAINER_AUTHORIZATION_TOKEN")
		return
	}
	if !tokenMatches(got, s.token) {
		s.fail(w, http.StatusForbidden, "Forbidden", "wrong authorization token")
		return
	}
	if r.Method != http.MethodGet {
		s.fail(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "use GET")
		return
	}
	creds, err := s.source.credentials(r.Context())
	var denied *requestDenied
	switch {
	case errors.As(err, &denied):
		s.fail(w, http.StatusForbidden, denied.Code, denied.Error())
		return
	case err != nil:
		s.fail(w, http.StatusInternalServerError, "InternalError", err.Error())
		return
	}
	body, err := json.Marshal(containerCredentials{
		AccessKeyID:     creds.AccessKeyID,
		SecretAccessKey: creds.SecretAccessKey,
		Token:           creds.SessionToken,
		Expiration:      creds.Expiration.UTC().Format(time.RFC3339),
	})
	if err != nil {
		s.fail(w, http.StatusInternalServerError, "InternalError", "encode credentials: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}

// fail writes the error JSON the SDKs show ({"code", "message"}) and logs the refusal.
func (s *credentialServer) fail(w http.ResponseWriter, status int, code, message string) {
	if s.log != nil {
		fmt.Fprintf(s.log, "sentinel: credential request refused (%d %s): %s\n", status, code, message)
	}
	body, _ := json.Marshal(map[string]string{"code": code, "message": message})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// tokenMatches compares got with want in constant time: both are hashed first, so neither their
// contents nor their lengths show in the time taken.
func tokenMatches(got, want string) bool {
	g, x := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], x[:]) == 1
}

// loopback reports whether a RemoteAddr is a loopback address.
func loopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
