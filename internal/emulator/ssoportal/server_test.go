package ssoportal_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"

	"github.com/sentinel-audit/sentinel/internal/emulator/ssoportal"
)

const (
	account  = "111122223333"
	startURL = "https://example.awsapps.com/start"
)

// sdkCredentials loads profile dev (SSO role Admin through sso-session corp) with the SDK, its
// portal endpoint at the stand-in, the token cache below a fresh home, and retrieves credentials.
func sdkCredentials(t *testing.T, endpoint string, token string, expires time.Time, role string) (string, error) {
	t.Helper()
	home := t.TempDir()
	cfgFile := filepath.Join(home, "config")
	err := os.WriteFile(cfgFile, []byte("[profile dev]\nsso_session = corp\nsso_account_id = "+account+"\nsso_role_name = "+role+
		"\nregion = eu-west-1\n\n[sso-session corp]\nsso_start_url = "+startURL+"\nsso_region = eu-west-1\n"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("AWS_CONFIG_FILE", cfgFile)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "none"))
	t.Setenv("AWS_ENDPOINT_URL_SSO", endpoint)
	if err := ssoportal.WriteTokenCache(home, "corp", startURL, "eu-west-1", token, expires); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithSharedConfigProfile("dev"))
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	return creds.AccessKeyID, err
}

func TestGetRoleCredentialsThroughTheSDK(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	var heard []ssoportal.Credentials
	portal := ssoportal.New(ssoportal.Options{Issued: func(c ssoportal.Credentials) { mu.Lock(); heard = append(heard, c); mu.Unlock() }})
	portal.AddToken("alice-token", "alice", now.Add(time.Hour))
	portal.AddToken("stale-token", "alice", now.Add(-time.Minute))
	portal.Grant("alice", account, "Admin")
	endpoint, stop, err := portal.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)

	t.Run("logged_in_user_gets_the_role", func(t *testing.T) {
		key, err := sdkCredentials(t, endpoint, "alice-token", now.Add(time.Hour), "Admin")
		if err != nil {
			t.Fatal(err)
		}
		issued := portal.Issued()
		mu.Lock()
		defer mu.Unlock()
		if len(issued) != 1 || issued[0].AccessKeyID != key || len(heard) != 1 || heard[0] != issued[0] ||
			!strings.HasPrefix(issued[0].ARN, "arn:aws:sts::"+account+":assumed-role/AWSReservedSSO_Admin_") || !strings.HasSuffix(issued[0].ARN, "/alice") {
			t.Errorf("key %s, issued %+v", key, issued)
		}
	})
	for _, tt := range []struct {
		name, token string
		expires     time.Time
		role        string
		want        string
	}{
		{"expired_cache_fails_before_asking_the_portal", "alice-token", now.Add(-time.Minute), "Admin", "cached SSO token is expired"},
		{"token_the_portal_no_longer_knows_is_unauthorized", "stale-token", now.Add(time.Hour), "Admin", "UnauthorizedException"},
		{"role_not_granted_is_forbidden", "alice-token", now.Add(time.Hour), "Billing", "ForbiddenException"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := len(portal.Issued())
			_, err := sdkCredentials(t, endpoint, tt.token, tt.expires, tt.role)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %s", err, tt.want)
			}
			var api smithy.APIError
			if strings.HasSuffix(tt.want, "Exception") && (!errors.As(err, &api) || api.ErrorCode() != tt.want) {
				t.Errorf("error code of %v, want %s", err, tt.want)
			}
			if len(portal.Issued()) != before {
				t.Error("credentials issued")
			}
		})
	}
}
