package awsclient

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"
)

// Message renders an SDK error as its code and message, without the SDK's operation noise.
func Message(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		msg := api.ErrorMessage()
		if msg == "" {
			return api.ErrorCode()
		}
		return api.ErrorCode() + ": " + msg
	}
	return err.Error()
}

// Error is an AWS error described for a user: what was being done, what is wrong and what to do,
// then the SDK's own text. It wraps the SDK's error.
type Error struct {
	// What was being done, e.g. "scan sentinel-sessions".
	What string
	// Problem is what is wrong and Action what to do; both empty when nothing more is known than
	// the SDK's text.
	Problem string
	Action  string
	Err     error
}

// Error reads "what: problem; action: SDK text", or "what: SDK text".
func (e *Error) Error() string {
	if e.Problem == "" {
		return e.What + ": " + Message(e.Err)
	}
	return fmt.Sprintf("%s: %s; %s: %s", e.What, e.Problem, e.Action, Message(e.Err))
}

// Unwrap is the SDK's error.
func (e *Error) Unwrap() error { return e.Err }

// Describe wraps an SDK error with what was being done and, for the usual causes, what is wrong
// and what to do.
func Describe(what string, err error) error {
	problem, action := explain(err)
	return &Error{What: what, Problem: problem, Action: action, Err: err}
}

// explain says what is wrong and what to do for the errors users meet most.
func explain(err error) (problem, action string) {
	var ce *credentialsError
	if errors.As(err, &ce) {
		return ce.problem, ce.action
	}
	var unreachable *unreachableError
	if errors.As(err, &unreachable) {
		return unreachable.explain()
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		if strings.Contains(err.Error(), "no EC2 IMDS role found") {
			return noCredentials("")
		}
		return "", ""
	}
	msg := api.ErrorMessage()
	switch api.ErrorCode() {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
		return explainAccessDenied(msg)
	case "ExpiredToken", "ExpiredTokenException", "RequestExpired":
		return "the credentials have expired",
			"get new ones (aws sso login, a new MFA code, fresh keys) and run again"
	case "InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "InvalidAccessKeyId":
		return "AWS does not accept the access key or its secret (deleted, mistyped, or of another partition)",
			"check the credentials in use (aws configure list) or pick others"
	case "ValidationError":
		return explainValidation(msg)
	case "NoSuchBucket":
		return "no such bucket", "check the name, or the endpoint with --endpoint-url"
	case "ResourceNotFoundException":
		return "no such table", "check the table name and --region"
	}
	return "", ""
}

// explainAccessDenied tells apart STS's denials of an issuance (by the message STS writes) from
// a missing permission.
func explainAccessDenied(msg string) (problem, action string) {
	switch {
	case strings.Contains(msg, "MultiFactorAuthentication failed with invalid MFA one time pass code"):
		return "the MFA code was not accepted",
			"enter the code your MFA device shows now (each code works only once: after a failure, wait for the next one)"
	case strings.Contains(msg, "MultiFactorAuthentication failed, unable to validate MFA code"):
		return "mfa_serial names no MFA device of the user behind these credentials",
			"set mfa_serial to the ARN of your MFA device (aws iam list-mfa-devices)"
	case strings.Contains(msg, "Cannot call GetSessionToken with session credentials"):
		return "STS starts MFA sessions only for an IAM user's long-term keys, and these credentials are temporary (an SSO, role or other session)",
			"give the profile's source_profile long-term keys, or remove mfa_serial where the source already authenticates (SSO)"
	case strings.Contains(msg, "Roles may not be assumed by root accounts"):
		return "these are the account root user's credentials, and AWS lets no root user assume a role (nor a session the root user started)",
			"use an IAM user's keys or an SSO login as the base credentials (the profile's source_profile, or --aws-profile)"
	case strings.Contains(msg, "sts:SetSourceIdentity"):
		return "the role's trust policy does not allow sts:SetSourceIdentity",
			"add sts:SetSourceIdentity beside sts:AssumeRole in the role's trust policy (Sentinel sets a SourceIdentity on every issuance)"
	case strings.Contains(msg, "sts:AssumeRole"):
		return "the role cannot be assumed with these credentials",
			"check that the role's trust policy names the caller and allows sts:AssumeRole and sts:SetSourceIdentity, " +
				"that its conditions hold (MFA: set mfa_serial in the profile), and that the caller's policies allow sts:AssumeRole on the role"
	}
	return "the credentials lack a permission", "check their policies, or use other credentials (--aws-profile, AWS_PROFILE)"
}

// explainValidation tells the session durations STS refuses apart from other invalid requests.
func explainValidation(msg string) (problem, action string) {
	switch {
	case strings.Contains(msg, "session limit for roles assumed by role chaining"):
		return "the base credentials are themselves a role session (an SSO login, an assumed role), and STS lets a role assumed with them (role chaining) last 1 hour at most",
			"ask for 1h or less: --server-duration 1h, or duration_seconds = 3600 or less in the profile"
	case strings.Contains(msg, "exceeds the MaxSessionDuration set for this role"):
		return "the role's maximum session duration is shorter than the duration asked for",
			"ask for less (--server-duration, or duration_seconds in the profile), or raise the role's MaxSessionDuration"
	}
	return "", ""
}

// noCredentials describes a credential chain that found nothing, for profile ("" = the default
// chain).
func noCredentials(profile string) (problem, action string) {
	if profile == "" {
		return "no AWS credentials found",
			"name a profile that has some (AWS_PROFILE, --aws-profile, or the source_profile of the profile Sentinel assumes) or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
	}
	return fmt.Sprintf("profile %s gives no AWS credentials", profile),
		fmt.Sprintf("give it keys (aws configure --profile %s), an SSO login (aws configure sso), credential_process or a source_profile", profile)
}

// unreachableError is a call that never got an answer: the endpoint refused the connection, its
// name did not resolve, the network or a proxy failed. Its text is the SDK's: Describe puts the
// words in front.
type unreachableError struct {
	// endpoint is the scheme and host called ("" when the SDK's error does not say).
	endpoint string
	// source is where the endpoint came from (--endpoint-url, AWS_ENDPOINT_URL_<SERVICE>,
	// AWS_ENDPOINT_URL); "" for AWS's own endpoints.
	source string
	err    error
}

func (e *unreachableError) Error() string { return e.err.Error() }
func (e *unreachableError) Unwrap() error { return e.err }

func (e *unreachableError) explain() (problem, action string) {
	problem = "cannot reach the AWS endpoint"
	if e.endpoint != "" {
		problem += " " + e.endpoint
	}
	if e.source == "" {
		return problem, "check the network and any proxy (HTTPS_PROXY, NO_PROXY), and the region"
	}
	return problem + " (from " + e.source + ")", "check that URL, the network and any proxy (HTTPS_PROXY, NO_PROXY)"
}
