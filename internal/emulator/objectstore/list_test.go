package objectstore_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/sentinel-audit/sentinel/internal/emulator/objectstore"
)

// listAll pages through a listing with the SDK's paginator: the keys and common prefixes.
func listAll(t *testing.T, c *s3.Client, in *s3.ListObjectsV2Input) (keys, prefixes []string) {
	t.Helper()
	in.Bucket = aws.String(bucket)
	p := s3.NewListObjectsV2Paginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		for _, cp := range page.CommonPrefixes {
			prefixes = append(prefixes, aws.ToString(cp.Prefix))
		}
	}
	return keys, prefixes
}

func TestListObjectsV2(t *testing.T) {
	store, c := start(t)
	var want []string
	for acct := range 3 {
		for day := 1; day <= 3; day++ {
			for i := range 700 {
				k := fmt.Sprintf("AWSLogs/%012d/CloudTrail/us-east-1/2026/01/%02d/f%04d.json.gz", acct, day, i)
				want = append(want, k)
				if err := store.Put(bucket, k, []byte("x")); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := store.Put(bucket, "other/readme", []byte("x")); err != nil {
		t.Fatal(err)
	}
	t.Run("pages_of_1000_hold_every_key_below_the_prefix_once_in_order", func(t *testing.T) {
		store.ResetCounts()
		keys, _ := listAll(t, c, &s3.ListObjectsV2Input{Prefix: aws.String("AWSLogs/")})
		if !slices.Equal(keys, want) {
			t.Fatalf("%d keys listed, want %d", len(keys), len(want))
		}
		if store.Lists() != 7 { // 6,300 keys
			t.Errorf("%d LISTs", store.Lists())
		}
	})
	t.Run("start_after_skips_the_keys_up_to_it", func(t *testing.T) {
		keys, _ := listAll(t, c, &s3.ListObjectsV2Input{Prefix: aws.String("AWSLogs/000000000001/"),
			StartAfter: aws.String("AWSLogs/000000000001/CloudTrail/us-east-1/2026/01/03/")})
		if len(keys) != 700 || keys[0] != "AWSLogs/000000000001/CloudTrail/us-east-1/2026/01/03/f0000.json.gz" {
			t.Fatalf("%d keys from %v", len(keys), keys[:1])
		}
	})
	t.Run("a_delimiter_rolls_keys_up_into_common_prefixes", func(t *testing.T) {
		store.ResetCounts()
		keys, prefixes := listAll(t, c, &s3.ListObjectsV2Input{Prefix: aws.String("AWSLogs/"), Delimiter: aws.String("/")})
		if len(keys) != 0 || !slices.Equal(prefixes, []string{"AWSLogs/000000000000/", "AWSLogs/000000000001/", "AWSLogs/000000000002/"}) {
			t.Fatalf("keys %v, prefixes %v", keys, prefixes)
		}
		if store.Lists() != 1 {
			t.Errorf("%d LISTs", store.Lists())
		}
	})
	t.Run("any_delimiter_cuts_keys_where_it_first_occurs_past_the_prefix", func(t *testing.T) {
		_, prefixes := listAll(t, c, &s3.ListObjectsV2Input{Prefix: aws.String("AWSLogs/000000000002/CloudTrail/us-east-1/2026/01/"), Delimiter: aws.String("/")})
		if len(prefixes) != 3 || prefixes[2] != "AWSLogs/000000000002/CloudTrail/us-east-1/2026/01/03/" {
			t.Fatalf("prefixes %v", prefixes)
		}
	})
	t.Run("changes_are_listed", func(t *testing.T) {
		if err := store.Delete(bucket, "other/readme"); err != nil {
			t.Fatal(err)
		}
		keys, _ := listAll(t, c, &s3.ListObjectsV2Input{Prefix: aws.String("other/")})
		if len(keys) != 0 {
			t.Fatalf("listed %v after the delete", keys)
		}
	})
}

func TestPeakGetsCountsReadsInFlight(t *testing.T) {
	store, c := start(t)
	if err := store.Put(bucket, "k", []byte("x")); err != nil {
		t.Fatal(err)
	}
	store.SetLatency(50 * time.Millisecond)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")})
			if err != nil {
				t.Error(err)
				return
			}
			out.Body.Close()
		})
	}
	wg.Wait()
	if store.PeakGets() < 2 || store.PeakGets() > 8 || store.Gets() != 8 {
		t.Errorf("peak %d of %d GETs", store.PeakGets(), store.Gets())
	}
}

func TestSlowDownIsS3s503(t *testing.T) {
	store, c := start(t)
	if err := store.Put(bucket, "k", []byte("x")); err != nil {
		t.Fatal(err)
	}
	store.Inject(objectstore.Fault{Status: http.StatusServiceUnavailable, Times: 2})
	// The SDK's retryer takes SlowDown for throttling and tries again.
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
	if store.Gets() != 3 {
		t.Errorf("%d GETs, want 3", store.Gets())
	}
}
