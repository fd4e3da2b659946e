package sts

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// CloudTrail formats.
const (
	eventTimeLayout  = "2006-01-02T15:04:05Z"
	expirationLayout = "Jan 2, 2006, 3:04:05 PM" // responseElements.credentials.expiration
	// deliveryInterval is how much activity one archive file covers.
	deliveryInterval = 5 * time.Minute
)

// ctRecord is an AssumeRole CloudTrail record, fields in CloudTrail's order.
type ctRecord struct {
	EventVersion       string              `json:"eventVersion"`
	UserIdentity       ctUserIdentity      `json:"userIdentity"`
	EventTime          string              `json:"eventTime"`
	EventSource        string              `json:"eventSource"`
	EventName          string              `json:"eventName"`
	AWSRegion          string              `json:"awsRegion"`
	SourceIPAddress    string              `json:"sourceIPAddress"`
	UserAgent          string              `json:"userAgent"`
	ErrorCode          string              `json:"errorCode,omitempty"`
	ErrorMessage       string              `json:"errorMessage,omitempty"`
	RequestParameters  ctRequestParameters `json:"requestParameters"`
	ResponseElements   *ctResponseElements `json:"responseElements"`
	RequestID          string              `json:"requestID"`
	EventID            string              `json:"eventID"`
	ReadOnly           bool                `json:"readOnly"`
	Resources          []ctResource        `json:"resources,omitempty"`
	EventType          string              `json:"eventType"`
	ManagementEvent    bool                `json:"managementEvent"`
	RecipientAccountID string              `json:"recipientAccountId"`
	SharedEventID      string              `json:"sharedEventID,omitempty"`
	EventCategory      string              `json:"eventCategory"`
	TLSDetails         ctTLSDetails        `json:"tlsDetails"`
}

type ctUserIdentity struct {
	Type           string            `json:"type"`
	PrincipalID    string            `json:"principalId,omitempty"`
	ARN            string            `json:"arn,omitempty"`
	AccountID      string            `json:"accountId,omitempty"`
	AccessKeyID    string            `json:"accessKeyId,omitempty"`
	UserName       string            `json:"userName,omitempty"`
	SessionContext *ctSessionContext `json:"sessionContext,omitempty"`
}

type ctSessionContext struct {
	SessionIssuer       *ctSessionIssuer `json:"sessionIssuer,omitempty"`
	WebIDFederationData struct{}         `json:"webIdFederationData"`
	Attributes          ctAttributes     `json:"attributes"`
	SourceIdentity      string           `json:"sourceIdentity,omitempty"`
}

type ctSessionIssuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

type ctAttributes struct {
	CreationDate     string `json:"creationDate"`
	MFAAuthenticated string `json:"mfaAuthenticated"`
}

type ctRequestParameters struct {
	RoleARN         string `json:"roleArn,omitempty"`
	RoleSessionName string `json:"roleSessionName,omitempty"`
	DurationSeconds *int   `json:"durationSeconds,omitempty"`
	SourceIdentity  string `json:"sourceIdentity,omitempty"`
}

type ctResponseElements struct {
	Credentials     ctCredentials     `json:"credentials"`
	AssumedRoleUser ctAssumedRoleUser `json:"assumedRoleUser"`
	SourceIdentity  string            `json:"sourceIdentity,omitempty"`
}

type ctCredentials struct {
	AccessKeyID  string `json:"accessKeyId"`
	SessionToken string `json:"sessionToken"`
	Expiration   string `json:"expiration"`
}

type ctAssumedRoleUser struct {
	AssumedRoleID string `json:"assumedRoleId"`
	ARN           string `json:"arn"`
}

type ctResource struct {
	AccountID string `json:"accountId"`
	Type      string `json:"type"`
	ARN       string `json:"ARN"`
}

type ctTLSDetails struct {
	TLSVersion               string `json:"tlsVersion"`
	CipherSuite              string `json:"cipherSuite"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader"`
}

// recordIssuance appends iss to the issuance log and its CloudTrail record to
// the trail. s.mu must be held.
func (s *Server) recordIssuance(iss *Issuance, p *assumeRoleParams, req request, callerSession *session, out *assumeRoleResult, apiErr *apiError) error {
	eventID, err := s.uuid()
	if err != nil {
		return err
	}
	rec := ctRecord{
		EventVersion:    "1.08",
		UserIdentity:    userIdentity(iss.Caller, callerSession, iss.Time),
		EventTime:       iss.Time.UTC().Format(eventTimeLayout),
		EventSource:     "sts.amazonaws.com",
		EventName:       "AssumeRole",
		AWSRegion:       req.region,
		SourceIPAddress: req.sourceIP,
		UserAgent:       req.userAgent,
		RequestParameters: ctRequestParameters{
			RoleARN:         p.roleARN,
			RoleSessionName: p.sessionName,
		},
		RequestID:       iss.RequestID,
		EventID:         eventID,
		ReadOnly:        true,
		EventType:       "AwsApiCall",
		ManagementEvent: true,
		EventCategory:   "Management",
		TLSDetails: ctTLSDetails{
			TLSVersion:               "TLSv1.3",
			CipherSuite:              "TLS_AES_128_GCM_SHA256",
			ClientProvidedHostHeader: req.host,
		},
	}
	if p.hasDuration && p.durationRaw != "" {
		if n := p.duration; fmt.Sprint(n) == p.durationRaw {
			rec.RequestParameters.DurationSeconds = &n
		}
	}
	if p.hasSourceIdentity {
		rec.RequestParameters.SourceIdentity = p.sourceIdentity
	}
	rec.RecipientAccountID = iss.Caller.Account
	if m := roleARNPattern.FindStringSubmatch(p.roleARN); m != nil {
		rec.RecipientAccountID = m[2]
		rec.Resources = []ctResource{{AccountID: m[2], Type: "AWS::IAM::Role", ARN: p.roleARN}}
		if iss.Caller.Account != "" && iss.Caller.Account != m[2] {
			if rec.SharedEventID, err = s.uuid(); err != nil {
				return err
			}
		}
	}
	if rec.RecipientAccountID == "" {
		rec.RecipientAccountID = DefaultAccount
	}
	if apiErr != nil {
		rec.ErrorCode, rec.ErrorMessage = apiErr.code, apiErr.message
	} else {
		rec.ResponseElements = &ctResponseElements{
			Credentials: ctCredentials{
				AccessKeyID:  out.Credentials.AccessKeyID,
				SessionToken: out.Credentials.SessionToken,
				Expiration:   iss.Expiration.UTC().Format(expirationLayout),
			},
			AssumedRoleUser: ctAssumedRoleUser{
				AssumedRoleID: out.AssumedRoleUser.AssumedRoleID,
				ARN:           out.AssumedRoleUser.Arn,
			},
			SourceIdentity: out.SourceIdentity,
		}
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	s.log = append(s.log, *iss)
	s.records = append(s.records, trailRecord{account: rec.RecipientAccountID, region: req.region, time: iss.Time, raw: raw})
	return nil
}

// userIdentity is the CloudTrail userIdentity of a caller.
func userIdentity(id Identity, sess *session, now time.Time) ctUserIdentity {
	u := ctUserIdentity{
		PrincipalID: id.UserID,
		ARN:         id.ARN,
		AccountID:   id.Account,
		AccessKeyID: id.AccessKeyID,
	}
	mfa := "false"
	if sess != nil && sess.mfa {
		mfa = "true"
	}
	switch {
	case sess != nil && sess.userToken:
		// A user's GetSessionToken session: the user, with a session context.
		u.Type = "IAMUser"
		if strings.HasSuffix(id.ARN, ":root") {
			u.Type = "Root"
		} else {
			u.UserName = arnName(id.ARN)
		}
		u.SessionContext = &ctSessionContext{Attributes: ctAttributes{
			CreationDate:     sess.issued.UTC().Format(eventTimeLayout),
			MFAAuthenticated: mfa,
		}}
	case sess != nil || strings.Contains(id.ARN, ":assumed-role/"):
		u.Type = "AssumedRole"
		roleARN, _ := assumedRoleParts(id.ARN)
		issuerID, _, _ := strings.Cut(id.UserID, ":")
		created, sourceIdentity := now, ""
		if sess != nil {
			roleARN, issuerID = sess.roleARN, sess.roleID
			created, sourceIdentity = sess.issued, sess.sourceIdentity
		}
		u.SessionContext = &ctSessionContext{
			SessionIssuer: &ctSessionIssuer{
				Type:        "Role",
				PrincipalID: issuerID,
				ARN:         roleARN,
				AccountID:   arnAccount(roleARN),
				UserName:    arnName(roleARN),
			},
			Attributes: ctAttributes{
				CreationDate:     created.UTC().Format(eventTimeLayout),
				MFAAuthenticated: mfa,
			},
			SourceIdentity: sourceIdentity,
		}
	case strings.HasSuffix(id.ARN, ":root"):
		u.Type = "Root"
	case strings.Contains(id.ARN, ":user/"):
		u.Type = "IAMUser"
		u.UserName = arnName(id.ARN)
	case strings.Contains(id.ARN, ":federated-user/"):
		u.Type = "FederatedUser"
	default:
		u.Type = "Unknown"
	}
	return u
}

// TrailArchive writes the CloudTrail records as a trail would deliver them to
// S3, below dir: gzipped {"Records":[...]} files, one per recipient account,
// region and five minutes of activity, at
// AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_<16 alnum>.json.gz.
// Each call writes new files (new random suffixes), like a redelivery.
func (s *Server) TrailArchive(dir string) error {
	s.mu.Lock()
	records := append([]trailRecord(nil), s.records...)
	s.mu.Unlock()

	type fileKey struct {
		account, region string
		window          time.Time
	}
	var order []fileKey
	files := make(map[fileKey][]json.RawMessage)
	for _, r := range records {
		k := fileKey{r.account, r.region, r.time.UTC().Truncate(deliveryInterval)}
		if _, ok := files[k]; !ok {
			order = append(order, k)
		}
		files[k] = append(files[k], r.raw)
	}
	for _, k := range order {
		suffix, err := s.randomAlnum(16)
		if err != nil {
			return fmt.Errorf("trail archive: %w", err)
		}
		folder := filepath.Join(dir, "AWSLogs", k.account, "CloudTrail", k.region, k.window.Format("2006/01/02"))
		name := fmt.Sprintf("%s_CloudTrail_%s_%s_%s.json.gz", k.account, k.region, k.window.Format("20060102T1504Z"), suffix)
		if err := writeArchiveFile(folder, name, files[k]); err != nil {
			return fmt.Errorf("trail archive: write %s: %w", filepath.Join(folder, name), err)
		}
	}
	return nil
}

// writeArchiveFile writes one gzipped log file atomically (temp file, rename),
// so a reader never sees half a file.
func writeArchiveFile(folder, name string, records []json.RawMessage) error {
	if err := os.MkdirAll(folder, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(folder, "."+name+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	zw := gzip.NewWriter(tmp)
	if err := json.NewEncoder(zw).Encode(struct {
		Records []json.RawMessage `json:"Records"`
	}{records}); err != nil {
		tmp.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(folder, name))
}
