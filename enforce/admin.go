package enforce

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/awsclient"
)

// errNoTable is the error of a session command without a session table.
var errNoTable = errors.New("no session table: pass --session-table, set SENTINEL_SESSION_TABLE or defaults.session_table in the config file")

// TableInput says which session table a session command works on and how to reach it.
type TableInput struct {
	// Table is the session table (--session-table > SENTINEL_SESSION_TABLE > defaults.session_table).
	Table string
	// AWSProfile, Region, DefaultRegion and EndpointURL as Profile and the others of
	// awsclient.Options: AWSProfile "" is the SDK's default chain.
	AWSProfile    string
	Region        string
	DefaultRegion string
	EndpointURL   string
}

func (in TableInput) clients(ctx context.Context, env Env) (Clients, error) {
	if in.Table == "" {
		return Clients{}, errNoTable
	}
	return env.Clients(ctx, awsclient.Options{Profile: in.AWSProfile, Region: in.Region, DefaultRegion: in.DefaultRegion, EndpointURL: in.EndpointURL})
}

// ListSessionsInput is the input of `sentinel server-sessions`.
type ListSessionsInput struct {
	TableInput
	Filter SessionFilter
}

// ListSessions returns the session records the filter selects, newest first.
func ListSessions(ctx context.Context, in ListSessionsInput, env Env) ([]Session, error) {
	c, err := in.clients(ctx, env)
	if err != nil {
		return nil, err
	}
	return SessionStore{DB: c.DynamoDB, Table: in.Table}.List(ctx, in.Filter)
}

// RevokeInput is the input of `sentinel server-revoke`.
type RevokeInput struct {
	TableInput
	// ID is the session record's id (16 lowercase hex digits).
	ID string
	// Reason is recorded as revoked_reason; required.
	Reason string
}

// Revoke marks an active session revoked, recording the caller's ARN as revoked_by, and writes a
// confirmation to out. The session's server refuses its next credential request; credentials it
// already served stay valid until they expire.
func Revoke(ctx context.Context, in RevokeInput, out io.Writer, env Env) error {
	if !isID(in.ID) {
		return fmt.Errorf("session id %q is not 16 lowercase hex digits (see sentinel server-sessions)", in.ID)
	}
	if strings.TrimSpace(in.Reason) == "" {
		return errors.New("no reason: pass --reason TEXT (it is recorded with the revocation)")
	}
	c, err := in.clients(ctx, env)
	if err != nil {
		return err
	}
	caller, err := CallerIdentity(ctx, c.STS)
	if err != nil {
		return fmt.Errorf("revoke session %s: who is revoking: %w", in.ID, err)
	}
	s, err := SessionStore{DB: c.DynamoDB, Table: in.Table}.Revoke(ctx, in.ID, caller.ARN, in.Reason, env.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "revoked session %s (profile %s, user %s): its next credential request is denied; credentials already served stay valid until %s\n",
		s.ID, s.Profile, s.User, s.ExpiresAt.UTC().Format(time.RFC3339))
	return nil
}

func isID(s string) bool {
	if len(s) != 16 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
