package awsclient

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/sentinel-audit/sentinel/internal/emulator/ssoportal"
	stsemu "github.com/sentinel-audit/sentinel/internal/emulator/sts"
)

func writeConfig(t *testing.T, home, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(home, "config"), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

const ssoConfig = `[profile dev]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Admin

[profile prod]
role_arn = arn:aws:iam::111122223333:role/prod
source_profile = dev

[profile empty]
region = us-east-1

[sso-session corp]
sso_start_url = https://example.awsapps.com/start
sso_region = eu-west-1
`

// TestCredentialErrors: failures to get credentials, met on the first call of any client, say what
// is wrong and what to do, naming the profile to log in with, then the SDK's text.
func TestCredentialErrors(t *testing.T) {
	now := time.Now()
	emu := stsemu.New(stsemu.Options{AllowAnyRole: true})
	stsURL, stopSTS, err := emu.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopSTS)
	portal := ssoportal.New(ssoportal.Options{Issued: func(c ssoportal.Credentials) { emu.SetCaller(c.AccessKeyID, c.ARN, "", "") }})
	portal.AddToken("alice-token", "alice", now.Add(time.Hour))
	portal.Grant("alice", "111122223333", "Admin")
	ssoURL, stopSSO, err := portal.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopSSO)

	login := func(home string, token string, expires time.Time) {
		if err := ssoportal.WriteTokenCache(home, "corp", "https://example.awsapps.com/start", "eu-west-1", token, expires); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		profile string
		login   func(home string)
		config  string
		want    string // the error's text up to the SDK's; "" for success
	}{
		{"sso_login_gives_credentials", "dev", func(h string) { login(h, "alice-token", now.Add(time.Hour)) }, "", ""},
		{"missing_sso_login_says_to_log_in", "dev", nil, "",
			"who: profile dev has no AWS SSO login on this machine; run aws sso login --profile dev: "},
		{"expired_sso_login_says_to_log_in", "dev", func(h string) { login(h, "alice-token", now.Add(-time.Minute)) }, "",
			"who: the AWS SSO login of profile dev has expired; run aws sso login --profile dev: "},
		{"sso_login_of_a_source_profile_names_that_profile", "prod", func(h string) { login(h, "alice-token", now.Add(-time.Minute)) }, "",
			"who: the AWS SSO login of profile dev has expired; run aws sso login --profile dev: "},
		{"login_the_portal_forgot_says_to_log_in", "dev", func(h string) { login(h, "forgotten-token", now.Add(time.Hour)) }, "",
			"who: the AWS SSO portal no longer accepts the login of profile dev; run aws sso login --profile dev: "},
		{"sso_role_not_granted_names_it", "dev", func(h string) { login(h, "alice-token", now.Add(time.Hour)) },
			"[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Billing\n\n[sso-session corp]\nsso_start_url = https://example.awsapps.com/start\nsso_region = eu-west-1\n",
			"who: the SSO user of profile dev may not use role Billing in account 111122223333; ask for access to it, or fix sso_account_id and sso_role_name: "},
		{"profile_without_credentials_says_how_to_give_them", "empty", nil, "",
			"who: profile empty gives no AWS credentials; give it keys (aws configure --profile empty), an SSO login (aws configure sso), credential_process or a source_profile: "},
		{"no_credentials_at_all_says_how_to_give_them", "", nil, "",
			"who: no AWS credentials found; name a profile that has some (AWS_PROFILE, --aws-profile, or the source_profile of the profile Sentinel assumes) or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := isolate(t)
			t.Setenv("AWS_ENDPOINT_URL_SSO", ssoURL)
			t.Setenv("AWS_ENDPOINT_URL_STS", stsURL)
			config := ssoConfig
			if tt.config != "" {
				config = tt.config
			}
			writeConfig(t, home, config)
			if tt.login != nil {
				tt.login(home)
			}
			c, err := Load(context.Background(), Options{Profile: tt.profile, Region: "us-east-1"})
			if err != nil {
				t.Fatal(err)
			}
			out, err := c.STS().GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			if tt.want == "" {
				if err != nil || *out.Arn != portal.Issued()[len(portal.Issued())-1].ARN {
					t.Fatalf("caller %v, %v; want the SSO session", out, err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			described := Describe("who", err)
			if got := described.Error(); got != tt.want+Message(err) {
				t.Fatalf("got  %s\nwant %s...", got, tt.want)
			}
			var ce *credentialsError
			if !errors.As(described, &ce) {
				t.Error("the description does not wrap the SDK's error")
			}
		})
	}
}
