package enforce

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/sentinel-audit/sentinel/awsclient"
)

// DynamoDBClient is the part of the DynamoDB API the session store uses; *dynamodb.Client
// satisfies it.
type DynamoDBClient interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// Status is a session record's state.
type Status string

// The states of a session record.
const (
	// StatusActive is a running server session.
	StatusActive Status = "active"
	// StatusRevoked is a session someone revoked: its next credential request is denied.
	StatusRevoked Status = "revoked"
	// StatusExpired is a session whose server exited.
	StatusExpired Status = "expired"
)

// ParseStatus checks a --status value.
func ParseStatus(s string) (Status, error) {
	switch st := Status(s); st {
	case StatusActive, StatusRevoked, StatusExpired:
		return st, nil
	}
	return "", fmt.Errorf("unknown session status %q (valid: active, revoked, expired)", s)
}

// ttlAfterExpiry is how long DynamoDB keeps a record after its credentials expire.
const ttlAfterExpiry = time.Hour

// Session is a session record: one item of the session table, primary key id.
type Session struct {
	ID               string    `json:"id"`
	User             string    `json:"user"`
	Profile          string    `json:"profile"`
	ServerInstanceID string    `json:"server_instance_id"`
	Status           Status    `json:"status"`
	StartedAt        time.Time `json:"started_at"`
	// LastAccessAt is zero until the first credential request.
	LastAccessAt   time.Time `json:"last_access_at,omitzero"`
	ExpiresAt      time.Time `json:"expires_at"`
	RequestCount   int64     `json:"request_count"`
	SourceIdentity string    `json:"source_identity"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	// TTL is when DynamoDB may delete the record, in epoch seconds.
	TTL           int64  `json:"ttl"`
	RevokedBy     string `json:"revoked_by,omitempty"`
	RevokedReason string `json:"revoked_reason,omitempty"`
	// RevokedAt is when it was revoked; zero unless revoked. The audit takes it, else updated_at,
	// as the moment from which the session's calls are "after revocation".
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// ErrSessionExists is returned by Create when a record with the id already exists.
var ErrSessionExists = errors.New("session record already exists")

// ErrSessionNotFound is returned when the table holds no record with the id.
var ErrSessionNotFound = errors.New("no such session record")

// InactiveError reports a session that is no longer active.
type InactiveError struct {
	Session Session
}

// Error says the session's state and, when revoked, by whom and why.
func (e *InactiveError) Error() string {
	s := e.Session
	if s.Status == StatusRevoked {
		at := s.RevokedAt
		if at.IsZero() {
			at = s.UpdatedAt // a record revoked before revoked_at was written
		}
		return fmt.Sprintf("session %s was revoked by %s at %s: %s", s.ID, s.RevokedBy, timestamp(at), s.RevokedReason)
	}
	return fmt.Sprintf("session %s is %s, not active", s.ID, s.Status)
}

// SessionStore keeps session records in a DynamoDB table.
type SessionStore struct {
	DB    DynamoDBClient
	Table string
}

// Create writes a new record, refusing to overwrite an existing id.
func (st SessionStore) Create(ctx context.Context, s Session) error {
	_, err := st.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(st.Table),
		Item:                     s.item(),
		ConditionExpression:      aws.String("attribute_not_exists(#id)"),
		ExpressionAttributeNames: map[string]string{"#id": "id"},
	})
	if isConditionFailed(err) {
		return fmt.Errorf("create session %s in table %s: %w", s.ID, st.Table, ErrSessionExists)
	}
	if err != nil {
		return awsclient.Describe(fmt.Sprintf("create session %s in table %s", s.ID, st.Table), err)
	}
	return nil
}

// Get reads a record with a strongly consistent read.
func (st SessionStore) Get(ctx context.Context, id string) (Session, error) {
	out, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(st.Table),
		Key:            key(id),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Session{}, awsclient.Describe(fmt.Sprintf("read session %s from table %s", id, st.Table), err)
	}
	if len(out.Item) == 0 {
		return Session{}, fmt.Errorf("read session %s from table %s: %w", id, st.Table, ErrSessionNotFound)
	}
	s, err := sessionFromItem(out.Item)
	if err != nil {
		return Session{}, fmt.Errorf("read session %s from table %s: %w", id, st.Table, err)
	}
	return s, nil
}

// Touch records a credential request: last_access_at, request_count + 1, and the expiry of the
// credentials served. It fails with an *InactiveError unless the session is still active.
func (st SessionStore) Touch(ctx context.Context, id string, now, expiresAt time.Time) error {
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(st.Table),
		Key:                 key(id),
		UpdateExpression:    aws.String("SET last_access_at = :now, updated_at = :now, expires_at = :expires, #ttl = :ttl ADD request_count :one"),
		ConditionExpression: aws.String("attribute_exists(#id) AND #status = :active"),
		ExpressionAttributeNames: map[string]string{
			"#id":     "id",
			"#status": "status",
			"#ttl":    "ttl",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now":     str(timestamp(now)),
			":expires": str(timestamp(expiresAt)),
			":ttl":     num(ttlFor(expiresAt)),
			":one":     num(1),
			":active":  str(string(StatusActive)),
		},
	})
	return st.inactiveOr(ctx, id, "record a credential request for", err)
}

// Expire marks an active session expired (its server exited). A revoked session stays revoked.
func (st SessionStore) Expire(ctx context.Context, id string, now time.Time) error {
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(st.Table),
		Key:                      key(id),
		UpdateExpression:         aws.String("SET #status = :expired, updated_at = :now"),
		ConditionExpression:      aws.String("attribute_exists(#id) AND #status = :active"),
		ExpressionAttributeNames: map[string]string{"#id": "id", "#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":expired": str(string(StatusExpired)),
			":now":     str(timestamp(now)),
			":active":  str(string(StatusActive)),
		},
	})
	var inactive *InactiveError
	if err := st.inactiveOr(ctx, id, "expire", err); err != nil && !errors.As(err, &inactive) {
		return err
	}
	return nil
}

// Revoke marks an active session revoked by by for reason; its next credential request is denied.
// It fails with an *InactiveError when the session is not active.
func (st SessionStore) Revoke(ctx context.Context, id, by, reason string, now time.Time) (Session, error) {
	out, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(st.Table),
		Key:                      key(id),
		UpdateExpression:         aws.String("SET #status = :revoked, revoked_by = :by, revoked_reason = :reason, revoked_at = :now, updated_at = :now"),
		ConditionExpression:      aws.String("attribute_exists(#id) AND #status = :active"),
		ExpressionAttributeNames: map[string]string{"#id": "id", "#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":revoked": str(string(StatusRevoked)),
			":by":      str(by),
			":reason":  str(reason),
			":now":     str(timestamp(now)),
			":active":  str(string(StatusActive)),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if err := st.inactiveOr(ctx, id, "revoke", err); err != nil {
		return Session{}, err
	}
	s, err := sessionFromItem(out.Attributes)
	if err != nil {
		return Session{}, fmt.Errorf("revoke session %s in table %s: %w", id, st.Table, err)
	}
	return s, nil
}

// inactiveOr turns a failed "must be active" condition into an *InactiveError (or
// ErrSessionNotFound) by reading the record, and wraps any other error.
func (st SessionStore) inactiveOr(ctx context.Context, id, what string, err error) error {
	if err == nil {
		return nil
	}
	if !isConditionFailed(err) {
		return awsclient.Describe(fmt.Sprintf("%s session %s in table %s", what, id, st.Table), err)
	}
	s, getErr := st.Get(ctx, id)
	if errors.Is(getErr, ErrSessionNotFound) {
		return fmt.Errorf("%s session %s in table %s: %w", what, id, st.Table, ErrSessionNotFound)
	}
	if getErr != nil {
		return fmt.Errorf("%s session %s: %w", what, id, getErr)
	}
	return fmt.Errorf("%s session %s in table %s: %w", what, id, st.Table, &InactiveError{Session: s})
}

// SessionFilter selects records for List; zero fields select everything.
type SessionFilter struct {
	Status  Status
	Profile string
	// Since keeps sessions started at or after it.
	Since time.Time
}

// List scans the table for the records f selects, newest first.
func (st SessionStore) List(ctx context.Context, f SessionFilter) ([]Session, error) {
	in := &dynamodb.ScanInput{TableName: aws.String(st.Table), ConsistentRead: aws.Bool(true)}
	var conds []string
	names := map[string]string{}
	values := map[string]types.AttributeValue{}
	if f.Status != "" {
		conds = append(conds, "#status = :status")
		names["#status"], values[":status"] = "status", str(string(f.Status))
	}
	if f.Profile != "" {
		conds = append(conds, "#profile = :profile")
		names["#profile"], values[":profile"] = "profile", str(f.Profile)
	}
	if !f.Since.IsZero() {
		conds = append(conds, "started_at >= :since")
		values[":since"] = str(timestamp(f.Since))
	}
	if len(conds) > 0 {
		expr := conds[0]
		for _, c := range conds[1:] {
			expr += " AND " + c
		}
		in.FilterExpression = aws.String(expr)
		in.ExpressionAttributeValues = values
		if len(names) > 0 {
			in.ExpressionAttributeNames = names
		}
	}
	var out []Session
	for {
		page, err := st.DB.Scan(ctx, in)
		if err != nil {
			return nil, awsclient.Describe("scan session table "+st.Table, err)
		}
		for _, item := range page.Items {
			s, err := sessionFromItem(item)
			if err != nil {
				return nil, fmt.Errorf("scan session table %s: %w", st.Table, err)
			}
			out = append(out, s)
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].StartedAt.Equal(out[j].StartedAt) {
			return out[i].StartedAt.After(out[j].StartedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// item is the record as DynamoDB attributes (timestamps RFC 3339 UTC, ttl epoch seconds).
func (s Session) item() map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		"id":                 str(s.ID),
		"user":               str(s.User),
		"profile":            str(s.Profile),
		"server_instance_id": str(s.ServerInstanceID),
		"status":             str(string(s.Status)),
		"started_at":         str(timestamp(s.StartedAt)),
		"expires_at":         str(timestamp(s.ExpiresAt)),
		"request_count":      num(s.RequestCount),
		"source_identity":    str(s.SourceIdentity),
		"created_at":         str(timestamp(s.CreatedAt)),
		"updated_at":         str(timestamp(s.UpdatedAt)),
		"ttl":                num(s.TTL),
	}
	if !s.LastAccessAt.IsZero() {
		item["last_access_at"] = str(timestamp(s.LastAccessAt))
	}
	if s.RevokedBy != "" {
		item["revoked_by"] = str(s.RevokedBy)
	}
	if s.RevokedReason != "" {
		item["revoked_reason"] = str(s.RevokedReason)
	}
	if !s.RevokedAt.IsZero() {
		item["revoked_at"] = str(timestamp(s.RevokedAt))
	}
	return item
}

// sessionFromItem reads a record; attributes Sentinel does not know are ignored.
func sessionFromItem(item map[string]types.AttributeValue) (Session, error) {
	var s Session
	var err error
	text := func(name string) string {
		if v, ok := item[name].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	when := func(name string) time.Time {
		v := text(name)
		if v == "" || err != nil {
			return time.Time{}
		}
		t, perr := time.Parse(time.RFC3339, v)
		if perr != nil {
			err = fmt.Errorf("session %s: attribute %s: %w", text("id"), name, perr)
		}
		return t.UTC()
	}
	number := func(name string) int64 {
		v, ok := item[name].(*types.AttributeValueMemberN)
		if !ok || err != nil {
			return 0
		}
		n, perr := strconv.ParseInt(v.Value, 10, 64)
		if perr != nil {
			err = fmt.Errorf("session %s: attribute %s: %w", text("id"), name, perr)
		}
		return n
	}
	s = Session{
		ID:               text("id"),
		User:             text("user"),
		Profile:          text("profile"),
		ServerInstanceID: text("server_instance_id"),
		Status:           Status(text("status")),
		StartedAt:        when("started_at"),
		LastAccessAt:     when("last_access_at"),
		ExpiresAt:        when("expires_at"),
		RequestCount:     number("request_count"),
		SourceIdentity:   text("source_identity"),
		CreatedAt:        when("created_at"),
		UpdatedAt:        when("updated_at"),
		TTL:              number("ttl"),
		RevokedBy:        text("revoked_by"),
		RevokedReason:    text("revoked_reason"),
		RevokedAt:        when("revoked_at"),
	}
	if err == nil && s.ID == "" {
		err = errors.New("session record without an id")
	}
	return s, err
}

// timestamp is Sentinel's record time format: RFC 3339 in UTC, whole seconds.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// ttlFor is the ttl attribute for credentials that expire at expiresAt.
func ttlFor(expiresAt time.Time) int64 { return expiresAt.Add(ttlAfterExpiry).Unix() }

func key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"id": str(id)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}
