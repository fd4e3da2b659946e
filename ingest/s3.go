package ingest

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/sentinel-audit/sentinel/awsclient"
	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/sentinel-audit/sentinel/window"
	"golang.org/x/sync/errgroup"
)

// listConcurrency bounds the S3 list calls in flight: a listing is a round trip per page, and an
// organization has tens of thousands of region prefixes.
const listConcurrency = 64

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
	// marks say how far earlier runs listed each region prefix (by s3://BUCKET/PREFIX); listed
	// gets how far this run's listings went, to record once what they found is committed.
	marks  map[string]warehouse.Listing
	mu     sync.Mutex
	listed []warehouse.Listing
	// read and leftOut are the region folders of log files the listing found, by account: those
	// it lists and those --regions leaves out.
	read, leftOut []warehouse.TrailRegion
}

// trailFolders are the folders of a CloudTrail account prefix that ingest lists: log files and
// the digests that vouch for them (CloudTrail-Insight/ is not read).
var trailFolders = []string{"CloudTrail", "CloudTrail-Digest"}

// listTrail lists the CloudTrail objects below prefix. When the prefix holds the CloudTrail key
// layout (AWSLogs/[o-ORG/]ACCOUNT/CloudTrail[-Digest]/REGION/YYYY/MM/DD/), it finds the accounts
// and their regions with delimiter listings, then lists each wanted region prefix once, from the
// window's first day (or a day before where an earlier run's listing ended) to past its end, all
// in parallel (see listRegion); otherwise everything below prefix.
func (l *s3Lister) listTrail(ctx context.Context, prefix string) ([]object, error) {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	base := prefix
	if !strings.HasSuffix(base, "AWSLogs/") {
		dirs, err := l.dirs(ctx, base, "/")
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
	regionPrefixes, err := l.regionPrefixes(ctx, accounts)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var all []object
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(listConcurrency)
	for _, rp := range regionPrefixes {
		g.Go(func() error {
			objs, err := l.listRegion(gctx, rp)
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

// accountPrefixes returns the wanted ACCOUNT/ prefixes below AWSLogs/, looking inside
// organization folders (o-ID/), in parallel.
func (l *s3Lister) accountPrefixes(ctx context.Context, base string) ([]string, error) {
	dirs, err := l.dirs(ctx, base, "/")
	if err != nil {
		return nil, err
	}
	var out, orgs []string
	for _, d := range dirs {
		name := strings.TrimSuffix(strings.TrimPrefix(d, base), "/")
		switch {
		case strings.HasPrefix(name, "o-"):
			orgs = append(orgs, d)
		case len(l.accounts) == 0 || l.accounts[name]:
			out = append(out, d)
		}
	}
	inner, err := eachPrefix(ctx, orgs, l.accountPrefixes)
	return append(out, inner...), err
}

// regionPrefixes returns the wanted region prefixes (ACCOUNT/CloudTrail[-Digest]/REGION/) of the
// accounts, with one listing per account, in parallel: the delimiter "/2" cuts every key at its
// year folder (ACCOUNT/CloudTrail/us-east-1/2), so a page names the regions of all its folders at
// once (CloudTrail's keys have years 2013 and on; another key is listed as itself and ignored).
func (l *s3Lister) regionPrefixes(ctx context.Context, accounts []string) ([]string, error) {
	return eachPrefix(ctx, accounts, func(ctx context.Context, acct string) ([]string, error) {
		dirs, err := l.dirs(ctx, acct, "/2")
		if err != nil {
			return nil, err
		}
		var out []string
		for _, d := range dirs {
			folder, region, ok := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(d, acct), "/2"), "/")
			if !ok || !slices.Contains(trailFolders, folder) || strings.Contains(region, "/") {
				continue
			}
			wanted := len(l.regions) == 0 || l.regions[region]
			if wanted {
				out = append(out, acct+folder+"/"+region+"/")
			}
			if folder == "CloudTrail" {
				l.found(acct, region, wanted)
			}
		}
		return out, nil
	})
}

// found notes a region folder of log files that the listing found below the account prefix
// acct: read (wanted) or left out by --regions.
func (l *s3Lister) found(acct, region string, wanted bool) {
	r := warehouse.TrailRegion{Source: l.source(), Account: path.Base(acct), Region: region}
	l.mu.Lock()
	defer l.mu.Unlock()
	if wanted {
		l.read = append(l.read, r)
	} else {
		l.leftOut = append(l.leftOut, r)
	}
}

// source names the trail as its regions are recorded: s3://BUCKET[/PREFIX].
func (l *s3Lister) source() string {
	return strings.TrimSuffix("s3://"+l.bucket+"/"+l.root, "/")
}

// eachPrefix calls list for each prefix, in parallel, and returns what they found, in order.
func eachPrefix(ctx context.Context, prefixes []string, list func(context.Context, string) ([]string, error)) ([]string, error) {
	found := make([][]string, len(prefixes))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(listConcurrency)
	for i, p := range prefixes {
		g.Go(func() (err error) {
			found[i], err = list(gctx, p)
			return err
		})
	}
	err := g.Wait()
	return slices.Concat(found...), err
}

// listRegion lists a region prefix (ACCOUNT/CloudTrail/REGION/) from the window's first day
// folder until its keys pass the last day folder that can hold the window's events (the late
// delivery margin after its end), one sequence of pages: CloudTrail's keys (REGION/YYYY/MM/DD/
// file) sort by delivery date, so StartAfter skips the days before the window and the listing
// stops at the first key after it. Where an earlier run listed the prefix, up to its last key, from
// no later than this window's start, the listing starts a day before that key instead (see
// resumeFrom). How far it got is kept in l.listed.
func (l *s3Lister) listRegion(ctx context.Context, regionPrefix string) ([]object, error) {
	from := regionPrefix // StartAfter: every key below the prefix sorts after it
	if !l.window.Since.IsZero() {
		from = regionPrefix + l.window.Since.UTC().Truncate(24*time.Hour).Format("2006/01/02/")
	}
	stop := "" // keys from this one on are past the window
	if !l.window.Until.IsZero() {
		stop = regionPrefix + l.window.Until.Add(LateDeliveryMargin).UTC().Truncate(24*time.Hour).AddDate(0, 0, 1).Format("2006/01/02/")
	}
	mark := warehouse.Listing{Prefix: "s3://" + l.bucket + "/" + regionPrefix, ListedFrom: from}
	start := from
	if old, ok := l.marks[mark.Prefix]; ok && old.ListedFrom <= from && from <= old.LastKey {
		mark = old
		start = max(from, resumeFrom(regionPrefix, old.LastKey))
	}
	var out []object
	in := &s3.ListObjectsV2Input{Bucket: aws.String(l.bucket), Prefix: aws.String(regionPrefix), StartAfter: aws.String(start)}
	p := s3.NewListObjectsV2Paginator(l.client, in)
	last := ""
pages:
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, awsclient.Describe(fmt.Sprintf("list s3://%s/%s", l.bucket, regionPrefix), err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if stop != "" && key >= stop {
				break pages
			}
			last = key
			if listed(l.rel(key)) {
				out = append(out, l.object(key, aws.ToInt64(o.Size), aws.ToTime(o.LastModified), aws.ToString(o.ETag)))
			}
		}
	}
	mark.LastKey = max(mark.LastKey, last, start)
	l.mu.Lock()
	l.listed = append(l.listed, mark)
	l.mu.Unlock()
	return out, nil
}

// resumeFrom is where a listing of regionPrefix starts again after an earlier one that ended at
// lastKey: the day folder before lastKey's. A late delivery is a new file, written when it is
// delivered, so its key (delivery folder and time) sorts after the keys listed before it was
// written; the day before covers files whose PUT finished after a later-named one was listed.
func resumeFrom(regionPrefix, lastKey string) string {
	rest, ok := strings.CutPrefix(lastKey, regionPrefix)
	day, err := time.Parse("2006/01/02", rest[:min(10, len(rest))])
	if !ok || err != nil {
		return regionPrefix
	}
	return regionPrefix + day.AddDate(0, 0, -1).Format("2006/01/02/")
}

// listings is how far this run listed the region prefixes whose every listed object was
// committed: none of failed (sources that failed) is below them.
func (l *s3Lister) listings(failed []Failure) []warehouse.Listing {
	var out []warehouse.Listing
	for _, m := range l.listed {
		if !slices.ContainsFunc(failed, func(f Failure) bool { return strings.HasPrefix(f.Source, m.Prefix) }) {
			out = append(out, m)
		}
	}
	return out
}

// listAll lists every event file (and macOS metadata file: listed) below prefix.
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
			if !listed(l.rel(key)) {
				continue
			}
			out = append(out, l.object(key, aws.ToInt64(o.Size), aws.ToTime(o.LastModified), aws.ToString(o.ETag)))
		}
	}
	return out, nil
}

// dirs lists the common prefixes below prefix: with delimiter "/", its "directories".
func (l *s3Lister) dirs(ctx context.Context, prefix, delimiter string) ([]string, error) {
	var out []string
	p := s3.NewListObjectsV2Paginator(l.client, &s3.ListObjectsV2Input{Bucket: aws.String(l.bucket), Prefix: aws.String(prefix), Delimiter: aws.String(delimiter)})
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

// rel is key's path below the listed root.
func (l *s3Lister) rel(key string) string {
	return strings.TrimPrefix(strings.TrimPrefix(key, l.root), "/")
}

// object describes one S3 object; reading it fails if it changed since it was listed, so the
// ledger's ETag is always the version that was read.
func (l *s3Lister) object(key string, size int64, modified time.Time, etag string) object {
	o := object{
		source:  "s3://" + l.bucket + "/" + key,
		display: "s3://" + l.bucket + "/" + key,
		rel:     l.rel(key),
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
