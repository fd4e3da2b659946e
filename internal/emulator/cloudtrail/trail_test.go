package cloudtrail_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/sentinel-audit/sentinel/internal/emulator/sts"
)

// TestIssuancesFromTheSTSEmulatorAreLookedUp runs the round trip the audit
// tests rely on: issue credentials through the STS emulator, archive its
// trail, load the archive here and find the issuance through LookupEvents.
func TestIssuancesFromTheSTSEmulatorAreLookedUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	issuedAt := now.Add(-time.Hour)
	issuer := sts.New(sts.Options{Now: func() time.Time { return issuedAt }, AllowAnyRole: true, Rand: rand.NewChaCha8([32]byte{7})})
	issuer.SetCaller("AKIAALICEEXAMPLE0001", "arn:aws:iam::111111111111:user/alice", "", "")
	stsEndpoint, stop, err := issuer.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion("us-west-2"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIAALICEEXAMPLE0001", "secret", "")),
		config.WithSharedConfigFiles([]string{t.TempDir() + "/none"}),
		config.WithSharedCredentialsFiles([]string{t.TempDir() + "/none"}),
		config.WithBaseEndpoint(stsEndpoint),
	)
	if err != nil {
		t.Fatal(err)
	}
	out, err := awssts.NewFromConfig(cfg).AssumeRole(ctx, &awssts.AssumeRoleInput{
		RoleArn:         aws.String("arn:aws:iam::222222222222:role/prod-admin"),
		RoleSessionName: aws.String("alice"),
		SourceIdentity:  aws.String("sentinel-r-0123456789abcdef-alice"),
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := issuer.TrailArchive(dir); err != nil {
		t.Fatal(err)
	}

	s, endpoint := start(t, unthrottled)
	if n, err := s.LoadArchiveDir(dir); err != nil || n != 1 {
		t.Fatalf("loaded %d records, err %v; want 1", n, err)
	}
	found, err := client(t, endpoint, "us-west-2").LookupEvents(ctx, &cloudtrail.LookupEventsInput{
		LookupAttributes: []types.LookupAttribute{{AttributeKey: types.LookupAttributeKeyEventName, AttributeValue: aws.String("AssumeRole")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found.Events) != 1 {
		t.Fatalf("found %d AssumeRole events, want 1", len(found.Events))
	}
	e := found.Events[0]
	if *e.Username != "alice" || *e.AccessKeyId != "AKIAALICEEXAMPLE0001" || !e.EventTime.Equal(issuedAt.Truncate(time.Second)) {
		t.Errorf("event = user %s, key %s, time %v", *e.Username, *e.AccessKeyId, e.EventTime)
	}
	var record struct {
		ResponseElements struct {
			Credentials struct {
				AccessKeyID string `json:"accessKeyId"`
			} `json:"credentials"`
			SourceIdentity string `json:"sourceIdentity"`
		} `json:"responseElements"`
	}
	if err := json.Unmarshal([]byte(*e.CloudTrailEvent), &record); err != nil {
		t.Fatal(err)
	}
	if record.ResponseElements.Credentials.AccessKeyID != *out.Credentials.AccessKeyId ||
		record.ResponseElements.SourceIdentity != "sentinel-r-0123456789abcdef-alice" {
		t.Errorf("CloudTrailEvent response elements = %+v", record.ResponseElements)
	}
}
