package enforce

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/sentinel-audit/sentinel/awsclient"
	"github.com/sentinel-audit/sentinel/profiles"
	"github.com/sentinel-audit/sentinel/sourceid"
)

// STSClient is the part of the STS API that enforce uses; *sts.Client satisfies it.
type STSClient interface {
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
	GetSessionToken(ctx context.Context, in *sts.GetSessionTokenInput, optFns ...func(*sts.Options)) (*sts.GetSessionTokenOutput, error)
}

// Credentials are temporary AWS credentials. Their String form never shows the secret or token.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
}

// String names the access key and its expiry only, so credentials never reach a log by accident.
func (c Credentials) String() string {
	return fmt.Sprintf("credentials %s (expire %s)", c.AccessKeyID, c.Expiration.UTC().Format(time.RFC3339))
}

// GoString is String, for %#v.
func (c Credentials) GoString() string { return c.String() }

// Caller is the identity behind the base credentials.
type Caller struct {
	// ARN is the caller's ARN as STS reports it.
	ARN string
	// User is the caller's name (the last part of the ARN), sanitized for a SourceIdentity.
	User string
}

// CallerIdentity asks STS who the base credentials belong to.
func CallerIdentity(ctx context.Context, client STSClient) (Caller, error) {
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Caller{}, awsclient.Describe("sts get-caller-identity", err)
	}
	arn := aws.ToString(out.Arn)
	user := sourceid.SanitizeUser(userOfARN(arn))
	if user == "" {
		return Caller{}, fmt.Errorf("sts get-caller-identity: no user name in caller ARN %q", arn)
	}
	return Caller{ARN: arn, User: user}, nil
}

// userOfARN is the principal name in an ARN: the session of an assumed role, the name of a user,
// "root" for the account root.
func userOfARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return arn
	}
	resource := parts[5]
	if i := strings.LastIndexByte(resource, '/'); i >= 0 {
		return resource[i+1:]
	}
	return resource
}

// newID reads a 16-lowercase-hex id (a session, request or server instance id) from random.
func newID(random io.Reader) (string, error) {
	b := make([]byte, 8)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", fmt.Errorf("read random id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Issuer assumes a profile's role with a Sentinel SourceIdentity.
type Issuer struct {
	// STS is called with the profile's base credentials.
	STS     STSClient
	Profile profiles.Profile
	// Duration of the credentials; 0 means the profile's duration_seconds, else STS's default.
	Duration time.Duration
	// MFACode, when set, is sent with the profile's mfa_serial.
	MFACode string
}

// Issue assumes the profile's role with sourceIdentity. The role session name is the profile's
// role_session_name, else the SourceIdentity itself, so CloudTrail shows it in the session ARN.
func (i Issuer) Issue(ctx context.Context, sourceIdentity string) (Credentials, error) {
	in := &sts.AssumeRoleInput{
		RoleArn:         aws.String(i.Profile.RoleARN),
		RoleSessionName: aws.String(sourceIdentity),
		SourceIdentity:  aws.String(sourceIdentity),
	}
	if i.Profile.RoleSessionName != "" {
		in.RoleSessionName = aws.String(i.Profile.RoleSessionName)
	}
	if i.MFACode != "" {
		in.SerialNumber, in.TokenCode = aws.String(i.Profile.MFASerial), aws.String(i.MFACode)
	}
	switch {
	case i.Duration > 0:
		in.DurationSeconds = aws.Int32(int32(i.Duration / time.Second))
	case i.Profile.DurationSeconds > 0:
		in.DurationSeconds = aws.Int32(int32(i.Profile.DurationSeconds))
	}
	out, err := i.STS.AssumeRole(ctx, in)
	if err != nil {
		return Credentials{}, awsclient.Describe(fmt.Sprintf("sts assume-role %s for profile %s", i.Profile.RoleARN, i.Profile.Name), err)
	}
	c := out.Credentials
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil || c.SessionToken == nil || c.Expiration == nil {
		return Credentials{}, fmt.Errorf("sts assume-role %s for profile %s: %w", i.Profile.RoleARN, i.Profile.Name, errors.New("response has no complete credentials"))
	}
	return Credentials{
		AccessKeyID:     *c.AccessKeyId,
		SecretAccessKey: *c.SecretAccessKey,
		SessionToken:    *c.SessionToken,
		Expiration:      c.Expiration.UTC(),
	}, nil
}

// issueOneShot issues credentials outside a server session: SourceIdentity
// sentinel-r-<request id>-<user>.
func (i Issuer) issueOneShot(ctx context.Context, random io.Reader, user string) (Credentials, error) {
	requestID, err := newID(random)
	if err != nil {
		return Credentials{}, err
	}
	si, err := sourceid.Mint(sourceid.KindRequest, requestID, user)
	if err != nil {
		return Credentials{}, err
	}
	return i.Issue(ctx, si)
}
