package objectstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/sentinel-audit/sentinel/internal/emulator/objectstore"
)

const bucket = "acme-org-cloudtrail"

// start runs a store with one bucket and returns it with a real SDK client pointed at it.
func start(t *testing.T) (*objectstore.Server, *s3.Client) {
	t.Helper()
	store := objectstore.New()
	if err := store.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	endpoint, stop, err := store.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	none := filepath.Join(t.TempDir(), "none")
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "secret", "")),
		config.WithSharedConfigFiles([]string{none}), config.WithSharedCredentialsFiles([]string{none}))
	if err != nil {
		t.Fatal(err)
	}
	return store, s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(endpoint); o.UsePathStyle = true })
}

func TestMetadata(t *testing.T) {
	store, c := start(t)
	ctx := context.Background()
	meta := map[string]string{"signature": "6a1f", "signature-algorithm": "SHA256withRSA"}
	if err := store.PutWithMetadata(bucket, "digest.json.gz", []byte("digest"), meta); err != nil {
		t.Fatal(err)
	}
	t.Run("get_returns_the_metadata_stored_with_the_object", func(t *testing.T) {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("digest.json.gz")})
		if err != nil {
			t.Fatal(err)
		}
		defer out.Body.Close()
		body, _ := io.ReadAll(out.Body)
		if string(body) != "digest" || out.Metadata["signature"] != "6a1f" || out.Metadata["signature-algorithm"] != "SHA256withRSA" {
			t.Errorf("body %q, metadata %v", body, out.Metadata)
		}
	})
	t.Run("head_returns_it_too", func(t *testing.T) {
		out, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("digest.json.gz")})
		if err != nil || out.Metadata["signature"] != "6a1f" {
			t.Errorf("metadata %v, %v", out.Metadata, err)
		}
		if store.Heads() != 1 {
			t.Errorf("%d HEADs counted", store.Heads())
		}
	})
	t.Run("metadata_header_names_are_lowercase_as_s3_sends_them", func(t *testing.T) {
		// botocore keeps the case of the name after x-amz-meta-: the AWS CLI looks for "signature".
		conn, err := net.Dial("tcp", strings.TrimPrefix(endpointOf(t, c), "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "HEAD /%s/digest.json.gz HTTP/1.1\r\nHost: s3\r\nConnection: close\r\n\r\n", bucket)
		head, _ := io.ReadAll(conn)
		if !strings.Contains(string(head), "\r\nx-amz-meta-signature: 6a1f\r\n") || !strings.Contains(string(head), "\r\nx-amz-meta-signature-algorithm: SHA256withRSA\r\n") {
			t.Errorf("response:\n%s", head)
		}
	})
	t.Run("metadata_uploaded_with_the_sdk_comes_back", func(t *testing.T) {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("up"), Body: bytes.NewReader([]byte("x")), Metadata: meta})
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("up")})
		if err != nil || out.Metadata["signature-algorithm"] != "SHA256withRSA" {
			t.Errorf("metadata %v, %v", out.Metadata, err)
		}
	})
	t.Run("an_object_put_without_metadata_has_none", func(t *testing.T) {
		if err := store.Put(bucket, "log.json.gz", []byte("log")); err != nil {
			t.Fatal(err)
		}
		out, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("log.json.gz")})
		if err != nil || len(out.Metadata) != 0 {
			t.Errorf("metadata %v, %v", out.Metadata, err)
		}
	})
	t.Run("a_deleted_object_is_NoSuchKey", func(t *testing.T) {
		if err := store.Delete(bucket, "log.json.gz"); err != nil {
			t.Fatal(err)
		}
		_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("log.json.gz")})
		var nsk *types.NoSuchKey
		if !errors.As(err, &nsk) {
			t.Errorf("got %v", err)
		}
	})
}

func TestLatencyDelaysEveryRequest(t *testing.T) {
	store, c := start(t)
	store.SetLatency(150 * time.Millisecond)
	began := time.Now()
	if _, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took < 150*time.Millisecond {
		t.Errorf("the listing took %s", took)
	}
}

func TestFaultsStillApplyToObjectsWithMetadata(t *testing.T) {
	store, c := start(t)
	if err := store.PutWithMetadata(bucket, "digest.json.gz", []byte("digest"), map[string]string{"signature": "6a1f"}); err != nil {
		t.Fatal(err)
	}
	store.Inject(objectstore.Fault{KeyContains: "digest", Status: http.StatusForbidden, Times: 1})
	_, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("digest.json.gz")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("got %v, want AccessDenied", err)
	}
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("digest.json.gz")})
	if err != nil || out.Metadata["signature"] != "6a1f" {
		t.Errorf("after the fault: %v, %v", out, err)
	}
	if store.Gets() != 2 {
		t.Errorf("%d GETs counted", store.Gets())
	}
}

func endpointOf(t *testing.T, c *s3.Client) string {
	t.Helper()
	return aws.ToString(c.Options().BaseEndpoint)
}

func TestGetsOfCountsReadsByKey(t *testing.T) {
	s := objectstore.New()
	endpoint, stop, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if err := s.CreateBucket("b"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a/CloudTrail/x", "a/CloudTrail-Digest/y"} {
		if err := s.Put("b", k, []byte("data")); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			resp, err := http.Get(endpoint + "/b/" + k)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	if s.GetsOf("/CloudTrail/") != 2 || s.GetsOf("/CloudTrail-Digest/") != 2 || s.GetsOf("a/") != 4 || s.Gets() != 4 {
		t.Fatalf("log files %d, digests %d, all %d (%d)", s.GetsOf("/CloudTrail/"), s.GetsOf("/CloudTrail-Digest/"), s.GetsOf("a/"), s.Gets())
	}
}
