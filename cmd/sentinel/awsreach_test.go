package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// noAWSEndpoint is an AWS endpoint that counts the requests it gets and answers none usefully.
func noAWSEndpoint(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusForbidden)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &calls
}

// TestExecChecksItsFlagsBeforeAWS: flags of the credential server that do not apply (without
// --server; --mfa-session-duration for a profile without mfa_serial) and durations STS would
// refuse are usage errors (exit 2) before any AWS call.
func TestExecChecksItsFlagsBeforeAWS(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.yaml")
	awsConfig := filepath.Join(dir, "aws-config")
	for path, content := range map[string]string{
		policy:    "version: \"1\"\nrules:\n  - {name: open, effect: allow}\n",
		awsConfig: "[profile prod-mfa]\nrole_arn = arn:aws:iam::111122223333:role/prod\nmfa_serial = arn:aws:iam::111122223333:mfa/alice\n\n[profile prod]\nrole_arn = arn:aws:iam::111122223333:role/prod\n",
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	endpoint, calls := noAWSEndpoint(t)
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"mfa_session_over_36h": {[]string{"--server", "--profile", "prod-mfa", "--mfa-session-duration", "48h"},
			"sentinel: --mfa-session-duration 48h0m0s is out of range: STS starts MFA sessions of 15m0s to 36h0m0s\n"},
		"mfa_session_without_server": {[]string{"--profile", "prod-mfa", "--mfa-session-duration", "2h"},
			"sentinel: --mfa-session-duration is for the credential server, and it is given without --server: add --server, or drop --mfa-session-duration\n"},
		"server_duration_without_server": {[]string{"--profile", "prod", "--server-duration", "1h"},
			"sentinel: --server-duration is for the credential server, and it is given without --server: add --server, or drop --server-duration\n"},
		"mfa_session_without_mfa_serial": {[]string{"--server", "--profile", "prod", "--mfa-session-duration", "2h"},
			"sentinel: --mfa-session-duration is given, but profile prod has no mfa_serial in " + awsConfig +
				", so the server starts no MFA session: drop --mfa-session-duration, or set mfa_serial to the ARN of the MFA device the role requires\n"},
	} {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"exec", "--policy", policy, "--aws-config", awsConfig, "--endpoint-url", endpoint}, tc.args...)
			r := sentinel(t, awsEnv(), append(args, "--", "true")...).mustExit(t, 2)
			if r.stderr != tc.want || r.stdout != "" {
				t.Errorf("stderr %q\nwant   %q", r.stderr, tc.want)
			}
		})
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("%d requests reached AWS", n)
	}
}

// TestUnreachableEndpointIsWorded: an endpoint nothing answers at is named, with where it came
// from and what to check, then the SDK's text.
func TestUnreachableEndpointIsWorded(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.yaml")
	awsConfig := filepath.Join(dir, "aws-config")
	os.WriteFile(policy, []byte("version: \"1\"\nrules:\n  - {name: open, effect: allow}\n"), 0o600)
	os.WriteFile(awsConfig, []byte("[profile prod]\nrole_arn = arn:aws:iam::111122223333:role/prod\n"), 0o600)
	for name, tc := range map[string]struct {
		env  []string
		args []string
		want string
	}{
		"aws_endpoint_url": {[]string{"AWS_ENDPOINT_URL=" + closed}, []string{"credentials", "--policy", policy, "--aws-config", awsConfig, "--profile", "prod"},
			"sentinel: profile prod: base credentials (the SDK's default credential chain): sts get-caller-identity: cannot reach the AWS endpoint " + closed +
				" (from AWS_ENDPOINT_URL); check that URL, the network and any proxy (HTTPS_PROXY, NO_PROXY): operation error STS: GetCallerIdentity, "},
		"endpoint_url_flag": {nil, []string{"server-sessions", "--session-table", "t", "--endpoint-url", closed},
			"sentinel: scan session table t: cannot reach the AWS endpoint " + closed + " (from --endpoint-url); check that URL, the network and any proxy (HTTPS_PROXY, NO_PROXY): operation error DynamoDB: Scan, "},
	} {
		t.Run(name, func(t *testing.T) {
			r := sentinel(t, awsEnv(append(tc.env, "AWS_MAX_ATTEMPTS=1")...), tc.args...).mustExit(t, 2)
			if !strings.HasPrefix(r.stderr, tc.want) || !strings.HasSuffix(r.stderr, "connection refused\n") || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("stderr %q\nwant   %q...connection refused", r.stderr, tc.want)
			}
		})
	}
}

// TestSDKLogLinesStayOffStderr: the SDK's own log lines (IMDS falling back to IMDSv1, where the
// credential chain ends) do not reach stderr: only Sentinel's error does.
func TestSDKLogLinesStayOffStderr(t *testing.T) {
	imds := httptest.NewServer(http.NotFoundHandler())
	defer imds.Close()
	endpoint, _ := noAWSEndpoint(t)
	r := sentinel(t, []string{"AWS_EC2_METADATA_DISABLED=false", "AWS_EC2_METADATA_SERVICE_ENDPOINT=" + imds.URL, "AWS_MAX_ATTEMPTS=1"},
		"server-sessions", "--session-table", "t", "--region", "us-east-1", "--endpoint-url", endpoint).mustExit(t, 2)
	if !strings.HasPrefix(r.stderr, "sentinel: scan session table t: no AWS credentials found; ") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr %q: want Sentinel's error alone", r.stderr)
	}
}
