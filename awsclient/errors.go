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

// Describe wraps an SDK error with what was being done and a hint for the usual causes.
func Describe(what string, err error) error {
	code := ""
	var api smithy.APIError
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	hint := ""
	switch {
	case code == "AccessDenied" || code == "AccessDeniedException" || code == "UnauthorizedOperation":
		hint = " (check the credentials' permissions, or pick other ones with --aws-profile)"
	case code == "NoSuchBucket":
		hint = " (no such bucket: check the name, or the endpoint with --endpoint-url)"
	case code == "ResourceNotFoundException":
		hint = " (check the table name and --region)"
	case strings.Contains(err.Error(), "no EC2 IMDS role found") || strings.Contains(err.Error(), "failed to refresh cached credentials"):
		hint = " (no AWS credentials found: set AWS_PROFILE / --aws-profile or AWS_ACCESS_KEY_ID)"
	}
	return fmt.Errorf("%s: %s%s", what, Message(err), hint)
}
