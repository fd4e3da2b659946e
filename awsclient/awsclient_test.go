package awsclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// isolate points the SDK at an empty home: no shared files, no environment credentials.
func isolate(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_MAX_ATTEMPTS", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("HOME", home)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return home
}

func TestLoad(t *testing.T) {
	t.Run("unknown_profile_is_named", func(t *testing.T) {
		isolate(t)
		_, err := Load(context.Background(), Options{Profile: "nosuch"})
		if err == nil || !strings.Contains(err.Error(), "profile nosuch") {
			t.Fatalf("err = %v, want it to name the profile", err)
		}
	})
	t.Run("default_region_applies_when_nothing_else_gives_one", func(t *testing.T) {
		isolate(t)
		c, err := Load(context.Background(), Options{DefaultRegion: "eu-west-1"})
		if err != nil {
			t.Fatal(err)
		}
		if c.SDK.Region != "eu-west-1" {
			t.Fatalf("region = %q", c.SDK.Region)
		}
	})
	t.Run("region_flag_beats_environment_and_default", func(t *testing.T) {
		isolate(t)
		t.Setenv("AWS_REGION", "us-west-2")
		c, err := Load(context.Background(), Options{Region: "ap-south-1", DefaultRegion: "eu-west-1"})
		if err != nil {
			t.Fatal(err)
		}
		if c.SDK.Region != "ap-south-1" {
			t.Fatalf("region = %q", c.SDK.Region)
		}
	})
}

// TestClientsShareEndpointAndRetries: every client goes to --endpoint-url and retries a
// throttled call exactly MaxAttempts times.
func TestClientsShareEndpointAndRetries(t *testing.T) {
	isolate(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIATESTTESTTESTTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>`))
	}))
	defer srv.Close()
	c, err := Load(context.Background(), Options{Region: "us-east-1", EndpointURL: srv.URL, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.STS().GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err == nil {
		t.Fatal("want the throttling error")
	}
	if got := calls.Load(); got != 3 {
		t.Fatalf("attempts = %d, want 3", got)
	}
	if got := Message(err); got != "Throttling: Rate exceeded" {
		t.Fatalf("Message = %q", got)
	}
}

func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"access_denied_points_at_the_profile", &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}, "list x: AccessDenied: no (check the credentials' permissions, or pick other ones with --aws-profile)"},
		{"missing_bucket_points_at_the_endpoint", &smithy.GenericAPIError{Code: "NoSuchBucket"}, "list x: NoSuchBucket (no such bucket: check the name, or the endpoint with --endpoint-url)"},
		{"missing_table_points_at_the_region", &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "gone"}, "list x: ResourceNotFoundException: gone (check the table name and --region)"},
		{"no_credentials_says_how_to_give_them", errors.New("failed to refresh cached credentials, no EC2 IMDS role found"), "list x: failed to refresh cached credentials, no EC2 IMDS role found (no AWS credentials found: set AWS_PROFILE / --aws-profile or AWS_ACCESS_KEY_ID)"},
		{"other_errors_pass_through", errors.New("boom"), "list x: boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Describe("list x", tc.err).Error(); got != tc.want {
				t.Fatalf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
