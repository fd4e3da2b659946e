package enforce

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Env is what enforce takes from its surroundings: the clock, randomness (session, request and
// server instance ids, the server's token) and the AWS clients.
type Env struct {
	Now  func() time.Time
	Rand io.Reader
	// Clients builds the STS and DynamoDB clients for o.
	Clients func(ctx context.Context, o ClientOptions) (Clients, error)
}

// SystemEnv is the real clock, crypto/rand and AWS SDK clients.
func SystemEnv() Env {
	return Env{Now: time.Now, Rand: rand.Reader, Clients: NewClients}
}

// ClientOptions say which credentials, region and endpoint the AWS clients use.
type ClientOptions struct {
	// Profile is the shared config profile of the base credentials; "" is the SDK's default chain.
	Profile string
	// Region; "" leaves it to the SDK (AWS_REGION, the profile's region).
	Region string
	// EndpointURL, when set, is the endpoint of both STS and DynamoDB (--endpoint-url); otherwise
	// the SDK's AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL_DYNAMODB apply.
	EndpointURL string
}

// Clients are the AWS clients enforce calls.
type Clients struct {
	STS      STSClient
	DynamoDB DynamoDBClient
}

// NewClients builds SDK clients with config.LoadDefaultConfig, so the SDK's usual credential
// chain, shared config files and endpoint variables apply.
func NewClients(ctx context.Context, o ClientOptions) (Clients, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if o.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(o.Profile))
	}
	if o.Region != "" {
		opts = append(opts, awsconfig.WithRegion(o.Region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		if o.Profile != "" {
			return Clients{}, fmt.Errorf("load AWS config for profile %s: %w", o.Profile, err)
		}
		return Clients{}, fmt.Errorf("load AWS config: %w", err)
	}
	var endpoint *string
	if o.EndpointURL != "" {
		endpoint = aws.String(o.EndpointURL)
	}
	return Clients{
		STS: sts.NewFromConfig(cfg, func(so *sts.Options) {
			if endpoint != nil {
				so.BaseEndpoint = endpoint
			}
		}),
		DynamoDB: dynamodb.NewFromConfig(cfg, func(do *dynamodb.Options) {
			if endpoint != nil {
				do.BaseEndpoint = endpoint
			}
		}),
	}, nil
}
