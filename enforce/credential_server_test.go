package enforce

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/sentinel-audit/sentinel/internal/testenv"
	"github.com/sentinel-audit/sentinel/policy"
	"github.com/sentinel-audit/sentinel/profiles"
)

// sourceFunc serves credentials from a function.
type sourceFunc func(ctx context.Context) (Credentials, error)

func (f sourceFunc) credentials(ctx context.Context) (Credentials, error) { return f(ctx) }

var fixedCreds = Credentials{AccessKeyID: "ASIAFIXED", SecretAccessKey: "secret", SessionToken: "token", Expiration: start.Add(15 * time.Minute)}

const testToken = "the-right-token"

func TestServerAuthorization(t *testing.T) {
	srv := newServer(testToken, sourceFunc(func(context.Context) (Credentials, error) { return fixedCreds, nil }), io.Discard)
	tests := []struct {
		name     string
		remote   string
		method   string
		header   []string // Authorization values; nil = none
		status   int
		wantBody string
	}{
		{"right_token_gets_credentials", "127.0.0.1:50000", http.MethodGet, []string{testToken}, http.StatusOK,
			`{"AccessKeyId":"ASIAFIXED","SecretAccessKey":"secret","Token":"token","Expiration":"2026-11-02T09:45:00Z"}`},
		{"missing_token_is_401", "127.0.0.1:50000", http.MethodGet, nil, http.StatusUnauthorized,
			`{"code":"Unauthorized","message":"no Authorization header: set AWS_CONTAINER_AUTHORIZATION_TOKEN"}`},
		{"empty_token_is_401", "127.0.0.1:50000", http.MethodGet, []string{""}, http.StatusUnauthorized,
			`{"code":"Unauthorized","message":"no Authorization header: set AWS_CONTAINER_AUTHORIZATION_TOKEN"}`},
		{"wrong_token_is_403", "127.0.0.1:50000", http.MethodGet, []string{"the-wrong-token"}, http.StatusForbidden,
			`{"code":"Forbidden","message":"wrong authorization token"}`},
		{"prefix_of_the_token_is_403", "127.0.0.1:50000", http.MethodGet, []string{"the-right"}, http.StatusForbidden,
			`{"code":"Forbidden","message":"wrong authorization token"}`},
		{"token_with_a_suffix_is_403", "127.0.0.1:50000", http.MethodGet, []string{testToken + "x"}, http.StatusForbidden,
			`{"code":"Forbidden","message":"wrong authorization token"}`},
		{"bearer_prefix_is_not_the_token", "127.0.0.1:50000", http.MethodGet, []string{"Bearer " + testToken}, http.StatusForbidden,
			`{"code":"Forbidden","message":"wrong authorization token"}`},
		{"ipv6_loopback_is_loopback", "[::1]:50000", http.MethodGet, []string{testToken}, http.StatusOK,
			`{"AccessKeyId":"ASIAFIXED","SecretAccessKey":"secret","Token":"token","Expiration":"2026-11-02T09:45:00Z"}`},
		{"other_hosts_are_refused_even_with_the_token", "192.0.2.10:50000", http.MethodGet, []string{testToken}, http.StatusForbidden,
			`{"code":"Forbidden","message":"the credential server answers loopback clients only"}`},
		{"only_get", "127.0.0.1:50000", http.MethodPost, []string{testToken}, http.StatusMethodNotAllowed,
			`{"code":"MethodNotAllowed","message":"use GET"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "/", nil)
			req.RemoteAddr = tt.remote
			for _, h := range tt.header {
				req.Header.Set("Authorization", h)
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != tt.status || strings.TrimSpace(rec.Body.String()) != tt.wantBody {
				t.Errorf("got %d %s\nwant %d %s", rec.Code, rec.Body, tt.status, tt.wantBody)
			}
		})
	}
}

func TestTokenMatchesComparesDigests(t *testing.T) {
	// The comparison hashes both sides and compares the digests with crypto/subtle, so how long
	// it takes depends on neither the token's contents nor its length.
	for _, got := range []string{"", "t", testToken[:len(testToken)-1], testToken + testToken, strings.Repeat("x", 4096)} {
		if tokenMatches(got, testToken) {
			t.Errorf("tokenMatches(%q) = true", got)
		}
	}
	if !tokenMatches(testToken, testToken) {
		t.Error("tokenMatches(token, token) = false")
	}
}

func TestNewTokenIsRandomAndHeaderSafe(t *testing.T) {
	a, err := newToken(seeded(1))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := newToken(seeded(2))
	if a == b || len(a) != 43 || strings.ContainsAny(a, "\r\n =") {
		t.Errorf("tokens %q and %q: want 43 distinct URL-safe characters", a, b)
	}
}

func TestServerListensOnLoopbackOnly(t *testing.T) {
	srv := newServer(testToken, sourceFunc(func(context.Context) (Credentials, error) { return fixedCreds, nil }), io.Discard)
	raw, err := srv.Start(0)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if u.Hostname() != "127.0.0.1" || u.Port() == "0" || u.Path != "/" {
		t.Errorf("server URL %s: want http://127.0.0.1:<free port>/", raw)
	}
	// What the AWS SDKs do with AWS_CONTAINER_CREDENTIALS_FULL_URI and _AUTHORIZATION_TOKEN.
	got, err := endpointcreds.New(raw, func(o *endpointcreds.Options) { o.AuthorizationToken = testToken }).Retrieve(context.Background())
	if err != nil {
		t.Fatalf("SDK container provider: %v", err)
	}
	if got.AccessKeyID != "ASIAFIXED" || got.SessionToken != "token" || !got.Expires.Equal(fixedCreds.Expiration) {
		t.Errorf("SDK read %+v", got)
	}
}

// serveOnce asks the server handler for credentials like a loopback SDK client would.
func serveOnce(t *testing.T, srv *credentialServer) (int, map[string]string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "127.0.0.1:50000"
	req.Header.Set("Authorization", testToken)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("response %q: %v", rec.Body, err)
	}
	return rec.Code, body
}

func TestServerReevaluatesPolicyPerRequest(t *testing.T) {
	c := newClock()
	emu, endpoint := startSTS(t, c)
	dir := t.TempDir()
	path := writeFile(t, dir, "policy.yaml", "version: \"1\"\nrules:\n  - {name: open, effect: allow}\n")
	session := &serverSession{
		now: c.Now, random: seeded(3), policyPath: path,
		request: Request{Profile: "prod", User: "alice", Mode: policy.ModeServer},
		issuer:  Issuer{STS: stsClient(endpoint), Profile: profiles.Profile{Name: "prod", RoleARN: prodRole}, Duration: 15 * time.Minute},
	}
	srv := newServer(testToken, session, io.Discard)

	code, body := serveOnce(t, srv)
	if code != http.StatusOK || !strings.HasPrefix(body["AccessKeyId"], "ASIA") {
		t.Fatalf("first request: %d %v", code, body)
	}
	steps := []struct {
		name    string
		policy  string
		advance time.Duration
		status  int
		want    map[string]string // for refusals
	}{
		{"same_policy_serves_the_cached_credentials", "version: \"1\"\nrules:\n  - {name: open, effect: allow}\n", time.Minute, http.StatusOK, nil},
		{"a_deny_takes_effect_on_the_next_request", "version: \"1\"\nrules:\n  - {name: freeze, effect: deny, reason: change freeze}\n", 0, http.StatusForbidden,
			map[string]string{"code": "PolicyDenied", "message": `denied: rule "freeze" (deny) denies profile "prod": change freeze`}},
		{"a_policy_that_no_longer_loads_denies", "version: \"1\"\nrules:\n  - {name: x, effect: maybe}\n", 0, http.StatusForbidden,
			map[string]string{"code": "PolicyDenied", "message": "the policy no longer loads, so nothing is served: " + path + ":3:23: unknown effect \"maybe\" in rule \"x\" (valid: allow, deny, require_server, require_server_session)"}},
		{"requiring_a_session_later_denies_an_untracked_server", "version: \"1\"\nrules:\n  - {name: tracked, effect: require_server_session, session_table: sessions}\n", 0, http.StatusForbidden,
			map[string]string{"code": "PolicyDenied", "message": `rule "tracked" (require_server_session) now requires a tracked session in table sessions, and this server's session is untracked: restart sentinel exec`}},
		{"allowed_again_and_refreshed_near_expiry", "version: \"1\"\nrules:\n  - {name: open, effect: allow}\n", 11 * time.Minute, http.StatusOK, nil},
	}
	first := body["AccessKeyId"]
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			writeFile(t, dir, "policy.yaml", s.policy)
			c.Advance(s.advance)
			code, body := serveOnce(t, srv)
			if code != s.status {
				t.Fatalf("status %d %v, want %d", code, body, s.status)
			}
			if s.want != nil && (body["code"] != s.want["code"] || body["message"] != s.want["message"]) {
				t.Errorf("refusal %v\nwant    %v", body, s.want)
			}
		})
	}
	iss := emu.Issuances()
	if len(iss) != 2 || iss[0].AccessKeyID != first {
		t.Fatalf("issuances %+v: want the first and one refresh", iss)
	}
	for _, i := range iss {
		if !strings.HasPrefix(i.SourceIdentity, "sentinel-r-") || !strings.HasSuffix(i.SourceIdentity, "-alice") {
			t.Errorf("untracked server issued with SourceIdentity %q, want sentinel-r-<request id>-alice", i.SourceIdentity)
		}
	}
}

func TestServerChecksTheSessionRecord(t *testing.T) {
	testenv.EachDynamoDB(t, func(t *testing.T, dynamoDBEndpoint string) {
		ctx := context.Background()
		c := newClock()
		emu, endpoint := startSTS(t, c)
		db := dynamoClient(dynamoDBEndpoint)
		store := &SessionStore{DB: db, Table: createTable(t, db)}
		path := writeFile(t, t.TempDir(), "policy.yaml", "version: \"1\"\nrules:\n  - {name: tracked, effect: require_server_session, session_table: "+store.Table+"}\n")
		newSession := func(seed uint64) (*credentialServer, Session) {
			rec, err := startSession(ctx, store, c.Now(), seeded(seed), "alice", "prod", "00000000000000aa", 15*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			session := &serverSession{
				now: c.Now, random: seeded(seed), policyPath: path,
				request: Request{Profile: "prod", User: "alice", Mode: policy.ModeServer},
				issuer:  Issuer{STS: stsClient(endpoint), Profile: profiles.Profile{Name: "prod", RoleARN: prodRole}, Duration: 15 * time.Minute},
				store:   store, record: rec,
			}
			return newServer(testToken, session, io.Discard), rec
		}

		t.Run("active_session_is_served_and_counted", func(t *testing.T) {
			srv, rec := newSession(10)
			for range 2 {
				if code, body := serveOnce(t, srv); code != http.StatusOK {
					t.Fatalf("request: %d %v", code, body)
				}
			}
			got, err := store.Get(ctx, rec.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.RequestCount != 2 || !got.LastAccessAt.Equal(start) {
				t.Errorf("record after two requests: %+v", got)
			}
			last := emu.Issuances()[len(emu.Issuances())-1]
			if last.SourceIdentity != "sentinel-s-"+rec.ID+"-alice" || !got.ExpiresAt.Equal(last.Expiration) {
				t.Errorf("issued with %q expiring %s; record %s expiring %s", last.SourceIdentity, last.Expiration, rec.SourceIdentity, got.ExpiresAt)
			}
		})
		t.Run("revoked_session_is_denied", func(t *testing.T) {
			srv, rec := newSession(11)
			if code, body := serveOnce(t, srv); code != http.StatusOK {
				t.Fatalf("before revoke: %d %v", code, body)
			}
			if _, err := store.Revoke(ctx, rec.ID, aliceARN, "incident 42", c.Now()); err != nil {
				t.Fatal(err)
			}
			code, body := serveOnce(t, srv)
			want := "session " + rec.ID + " was revoked by " + aliceARN + " at 2026-11-02T09:30:00Z: incident 42"
			if code != http.StatusForbidden || body["code"] != "SessionRevoked" || body["message"] != want {
				t.Errorf("after revoke: %d %v, want 403 SessionRevoked %q", code, body, want)
			}
		})
		t.Run("expired_session_is_denied", func(t *testing.T) {
			srv, rec := newSession(12)
			if err := store.Expire(ctx, rec.ID, c.Now()); err != nil {
				t.Fatal(err)
			}
			code, body := serveOnce(t, srv)
			if code != http.StatusForbidden || body["code"] != "SessionExpired" || body["message"] != "session "+rec.ID+" is expired, not active" {
				t.Errorf("after expiry: %d %v", code, body)
			}
		})
		t.Run("missing_record_is_denied", func(t *testing.T) {
			srv, _ := newSession(13)
			srv.source.(*serverSession).record.ID = "ffffffffffffffff"
			code, body := serveOnce(t, srv)
			if code != http.StatusForbidden || body["code"] != "SessionNotFound" ||
				body["message"] != "read session ffffffffffffffff from table "+store.Table+": no such session record" {
				t.Errorf("missing record: %d %v", code, body)
			}
		})
		t.Run("unreachable_table_is_a_server_error", func(t *testing.T) {
			srv, _ := newSession(14)
			s := srv.source.(*serverSession)
			s.store = &SessionStore{DB: db, Table: "no-such-table"}
			s.policyPath = writeFile(t, t.TempDir(), "policy.yaml", "version: \"1\"\nrules:\n  - {name: tracked, effect: require_server_session, session_table: no-such-table}\n")
			code, body := serveOnce(t, srv)
			if code != http.StatusInternalServerError || body["code"] != "InternalError" || !strings.HasPrefix(body["message"], "read session "+s.record.ID+" from table no-such-table: ") {
				t.Errorf("missing table: %d %v", code, body)
			}
		})
	})
}
