package cloudtrail

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// PublicKey is one of CloudTrail's digest signing keys.
type PublicKey struct {
	Value                      []byte // PKCS#1 DER, as ListPublicKeys returns it
	ValidityStart, ValidityEnd time.Time
}

// Fingerprint is the key's fingerprint as CloudTrail computes it: the hex MD5 of Value.
func (k PublicKey) Fingerprint() string {
	sum := md5.Sum(k.Value)
	return hex.EncodeToString(sum[:])
}

// Trail is a trail DescribeTrails and GetTrail describe.
type Trail struct {
	Name         string
	AccountID    string // the trail's owner (the organization's management account for an organization trail)
	HomeRegion   string
	S3BucketName string
	S3KeyPrefix  string // "" for none
	// IsOrganizationTrail marks a trail that logs every account of the organization.
	IsOrganizationTrail bool
	IsMultiRegionTrail  bool
	// LogFileValidationEnabled: CloudTrail delivers digests for the trail.
	LogFileValidationEnabled bool
}

// ARN is the trail's ARN: arn:aws:cloudtrail:HOMEREGION:ACCOUNT:trail/NAME.
func (t Trail) ARN() string {
	return "arn:aws:cloudtrail:" + t.HomeRegion + ":" + t.AccountID + ":trail/" + t.Name
}

// apiTrail is a trail on the wire (DescribeTrails' trailList, GetTrail's Trail).
type apiTrail struct {
	Name                       string `json:"Name"`
	S3BucketName               string `json:"S3BucketName"`
	S3KeyPrefix                string `json:"S3KeyPrefix,omitempty"`
	IncludeGlobalServiceEvents bool   `json:"IncludeGlobalServiceEvents"`
	IsMultiRegionTrail         bool   `json:"IsMultiRegionTrail"`
	HomeRegion                 string `json:"HomeRegion"`
	TrailARN                   string `json:"TrailARN"`
	LogFileValidationEnabled   bool   `json:"LogFileValidationEnabled"`
	HasCustomEventSelectors    bool   `json:"HasCustomEventSelectors"`
	HasInsightSelectors        bool   `json:"HasInsightSelectors"`
	IsOrganizationTrail        bool   `json:"IsOrganizationTrail"`
}

func (t Trail) api() apiTrail {
	return apiTrail{
		Name: t.Name, S3BucketName: t.S3BucketName, S3KeyPrefix: t.S3KeyPrefix, IncludeGlobalServiceEvents: true,
		IsMultiRegionTrail: t.IsMultiRegionTrail, HomeRegion: t.HomeRegion, TrailARN: t.ARN(),
		LogFileValidationEnabled: t.LogFileValidationEnabled, IsOrganizationTrail: t.IsOrganizationTrail,
	}
}

// decode reads a JSON 1.1 request body into v; an empty body is an empty input.
func decode(body []byte, v any) *apiError {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(v) != nil {
		return errorf("SerializationException", "Request body is not a valid input.")
	}
	return nil
}

// listPublicKeys answers ListPublicKeys: the keys whose validity overlaps [StartTime, EndTime],
// each bound defaulting to now (so no bounds give the current key).
func (s *Server) listPublicKeys(w http.ResponseWriter, body []byte) {
	var req struct {
		StartTime *json.Number `json:"StartTime"`
		EndTime   *json.Number `json:"EndTime"`
		NextToken *string      `json:"NextToken"`
	}
	if e := decode(body, &req); e != nil {
		writeError(w, e)
		return
	}
	now := s.opts.Now()
	start, err := epochTime(req.StartTime)
	if err != nil {
		writeError(w, errorf("InvalidTimeRangeException", "StartTime is not a valid timestamp."))
		return
	}
	end, err := epochTime(req.EndTime)
	if err != nil {
		writeError(w, errorf("InvalidTimeRangeException", "EndTime is not a valid timestamp."))
		return
	}
	if start == nil {
		start = &now
	}
	if end == nil {
		end = &now
	}
	if start.After(*end) {
		writeError(w, errorf("InvalidTimeRangeException", "Start time must be before or equal to end time."))
		return
	}
	type apiKey struct {
		Value             []byte      `json:"Value"` // encoding/json writes base64, as the JSON protocol does for blobs
		ValidityStartTime json.Number `json:"ValidityStartTime"`
		ValidityEndTime   json.Number `json:"ValidityEndTime"`
		Fingerprint       string      `json:"Fingerprint"`
	}
	resp := struct {
		PublicKeyList []apiKey `json:"PublicKeyList"`
	}{PublicKeyList: []apiKey{}}
	for _, k := range s.opts.PublicKeys {
		if k.ValidityEnd.Before(*start) || k.ValidityStart.After(*end) {
			continue
		}
		resp.PublicKeyList = append(resp.PublicKeyList, apiKey{Value: k.Value, ValidityStartTime: epochSeconds(k.ValidityStart), ValidityEndTime: epochSeconds(k.ValidityEnd), Fingerprint: k.Fingerprint()})
	}
	writeJSON(w, http.StatusOK, resp)
}

// describeTrails answers DescribeTrails: every trail, or those named (by name or ARN).
func (s *Server) describeTrails(w http.ResponseWriter, body []byte) {
	var req struct {
		TrailNameList       []string `json:"trailNameList"`
		IncludeShadowTrails *bool    `json:"includeShadowTrails"`
	}
	if e := decode(body, &req); e != nil {
		writeError(w, e)
		return
	}
	resp := struct {
		TrailList []apiTrail `json:"trailList"`
	}{TrailList: []apiTrail{}}
	for _, t := range s.opts.Trails {
		if len(req.TrailNameList) == 0 || matchesAny(t, req.TrailNameList) {
			resp.TrailList = append(resp.TrailList, t.api())
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// getTrail answers GetTrail for a trail named by name or ARN.
func (s *Server) getTrail(w http.ResponseWriter, body []byte) {
	var req struct {
		Name *string `json:"Name"`
	}
	if e := decode(body, &req); e != nil {
		writeError(w, e)
		return
	}
	if req.Name == nil || *req.Name == "" {
		writeError(w, errorf("InvalidTrailNameException", "Name is required."))
		return
	}
	for _, t := range s.opts.Trails {
		if matchesAny(t, []string{*req.Name}) {
			writeJSON(w, http.StatusOK, map[string]apiTrail{"Trail": t.api()})
			return
		}
	}
	writeError(w, errorf("TrailNotFoundException", "Unknown trail: %s for the user: %s", *req.Name, Account))
}

func matchesAny(t Trail, names []string) bool {
	for _, n := range names {
		if n == t.Name || n == t.ARN() {
			return true
		}
	}
	return false
}

// describeOrganization answers Organizations' DescribeOrganization.
func (s *Server) describeOrganization(w http.ResponseWriter) {
	id := s.opts.OrganizationID
	if id == "" {
		writeError(w, errorf("AWSOrganizationsNotInUseException", "Your account is not a member of an organization."))
		return
	}
	master := Account
	for _, t := range s.opts.Trails {
		if t.IsOrganizationTrail {
			master = t.AccountID
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"Organization": map[string]any{
		"Id":                 id,
		"Arn":                "arn:aws:organizations::" + master + ":organization/" + id,
		"FeatureSet":         "ALL",
		"MasterAccountId":    master,
		"MasterAccountArn":   "arn:aws:organizations::" + master + ":account/" + id + "/" + master,
		"MasterAccountEmail": "aws-admin@example.com",
	}})
}

// operation is the API operation an X-Amz-Target names ("CloudTrail_20131101.ListPublicKeys",
// also fully qualified as "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListPublicKeys").
func operation(target string) string {
	for _, prefix := range []string{"com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.", "CloudTrail_20131101.", "AWSOrganizationsV20161128."} {
		if op, ok := strings.CutPrefix(target, prefix); ok {
			if prefix == "AWSOrganizationsV20161128." {
				return "Organizations." + op
			}
			return op
		}
	}
	return ""
}
