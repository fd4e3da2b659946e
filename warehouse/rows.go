package warehouse

import "time"

// EventRow is one CloudTrail record as stored in the lake (dataset "events", partitioned by the
// UTC date of event_time). Extracted columns make queries fast; Raw keeps the whole record so
// nothing is lost to schema drift. Optional columns are pointers and nil is stored as NULL:
// parquet-go's "optional" tag on a plain string writes "" instead of NULL once a column has held a
// value, so nullable columns are never plain strings.
type EventRow struct {
	EventID                 string    `parquet:"event_id,zstd"`
	EventTime               time.Time `parquet:"event_time,timestamp(microsecond),delta"`
	EventVersion            *string   `parquet:"event_version,dict,zstd"`
	EventSource             *string   `parquet:"event_source,dict,zstd"`
	EventName               *string   `parquet:"event_name,dict,zstd"`
	EventType               *string   `parquet:"event_type,dict,zstd"`
	EventCategory           *string   `parquet:"event_category,dict,zstd"`
	AWSRegion               *string   `parquet:"aws_region,dict,zstd"`
	RecipientAccountID      *string   `parquet:"recipient_account_id,dict,zstd"`
	SourceIPAddress         *string   `parquet:"source_ip_address,dict,zstd"`
	UserAgent               *string   `parquet:"user_agent,dict,zstd"`
	ErrorCode               *string   `parquet:"error_code,dict,zstd"`
	ErrorMessage            *string   `parquet:"error_message,zstd"`
	ReadOnly                *bool     `parquet:"read_only"`
	ManagementEvent         *bool     `parquet:"management_event"`
	RequestID               *string   `parquet:"request_id,zstd"`
	SharedEventID           *string   `parquet:"shared_event_id,zstd"`
	IdentityType            *string   `parquet:"identity_type,dict,zstd"`
	IdentityARN             *string   `parquet:"identity_arn,dict,zstd"`
	IdentityAccountID       *string   `parquet:"identity_account_id,dict,zstd"`
	IdentityPrincipalID     *string   `parquet:"identity_principal_id,dict,zstd"`
	IdentityUserName        *string   `parquet:"identity_user_name,dict,zstd"`
	AccessKeyID             *string   `parquet:"access_key_id,dict,zstd"`
	InvokedBy               *string   `parquet:"invoked_by,dict,zstd"`
	SessionIssuerARN        *string   `parquet:"session_issuer_arn,dict,zstd"`
	SessionIssuerType       *string   `parquet:"session_issuer_type,dict,zstd"`
	SessionSourceIdentity   *string   `parquet:"session_source_identity,dict,zstd"`
	SessionCreationDate     *string   `parquet:"session_creation_date,zstd"`
	SessionMFAAuthenticated *bool     `parquet:"session_mfa_authenticated"`
	RequestSourceIdentity   *string   `parquet:"request_source_identity,dict,zstd"`
	ResponseSourceIdentity  *string   `parquet:"response_source_identity,dict,zstd"`
	RoleARN                 *string   `parquet:"role_arn,dict,zstd"`
	RoleSessionName         *string   `parquet:"role_session_name,dict,zstd"`
	IssuedAccessKeyID       *string   `parquet:"issued_access_key_id,zstd"`
	AssumedRoleARN          *string   `parquet:"assumed_role_arn,zstd"`
	SourceIdentity          *string   `parquet:"source_identity,dict,zstd"`
	SourceIdentityKind      *string   `parquet:"source_identity_kind,dict,zstd"`
	SourceIdentityID        *string   `parquet:"source_identity_id,dict,zstd"`
	SourceIdentityUser      *string   `parquet:"source_identity_user,dict,zstd"`
	AddendumReason          *string   `parquet:"addendum_reason,dict,zstd"`
	AddendumOriginalEventID *string   `parquet:"addendum_original_event_id,zstd"`
	RequestParameters       *string   `parquet:"request_parameters,zstd"`
	ResponseElements        *string   `parquet:"response_elements,zstd"`
	Raw                     string    `parquet:"raw,zstd"`
	SourceFile              string    `parquet:"source_file,dict,zstd"`
	IngestRun               int64     `parquet:"ingest_run,delta"`
}

// SnapshotRow is one session-table item in one snapshot (dataset "session_snapshots",
// partitioned by the UTC date of taken_at). Raw keeps every attribute, known or not, as plain JSON.
type SnapshotRow struct {
	SnapshotID       string     `parquet:"snapshot_id,dict,zstd"`
	TakenAt          time.Time  `parquet:"taken_at,timestamp(microsecond)"`
	SnapshotSource   string     `parquet:"snapshot_source,dict,zstd"`
	ID               string     `parquet:"id,zstd"`
	User             *string    `parquet:"user,dict,zstd"`
	Profile          *string    `parquet:"profile,dict,zstd"`
	ServerInstanceID *string    `parquet:"server_instance_id,dict,zstd"`
	Status           *string    `parquet:"status,dict,zstd"`
	StartedAt        *time.Time `parquet:"started_at,timestamp(microsecond)"`
	LastAccessAt     *time.Time `parquet:"last_access_at,timestamp(microsecond)"`
	ExpiresAt        *time.Time `parquet:"expires_at,timestamp(microsecond)"`
	RequestCount     *int64     `parquet:"request_count"`
	SourceIdentity   *string    `parquet:"source_identity,zstd"`
	CreatedAt        *time.Time `parquet:"created_at,timestamp(microsecond)"`
	UpdatedAt        *time.Time `parquet:"updated_at,timestamp(microsecond)"`
	RevokedAt        *time.Time `parquet:"revoked_at,timestamp(microsecond)"`
	TTL              *int64     `parquet:"ttl"`
	RevokedBy        *string    `parquet:"revoked_by,zstd"`
	RevokedReason    *string    `parquet:"revoked_reason,zstd"`
	Raw              string     `parquet:"raw,zstd"`
	IngestRun        int64      `parquet:"ingest_run"`
}
