package ingest

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/sentinel-audit/sentinel/awsclient"
	"github.com/sentinel-audit/sentinel/window"
	"golang.org/x/sync/errgroup"
)

// listConcurrency bounds the S3 list calls in flight.
const listConcurrency = 16

// parseS3URL splits s3://BUCKET[/PREFIX].
func parseS3URL(raw string) (bucket, prefix string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return "", "", fmt.Errorf("%q is not an s3://BUCKET[/PREFIX] URL", raw)
	}
	return u.Host, strings.TrimPrefix(u.Path, "/"), nil
}

// s3Lister finds trail objects in a bucket without listing more of it than the window needs.
type s3Lister struct {
	client   objectStore
	bucket   string
	root     string          // the source's prefix: objects' rel is their key below it
	accounts map[string]bool // empty = all
	regions  map[string]bool // empty = all
	window   window.Window
	now      time.Time
}

// listTrail lists the CloudTrail objects below prefix. When the prefix holds the CloudTrail key
// layout (AWSLogs/[o-ORG/]ACCOUNT/CloudTrail[-Digest]/REGION/YYYY/MM/DD/), only the day prefixes
// inside the window are listed, for the wanted accounts and regions; otherwise everything below
// prefix.
func (l *s3Lister) listTrail(ctx context.Context, prefix string) ([]object, error) {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	base := prefix
	if !strings.HasSuffix(base, "AWSLogs/") {
		dirs, err := l.dirs(ctx, base)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(dirs, base+"AWSLogs/") {
			return l.listAll(ctx, prefix)
		}
		base += "AWSLogs/"
	}
	accounts, err := l.accountPrefixes(ctx, base)
	if err != nil {
		return nil, err
	}
	// Log files and the digests that vouch for them, by region.
	var regionPrefixes []string
	for _, acct := range accounts {
		for _, folder := range []string{"CloudTrail/", "CloudTrail-Digest/"} {
			dirs, err := l.dirs(ctx, acct+folder)
			if err != nil {
				return nil, err
			}
			for _, d := range dirs {
				region := strings.TrimSuffix(strings.TrimPrefix(d, acct+folder), "/")
				if len(l.regions) == 0 || l.regions[region] {
					regionPrefixes = append(regionPrefixes, d)
				}
			}
		}
	}
	var prefixes []string
	for _, rp := range regionPrefixes {
		prefixes = append(prefixes, l.dayPrefixes(rp)...)
	}
	return l.listPrefixes(ctx, prefixes)
}

// accountPrefixes returns ACCOUNT/ prefixes below AWSLogs/, looking inside organization folders.
func (l *s3Lister) accountPrefixes(ctx context.Context, base string) ([]string, error) {
	dirs, err := l.dirs(ctx, base)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range dirs {
		name := strings.TrimSuffix(strings.TrimPrefix(d, base), "/")
		if strings.HasPrefix(name, "o-") {
			inner, err := l.accountPrefixes(ctx, d)
			if err != nil {
				return nil, err
			}
			out = append(out, inner...)
			continue
		}
		if len(l.accounts) == 0 || l.accounts[name] {
			out = append(out, d)
		}
	}
	return out, nil
}

// dayPrefixes are the delivery-day prefixes of a region prefix that can hold events of the
// window (one day of margin after its end for late deliveries); the region prefix itself when the
// window has no start.
func (l *s3Lister) dayPrefixes(regionPrefix string) []string {
	if l.window.Since.IsZero() {
		return []string{regionPrefix}
	}
	end := l.window.Until
	if end.IsZero() {
		end = l.now
	}
	end = end.Add(LateDeliveryMargin)
	var out []string
	for d := l.window.Since.UTC().Truncate(24 * time.Hour); !d.After(end); d = d.AddDate(0, 0, 1) {
		out = append(out, regionPrefix+d.Format("2006/01/02/"))
	}
	return out
}

// listPrefixes lists every object below each prefix, in parallel, and returns them sorted.
func (l *s3Lister) listPrefixes(ctx context.Context, prefixes []string) ([]object, error) {
	var mu sync.Mutex
	var all []object
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(listConcurrency)
	for _, p := range prefixes {
		g.Go(func() error {
			objs, err := l.listAll(gctx, p)
			mu.Lock()
			all = append(all, objs...)
			mu.Unlock()
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].source < all[j].source })
	return all, nil
}

// listAll lists every event file below prefix.
func (l *s3Lister) listAll(ctx context.Context, prefix string) ([]object, error) {
	var out []object
	p := s3.NewListObjectsV2Paginator(l.client, &s3.ListObjectsV2Input{Bucket: aws.String(l.bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, awsclient.Describe(fmt.Sprintf("list s3://%s/%s", l.bucket, prefix), err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if !eventFile(key) {
				continue
			}
			out = append(out, l.object(key, aws.ToInt64(o.Size), aws.ToTime(o.LastModified), aws.ToString(o.ETag)))
		}
	}
	return out, nil
}

// dirs lists the "directories" (common prefixes) directly below prefix.
func (l *s3Lister) dirs(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	p := s3.NewListObjectsV2Paginator(l.client, &s3.ListObjectsV2Input{Bucket: aws.String(l.bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, awsclient.Describe(fmt.Sprintf("list s3://%s/%s", l.bucket, prefix), err)
		}
		for _, cp := range page.CommonPrefixes {
			out = append(out, aws.ToString(cp.Prefix))
		}
	}
	return out, nil
}

// object describes one S3 object; reading it fails if it changed since it was listed, so the
// ledger's ETag is always the version that was read.
func (l *s3Lister) object(key string, size int64, modified time.Time, etag string) object {
	o := object{
		source:  "s3://" + l.bucket + "/" + key,
		display: "s3://" + l.bucket + "/" + key,
		rel:     strings.TrimPrefix(strings.TrimPrefix(key, l.root), "/"),
		size:    size,
		mtime:   modified.UTC().Truncate(time.Microsecond),
		etag:    strings.Trim(etag, `"`),
	}
	client, bucket := l.client, l.bucket
	o.open = func(ctx context.Context) (io.ReadCloser, error) {
		out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), IfMatch: aws.String(etag)})
		if err != nil {
			return nil, awsclient.Describe("get s3://"+bucket+"/"+key, err)
		}
		meta := make(map[string]string, len(out.Metadata))
		for k, v := range out.Metadata {
			meta[strings.ToLower(k)] = v
		}
		return withMetadata{out.Body, meta}, nil
	}
	classify(&o, "/"+key)
	return o
}
