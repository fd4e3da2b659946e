package sts_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/sentinel-audit/sentinel/internal/emulator/sts"
)

const aliceMFA = "arn:aws:iam::111111111111:mfa/alice"

var mfaSecret = []byte("12345678901234567890")

// mfaFixture is a fixture whose prod role requires MFA and where alice has a virtual MFA device.
func mfaFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, sts.Options{})
	f.srv.SetTrust(prodRole, sts.Trust{MFARequired: true})
	f.srv.AddMFADevice(aliceARN, aliceMFA, mfaSecret)
	return f
}

func TestMFACodeIsRFC6238(t *testing.T) {
	// The SHA-1 test vectors of RFC 6238, appendix B, cut to 6 digits.
	for _, tt := range []struct {
		unix int64
		want string
	}{{59, "287082"}, {1111111109, "081804"}, {1234567890, "005924"}, {2000000000, "279037"}} {
		if got := sts.MFACode(mfaSecret, time.Unix(tt.unix, 0)); got != tt.want {
			t.Errorf("MFACode at %d = %s, want %s", tt.unix, got, tt.want)
		}
	}
}

func TestAssumeRoleWithMFA(t *testing.T) {
	ctx := context.Background()
	assume := func(f *fixture, serial, code string) (*awssts.AssumeRoleOutput, error) {
		in := &awssts.AssumeRoleInput{RoleArn: aws.String(prodRole), RoleSessionName: aws.String("alice"), SourceIdentity: aws.String(sourceID)}
		if serial != "" {
			in.SerialNumber, in.TokenCode = aws.String(serial), aws.String(code)
		}
		return f.alice(t).AssumeRole(ctx, in)
	}
	tests := []struct {
		name    string
		serial  string
		code    func(now time.Time) string
		code2   string // the error code, "" for success
		message string
	}{
		{"role_requiring_mfa_denies_a_call_without_a_code", "", nil, "AccessDenied",
			"User: " + aliceARN + " is not authorized to perform: sts:AssumeRole on resource: " + prodRole},
		{"current_code_assumes_it", aliceMFA, func(now time.Time) string { return sts.MFACode(mfaSecret, now) }, "", ""},
		{"code_of_the_previous_step_is_still_accepted", aliceMFA, func(now time.Time) string { return sts.MFACode(mfaSecret, now.Add(-30*time.Second)) }, "", ""},
		{"code_two_steps_old_is_refused", aliceMFA, func(now time.Time) string { return sts.MFACode(mfaSecret, now.Add(-time.Minute)) }, "AccessDenied",
			"MultiFactorAuthentication failed with invalid MFA one time pass code."},
		{"device_of_nobody_is_refused", "arn:aws:iam::111111111111:mfa/mallory", func(now time.Time) string { return sts.MFACode(mfaSecret, now) }, "AccessDenied",
			"MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial number is valid and associated with this user."},
		{"malformed_code_is_a_validation_error", aliceMFA, func(time.Time) string { return "12a45" }, "ValidationError",
			"2 validation errors detected: Value '12a45' at 'tokenCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\d]*; " +
				"Value '12a45' at 'tokenCode' failed to satisfy constraint: Member must have length greater than or equal to 6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := mfaFixture(t)
			code := ""
			if tt.code != nil {
				code = tt.code(epoch)
			}
			out, err := assume(f, tt.serial, code)
			got, _ := errorCode(err)
			if got != tt.code2 || (err != nil && !strings.Contains(err.Error(), tt.message)) {
				t.Fatalf("err = %v, want %s %q", err, tt.code2, tt.message)
			}
			iss := f.srv.Issuances()
			if len(iss) != 1 || iss[0].MFA != (tt.code2 == "") || iss[0].ErrorCode != tt.code2 {
				t.Errorf("issuances %+v", iss)
			}
			if err == nil && aws.ToString(out.SourceIdentity) != sourceID {
				t.Errorf("source identity %v", out.SourceIdentity)
			}
		})
	}

	t.Run("a_code_works_only_once", func(t *testing.T) {
		t.Parallel()
		f := mfaFixture(t)
		code := sts.MFACode(mfaSecret, epoch)
		if _, err := assume(f, aliceMFA, code); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(10 * time.Second)
		_, err := assume(f, aliceMFA, code)
		if got, _ := errorCode(err); got != "AccessDenied" || !strings.Contains(err.Error(), "invalid MFA one time pass code") {
			t.Fatalf("reused code: %v", err)
		}
	})

	t.Run("trust_policy_admits_only_the_principals_it_names", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, sts.Options{})
		const bobKey = "AKIABOBEXAMPLE000001"
		f.srv.SetCaller(bobKey, "arn:aws:iam::111111111111:user/bob", "", "")
		f.srv.SetCaller("AKIACAROLEXAMPLE0001", "arn:aws:iam::999999999999:user/carol", "", "")
		f.srv.SetTrust(auditRole, sts.Trust{Principals: []string{aliceARN}})
		f.srv.SetTrust(prodRole, sts.Trust{Principals: []string{"arn:aws:iam::111111111111:root"}})
		for _, tt := range []struct {
			key, role string
			allowed   bool
		}{
			{aliceKey, auditRole, true}, {bobKey, auditRole, false}, {bobKey, prodRole, true}, {"AKIACAROLEXAMPLE0001", prodRole, false},
		} {
			_, err := f.client(t, tt.key, "secret", "").AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(tt.role), RoleSessionName: aws.String("ab")})
			if got, _ := errorCode(err); (err == nil) != tt.allowed || !tt.allowed && got != "AccessDenied" {
				t.Errorf("%s assuming %s: %v, allowed %v", tt.key, tt.role, err, tt.allowed)
			}
		}
	})

	t.Run("role_without_set_source_identity_denies_a_source_identity", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, sts.Options{})
		f.srv.SetTrust(auditRole, sts.Trust{NoSetSourceIdentity: true})
		_, err := f.alice(t).AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(auditRole), RoleSessionName: aws.String("ab"), SourceIdentity: aws.String(sourceID)})
		want := "User: " + aliceARN + " is not authorized to perform: sts:SetSourceIdentity on resource: " + auditRole
		if got, status := errorCode(err); got != "AccessDenied" || status != 403 || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want AccessDenied %q", err, want)
		}
		if _, err := f.alice(t).AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(auditRole), RoleSessionName: aws.String("ab")}); err != nil {
			t.Fatalf("without a source identity: %v", err)
		}
	})
}

func TestGetSessionToken(t *testing.T) {
	ctx := context.Background()

	t.Run("mfa_session_acts_as_its_user_and_assumes_a_role_requiring_mfa", func(t *testing.T) {
		t.Parallel()
		f := mfaFixture(t)
		out, err := f.alice(t).GetSessionToken(ctx, &awssts.GetSessionTokenInput{
			SerialNumber: aws.String(aliceMFA), TokenCode: aws.String(sts.MFACode(mfaSecret, epoch)), DurationSeconds: aws.Int32(4 * 3600),
		})
		if err != nil {
			t.Fatal(err)
		}
		c := out.Credentials
		if !c.Expiration.Equal(epoch.Add(4*time.Hour)) || !strings.HasPrefix(*c.AccessKeyId, "ASIA") {
			t.Errorf("session credentials %s until %v", *c.AccessKeyId, c.Expiration)
		}
		session := f.client(t, *c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
		who, err := session.GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
		if err != nil || *who.Arn != aliceARN || *who.UserId != "AIDAALICEEXAMPLE00001" {
			t.Fatalf("caller of the session: %+v, %v", who, err)
		}
		// Two issuances, hours apart, from one MFA code; not role chaining, so 2 h is fine.
		for i := range 2 {
			f.clock.Advance(time.Duration(i) * 3 * time.Hour)
			role, err := session.AssumeRole(ctx, &awssts.AssumeRoleInput{
				RoleArn: aws.String(prodRole), RoleSessionName: aws.String("alice"), SourceIdentity: aws.String(sourceID), DurationSeconds: aws.Int32(7200),
			})
			if err != nil {
				t.Fatalf("assume role with the MFA session (%d): %v", i, err)
			}
			if aws.ToString(role.SourceIdentity) != sourceID {
				t.Errorf("source identity %v", role.SourceIdentity)
			}
		}
		iss := f.srv.Issuances()
		if len(iss) != 2 || !iss[0].MFA || iss[0].Caller.ARN != aliceARN || iss[0].Caller.AccessKeyID != *c.AccessKeyId {
			t.Errorf("issuances %+v", iss)
		}
		rec := f.record(t, 0)
		for path, want := range map[string]any{
			"userIdentity.type":        "IAMUser",
			"userIdentity.userName":    "alice",
			"userIdentity.accessKeyId": *c.AccessKeyId,
			"userIdentity.sessionContext.attributes.mfaAuthenticated": "true",
			"userIdentity.sessionContext.attributes.creationDate":     "2026-11-23T19:15:00Z",
			"userIdentity.sessionContext.sessionIssuer":               nil,
		} {
			if got := at(rec, path); got != want {
				t.Errorf("record %s = %#v, want %#v", path, got, want)
			}
		}
		toks := f.srv.SessionTokens()
		if len(toks) != 1 || toks[0].MFASerial != aliceMFA || toks[0].Duration != 4*time.Hour || toks[0].AccessKeyID != *c.AccessKeyId {
			t.Errorf("session tokens %+v", toks)
		}
		f.clock.Advance(2 * time.Hour)
		_, err = session.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(prodRole), RoleSessionName: aws.String("alice")})
		if got, _ := errorCode(err); got != "ExpiredToken" {
			t.Errorf("after the session's 4 h: %v, want ExpiredToken", err)
		}
	})

	t.Run("session_without_mfa_cannot_assume_a_role_requiring_mfa", func(t *testing.T) {
		t.Parallel()
		f := mfaFixture(t)
		out, err := f.alice(t).GetSessionToken(ctx, &awssts.GetSessionTokenInput{})
		if err != nil {
			t.Fatal(err)
		}
		if !out.Credentials.Expiration.Equal(epoch.Add(12 * time.Hour)) {
			t.Errorf("default duration: expires %v, want 12 h", out.Credentials.Expiration)
		}
		c := out.Credentials
		_, err = f.client(t, *c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken).AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(prodRole), RoleSessionName: aws.String("alice")})
		if got, _ := errorCode(err); got != "AccessDenied" {
			t.Errorf("err = %v, want AccessDenied", err)
		}
	})

	t.Run("session_credentials_cannot_call_it", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, sts.Options{})
		role, err := f.alice(t).AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(auditRole), RoleSessionName: aws.String("ab")})
		if err != nil {
			t.Fatal(err)
		}
		c := role.Credentials
		_, err = f.client(t, *c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken).GetSessionToken(ctx, &awssts.GetSessionTokenInput{})
		if got, status := errorCode(err); got != "AccessDenied" || status != 403 || !strings.Contains(err.Error(), "Cannot call GetSessionToken with session credentials") {
			t.Errorf("err = %v", err)
		}
		if toks := f.srv.SessionTokens(); len(toks) != 1 || toks[0].ErrorCode != "AccessDenied" || toks[0].AccessKeyID != "" {
			t.Errorf("session tokens %+v", toks)
		}
	})

	t.Run("duration_limits", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, sts.Options{})
		const rootKey = "AKIAROOTEXAMPLE00001"
		f.srv.SetCaller(rootKey, "arn:aws:iam::111111111111:root", "", "")
		root := f.client(t, rootKey, "root-secret", "")
		for _, tt := range []struct {
			name     string
			client   *awssts.Client
			duration *int32
			want     time.Duration // 0: a ValidationError
		}{
			{"user_shortest", f.alice(t), aws.Int32(900), 15 * time.Minute},
			{"user_longest", f.alice(t), aws.Int32(129600), 36 * time.Hour},
			{"user_too_short", f.alice(t), aws.Int32(899), 0},
			{"user_too_long", f.alice(t), aws.Int32(129601), 0},
			{"root_default", root, nil, time.Hour},
			{"root_over_an_hour_lasts_an_hour", root, aws.Int32(43200), time.Hour},
		} {
			out, err := tt.client.GetSessionToken(ctx, &awssts.GetSessionTokenInput{DurationSeconds: tt.duration})
			if tt.want == 0 {
				if got, _ := errorCode(err); got != "ValidationError" {
					t.Errorf("%s: err = %v, want ValidationError", tt.name, err)
				}
				continue
			}
			if err != nil || !out.Credentials.Expiration.Equal(epoch.Add(tt.want)) {
				t.Errorf("%s: %v, want %s", tt.name, err, tt.want)
			}
		}
	})

	t.Run("root_cannot_assume_a_role", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, sts.Options{})
		const rootKey = "AKIAROOTEXAMPLE00001"
		f.srv.SetCaller(rootKey, "arn:aws:iam::111111111111:root", "", "")
		root := f.client(t, rootKey, "root-secret", "")
		tok, err := root.GetSessionToken(ctx, &awssts.GetSessionTokenInput{})
		if err != nil {
			t.Fatal(err)
		}
		c := tok.Credentials
		for name, client := range map[string]*awssts.Client{"keys": root, "session": f.client(t, *c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)} {
			_, err := client.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(prodRole), RoleSessionName: aws.String("root-session")})
			if got, status := errorCode(err); got != "AccessDenied" || status != 403 || !strings.Contains(err.Error(), "Roles may not be assumed by root accounts.") {
				t.Errorf("%s: err = %v", name, err)
			}
		}
	})
}
