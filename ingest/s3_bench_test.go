package ingest_test

// S3 at organization scale (issue 18), through the S3 stand-in with every request answered late,
// as a real bucket's are:
//
//	go test -run '^$' -bench S3 -benchtime 1x ./ingest/

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/sentinel-audit/sentinel/awsclient"
	"github.com/sentinel-audit/sentinel/ingest"
	"github.com/sentinel-audit/sentinel/internal/emulator/objectstore"
	"github.com/sentinel-audit/sentinel/internal/trailgen"
	"github.com/sentinel-audit/sentinel/window"
)

// s3Latency is what the stand-in waits before answering each request: a bucket's first byte
// arrives 10-50 ms after the request from inside AWS, later from outside.
const s3Latency = 30 * time.Millisecond

// storeWithTrail starts an S3 stand-in holding the trail files generated in dir, and returns
// it, an AWS configuration pointed at it, and the region prefixes (account/region) it holds.
func storeWithTrail(b *testing.B, dir string) (*objectstore.Server, *awsclient.Config, map[string]bool) {
	b.Helper()
	store, endpoint := objectstore.StartWith(b, benchBucket)
	prefixes := map[string]bool{}
	err := filepath.WalkDir(filepath.Join(dir, "AWSLogs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		key := filepath.ToSlash(rel)
		if m := trailgen.KeyPattern.FindStringSubmatch(key); m != nil {
			prefixes[m[1]+"/"+m[2]] = true
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return store.Put(benchBucket, key, data)
	})
	if err != nil {
		b.Fatal(err)
	}
	return store, &awsclient.Config{EndpointURL: endpoint,
		SDK: aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(benchAccessKey, "bench-secret", "")}}, prefixes
}

// BenchmarkS3SmallObjectsLatency ingests 10,000 small trail files (20 events each, as
// CloudTrail's five-minute deliveries are) from the stand-in answering at once and 30 ms late:
// with reads in flight apart from the parse workers, latency should cost at most 1.5x.
func BenchmarkS3SmallObjectsLatency(b *testing.B) {
	dir, st := cachedTrail(b, trailgen.Config{Events: 200_000, Seed: 18, RecordsPerFile: 20, NoDigests: true})
	store, a, _ := storeWithTrail(b, dir)
	// The ingest command's heap limit (--memory-limit).
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(ingest.DefaultMemoryLimit))
	ctx := context.Background()
	for range b.N {
		var walls [2]time.Duration
		var peak int64
		for i, latency := range []time.Duration{0, s3Latency} {
			store.SetLatency(latency)
			store.ResetCounts()
			reset := resetPeakRSS()
			wh := filepath.Join(b.TempDir(), "wh")
			began := time.Now()
			res, err := ingest.Run(ctx, ingest.Options{Warehouse: wh, Sources: []string{"s3://" + benchBucket}, AWS: a})
			walls[i] = time.Since(began)
			if err != nil {
				b.Fatal(err)
			}
			if res.EventsStored != int64(st.Events) || res.FilesRead != st.Files || res.FilesFailed != 0 {
				b.Fatalf("ingest of %d events in %d objects at %s: %+v", st.Events, st.Files, latency, res)
			}
			if latency > 0 {
				peak = peakRSS()
				if !reset {
					b.Log("peak_RSS_MiB is the process's peak since it started: VmHWM could not be reset")
				}
			}
			b.Logf("%d objects at %s: %s, %d GETs (%d at once at the peak), %d LISTs", st.Files, latency,
				walls[i].Round(time.Millisecond), store.Gets(), store.PeakGets(), store.Lists())
		}
		b.ReportMetric(float64(st.Files), "objects")
		b.ReportMetric(walls[0].Seconds(), "s_at_0ms")
		b.ReportMetric(walls[1].Seconds(), "s_at_30ms")
		b.ReportMetric(walls[1].Seconds()/walls[0].Seconds(), "x_latency")
		b.ReportMetric(float64(peak)/(1<<20), "peak_RSS_MiB")
	}
}

// orgRegions are the 17 regions of the organization layout; us-east-1 is the busy one.
var orgRegions = []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2",
	"eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-southeast-1", "ap-southeast-2", "sa-east-1"}

// BenchmarkS3Organization ingests an organization trail of 300 accounts x 17 regions over 30
// days (us-east-1 busy, each other region about one small file an account) with --since 30d,
// every request 30 ms late, then runs again with nothing new. It reports the LISTs and GETs of
// each run against issue 18's budgets: the first run at most one LIST per account, two per
// region prefix and one per 1,000 keys (+20) within 60 s; the re-run at most one per account
// and region prefix (+20) within 20 s. day_prefix_LISTs is what listing one day prefix per day
// of the window (and the late-delivery day) per region prefix, as ingest did before, costs.
func BenchmarkS3Organization(b *testing.B) {
	accounts := make([]string, 300)
	for i := range accounts {
		accounts[i] = fmt.Sprintf("%012d", 300000000000+i)
	}
	shares := make([]float64, len(orgRegions))
	shares[0] = 0.8
	for i := 1; i < len(shares); i++ {
		shares[i] = 0.2 / float64(len(shares)-1)
	}
	const days = 30
	cfg := trailgen.Config{Events: 120_000, Seed: 18, Days: days, Accounts: accounts, Regions: orgRegions, RegionShares: shares,
		RecordsPerFile: 20, NoDigests: true}
	dir, st := cachedTrail(b, cfg)
	store, a, prefixes := storeWithTrail(b, dir)
	store.SetLatency(s3Latency)
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(ingest.DefaultMemoryLimit))
	now := trailgen.DefaultStart.Add(days * 24 * time.Hour) // --since 30d is the trail's first event
	opts := ingest.Options{Sources: []string{"s3://" + benchBucket}, AWS: a, Window: window.Window{Since: now.Add(-days * 24 * time.Hour)},
		Now: func() time.Time { return now }}
	ctx := context.Background()
	for range b.N {
		opts.Warehouse = filepath.Join(b.TempDir(), "wh")
		run := func(what string) (lists, gets int64, wall time.Duration, res *ingest.Result) {
			store.ResetCounts()
			began := time.Now()
			res, err := ingest.Run(ctx, opts)
			wall = time.Since(began)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%s: %s, %d LISTs, %d GETs (%d at once at the peak), %d files read, %d unchanged", what, wall.Round(time.Millisecond),
				store.Lists(), store.Gets(), store.PeakGets(), res.FilesRead, res.FilesUnchanged)
			return store.Lists(), store.Gets(), wall, res
		}
		reset := resetPeakRSS()
		lists, gets, wall, res := run("first run")
		peak := peakRSS()
		if !reset {
			b.Log("peak_RSS_MiB is the process's peak since it started: VmHWM could not be reset")
		}
		if res.EventsStored != int64(st.Events) || res.FilesRead != st.Files || res.FilesFailed != 0 {
			b.Fatalf("first run stored %d of %d events from %d of %d files: %+v", res.EventsStored, st.Events, res.FilesRead, st.Files, res)
		}
		reLists, reGets, reWall, res := run("re-run")
		if !res.NothingNew() || reGets != 0 {
			b.Fatalf("the re-run read something: %+v", res)
		}
		n := float64(len(prefixes))
		b.ReportMetric(float64(len(accounts)), "accounts")
		b.ReportMetric(n, "region_prefixes")
		b.ReportMetric(float64(st.Files), "objects")
		b.ReportMetric(float64(lists), "first_LISTs")
		b.ReportMetric(float64(len(accounts))+2*n+float64(st.Files)/1000+20, "first_LIST_budget")
		b.ReportMetric(float64(gets), "first_GETs")
		b.ReportMetric(wall.Seconds(), "first_s")
		b.ReportMetric(float64(reLists), "rerun_LISTs")
		b.ReportMetric(float64(len(accounts))+n+20, "rerun_LIST_budget")
		b.ReportMetric(float64(reGets), "rerun_GETs")
		b.ReportMetric(reWall.Seconds(), "rerun_s")
		// Before: the folders of each account (CloudTrail/, CloudTrail-Digest/) listed for their
		// regions, then a LIST per day from the window's first to the late-delivery day (32).
		b.ReportMetric(float64(2*len(accounts))+n*float64(days+2), "day_prefix_LISTs")
		b.ReportMetric(float64(peak)/(1<<20), "peak_RSS_MiB")
	}
}
