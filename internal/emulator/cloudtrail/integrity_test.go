package cloudtrail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	emulator "github.com/sentinel-audit/sentinel/internal/emulator/cloudtrail"
	"github.com/sentinel-audit/sentinel/internal/testkeys"
)

var orgTrail = emulator.Trail{
	Name: "org-trail", AccountID: "111111111111", HomeRegion: "us-east-1", S3BucketName: "acme-org-cloudtrail",
	IsOrganizationTrail: true, IsMultiRegionTrail: true, LogFileValidationEnabled: true,
}

func key(k testkeys.Key, from, to time.Time) emulator.PublicKey {
	return emulator.PublicKey{Value: k.PublicDER(), ValidityStart: from, ValidityEnd: to}
}

func TestListPublicKeys(t *testing.T) {
	rotation := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	_, endpoint := start(t, emulator.Options{RequestsPerSecond: -1, PublicKeys: []emulator.PublicKey{
		key(testkeys.Primary, time.Date(2026, 10, 11, 0, 0, 0, 0, time.UTC), rotation),
		key(testkeys.Rotated, rotation, time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC)),
	}})
	c := client(t, endpoint, "us-east-1")
	list := func(t *testing.T, from, to *time.Time) []types.PublicKey {
		t.Helper()
		out, err := c.ListPublicKeys(context.Background(), &cloudtrail.ListPublicKeysInput{StartTime: from, EndTime: to})
		if err != nil {
			t.Fatal(err)
		}
		return out.PublicKeyList
	}
	at := func(s string) *time.Time { v, _ := time.Parse(time.RFC3339, s); return &v }
	t.Run("keys_come_as_pkcs1_der_with_awss_fingerprint_and_validity", func(t *testing.T) {
		keys := list(t, at("2026-11-01T00:00:00Z"), at("2026-11-02T00:00:00Z"))
		if len(keys) != 1 {
			t.Fatalf("got %d keys", len(keys))
		}
		k := keys[0]
		if !bytes.Equal(k.Value, testkeys.Primary.PublicDER()) || aws.ToString(k.Fingerprint) != testkeys.Primary.Fingerprint() ||
			!k.ValidityStartTime.Equal(time.Date(2026, 10, 11, 0, 0, 0, 0, time.UTC)) || !k.ValidityEndTime.Equal(rotation) {
			t.Errorf("key %s valid %s..%s", aws.ToString(k.Fingerprint), k.ValidityStartTime, k.ValidityEndTime)
		}
	})
	t.Run("a_range_across_a_rotation_gives_both_keys", func(t *testing.T) {
		keys := list(t, at("2026-11-09T00:00:00Z"), at("2026-11-11T00:00:00Z"))
		if len(keys) != 2 || aws.ToString(keys[1].Fingerprint) != testkeys.Rotated.Fingerprint() {
			t.Errorf("got %d keys", len(keys))
		}
	})
	t.Run("no_range_gives_the_current_key", func(t *testing.T) {
		keys := list(t, nil, nil) // now is 2026-11-23
		if len(keys) != 1 || aws.ToString(keys[0].Fingerprint) != testkeys.Rotated.Fingerprint() {
			t.Errorf("got %v", keys)
		}
	})
	t.Run("a_range_outside_every_validity_gives_none", func(t *testing.T) {
		if keys := list(t, at("2027-01-01T00:00:00Z"), at("2027-01-02T00:00:00Z")); len(keys) != 0 {
			t.Errorf("got %d keys", len(keys))
		}
	})
	t.Run("start_after_end_is_InvalidTimeRangeException", func(t *testing.T) {
		_, err := c.ListPublicKeys(context.Background(), &cloudtrail.ListPublicKeysInput{StartTime: at("2026-11-02T00:00:00Z"), EndTime: at("2026-11-01T00:00:00Z")})
		var e *types.InvalidTimeRangeException
		if !errors.As(err, &e) {
			t.Errorf("got %v", err)
		}
	})
}

func TestDescribeTrails(t *testing.T) {
	other := emulator.Trail{Name: "account-trail", AccountID: "222222222222", HomeRegion: "eu-west-1", S3BucketName: "b2", S3KeyPrefix: "audit"}
	_, endpoint := start(t, emulator.Options{RequestsPerSecond: -1, Trails: []emulator.Trail{orgTrail, other}})
	c := client(t, endpoint, "us-east-1")
	t.Run("every_trail_with_bucket_prefix_home_region_and_org_flag", func(t *testing.T) {
		out, err := c.DescribeTrails(context.Background(), &cloudtrail.DescribeTrailsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.TrailList) != 2 {
			t.Fatalf("got %d trails", len(out.TrailList))
		}
		tr := out.TrailList[0]
		if aws.ToString(tr.TrailARN) != "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail" || aws.ToString(tr.S3BucketName) != "acme-org-cloudtrail" ||
			aws.ToString(tr.HomeRegion) != "us-east-1" || !aws.ToBool(tr.IsOrganizationTrail) || !aws.ToBool(tr.LogFileValidationEnabled) || tr.S3KeyPrefix != nil {
			t.Errorf("org trail: %+v", tr)
		}
		if tr := out.TrailList[1]; aws.ToString(tr.S3KeyPrefix) != "audit" || aws.ToBool(tr.IsOrganizationTrail) {
			t.Errorf("account trail: %+v", tr)
		}
	})
	t.Run("named_trails_by_name_or_arn", func(t *testing.T) {
		out, err := c.DescribeTrails(context.Background(), &cloudtrail.DescribeTrailsInput{TrailNameList: []string{other.ARN()}})
		if err != nil || len(out.TrailList) != 1 || aws.ToString(out.TrailList[0].Name) != "account-trail" {
			t.Errorf("got %+v, %v", out, err)
		}
	})
	t.Run("get_trail_by_arn", func(t *testing.T) {
		out, err := c.GetTrail(context.Background(), &cloudtrail.GetTrailInput{Name: aws.String(orgTrail.ARN())})
		if err != nil || aws.ToString(out.Trail.Name) != "org-trail" {
			t.Errorf("got %+v, %v", out, err)
		}
	})
	t.Run("get_unknown_trail_is_TrailNotFoundException", func(t *testing.T) {
		_, err := c.GetTrail(context.Background(), &cloudtrail.GetTrailInput{Name: aws.String("nope")})
		var e *types.TrailNotFoundException
		if !errors.As(err, &e) {
			t.Errorf("got %v", err)
		}
	})
}

func TestDescribeOrganization(t *testing.T) {
	describe := func(t *testing.T, opts emulator.Options) (int, map[string]any) {
		t.Helper()
		_, endpoint := start(t, opts)
		req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "AWSOrganizationsV20161128.DescribeOrganization")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	t.Run("names_the_organization_and_its_management_account", func(t *testing.T) {
		status, body := describe(t, emulator.Options{RequestsPerSecond: -1, OrganizationID: "o-a1b2c3d4e5", Trails: []emulator.Trail{orgTrail}})
		org, _ := body["Organization"].(map[string]any)
		if status != 200 || org["Id"] != "o-a1b2c3d4e5" || org["MasterAccountId"] != "111111111111" {
			t.Errorf("status %d, body %v", status, body)
		}
	})
	t.Run("no_organization_is_AWSOrganizationsNotInUseException", func(t *testing.T) {
		status, body := describe(t, emulator.Options{RequestsPerSecond: -1})
		if status != 400 || body["__type"] != "AWSOrganizationsNotInUseException" {
			t.Errorf("status %d, body %v", status, body)
		}
	})
}
