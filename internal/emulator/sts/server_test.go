package sts_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/sentinel-audit/sentinel/internal/emulator/sts"
)

const (
	aliceKey  = "AKIAALICEEXAMPLE0001"
	aliceARN  = "arn:aws:iam::111111111111:user/alice"
	prodRole  = "arn:aws:iam::222222222222:role/prod-admin"
	auditRole = "arn:aws:iam::222222222222:role/audit/read-only"
	sourceID  = "sentinel-s-0123456789abcdef-alice"
)

var epoch = time.Date(2026, 11, 23, 19, 15, 0, 0, time.UTC)

// clock is a settable emulated present.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// fixture is an STS emulator with alice as a registered caller and two roles.
type fixture struct {
	srv      *sts.Server
	clock    *clock
	endpoint string
}

func newFixture(t *testing.T, opts sts.Options) *fixture {
	t.Helper()
	f := &fixture{clock: &clock{t: epoch}}
	opts.Now = f.clock.Now
	if opts.Rand == nil {
		opts.Rand = rand.NewChaCha8([32]byte{1})
	}
	f.srv = sts.New(opts)
	f.srv.SetCaller(aliceKey, aliceARN, "111111111111", "AIDAALICEEXAMPLE00001")
	f.srv.AddRole(prodRole, 12*time.Hour)
	f.srv.AddRole(auditRole, 0)
	endpoint, stop, err := f.srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	f.endpoint = endpoint
	return f
}

// client is the real SDK STS client signing with the given credentials.
func (f *fixture) client(t *testing.T, key, secret, token string) *awssts.Client {
	t.Helper()
	none := filepath.Join(t.TempDir(), "no-such-file")
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("eu-central-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(key, secret, token)),
		config.WithSharedConfigFiles([]string{none}),
		config.WithSharedCredentialsFiles([]string{none}),
		config.WithBaseEndpoint(f.endpoint),
	)
	if err != nil {
		t.Fatal(err)
	}
	return awssts.NewFromConfig(cfg)
}

func (f *fixture) alice(t *testing.T) *awssts.Client {
	return f.client(t, aliceKey, "alice-secret-never-shown", "")
}

// record returns the i-th CloudTrail record as generic JSON.
func (f *fixture) record(t *testing.T, i int) map[string]any {
	t.Helper()
	records := f.srv.CloudTrailRecords()
	if i >= len(records) {
		t.Fatalf("only %d CloudTrail records", len(records))
	}
	var m map[string]any
	if err := json.Unmarshal(records[i], &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// at walks a JSON path like "userIdentity.sessionContext.sourceIdentity".
func at(m map[string]any, path string) any {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[k]
	}
	return v
}

func errorCode(err error) (code string, status int) {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code = apiErr.ErrorCode()
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		status = respErr.HTTPStatusCode()
	}
	return code, status
}

func TestAssumeRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("issues_a_session_with_source_identity", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, sts.Options{})
		out, err := f.alice(t).AssumeRole(ctx, &awssts.AssumeRoleInput{
			RoleArn:         aws.String(prodRole),
			RoleSessionName: aws.String("alice-session"),
			DurationSeconds: aws.Int32(7200),
			SourceIdentity:  aws.String(sourceID),
		})
		if err != nil {
			t.Fatal(err)
		}
		c := out.Credentials
		if !regexp.MustCompile(`^ASIA[A-Z2-7]{16}$`).MatchString(*c.AccessKeyId) || len(*c.SecretAccessKey) != 40 || len(*c.SessionToken) < 100 {
			t.Errorf("credentials look wrong: key %q, secret %d chars, token %d chars", *c.AccessKeyId, len(*c.SecretAccessKey), len(*c.SessionToken))
		}
		if !c.Expiration.Equal(epoch.Add(2 * time.Hour)) {
			t.Errorf("expiration = %v, want %v", c.Expiration, epoch.Add(2*time.Hour))
		}
		if got := *out.AssumedRoleUser.Arn; got != "arn:aws:sts::222222222222:assumed-role/prod-admin/alice-session" {
			t.Errorf("assumed role ARN = %s", got)
		}
		if id := *out.AssumedRoleUser.AssumedRoleId; !regexp.MustCompile(`^AROA[A-Z2-7]{17}:alice-session$`).MatchString(id) {
			t.Errorf("assumed role id = %s", id)
		}
		if aws.ToString(out.SourceIdentity) != sourceID {
			t.Errorf("source identity = %v, want %s", out.SourceIdentity, sourceID)
		}

		iss := f.srv.Issuances()
		want := sts.Issuance{
			Time: epoch, Region: "eu-central-1", RequestID: iss[0].RequestID,
			Caller:  sts.Identity{AccessKeyID: aliceKey, ARN: aliceARN, Account: "111111111111", UserID: "AIDAALICEEXAMPLE00001"},
			RoleARN: prodRole, SessionName: "alice-session", SourceIdentity: sourceID, Duration: 2 * time.Hour,
			AccessKeyID: *c.AccessKeyId, Expiration: epoch.Add(2 * time.Hour),
		}
		if len(iss) != 1 || iss[0] != want {
			t.Errorf("issuances = %+v\nwant [%+v]", iss, want)
		}

		rec := f.record(t, 0)
		for path, want := range map[string]any{
			"eventVersion":                                   "1.08",
			"userIdentity.type":                              "IAMUser",
			"userIdentity.principalId":                       "AIDAALICEEXAMPLE00001",
			"userIdentity.arn":                               aliceARN,
			"userIdentity.accountId":                         "111111111111",
			"userIdentity.accessKeyId":                       aliceKey,
			"userIdentity.userName":                          "alice",
			"eventTime":                                      "2026-11-23T19:15:00Z",
			"eventSource":                                    "sts.amazonaws.com",
			"eventName":                                      "AssumeRole",
			"awsRegion":                                      "eu-central-1",
			"sourceIPAddress":                                "127.0.0.1",
			"requestParameters.roleArn":                      prodRole,
			"requestParameters.roleSessionName":              "alice-session",
			"requestParameters.durationSeconds":              7200.0,
			"requestParameters.sourceIdentity":               sourceID,
			"responseElements.credentials.accessKeyId":       *c.AccessKeyId,
			"responseElements.credentials.sessionToken":      *c.SessionToken,
			"responseElements.credentials.expiration":        "Nov 23, 2026, 9:15:00 PM",
			"responseElements.assumedRoleUser.arn":           *out.AssumedRoleUser.Arn,
			"responseElements.assumedRoleUser.assumedRoleId": *out.AssumedRoleUser.AssumedRoleId,
			"responseElements.sourceIdentity":                sourceID,
			"requestID":                                      iss[0].RequestID,
			"readOnly":                                       true,
			"eventType":                                      "AwsApiCall",
			"managementEvent":                                true,
			"recipientAccountId":                             "222222222222",
			"eventCategory":                                  "Management",
			"tlsDetails.tlsVersion":                          "TLSv1.3",
		} {
			if got := at(rec, path); got != want {
				t.Errorf("record %s = %#v, want %#v", path, got, want)
			}
		}
		if ua, _ := rec["userAgent"].(string); !strings.Contains(ua, "aws-sdk-go-v2") {
			t.Errorf("userAgent = %q, want the SDK's", ua)
		}
		if id, _ := rec["eventID"].(string); !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
			t.Errorf("eventID = %q, want a UUID", id)
		}
		if _, ok := rec["errorCode"]; ok {
			t.Error("successful call has an errorCode")
		}
		if res := fmt.Sprint(rec["resources"]); res != "[map[ARN:"+prodRole+" accountId:222222222222 type:AWS::IAM::Role]]" {
			t.Errorf("resources = %s", res)
		}
		if strings.Contains(string(f.srv.CloudTrailRecords()[0]), *c.SecretAccessKey) {
			t.Error("the CloudTrail record contains the secret access key")
		}
	})

	t.Run("validates_like_sts", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, sts.Options{})
		client := f.alice(t)
		tests := []struct {
			name   string
			in     awssts.AssumeRoleInput
			code   string
			status int
			msg    string
		}{
			{"role_arn_too_short", awssts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::1:role"), RoleSessionName: aws.String("s1")},
				"ValidationError", 400, "Value 'arn:aws:iam::1:role' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20"},
			{"role_arn_not_a_role", awssts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:user/bob"), RoleSessionName: aws.String("s1")},
				"ValidationError", 400, "arn:aws:iam::222222222222:user/bob is invalid"},
			{"role_arn_bad_account", awssts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::2222:role/prod-admin"), RoleSessionName: aws.String("s1")},
				"ValidationError", 400, "is invalid"},
			{"session_name_too_short", awssts.AssumeRoleInput{RoleArn: aws.String(prodRole), RoleSessionName: aws.String("a")},
				"ValidationError", 400, "Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2"},
			{"session_name_too_long", awssts.AssumeRoleInput{RoleArn: aws.String(prodRole), RoleSessionName: aws.String(strings.Repeat("x", 65))},
				"ValidationError", 400, "Member must have length less than or equal to 64"},
			{"session_name_bad_character", awssts.AssumeRoleInput{RoleArn: aws.String(prodRole), RoleSessionName: aws.String("alice session")},
				"ValidationError", 400, `Member must satisfy regular expression pattern: [\w+=,.@-]*`},
			{"duration_below_900", awssts.AssumeRoleInput{RoleArn: aws.String(prodRole), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(899)},
				"ValidationError", 400, "Member must have value greater than or equal to 900"},
			{"duration_above_43200", awssts.AssumeRoleInput{RoleArn: aws.String(prodRole), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(43201)},
				"ValidationError", 400, "Member must have value less than or equal to 43200"},
			{"duration_above_role_max", awssts.AssumeRoleInput{RoleArn: aws.String(auditRole), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(3601)},
				"ValidationError", 400, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
			{"source_identity_with_colon", awssts.AssumeRoleInput{RoleArn: aws.String(prodRole), RoleSessionName: aws.String("s1"), SourceIdentity: aws.String("sentinel:s:1")},
				"ValidationError", 400, "Value 'sentinel:s:1' at 'sourceIdentity' failed to satisfy constraint"},
			{"source_identity_too_long", awssts.AssumeRoleInput{RoleArn: aws.String(prodRole), RoleSessionName: aws.String("s1"), SourceIdentity: aws.String(strings.Repeat("s", 65))},
				"ValidationError", 400, "at 'sourceIdentity' failed to satisfy constraint: Member must have length less than or equal to 64"},
			{"several_violations_at_once", awssts.AssumeRoleInput{RoleArn: aws.String(prodRole), RoleSessionName: aws.String("a b"), SourceIdentity: aws.String("x")},
				"ValidationError", 400, "2 validation errors detected: "},
			{"unregistered_role", awssts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/unknown"), RoleSessionName: aws.String("s1")},
				"AccessDenied", 403, "User: " + aliceARN + " is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/unknown"},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := client.AssumeRole(ctx, &tt.in)
				code, status := errorCode(err)
				if code != tt.code || status != tt.status {
					t.Fatalf("err = %v; want %s (HTTP %d)", err, tt.code, tt.status)
				}
				if !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("message %q does not contain %q", err.Error(), tt.msg)
				}
				if strings.Contains(err.Error(), "alice-secret") {
					t.Error("error message contains the caller's secret")
				}
				iss := f.srv.Issuances()[i]
				if iss.ErrorCode != tt.code || iss.AccessKeyID != "" {
					t.Errorf("issuance = %+v, want a failed one with code %s", iss, tt.code)
				}
				rec := f.record(t, i)
				if rec["errorCode"] != tt.code || rec["errorMessage"] == "" || rec["responseElements"] != nil {
					t.Errorf("record errorCode %v, errorMessage %v, responseElements %v; want %s, a message, null",
						rec["errorCode"], rec["errorMessage"], rec["responseElements"], tt.code)
				}
			})
		}
	})

	t.Run("any_role_when_allowed", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, sts.Options{AllowAnyRole: true})
		out, err := f.alice(t).AssumeRole(ctx, &awssts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::333333333333:role/team/dev"), RoleSessionName: aws.String("s1"),
		})
		if err != nil {
			t.Fatal(err)
		}
		if *out.AssumedRoleUser.Arn != "arn:aws:sts::333333333333:assumed-role/dev/s1" || !out.Credentials.Expiration.Equal(epoch.Add(time.Hour)) {
			t.Errorf("assumed %s until %v; want role dev for the default hour", *out.AssumedRoleUser.Arn, out.Credentials.Expiration)
		}
	})

	t.Run("role_chaining_keeps_the_source_identity", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, sts.Options{})
		first, err := f.alice(t).AssumeRole(ctx, &awssts.AssumeRoleInput{
			RoleArn: aws.String(prodRole), RoleSessionName: aws.String("alice-session"), SourceIdentity: aws.String(sourceID),
		})
		if err != nil {
			t.Fatal(err)
		}
		c := first.Credentials
		session := f.client(t, *c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)

		f.clock.Advance(10 * time.Minute)
		second, err := session.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(auditRole), RoleSessionName: aws.String("chained")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(second.SourceIdentity) != sourceID {
			t.Errorf("chained source identity = %v, want %s", second.SourceIdentity, sourceID)
		}
		if got := *second.AssumedRoleUser.Arn; got != "arn:aws:sts::222222222222:assumed-role/read-only/chained" {
			t.Errorf("chained ARN = %s (the role path is not part of it)", got)
		}
		rec := f.record(t, 1)
		for path, want := range map[string]any{
			"userIdentity.type":                                   "AssumedRole",
			"userIdentity.arn":                                    *first.AssumedRoleUser.Arn,
			"userIdentity.principalId":                            *first.AssumedRoleUser.AssumedRoleId,
			"userIdentity.accessKeyId":                            *c.AccessKeyId,
			"userIdentity.accountId":                              "222222222222",
			"userIdentity.sessionContext.sessionIssuer.type":      "Role",
			"userIdentity.sessionContext.sessionIssuer.arn":       prodRole,
			"userIdentity.sessionContext.sessionIssuer.userName":  "prod-admin",
			"userIdentity.sessionContext.attributes.creationDate": "2026-11-23T19:15:00Z",
			"userIdentity.sessionContext.sourceIdentity":          sourceID,
			"responseElements.sourceIdentity":                     sourceID,
			"eventTime":                                           "2026-11-23T19:25:00Z",
		} {
			if got := at(rec, path); got != want {
				t.Errorf("record %s = %#v, want %#v", path, got, want)
			}
		}
		if _, ok := at(rec, "requestParameters").(map[string]any)["sourceIdentity"]; ok {
			t.Error("requestParameters.sourceIdentity set although the request did not send one")
		}

		_, err = session.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(prodRole), RoleSessionName: aws.String("long"), DurationSeconds: aws.Int32(7200)})
		if code, _ := errorCode(err); code != "ValidationError" || !strings.Contains(err.Error(), "role chaining") {
			t.Errorf("chained 2h session: err = %v, want the 1 hour role chaining limit", err)
		}
		_, err = session.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(prodRole), RoleSessionName: aws.String("other"), SourceIdentity: aws.String("someone-else")})
		if code, status := errorCode(err); code != "AccessDenied" || status != 403 {
			t.Errorf("changing the source identity: err = %v, want AccessDenied", err)
		}
	})
}

func TestGetCallerIdentity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, sts.Options{})

	tests := []struct {
		name   string
		client *awssts.Client
		want   string
	}{
		{"registered_caller", f.alice(t), aliceARN + " 111111111111 AIDAALICEEXAMPLE00001"},
		{"unknown_key_is_a_default_user", f.client(t, "AKIAUNKNOWN000000000", "x", ""), "arn:aws:iam::123456789012:user/emulator-user 123456789012 AIDA"},
	}
	for _, tt := range tests {
		out, err := tt.client.GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := fmt.Sprint(*out.Arn, " ", *out.Account, " ", *out.UserId); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s: identity = %q, want %q", tt.name, got, tt.want)
		}
	}

	issued, err := f.alice(t).AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(prodRole), RoleSessionName: aws.String("alice-session")})
	if err != nil {
		t.Fatal(err)
	}
	c := issued.Credentials
	session := f.client(t, *c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	out, err := session.GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *out.Arn != *issued.AssumedRoleUser.Arn || *out.UserId != *issued.AssumedRoleUser.AssumedRoleId || *out.Account != "222222222222" {
		t.Errorf("issued session identity = %s %s %s", *out.Arn, *out.UserId, *out.Account)
	}

	t.Run("expired_session_is_ExpiredToken", func(t *testing.T) {
		f.clock.Advance(time.Hour)
		_, err := session.GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
		if code, _ := errorCode(err); code != "ExpiredToken" {
			t.Errorf("err = %v, want ExpiredToken", err)
		}
	})
	t.Run("revoked_key_is_ExpiredToken", func(t *testing.T) {
		f.srv.RevokeKey(aliceKey)
		_, err := f.alice(t).GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
		if code, _ := errorCode(err); code != "ExpiredToken" {
			t.Errorf("err = %v, want ExpiredToken", err)
		}
		if strings.Contains(err.Error(), aliceKey) {
			t.Error("the error names the access key")
		}
	})
	t.Run("unsupported_action_is_InvalidAction", func(t *testing.T) {
		_, err := f.client(t, "AKIAUNKNOWN000000000", "x", "").GetAccessKeyInfo(ctx, &awssts.GetAccessKeyInfoInput{AccessKeyId: aws.String("AKIAUNKNOWN000000000")})
		if code, status := errorCode(err); code != "InvalidAction" || status != 400 {
			t.Errorf("err = %v, want InvalidAction (HTTP 400)", err)
		}
	})
}

func TestTrailArchive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, sts.Options{})
	client := f.alice(t)
	assume := func(session string) {
		t.Helper()
		if _, err := client.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(prodRole), RoleSessionName: aws.String(session)}); err != nil {
			t.Fatal(err)
		}
	}
	assume("one")
	assume("two")
	f.clock.Advance(6 * time.Minute) // the next delivery window
	assume("three")
	_, _ = client.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(prodRole), RoleSessionName: aws.String("x")}) // fails, still logged

	dir := t.TempDir()
	if err := f.srv.TrailArchive(dir); err != nil {
		t.Fatal(err)
	}
	layout := regexp.MustCompile(`^AWSLogs/222222222222/CloudTrail/eu-central-1/2026/11/23/222222222222_CloudTrail_eu-central-1_20261123T(1915|1920)Z_[A-Za-z0-9]{16}\.json\.gz$`)
	perFile := map[string]int{}
	var sessions []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if !layout.MatchString(filepath.ToSlash(rel)) {
			t.Errorf("unexpected archive file %s", rel)
		}
		file, err := os.Open(path)
		if err != nil {
			return err
		}
		defer file.Close()
		zr, err := gzip.NewReader(file)
		if err != nil {
			return err
		}
		var doc struct {
			Records []map[string]any `json:"Records"`
		}
		if err := json.NewDecoder(zr).Decode(&doc); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		perFile[rel[len(rel)-30:len(rel)-26]] = len(doc.Records)
		for _, r := range doc.Records {
			sessions = append(sessions, fmt.Sprint(at(r, "requestParameters.roleSessionName"), "/", r["errorCode"]))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(perFile) != "map[1915:2 1920:2]" {
		t.Errorf("records per file (by HHMM) = %v, want map[1915:2 1920:2]", perFile)
	}
	if got := fmt.Sprint(sessions); got != "[one/<nil> two/<nil> three/<nil> x/ValidationError]" {
		t.Errorf("records = %s", got)
	}
}

func TestConcurrentIssuance(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sts.Options{})
	client := f.alice(t)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, err := client.AssumeRole(context.Background(), &awssts.AssumeRoleInput{
				RoleArn: aws.String(prodRole), RoleSessionName: aws.String(fmt.Sprintf("s%02d", i)),
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	keys := map[string]bool{}
	for _, iss := range f.srv.Issuances() {
		keys[iss.AccessKeyID] = true
	}
	if len(keys) != 20 || len(f.srv.CloudTrailRecords()) != 20 {
		t.Errorf("%d distinct keys, %d records; want 20 each", len(keys), len(f.srv.CloudTrailRecords()))
	}
}
