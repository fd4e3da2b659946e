package enforce

import (
	"context"
	"crypto/rand"
	"io"
	"time"

	"github.com/sentinel-audit/sentinel/awsclient"
)

// Env is what enforce takes from its surroundings: the clock, randomness (session, request and
// server instance ids, the server's token), the AWS clients and the user at the terminal.
type Env struct {
	Now  func() time.Time
	Rand io.Reader
	// Clients builds the STS and DynamoDB clients for o.
	Clients func(ctx context.Context, o awsclient.Options) (Clients, error)
	// Prompt asks the user (for an MFA code) and returns the answer; ErrNoTerminal when nobody
	// can be asked.
	Prompt func(ctx context.Context, prompt string) (string, error)
}

// SystemEnv is the real clock, crypto/rand, AWS SDK clients and the terminal.
func SystemEnv() Env {
	return Env{Now: time.Now, Rand: rand.Reader, Clients: NewClients, Prompt: TerminalPrompt}
}

// Clients are the AWS clients enforce calls.
type Clients struct {
	STS      STSClient
	DynamoDB DynamoDBClient
}

// NewClients builds the SDK clients (awsclient), so the SDK's usual credential chain, shared
// config files and endpoint variables apply.
func NewClients(ctx context.Context, o awsclient.Options) (Clients, error) {
	cfg, err := awsclient.Load(ctx, o)
	if err != nil {
		return Clients{}, err
	}
	return Clients{STS: cfg.STS(), DynamoDB: cfg.DynamoDB()}, nil
}
