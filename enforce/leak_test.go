package enforce

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestNoSecretInLogsOrErrors: the credential server's log, its error answers and the printed
// forms of credentials never hold the bearer token, the secret key or the session token.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	secrets := []string{testToken, fixedCreds.SecretAccessKey + "-long-unique", fixedCreds.SessionToken + "-long-unique"}
	creds := fixedCreds
	creds.SecretAccessKey, creds.SessionToken = secrets[1], secrets[2]
	var log bytes.Buffer
	calls := 0
	srv := newServer(testToken, sourceFunc(func(context.Context) (Credentials, error) {
		calls++
		if calls == 2 {
			return Credentials{}, errors.New("session expired")
		}
		return creds, nil
	}), &log)
	var answers bytes.Buffer
	for _, auth := range []string{testToken, testToken, "wrong", "", testToken[:5]} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = "127.0.0.1:40000"
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			answers.Write(rec.Body.Bytes())
		}
	}
	printed := fmt.Sprintf("%v %+v %#v %s", creds, creds, creds, creds)
	for _, s := range secrets {
		if strings.Contains(log.String(), s) {
			t.Errorf("the server log holds a secret: %s", log.String())
		}
		if strings.Contains(answers.String(), s) {
			t.Errorf("an error answer holds a secret: %s", answers.String())
		}
		if strings.Contains(printed, s) {
			t.Errorf("printed credentials hold a secret: %s", printed)
		}
	}
	if answers.Len() == 0 {
		t.Fatal("no failed request was answered")
	}
}
