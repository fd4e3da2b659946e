package awsclient

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// isolate points the SDK at an empty home: no shared files, no environment credentials.
func isolate(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_MAX_ATTEMPTS", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_SSO"} {
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
	t.Run("unknown_profile_names_it_and_the_files", func(t *testing.T) {
		home := isolate(t)
		_, err := Load(context.Background(), Options{Profile: "nosuch"})
		want := "load AWS configuration for profile nosuch: profile nosuch is in neither the AWS config file " + filepath.Join(home, "config") +
			" nor the credentials file " + filepath.Join(home, "credentials") + "; add it there, or name a profile that exists (aws configure list-profiles): " +
			"failed to get shared config profile, nosuch"
		if err == nil || err.Error() != want {
			t.Fatalf("err = %v\nwant %s", err, want)
		}
	})
	t.Run("unknown_source_profile_is_the_one_named", func(t *testing.T) {
		home := isolate(t)
		writeConfig(t, home, "[profile prod]\nrole_arn = arn:aws:iam::111122223333:role/prod\nsource_profile = base\n")
		_, err := Load(context.Background(), Options{Profile: "prod"})
		if err == nil || !strings.HasPrefix(err.Error(), "load AWS configuration for profile prod: profile base is in neither the AWS config file") {
			t.Fatalf("err = %v", err)
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
	const alice, role = "arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:role/prod"
	denied := func(action string) error {
		return &smithy.GenericAPIError{Code: "AccessDenied", Message: "User: " + alice + " is not authorized to perform: " + action + " on resource: " + role}
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"access_denied_points_at_the_permissions", &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"},
			"list x: the credentials lack a permission; check their policies, or use other credentials (--aws-profile, AWS_PROFILE): AccessDenied: no"},
		{"role_that_cannot_be_assumed_points_at_its_trust_policy", denied("sts:AssumeRole"),
			"list x: the role cannot be assumed with these credentials; check that the role's trust policy names the caller and allows sts:AssumeRole and sts:SetSourceIdentity, " +
				"that its conditions hold (MFA: set mfa_serial in the profile), and that the caller's policies allow sts:AssumeRole on the role: " +
				"AccessDenied: User: " + alice + " is not authorized to perform: sts:AssumeRole on resource: " + role},
		{"trust_policy_without_set_source_identity_says_to_add_it", denied("sts:SetSourceIdentity"),
			"list x: the role's trust policy does not allow sts:SetSourceIdentity; add sts:SetSourceIdentity beside sts:AssumeRole in the role's trust policy " +
				"(Sentinel sets a SourceIdentity on every issuance): AccessDenied: User: " + alice + " is not authorized to perform: sts:SetSourceIdentity on resource: " + role},
		{"wrong_mfa_code_says_to_wait_for_the_next", &smithy.GenericAPIError{Code: "AccessDenied", Message: "MultiFactorAuthentication failed with invalid MFA one time pass code. "},
			"list x: the MFA code was not accepted; enter the code your MFA device shows now (each code works only once: after a failure, wait for the next one): " +
				"AccessDenied: MultiFactorAuthentication failed with invalid MFA one time pass code. "},
		{"unknown_mfa_device_points_at_mfa_serial", &smithy.GenericAPIError{Code: "AccessDenied", Message: "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial number is valid and associated with this user."},
			"list x: mfa_serial names no MFA device of the user behind these credentials; set mfa_serial to the ARN of your MFA device (aws iam list-mfa-devices): " +
				"AccessDenied: MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial number is valid and associated with this user."},
		{"mfa_session_from_temporary_credentials_says_why_not", &smithy.GenericAPIError{Code: "AccessDenied", Message: "Cannot call GetSessionToken with session credentials"},
			"list x: STS starts MFA sessions only for an IAM user's long-term keys, and these credentials are temporary (an SSO, role or other session); " +
				"give the profile's source_profile long-term keys, or remove mfa_serial where the source already authenticates (SSO): AccessDenied: Cannot call GetSessionToken with session credentials"},
		{"expired_credentials_say_to_renew_them", &smithy.GenericAPIError{Code: "ExpiredToken", Message: "The security token included in the request is expired"},
			"list x: the credentials have expired; get new ones (aws sso login, a new MFA code, fresh keys) and run again: ExpiredToken: The security token included in the request is expired"},
		{"unknown_key_says_to_check_it", &smithy.GenericAPIError{Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."},
			"list x: AWS does not accept the access key or its secret (deleted, mistyped, or of another partition); check the credentials in use (aws configure list) or pick others: " +
				"InvalidClientTokenId: The security token included in the request is invalid."},
		{"role_chaining_over_an_hour_says_to_ask_for_less", &smithy.GenericAPIError{Code: "ValidationError", Message: "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."},
			"list x: the base credentials are themselves a role session (an SSO login, an assumed role), and STS lets a role assumed with them (role chaining) last 1 hour at most; " +
				"ask for 1h or less: --server-duration 1h, or duration_seconds = 3600 or less in the profile: ValidationError: The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."},
		{"duration_over_the_roles_maximum_says_to_ask_for_less", &smithy.GenericAPIError{Code: "ValidationError", Message: "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
			"list x: the role's maximum session duration is shorter than the duration asked for; ask for less (--server-duration, or duration_seconds in the profile), or raise the role's MaxSessionDuration: " +
				"ValidationError: The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
		{"other_validation_errors_pass_through", &smithy.GenericAPIError{Code: "ValidationError", Message: "1 validation error detected"}, "list x: ValidationError: 1 validation error detected"},
		{"root_credentials_say_to_use_a_user", &smithy.GenericAPIError{Code: "AccessDenied", Message: "Roles may not be assumed by root accounts."},
			"list x: these are the account root user's credentials, and AWS lets no root user assume a role (nor a session the root user started); " +
				"use an IAM user's keys or an SSO login as the base credentials (the profile's source_profile, or --aws-profile): AccessDenied: Roles may not be assumed by root accounts."},
		{"missing_bucket_points_at_the_endpoint", &smithy.GenericAPIError{Code: "NoSuchBucket"}, "list x: no such bucket; check the name, or the endpoint with --endpoint-url: NoSuchBucket"},
		{"missing_table_points_at_the_region", &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "gone"}, "list x: no such table; check the table name and --region: ResourceNotFoundException: gone"},
		{"no_credentials_says_how_to_give_them", errors.New("failed to refresh cached credentials, no EC2 IMDS role found"),
			"list x: no AWS credentials found; name a profile that has some (AWS_PROFILE, --aws-profile, or the source_profile of the profile Sentinel assumes) or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: failed to refresh cached credentials, no EC2 IMDS role found"},
		{"other_errors_pass_through", errors.New("boom"), "list x: boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Describe("list x", tc.err)
			if got := err.Error(); got != tc.want {
				t.Fatalf("got  %q\nwant %q", got, tc.want)
			}
			if !errors.Is(err, tc.err) {
				t.Error("the description does not wrap the SDK's error")
			}
		})
	}
}

// TestUnreachableEndpointIsNamed: a call that never reaches its endpoint names it and where it
// came from, then gives the SDK's text.
func TestUnreachableEndpointIsNamed(t *testing.T) {
	closed := closedEndpoint(t)
	for _, tc := range []struct {
		name, flag string
		env        map[string]string
		source     string
	}{
		{name: "endpoint_url_flag", flag: closed, source: " (from --endpoint-url)"},
		{name: "service_variable", env: map[string]string{"AWS_ENDPOINT_URL_STS": closed, "AWS_ENDPOINT_URL": "http://elsewhere.invalid"}, source: " (from AWS_ENDPOINT_URL_STS)"},
		{name: "variable_for_all", env: map[string]string{"AWS_ENDPOINT_URL": closed}, source: " (from AWS_ENDPOINT_URL)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIATESTTESTTESTTEST")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			c, err := Load(context.Background(), Options{Region: "us-east-1", EndpointURL: tc.flag, MaxAttempts: 1})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.STS().GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			want := "sts get-caller-identity: cannot reach the AWS endpoint " + closed + tc.source +
				"; check that URL, the network and any proxy (HTTPS_PROXY, NO_PROXY): operation error STS: GetCallerIdentity, "
			if got := Describe("sts get-caller-identity", err).Error(); !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "connection refused") {
				t.Fatalf("got  %s\nwant %s...connection refused", got, want)
			}
		})
	}
	t.Run("aws_endpoint_says_to_check_the_network", func(t *testing.T) {
		err := &unreachableError{endpoint: "https://sts.us-east-1.amazonaws.com", err: errors.New("request send failed")}
		want := "sts get-caller-identity: cannot reach the AWS endpoint https://sts.us-east-1.amazonaws.com; check the network and any proxy (HTTPS_PROXY, NO_PROXY), and the region: request send failed"
		if got := Describe("sts get-caller-identity", err).Error(); got != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	})
}

// closedEndpoint is the URL of a local port nothing listens on.
func closedEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()
	return url
}

func TestS3Client(t *testing.T) {
	isolate(t)
	c, err := Load(context.Background(), Options{Region: "us-east-1", MaxAttempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	o := c.S3().Options()
	t.Run("slowdown_is_paced_by_the_adaptive_retryer", func(t *testing.T) {
		if _, ok := o.Retryer.(*retry.AdaptiveMode); !ok {
			t.Fatalf("retryer %T", o.Retryer)
		}
		if o.Retryer.MaxAttempts() != 5 {
			t.Errorf("%d attempts", o.Retryer.MaxAttempts())
		}
	})
	t.Run("connections_for_every_read_in_flight_are_kept", func(t *testing.T) {
		hc, ok := o.HTTPClient.(*awshttp.BuildableClient)
		if !ok || hc.GetTransport().MaxIdleConnsPerHost < S3Connections {
			t.Fatalf("client %T", o.HTTPClient)
		}
	})
}
