package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// The AWS calls ingest makes, declared where they are used; the SDK clients satisfy them.
type (
	objectLister interface {
		ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	}
	objectGetter interface {
		GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	}
	objectStore interface {
		objectLister
		objectGetter
	}
	eventLooker interface {
		LookupEvents(context.Context, *cloudtrail.LookupEventsInput, ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error)
	}
	tableScanner interface {
		Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	}
)

// AWS says how to reach AWS: the SDK configuration (profile, region, credentials, and the
// AWS_ENDPOINT_URL* variables it reads) and an endpoint that overrides every service's, for
// S3-compatible stores and emulators (S3 then uses path-style addressing).
type AWS struct {
	Config      aws.Config
	EndpointURL string
	// MaxAttempts bounds the SDK's retries of throttled and failing calls (default: the SDK
	// configuration's, i.e. AWS_MAX_ATTEMPTS or the profile's max_attempts, else 8).
	MaxAttempts int
}

func (a AWS) retryer() func() aws.Retryer {
	attempts := a.MaxAttempts
	if attempts <= 0 {
		attempts = a.Config.RetryMaxAttempts
	}
	if attempts <= 0 {
		attempts = 8
	}
	return func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), attempts) }
}

func (a AWS) s3() *s3.Client {
	return s3.NewFromConfig(a.Config, func(o *s3.Options) {
		o.Retryer = a.retryer()()
		if a.EndpointURL != "" {
			o.BaseEndpoint = aws.String(a.EndpointURL)
			o.UsePathStyle = true
		}
	})
}

func (a AWS) cloudTrail(region string) *cloudtrail.Client {
	return cloudtrail.NewFromConfig(a.Config, func(o *cloudtrail.Options) {
		o.Region = region
		o.Retryer = a.retryer()()
		if a.EndpointURL != "" {
			o.BaseEndpoint = aws.String(a.EndpointURL)
		}
	})
}

func (a AWS) dynamoDB() *dynamodb.Client {
	return dynamodb.NewFromConfig(a.Config, func(o *dynamodb.Options) {
		o.Retryer = a.retryer()()
		if a.EndpointURL != "" {
			o.BaseEndpoint = aws.String(a.EndpointURL)
		}
	})
}

func (a AWS) sts() *sts.Client {
	return sts.NewFromConfig(a.Config, func(o *sts.Options) {
		o.Retryer = a.retryer()()
		if a.EndpointURL != "" {
			o.BaseEndpoint = aws.String(a.EndpointURL)
		}
	})
}

// awsError renders an SDK error as its code and message, without the SDK's operation noise.
func awsError(err error) string {
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

// describeAWSError wraps an SDK error with what was being done and a hint for the usual causes.
func describeAWSError(what string, err error) error {
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
	return fmt.Errorf("%s: %s%s", what, awsError(err), hint)
}
