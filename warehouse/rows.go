package warehouse

import (
	"strings"
	"time"
)

// IssuanceEventNames are the STS calls that mint role credentials: each one without an errorCode
// is a credential issuance. The SQL names them through the is_issuance_call macro (IssuanceMacro).
var IssuanceEventNames = []string{"AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"}

// issuanceSource is the event source of every issuance call.
const issuanceSource = "sts.amazonaws.com"

// IsIssuanceCall reports whether a record with this eventSource and eventName is a call that mints
// role credentials (an issuance when it has no errorCode).
func IsIssuanceCall(source, name *string) bool {
	if source == nil || name == nil || *source != issuanceSource {
		return false
	}
	for _, n := range IssuanceEventNames {
		if *name == n {
			return true
		}
	}
	return false
}

// IssuanceMacro is the DuckDB macro is_issuance_call(event_source, event_name): IsIssuanceCall
// in SQL. Every query engine the warehouse opens (readers, the writer's scratch) defines it.
func IssuanceMacro() string {
	names := make([]string, len(IssuanceEventNames))
	for i, n := range IssuanceEventNames {
		names[i] = Literal(n)
	}
	return "CREATE OR REPLACE MACRO is_issuance_call(event_source, event_name) AS event_source = " +
		Literal(issuanceSource) + " AND event_name IN (" + strings.Join(names, ", ") + ")"
}

// EventRow is one CloudTrail record as stored in the lake (dataset "events", partitioned by the
// UTC date of event_time). Extracted columns make queries fast; Raw keeps the whole record so
// nothing is lost to schema drift. Nothing is stored twice where it costs space:
//   - the members of RawMembers (requestParameters, requestID, ...) are not columns: the views take
//     them from raw when a query selects them;
//   - when RawEventIDAt > 0, Raw is the record without its eventID's value (random, so it does
//     not compress), which is EventID inserted after the first RawEventIDAt characters of Raw;
//     the views put it back (RawSQL). 0 means Raw is the whole record.
//
// Optional columns are pointers and nil is stored as NULL:
// parquet-go's "optional" tag on a plain string writes "" instead of NULL once a column has held a
// value, so nullable columns are never plain strings.
type EventRow struct {
	EventID                 string    `parquet:"event_id"`
	EventTime               time.Time `parquet:"event_time,timestamp(microsecond),delta"`
	EventVersion            *string   `parquet:"event_version,dict"`
	EventSource             *string   `parquet:"event_source,dict"`
	EventName               *string   `parquet:"event_name,dict"`
	EventType               *string   `parquet:"event_type,dict"`
	EventCategory           *string   `parquet:"event_category,dict"`
	AWSRegion               *string   `parquet:"aws_region,dict"`
	RecipientAccountID      *string   `parquet:"recipient_account_id,dict"`
	SourceIPAddress         *string   `parquet:"source_ip_address,dict"`
	UserAgent               *string   `parquet:"user_agent,dict"`
	ErrorCode               *string   `parquet:"error_code,dict"`
	ReadOnly                *bool     `parquet:"read_only"`
	ManagementEvent         *bool     `parquet:"management_event"`
	IdentityType            *string   `parquet:"identity_type,dict"`
	IdentityARN             *string   `parquet:"identity_arn,dict"`
	IdentityAccountID       *string   `parquet:"identity_account_id,dict"`
	IdentityUserName        *string   `parquet:"identity_user_name,dict"`
	AccessKeyID             *string   `parquet:"access_key_id"`
	InvokedBy               *string   `parquet:"invoked_by,dict"`
	SessionIssuerARN        *string   `parquet:"session_issuer_arn,dict"`
	SessionIssuerType       *string   `parquet:"session_issuer_type,dict"`
	SessionMFAAuthenticated *bool     `parquet:"session_mfa_authenticated"`
	RoleARN                 *string   `parquet:"role_arn,dict"`
	RoleSessionName         *string   `parquet:"role_session_name,dict"`
	IssuedAccessKeyID       *string   `parquet:"issued_access_key_id"`
	SourceIdentity          *string   `parquet:"source_identity"`
	SourceIdentityKind      *string   `parquet:"source_identity_kind,dict"`
	SourceIdentityID        *string   `parquet:"source_identity_id"`
	SourceIdentityUser      *string   `parquet:"source_identity_user,dict"`
	AddendumReason          *string   `parquet:"addendum_reason,dict"`
	AddendumOriginalEventID *string   `parquet:"addendum_original_event_id"`
	Raw                     string    `parquet:"raw"`
	RawEventIDAt            int32     `parquet:"raw_event_id_at"`
	SourceFile              string    `parquet:"source_file,dict"`
	IngestRun               int64     `parquet:"ingest_run,delta"`
}

// IssuanceRow is one row of the issuance index (dataset "issuances"): a successful credential
// issuance (an IssuanceEventNames call without an errorCode, as issuance_index.sql selects) among
// the events of the events file the issuances file belongs to, with the event columns the audits read. The
// writer writes it beside the events file; Finish writes it with issuance_index.sql for events files
// written otherwise (compaction, a warehouse from before the dataset).
type IssuanceRow struct {
	EventID            string    `parquet:"event_id"`
	EventTime          time.Time `parquet:"event_time,timestamp(microsecond)"`
	EventName          *string   `parquet:"event_name,dict"`
	AWSRegion          *string   `parquet:"aws_region,dict"`
	RecipientAccountID *string   `parquet:"recipient_account_id,dict"`
	SourceIPAddress    *string   `parquet:"source_ip_address,dict"`
	UserAgent          *string   `parquet:"user_agent,dict"`
	IdentityType       *string   `parquet:"identity_type,dict"`
	IdentityARN        *string   `parquet:"identity_arn,dict"`
	IdentityUserName   *string   `parquet:"identity_user_name,dict"`
	RoleARN            *string   `parquet:"role_arn,dict"`
	RoleSessionName    *string   `parquet:"role_session_name,dict"`
	IssuedAccessKeyID  *string   `parquet:"issued_access_key_id"`
	SourceIdentity     *string   `parquet:"source_identity"`
	SourceIdentityKind *string   `parquet:"source_identity_kind,dict"`
	SourceIdentityID   *string   `parquet:"source_identity_id"`
	SourceIdentityUser *string   `parquet:"source_identity_user,dict"`
}

// SnapshotRow is one session-table item in one snapshot (dataset "session_snapshots",
// partitioned by the UTC date of taken_at). Raw keeps every attribute, known or not, as plain JSON.
type SnapshotRow struct {
	SnapshotID       string     `parquet:"snapshot_id,dict"`
	TakenAt          time.Time  `parquet:"taken_at,timestamp(microsecond)"`
	SnapshotSource   string     `parquet:"snapshot_source,dict"`
	ID               string     `parquet:"id"`
	User             *string    `parquet:"user,dict"`
	Profile          *string    `parquet:"profile,dict"`
	ServerInstanceID *string    `parquet:"server_instance_id,dict"`
	Status           *string    `parquet:"status,dict"`
	StartedAt        *time.Time `parquet:"started_at,timestamp(microsecond)"`
	LastAccessAt     *time.Time `parquet:"last_access_at,timestamp(microsecond)"`
	ExpiresAt        *time.Time `parquet:"expires_at,timestamp(microsecond)"`
	RequestCount     *int64     `parquet:"request_count"`
	SourceIdentity   *string    `parquet:"source_identity"`
	CreatedAt        *time.Time `parquet:"created_at,timestamp(microsecond)"`
	UpdatedAt        *time.Time `parquet:"updated_at,timestamp(microsecond)"`
	RevokedAt        *time.Time `parquet:"revoked_at,timestamp(microsecond)"`
	TTL              *int64     `parquet:"ttl"`
	RevokedBy        *string    `parquet:"revoked_by"`
	RevokedReason    *string    `parquet:"revoked_reason"`
	Raw              string     `parquet:"raw"`
	IngestRun        int64      `parquet:"ingest_run"`
}
