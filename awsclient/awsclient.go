// Package awsclient is how Sentinel reaches AWS: the SDK's configuration (credentials, shared
// config profiles, region, the AWS_ENDPOINT_URL* variables), the service clients built from it
// with one retry policy, and what AWS errors mean to a user. Every command that calls AWS builds
// its clients here, so an option (an endpoint, a retry bound) applies to all of them alike.
package awsclient

import (
	"context"
	"net/http"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
)

// DefaultMaxAttempts bounds the SDK's attempts at a throttled or failing call when neither the
// caller nor the SDK configuration (AWS_MAX_ATTEMPTS, a profile's max_attempts) says otherwise.
const DefaultMaxAttempts = 8

// Options say which credentials, region and endpoint to use.
type Options struct {
	// Profile is the shared config profile (--aws-profile); "" is the SDK's default chain
	// (AWS_PROFILE, environment credentials, SSO, the instance role, ...).
	Profile string
	// Region (--region); "" leaves it to the SDK (AWS_REGION, the profile's region), then
	// DefaultRegion (the config file's defaults.region).
	Region        string
	DefaultRegion string
	// EndpointURL, when set, is every service's endpoint (--endpoint-url: S3-compatible stores,
	// LocalStack, emulators; S3 then uses path-style addressing). Otherwise the SDK's
	// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> apply.
	EndpointURL string
	// MaxAttempts bounds retries (0: the SDK configuration's, else DefaultMaxAttempts).
	MaxAttempts int
	// Credentials, when set, are used instead of the profile's (an MFA session's, say); the
	// profile still gives the region and the other settings.
	Credentials aws.CredentialsProvider
}

// Config is a loaded SDK configuration plus the overrides every client gets.
type Config struct {
	SDK         aws.Config
	EndpointURL string
	MaxAttempts int
	// S3PathStyle addresses buckets in the path, as S3-compatible stores and emulators want: set
	// when S3's endpoint is not AWS's (EndpointURL, AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_S3).
	S3PathStyle bool
}

// Load reads the SDK's configuration the usual way: environment, shared config and credentials
// files, the profile, the region. A failure to get credentials, later, is described (see
// Describe) with what the profile is: an SSO login to renew, no credentials at all.
func Load(ctx context.Context, o Options) (Config, error) {
	// The SDK's own log lines (a warning that IMDS fell back to IMDSv1, say) would reach stderr
	// raw, beside Sentinel's: what matters of them comes back as an error, described.
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithLogger(logging.Nop{})}
	if o.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(o.Profile))
	}
	if o.Region != "" {
		opts = append(opts, awsconfig.WithRegion(o.Region))
	}
	if o.Credentials != nil {
		opts = append(opts, awsconfig.WithCredentialsProvider(o.Credentials))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		what := "load AWS configuration"
		if o.Profile != "" {
			what += " for profile " + o.Profile
		}
		return Config{}, describeLoad(what, err)
	}
	if cfg.Credentials != nil {
		cfg.Credentials = aws.NewCredentialsCache(describedCredentials{provider: cfg.Credentials, source: credentialSource(cfg, o.Profile)})
	}
	if cfg.Region == "" {
		cfg.Region = o.DefaultRegion
	}
	pathStyle := o.EndpointURL != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
	return Config{SDK: cfg, EndpointURL: o.EndpointURL, MaxAttempts: o.MaxAttempts, S3PathStyle: pathStyle}, nil
}

// retryer is the retry policy of every client: the SDK's standard retryer (exponential backoff
// with jitter, throttling and transient errors retried) with the attempts bounded.
func (c Config) retryer() aws.Retryer {
	return retry.AddWithMaxAttempts(retry.NewStandard(), c.attempts())
}

func (c Config) attempts() int {
	attempts := c.MaxAttempts
	if attempts <= 0 {
		attempts = c.SDK.RetryMaxAttempts
	}
	if attempts <= 0 {
		attempts = DefaultMaxAttempts
	}
	return attempts
}

// s3Retryer is S3's retry policy: the standard retryer's, in the SDK's adaptive mode. Ingest has
// many reads in flight at once, and a bucket answers too many with SlowDown (503): the adaptive
// mode then sends fewer requests (a client-side rate that follows the throttling), so the run
// slows down instead of failing. The standard retryer's retry quota is left out: at that
// concurrency a burst of SlowDowns would use it up and fail calls that the adaptive rate paces.
func (c Config) s3Retryer() aws.Retryer {
	return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
		o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
			so.MaxAttempts = c.attempts()
			so.RateLimiter = ratelimit.None
		})
	})
}

// S3Connections is how many connections to S3 are kept open between requests: as many as ingest
// has reads in flight by default, so that they are not dialled again (the SDK keeps 10).
const S3Connections = 128

func (c Config) endpoint() *string {
	if c.EndpointURL == "" {
		return nil
	}
	return aws.String(c.EndpointURL)
}

// S3 is an S3 client, with S3's retry policy (s3Retryer) and S3Connections kept open.
func (c Config) S3() *s3.Client {
	return s3.NewFromConfig(c.SDK, func(o *s3.Options) {
		o.Retryer = c.s3Retryer()
		if hc, ok := o.HTTPClient.(*awshttp.BuildableClient); ok {
			o.HTTPClient = hc.WithTransportOptions(func(t *http.Transport) {
				t.MaxIdleConns = max(t.MaxIdleConns, S3Connections)
				t.MaxIdleConnsPerHost = max(t.MaxIdleConnsPerHost, S3Connections)
			})
		}
		o.UsePathStyle = c.S3PathStyle || c.EndpointURL != ""
		if e := c.endpoint(); e != nil {
			o.BaseEndpoint = e
		}
		o.APIOptions = append(o.APIOptions, reachability(c.EndpointURL, "S3"))
	})
}

// CloudTrail is a CloudTrail client for region ("" = the configuration's).
func (c Config) CloudTrail(region string) *cloudtrail.Client {
	return cloudtrail.NewFromConfig(c.SDK, func(o *cloudtrail.Options) {
		if region != "" {
			o.Region = region
		}
		o.Retryer = c.retryer()
		if e := c.endpoint(); e != nil {
			o.BaseEndpoint = e
		}
		o.APIOptions = append(o.APIOptions, reachability(c.EndpointURL, "CLOUDTRAIL"))
	})
}

// DynamoDB is a DynamoDB client.
func (c Config) DynamoDB() *dynamodb.Client {
	return dynamodb.NewFromConfig(c.SDK, func(o *dynamodb.Options) {
		o.Retryer = c.retryer()
		if e := c.endpoint(); e != nil {
			o.BaseEndpoint = e
		}
		o.APIOptions = append(o.APIOptions, reachability(c.EndpointURL, "DYNAMODB"))
	})
}

// STS is an STS client.
func (c Config) STS() *sts.Client {
	return sts.NewFromConfig(c.SDK, func(o *sts.Options) {
		o.Retryer = c.retryer()
		if e := c.endpoint(); e != nil {
			o.BaseEndpoint = e
		}
		o.APIOptions = append(o.APIOptions, reachability(c.EndpointURL, "STS"))
	})
}
