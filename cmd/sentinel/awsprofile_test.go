package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sentinel-audit/sentinel/internal/testenv"
)

// TestEveryAWSCommandTakesAnAWSProfile: every command that calls AWS takes --aws-profile (and
// --region): the profile reaches the SDK, which names it when it is unknown.
func TestEveryAWSCommandTakesAnAWSProfile(t *testing.T) {
	wh := filepath.Join(t.TempDir(), "wh")
	sentinel(t, nil, "--warehouse", wh, "ingest", "--sessions-file", fixtures+"/sessions").mustExit(t, 0)
	aws := []string{"--aws-profile", "nosuch", "--region", "eu-west-1"}
	issue := append([]string{"--profile", "prod", "--policy", fixtures + "/policy.yaml", "--aws-config", fixtures + "/aws-config"}, aws...)
	join := func(parts ...[]string) []string { return slices.Concat(parts...) }
	for name, args := range map[string][]string{
		"ingest":                   join([]string{"--warehouse", wh, "ingest", "--source", "api"}, aws),
		"audit_session_compliance": join([]string{"--warehouse", wh, "audit", "session-compliance"}, aws),
		"audit_untracked_sessions": join([]string{"--warehouse", wh, "audit", "untracked-sessions"}, aws),
		"audit_activity":           join([]string{"--warehouse", wh, "audit", "activity"}, aws),
		"export":                   join([]string{"--warehouse", wh, "export", "--to", "s3://acme/evidence"}, aws),
		"export_verify":            join([]string{"export", "verify"}, aws, []string{"s3://acme/evidence"}),
		"exec":                     join([]string{"exec"}, issue, []string{"--", "true"}),
		"credentials":              join([]string{"credentials"}, issue),
		"server_sessions":          join([]string{"server-sessions", "--table", "sentinel-sessions"}, aws),
		"server_revoke":            join([]string{"server-revoke", "0123456789abcdef", "--reason", "stolen", "--table", "sentinel-sessions"}, aws),
	} {
		t.Run(name, func(t *testing.T) {
			r := sentinel(t, nil, args...).mustExit(t, 2)
			if !strings.Contains(r.stderr, "profile nosuch is in neither the AWS config file") {
				t.Fatalf("stderr: %s", r.stderr)
			}
		})
	}
}

// TestAWSProfileGivesTheCredentials: with no credentials in the environment, --aws-profile's
// credentials reach the session table.
func TestAWSProfileGivesTheCredentials(t *testing.T) {
	testenv.EachDynamoDB(t, func(t *testing.T, endpoint string) {
		table := "sentinel-sessions-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
		createSessionsTable(t, endpoint, table)
		dir := t.TempDir()
		creds := filepath.Join(dir, "credentials")
		if err := os.WriteFile(creds, []byte("[auditor]\naws_access_key_id = AKIATESTTESTTESTTEST\naws_secret_access_key = test-secret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		env := []string{"AWS_SHARED_CREDENTIALS_FILE=" + creds, "AWS_ENDPOINT_URL_DYNAMODB=" + endpoint}
		r := sentinel(t, env, "server-sessions", "--table", table, "--region", "us-east-1", "--aws-profile", "auditor", "--since", "2026-11-01", "--json").mustExit(t, 0)
		if !strings.Contains(r.stdout, `"id": "0a1b2c3d4e5f6a7b"`) {
			t.Fatalf("stdout %s\nstderr %s", r.stdout, r.stderr)
		}
		r = sentinel(t, env, "server-sessions", "--table", table, "--region", "us-east-1", "--since", "2026-11-01").mustExit(t, 2)
		if !strings.Contains(r.stderr, "no AWS credentials found; name a profile that has some (AWS_PROFILE, --aws-profile") {
			t.Fatalf("without the profile: %s", r.stderr)
		}
	})
}
