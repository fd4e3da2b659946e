package cloudtrail_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/smithy-go"

	emulator "github.com/sentinel-audit/sentinel/internal/emulator/cloudtrail"
)

// now is the emulated present of every test.
var now = time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)

// start runs an emulator for the test and returns it with its endpoint.
func start(t *testing.T, opts emulator.Options) (*emulator.Server, string) {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return now }
	}
	s := emulator.New(opts)
	endpoint, stop, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return s, endpoint
}

// unthrottled are options for tests that are not about throttling.
var unthrottled = emulator.Options{RequestsPerSecond: -1}

// client is the real SDK CloudTrail client, pointed at endpoint the way users
// point it at LocalStack.
func client(t *testing.T, endpoint, region string, opts ...func(*config.LoadOptions) error) *cloudtrail.Client {
	t.Helper()
	none := filepath.Join(t.TempDir(), "no-such-file")
	opts = append([]func(*config.LoadOptions) error{
		config.WithRegion(region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "")),
		config.WithSharedConfigFiles([]string{none}),
		config.WithSharedCredentialsFiles([]string{none}),
		config.WithBaseEndpoint(endpoint),
	}, opts...)
	cfg, err := config.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return cloudtrail.NewFromConfig(cfg)
}

// rec is a real-shaped CloudTrail record.
type rec struct {
	id, name, source, user, accessKey string
	at                                time.Time
	readOnly                          bool
	assumedRole                       bool
	resources                         [][2]string // type, ARN
}

func (r rec) json(region string) []byte {
	who := map[string]any{
		"type":        "IAMUser",
		"principalId": "AIDAEXAMPLE",
		"arn":         "arn:aws:iam::123456789012:user/" + r.user,
		"accountId":   "123456789012",
		"accessKeyId": r.accessKey,
		"userName":    r.user,
	}
	if r.assumedRole {
		who = map[string]any{
			"type":        "AssumedRole",
			"principalId": "AROAEXAMPLE:" + r.user,
			"arn":         "arn:aws:sts::123456789012:assumed-role/Admin/" + r.user,
			"accountId":   "123456789012",
			"accessKeyId": r.accessKey,
			"sessionContext": map[string]any{
				"sessionIssuer":  map[string]any{"type": "Role", "arn": "arn:aws:iam::123456789012:role/Admin", "userName": "Admin"},
				"sourceIdentity": "sentinel-s-0123456789abcdef-alice",
			},
		}
	}
	var resources []map[string]string
	for _, res := range r.resources {
		resources = append(resources, map[string]string{"accountId": "123456789012", "type": res[0], "ARN": res[1]})
	}
	b, err := json.Marshal(map[string]any{
		"eventVersion":      "1.08",
		"userIdentity":      who,
		"eventTime":         r.at.UTC().Format(time.RFC3339),
		"eventSource":       r.source,
		"eventName":         r.name,
		"awsRegion":         region,
		"sourceIPAddress":   "203.0.113.7",
		"requestParameters": map[string]any{"bucketName": "logs"},
		"eventID":           r.id,
		"readOnly":          r.readOnly,
		"resources":         resources,
		"eventType":         "AwsApiCall",
	})
	if err != nil {
		panic(err)
	}
	return b
}

// series returns n records one minute apart, oldest first, ending at last.
func series(n int, last time.Time, region string) [][]byte {
	out := make([][]byte, n)
	for i := range n {
		out[i] = rec{
			id:     fmt.Sprintf("ev-%04d", i),
			name:   "GetObject",
			source: "s3.amazonaws.com",
			user:   "alice",
			at:     last.Add(-time.Duration(n-1-i) * time.Minute),
		}.json(region)
	}
	return out
}

func apiCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func TestLookupEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("pages_of_50_newest_first", func(t *testing.T) {
		t.Parallel()
		s, endpoint := start(t, unthrottled)
		if err := s.AddRecords("us-east-1", series(230, now.Add(-time.Hour), "us-east-1")...); err != nil {
			t.Fatal(err)
		}
		p := cloudtrail.NewLookupEventsPaginator(client(t, endpoint, "us-east-1"), &cloudtrail.LookupEventsInput{})
		var sizes []int
		var prev time.Time
		seen := map[string]bool{}
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(page.Events))
			for _, e := range page.Events {
				if !prev.IsZero() && e.EventTime.After(prev) {
					t.Fatalf("event %s at %v is newer than the one before it (%v)", *e.EventId, *e.EventTime, prev)
				}
				prev = *e.EventTime
				seen[*e.EventId] = true
			}
		}
		if fmt.Sprint(sizes) != "[50 50 50 50 30]" {
			t.Errorf("page sizes = %v, want [50 50 50 50 30]", sizes)
		}
		if len(seen) != 230 {
			t.Errorf("distinct events = %d, want 230", len(seen))
		}
		if st := s.Stats(); st.EventsServed != 230 || st.Requests != 5 || st.Regions["us-east-1"].EventsServed != 230 {
			t.Errorf("stats = %+v, want 230 events in 5 requests", st)
		}
	})

	t.Run("event_fields_as_the_sdk_reads_them", func(t *testing.T) {
		t.Parallel()
		s, endpoint := start(t, unthrottled)
		at := now.Add(-2 * time.Hour)
		raw := rec{id: "e1", name: "PutObject", source: "s3.amazonaws.com", user: "alice", accessKey: "AKIAALICE",
			at: at, resources: [][2]string{{"AWS::S3::Bucket", "arn:aws:s3:::logs"}}}.json("us-east-1")
		if err := s.AddRecords("us-east-1", raw); err != nil {
			t.Fatal(err)
		}
		out, err := client(t, endpoint, "us-east-1").LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Events) != 1 || out.NextToken != nil {
			t.Fatalf("got %d events, token %v; want 1 event, no token", len(out.Events), out.NextToken)
		}
		e := out.Events[0]
		got := fmt.Sprintf("%s %s %s %s %s %s %s", *e.EventId, *e.EventName, *e.EventSource, *e.Username, *e.AccessKeyId, *e.ReadOnly, e.EventTime.UTC().Format(time.RFC3339))
		want := "e1 PutObject s3.amazonaws.com alice AKIAALICE false " + at.Format(time.RFC3339)
		if got != want {
			t.Errorf("event = %q, want %q", got, want)
		}
		if len(e.Resources) != 1 || *e.Resources[0].ResourceType != "AWS::S3::Bucket" || *e.Resources[0].ResourceName != "arn:aws:s3:::logs" {
			t.Errorf("resources = %+v", e.Resources)
		}
		var compact bytes.Buffer
		_ = json.Compact(&compact, raw)
		if *e.CloudTrailEvent != compact.String() {
			t.Errorf("CloudTrailEvent = %s, want the whole record %s", *e.CloudTrailEvent, compact.String())
		}
	})

	t.Run("time_filters_are_inclusive", func(t *testing.T) {
		t.Parallel()
		s, endpoint := start(t, unthrottled)
		last := now.Add(-time.Hour)
		if err := s.AddRecords("us-east-1", series(10, last, "us-east-1")...); err != nil { // ev-0000..ev-0009, 1 min apart
			t.Fatal(err)
		}
		c := client(t, endpoint, "us-east-1")
		tests := []struct {
			name       string
			start, end *time.Time
			want       string
		}{
			{"start_only", aws.Time(last.Add(-2 * time.Minute)), nil, "[ev-0009 ev-0008 ev-0007]"},
			{"end_only", nil, aws.Time(last.Add(-8 * time.Minute)), "[ev-0001 ev-0000]"},
			{"both", aws.Time(last.Add(-5 * time.Minute)), aws.Time(last.Add(-4 * time.Minute)), "[ev-0005 ev-0004]"},
			{"same_instant", aws.Time(last), aws.Time(last), "[ev-0009]"},
			{"between_events", aws.Time(last.Add(-90 * time.Second)), aws.Time(last.Add(-70 * time.Second)), "[]"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				out, err := c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{StartTime: tt.start, EndTime: tt.end})
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(out.Events); got != tt.want {
					t.Errorf("events = %s, want %s", got, tt.want)
				}
			})
		}
		_, err := c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{StartTime: aws.Time(last), EndTime: aws.Time(last.Add(-time.Second))})
		var invalid *types.InvalidTimeRangeException
		if !errors.As(err, &invalid) {
			t.Errorf("start after end: err = %v, want InvalidTimeRangeException", err)
		}
	})

	t.Run("lookup_attributes", func(t *testing.T) {
		t.Parallel()
		s, endpoint := start(t, unthrottled)
		at := now.Add(-time.Hour)
		records := [][]byte{
			rec{id: "get", name: "GetObject", source: "s3.amazonaws.com", user: "alice", accessKey: "AKIAALICE", at: at, readOnly: true,
				resources: [][2]string{{"AWS::S3::Object", "arn:aws:s3:::logs/a.txt"}}}.json("us-east-1"),
			rec{id: "assume", name: "AssumeRole", source: "sts.amazonaws.com", user: "alice", accessKey: "AKIAALICE", at: at.Add(time.Minute), readOnly: true,
				resources: [][2]string{{"AWS::IAM::Role", "arn:aws:iam::123456789012:role/Admin"}}}.json("us-east-1"),
			rec{id: "terminate", name: "TerminateInstances", source: "ec2.amazonaws.com", user: "sentinel-session", accessKey: "ASIASESSION", assumedRole: true,
				at: at.Add(2 * time.Minute), resources: [][2]string{{"AWS::EC2::Instance", "i-0abc"}}}.json("us-east-1"),
		}
		if err := s.AddRecords("us-east-1", records...); err != nil {
			t.Fatal(err)
		}
		c := client(t, endpoint, "us-east-1")
		tests := []struct {
			key   types.LookupAttributeKey
			value string
			want  string
		}{
			{types.LookupAttributeKeyEventId, "assume", "[assume]"},
			{types.LookupAttributeKeyEventName, "GetObject", "[get]"},
			{types.LookupAttributeKeyReadOnly, "true", "[assume get]"},
			{types.LookupAttributeKeyReadOnly, "false", "[terminate]"},
			{types.LookupAttributeKeyUsername, "alice", "[assume get]"},
			{types.LookupAttributeKeyUsername, "sentinel-session", "[terminate]"}, // session name of an assumed role
			{types.LookupAttributeKeyResourceType, "AWS::IAM::Role", "[assume]"},
			{types.LookupAttributeKeyResourceName, "i-0abc", "[terminate]"},
			{types.LookupAttributeKeyEventSource, "sts.amazonaws.com", "[assume]"},
			{types.LookupAttributeKeyAccessKeyId, "ASIASESSION", "[terminate]"},
			{types.LookupAttributeKeyEventName, "NoSuchCall", "[]"},
		}
		for _, tt := range tests {
			t.Run(string(tt.key)+"="+tt.value, func(t *testing.T) {
				out, err := c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{
					LookupAttributes: []types.LookupAttribute{{AttributeKey: tt.key, AttributeValue: aws.String(tt.value)}},
				})
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(out.Events); got != tt.want {
					t.Errorf("events = %s, want %s", got, tt.want)
				}
			})
		}
		t.Run("more_than_one_is_rejected", func(t *testing.T) {
			_, err := c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []types.LookupAttribute{
				{AttributeKey: types.LookupAttributeKeyEventName, AttributeValue: aws.String("GetObject")},
				{AttributeKey: types.LookupAttributeKeyUsername, AttributeValue: aws.String("alice")},
			}})
			var invalid *types.InvalidLookupAttributesException
			if !errors.As(err, &invalid) {
				t.Errorf("err = %v, want InvalidLookupAttributesException", err)
			}
		})
		t.Run("unknown_key_is_rejected", func(t *testing.T) {
			_, err := c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []types.LookupAttribute{
				{AttributeKey: "Color", AttributeValue: aws.String("blue")},
			}})
			var invalid *types.InvalidLookupAttributesException
			if !errors.As(err, &invalid) {
				t.Errorf("err = %v, want InvalidLookupAttributesException", err)
			}
		})
	})

	t.Run("max_results_outside_1_to_50_is_rejected", func(t *testing.T) {
		t.Parallel()
		_, endpoint := start(t, unthrottled)
		c := client(t, endpoint, "us-east-1")
		for _, n := range []int32{0, 51, -1} {
			_, err := c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(n)})
			var invalid *types.InvalidMaxResultsException
			if !errors.As(err, &invalid) {
				t.Errorf("MaxResults %d: err = %v, want InvalidMaxResultsException", n, err)
			}
		}
	})

	t.Run("next_token_is_bound_to_its_query", func(t *testing.T) {
		t.Parallel()
		s, endpoint := start(t, unthrottled)
		if err := s.AddRecords("us-east-1", series(5, now.Add(-time.Hour), "us-east-1")...); err != nil {
			t.Fatal(err)
		}
		if err := s.AddRecords("eu-west-1", series(5, now.Add(-time.Hour), "eu-west-1")...); err != nil {
			t.Fatal(err)
		}
		c := client(t, endpoint, "us-east-1")
		first, err := c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(2)})
		if err != nil {
			t.Fatal(err)
		}
		if first.NextToken == nil {
			t.Fatal("first page of 2 out of 5 events has no NextToken")
		}
		second, err := c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(2), NextToken: first.NextToken})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(second.Events); got != "[ev-0002 ev-0001]" {
			t.Errorf("second page = %s, want [ev-0002 ev-0001]", got)
		}
		misuses := map[string]*cloudtrail.LookupEventsInput{
			"garbage": {NextToken: aws.String("not-a-token")},
			"other_filter": {NextToken: first.NextToken, LookupAttributes: []types.LookupAttribute{
				{AttributeKey: types.LookupAttributeKeyEventName, AttributeValue: aws.String("GetObject")}}},
			"other_time_range": {NextToken: first.NextToken, StartTime: aws.Time(now.Add(-48 * time.Hour))},
		}
		for name, in := range misuses {
			_, err := c.LookupEvents(ctx, in)
			var invalid *types.InvalidNextTokenException
			if !errors.As(err, &invalid) {
				t.Errorf("%s: err = %v, want InvalidNextTokenException", name, err)
			}
		}
		_, err = client(t, endpoint, "eu-west-1").LookupEvents(ctx, &cloudtrail.LookupEventsInput{NextToken: first.NextToken})
		var invalid *types.InvalidNextTokenException
		if !errors.As(err, &invalid) {
			t.Errorf("token from another region: err = %v, want InvalidNextTokenException", err)
		}
	})

	t.Run("region_comes_from_the_signature", func(t *testing.T) {
		t.Parallel()
		s, endpoint := start(t, unthrottled)
		if err := s.AddRecords("us-east-1", series(3, now.Add(-time.Hour), "us-east-1")...); err != nil {
			t.Fatal(err)
		}
		if err := s.AddRecords("eu-west-1", series(1, now.Add(-time.Hour), "eu-west-1")...); err != nil {
			t.Fatal(err)
		}
		out, err := client(t, endpoint, "eu-west-1").LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Events) != 1 {
			t.Errorf("eu-west-1 events = %d, want 1", len(out.Events))
		}
		if st := s.Stats().Regions["eu-west-1"]; st.Requests != 1 || st.EventsServed != 1 {
			t.Errorf("eu-west-1 stats = %+v", st)
		}
	})

	t.Run("only_the_last_90_days_are_served", func(t *testing.T) {
		t.Parallel()
		s, endpoint := start(t, unthrottled)
		old := rec{id: "old", name: "GetObject", source: "s3.amazonaws.com", user: "alice", at: now.Add(-91 * 24 * time.Hour)}
		recent := rec{id: "recent", name: "GetObject", source: "s3.amazonaws.com", user: "alice", at: now.Add(-89 * 24 * time.Hour)}
		if err := s.AddRecords("us-east-1", old.json("us-east-1"), recent.json("us-east-1")); err != nil {
			t.Fatal(err)
		}
		out, err := client(t, endpoint, "us-east-1").LookupEvents(ctx, &cloudtrail.LookupEventsInput{
			StartTime: aws.Time(now.Add(-365 * 24 * time.Hour)),
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(out.Events); got != "[recent]" {
			t.Errorf("events = %s, want [recent]", got)
		}
	})

	t.Run("unknown_operation_is_UnrecognizedClientException", func(t *testing.T) {
		t.Parallel()
		_, endpoint := start(t, unthrottled)
		req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.StartLogging")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&body)
		if resp.StatusCode != 400 || body["__type"] != "UnrecognizedClientException" {
			t.Errorf("status %d, body %v; want 400 UnrecognizedClientException", resp.StatusCode, body)
		}
	})

	t.Run("records_without_eventID_or_eventTime_are_rejected", func(t *testing.T) {
		t.Parallel()
		s := emulator.New(unthrottled)
		for _, bad := range []string{`[]`, `{"eventTime":"2026-11-23T10:00:00Z"}`, `{"eventID":"x"}`, `{"eventID":"x","eventTime":"yesterday"}`} {
			if err := s.AddRecords("us-east-1", []byte(bad)); err == nil {
				t.Errorf("AddRecords(%s) succeeded, want an error", bad)
			}
		}
	})

	t.Run("safe_for_concurrent_use", func(t *testing.T) {
		t.Parallel()
		s, endpoint := start(t, unthrottled)
		c := client(t, endpoint, "us-east-1")
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := range 25 {
					r := rec{id: fmt.Sprintf("w%d-%d", w, i), name: "GetObject", source: "s3.amazonaws.com", user: "alice", at: now.Add(-time.Duration(i) * time.Second)}
					if err := s.AddRecords("us-east-1", r.json("us-east-1")); err != nil {
						t.Error(err)
					}
				}
			})
			wg.Go(func() {
				p := cloudtrail.NewLookupEventsPaginator(c, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(7)})
				for p.HasMorePages() {
					if _, err := p.NextPage(ctx); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		out, err := c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
		if err != nil || len(out.Events) != 50 {
			t.Errorf("after concurrent adds: %d events, err %v; want 50", len(out.Events), err)
		}
	})
}

func TestThrottling(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("without_retries_a_tight_loop_gets_ThrottlingException", func(t *testing.T) {
		t.Parallel()
		s, endpoint := start(t, emulator.Options{})
		c := client(t, endpoint, "us-east-1", config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }))
		var throttled error
		for range 10 {
			if _, err := c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
				throttled = err
				break
			}
		}
		if apiCode(throttled) != "ThrottlingException" {
			t.Fatalf("err = %v, want ThrottlingException", throttled)
		}
		if st := s.Stats(); st.Throttled != 1 || st.Requests != 3 {
			t.Errorf("stats = %+v, want 3 requests (burst 2 served, third throttled)", st)
		}
	})

	t.Run("the_sdk_retryer_pages_through_at_2_requests_per_second", func(t *testing.T) {
		t.Parallel()
		s, endpoint := start(t, emulator.Options{})
		if err := s.AddRecords("us-east-1", series(12, now.Add(-time.Hour), "us-east-1")...); err != nil {
			t.Fatal(err)
		}
		// The SDK's standard retryer, as config.LoadDefaultConfig builds it,
		// with more attempts: with its default 3 attempts and ~0-1 s jitter,
		// a 2 rps limit fails a page now and then, which would make this
		// test flaky (as it would make a real ingest run).
		c := client(t, endpoint, "us-east-1", config.WithRetryMaxAttempts(10))
		p := cloudtrail.NewLookupEventsPaginator(c, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(1)})
		began := time.Now()
		pages := 0
		for p.HasMorePages() {
			if _, err := p.NextPage(ctx); err != nil {
				t.Fatalf("page %d: %v", pages+1, err)
			}
			pages++
		}
		elapsed := time.Since(began)
		if pages != 12 {
			t.Errorf("pages = %d, want 12", pages)
		}
		// Burst 2, then one request per 0.5 s: the 12th served request comes
		// at least 5 s after the first.
		if elapsed < 4900*time.Millisecond {
			t.Errorf("12 pages took %v, want ≥ 5s at 2 rps", elapsed)
		}
		st := s.Stats()
		if st.Throttled == 0 || st.EventsServed != 12 {
			t.Errorf("stats = %+v, want some throttled requests and 12 events served", st)
		}
		t.Logf("12 pages in %v, %d throttled requests retried", elapsed.Round(time.Millisecond), st.Throttled)
	})

	t.Run("buckets_are_per_region", func(t *testing.T) {
		t.Parallel()
		_, endpoint := start(t, emulator.Options{RequestsPerSecond: 0.001, Burst: 1})
		nop := config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} })
		east, west := client(t, endpoint, "us-east-1", nop), client(t, endpoint, "eu-west-1", nop)
		for _, c := range []*cloudtrail.Client{east, west} {
			if _, err := c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
				t.Errorf("first request in a region: %v", err)
			}
		}
		if _, err := east.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); apiCode(err) != "ThrottlingException" {
			t.Errorf("second us-east-1 request: err = %v, want ThrottlingException", err)
		}
	})
}

func TestLoadArchiveDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	day := "AWSLogs/123456789012/CloudTrail/%s/2026/11/23/"
	write := func(path string, gz bool, records ...[]byte) {
		t.Helper()
		var body bytes.Buffer
		body.WriteString(`{"Records":[`)
		body.Write(bytes.Join(records, []byte(",")))
		body.WriteString(`]}`)
		data := body.Bytes()
		if gz {
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			_, _ = zw.Write(data)
			_ = zw.Close()
			data = z.Bytes()
		}
		full := filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	east := series(3, now.Add(-time.Hour), "us-east-1")
	west := series(2, now.Add(-time.Hour), "eu-west-1")
	write(fmt.Sprintf(day, "us-east-1")+"123456789012_CloudTrail_us-east-1_20261123T1900Z_aaaaaaaaaaaaaaaa.json.gz", true, east...)
	write(fmt.Sprintf(day, "eu-west-1")+"123456789012_CloudTrail_eu-west-1_20261123T1900Z_bbbbbbbbbbbbbbbb.json", false, west...)
	// A duplicate delivery of one event in the next file.
	write(fmt.Sprintf(day, "us-east-1")+"123456789012_CloudTrail_us-east-1_20261123T1905Z_cccccccccccccccc.json.gz", true, east[0])
	// Digests and Insights live in the same bucket and are not events.
	write("AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/23/123456789012_CloudTrail-Digest_us-east-1_x.json.gz", true, []byte(`{"digest":true}`))
	write("AWSLogs/123456789012/CloudTrail-Insight/us-east-1/2026/11/23/123456789012_CloudTrail-Insight_us-east-1_x.json.gz", true, []byte(`{"insight":true}`))

	s, endpoint := start(t, unthrottled)
	n, err := s.LoadArchiveDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Errorf("loaded %d records, want 5 (the duplicate delivery is not counted)", n)
	}
	for region, want := range map[string]int{"us-east-1": 3, "eu-west-1": 2} {
		out, err := client(t, endpoint, region).LookupEvents(context.Background(), &cloudtrail.LookupEventsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Events) != want {
			t.Errorf("%s: %d events, want %d", region, len(out.Events), want)
		}
	}

	write("AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/24/broken.json.gz", false, []byte(`{}`))
	if _, err := emulator.New(unthrottled).LoadArchiveDir(dir); err == nil || !strings.Contains(err.Error(), "broken.json.gz") {
		t.Errorf("corrupt file: err = %v, want an error naming the file", err)
	}
}

func ids(events []types.Event) string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = aws.ToString(e.EventId)
	}
	return fmt.Sprint(out)
}
