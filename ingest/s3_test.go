package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/klauspost/compress/gzip"
	"github.com/sentinel-audit/sentinel/awsclient"
	"github.com/sentinel-audit/sentinel/internal/emulator/objectstore"
	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/sentinel-audit/sentinel/window"
)

const orgBucket = "org-trail"

// orgTrail is an S3 stand-in holding an organization trail that tests add delivered files to.
type orgTrail struct {
	t     *testing.T
	store *objectstore.Server
	aws   *awsclient.Config
	seq   int
}

func newOrgTrail(t *testing.T) *orgTrail {
	t.Helper()
	store, endpoint := objectstore.StartWith(t, orgBucket)
	return &orgTrail{t: t, store: store, aws: &awsclient.Config{EndpointURL: endpoint,
		SDK: aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIATESTTESTTESTTEST", "secret", "")}}}
}

// deliver puts a log file of account and region, delivered at delivered (its folder and name),
// holding events that happened at happened, with ids "<id>-<n>".
func (o *orgTrail) deliver(account, region string, delivered, happened time.Time, id string, events int) string {
	o.t.Helper()
	o.seq++
	key := fmt.Sprintf("AWSLogs/o-test/%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%s_%06d.json.gz", account, region,
		delivered.Format("2006/01/02"), account, region, delivered.Format("20060102T1504Z"), o.seq)
	var recs []string
	for n := range events {
		recs = append(recs, fmt.Sprintf(`{"eventVersion":"1.08","eventID":"%s-%d","eventTime":"%s","eventName":"GetObject","awsRegion":"%s","recipientAccountId":"%s"}`,
			id, n, happened.Format(time.RFC3339), region, account))
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(`{"Records":[` + strings.Join(recs, ",") + `]}`))
	zw.Close()
	if err := o.store.Put(orgBucket, key, b.Bytes()); err != nil {
		o.t.Fatal(err)
	}
	return key
}

func (o *orgTrail) ingest(wh string, now time.Time, since time.Time, concurrency int) *Result {
	o.t.Helper()
	res, err := Run(context.Background(), Options{Warehouse: wh, Sources: []string{"s3://" + orgBucket}, AWS: o.aws,
		Window: window.Window{Since: since}, Now: func() time.Time { return now }, S3Concurrency: concurrency})
	if err != nil {
		o.t.Fatal(err)
	}
	return res
}

func countIn(t *testing.T, wh, query string) int {
	t.Helper()
	r, err := warehouse.OpenReader(context.Background(), wh)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var n int
	if err := r.DB().QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var (
	day1 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	day  = 24 * time.Hour
)

// TestS3ListingIsIncremental: a re-run lists each region prefix from a day before where the last
// run's listing ended, once, and still finds a late delivery (an event of an earlier day delivered
// in a later day's folder, under a later key: the rule the listing relies on).
func TestS3ListingIsIncremental(t *testing.T) {
	o := newOrgTrail(t)
	accounts, regions := []string{"111111111111", "222222222222"}, []string{"us-east-1", "eu-west-1"}
	events := 0
	for d := range 5 {
		for _, a := range accounts {
			for _, r := range regions {
				at := day1.Add(time.Duration(d)*day + 10*time.Hour)
				o.deliver(a, r, at.Add(5*time.Minute), at, fmt.Sprintf("%s-%s-%d", a, r, d), 3)
				events += 3
			}
		}
	}
	prefixes := len(accounts) * len(regions)
	wh := filepath.Join(t.TempDir(), "wh")
	o.store.ResetCounts()
	first := o.ingest(wh, day1.Add(5*day), day1, 0)
	if first.EventsStored != int64(events) || first.FilesRead != 5*prefixes {
		t.Fatalf("first run: %+v", first)
	}
	// AWSLogs/, o-test/, the accounts' regions (one listing each), then each region prefix once.
	if n := o.store.Lists(); n != int64(3+len(accounts)+prefixes) {
		t.Errorf("first run: %d LISTs, want %d", n, 3+len(accounts)+prefixes)
	}
	if n := countIn(t, wh, `SELECT count(*) FROM catalog.s3_listings`); n != prefixes {
		t.Fatalf("%d region prefixes marked, want %d", n, prefixes)
	}

	// A day later: a new file, and a late delivery of an event of day 3 in day 6's folder.
	late := o.deliver("111111111111", "us-east-1", day1.Add(5*day+2*time.Hour), day1.Add(2*day+23*time.Hour), "late", 1)
	o.deliver("222222222222", "eu-west-1", day1.Add(5*day+9*time.Hour), day1.Add(5*day+9*time.Hour), "new", 2)
	o.store.ResetCounts()
	second := o.ingest(wh, day1.Add(6*day), day1, 0)
	if second.EventsStored != 3 || second.EventsDuplicate != 0 || second.FilesRead != 2 || second.FilesFailed != 0 {
		t.Fatalf("re-run: %+v", second)
	}
	if n := o.store.Lists(); n != int64(3+len(accounts)+prefixes) {
		t.Errorf("re-run: %d LISTs, want one per region prefix (%d in all)", n, 3+len(accounts)+prefixes)
	}
	if o.store.GetsOf(late) != 1 || o.store.Gets() != 2 {
		t.Errorf("re-run read %d objects, the late delivery %d times", o.store.Gets(), o.store.GetsOf(late))
	}
	// Only the day folders of the last key listed and the one before are listed again.
	if second.FilesUnchanged != 2*prefixes {
		t.Errorf("re-run listed %d files it had, want %d (days 4 and 5)", second.FilesUnchanged, 2*prefixes)
	}
	if n := countIn(t, wh, `SELECT count(*) FROM events_all`); n != events+3 {
		t.Fatalf("events_all = %d, want %d", n, events+3)
	}

	t.Run("an_earlier_since_lists_from_it_again", func(t *testing.T) {
		o.deliver("111111111111", "eu-west-1", day1.Add(-day+time.Hour), day1.Add(-day), "before", 1)
		// Every file is listed, and read again for the wider window (the ledger's rule).
		res := o.ingest(wh, day1.Add(6*day), day1.Add(-2*day), 0)
		if res.EventsStored != 1 || res.FilesRead != 23 {
			t.Fatalf("run with an earlier --since: %+v", res)
		}
		if n := countIn(t, wh, `SELECT count(*) FROM events_all`); n != events+4 {
			t.Fatalf("events_all = %d, want %d", n, events+4)
		}
	})
}

// TestS3ListingMarksOnlyWhatWasCommitted: a region prefix with an object that failed keeps its
// old mark, so the next run lists the object again and reads it.
func TestS3ListingMarksOnlyWhatWasCommitted(t *testing.T) {
	o := newOrgTrail(t)
	o.deliver("111111111111", "us-east-1", day1.Add(time.Hour), day1, "a", 2)
	broken := o.deliver("111111111111", "eu-west-1", day1.Add(time.Hour), day1, "b", 2)
	wh := filepath.Join(t.TempDir(), "wh")
	o.store.Inject(objectstore.Fault{KeyContains: broken, Status: http.StatusForbidden})
	first := o.ingest(wh, day1.Add(3*day), day1, 0)
	if first.FilesFailed != 1 || first.EventsStored != 2 {
		t.Fatalf("first run: %+v", first)
	}
	if n := countIn(t, wh, `SELECT count(*) FROM catalog.s3_listings WHERE prefix LIKE '%/eu-west-1/'`); n != 0 {
		t.Fatal("the prefix of the failed object was marked as listed")
	}
	o.store.Clear()
	// Days later: the object is before the other prefix's mark but its own prefix is listed whole.
	second := o.ingest(wh, day1.Add(9*day), day1, 0)
	if second.FilesRead != 1 || second.EventsStored != 2 || second.FilesFailed != 0 {
		t.Fatalf("re-run: %+v", second)
	}
	if n := countIn(t, wh, `SELECT count(*) FROM events_all`); n != 4 {
		t.Fatalf("events_all = %d, want 4", n)
	}
}

// TestS3ReadsAheadWithConcurrencyAndSlowDown: with latency, the reads in flight are as many as
// --s3-concurrency allows (not the one worker), and a storm of SlowDown answers slows the run
// without failing an object.
func TestS3ReadsAheadWithConcurrencyAndSlowDown(t *testing.T) {
	o := newOrgTrail(t)
	for i := range 120 {
		at := day1.Add(time.Duration(i) * 5 * time.Minute)
		o.deliver("111111111111", "us-east-1", at.Add(5*time.Minute), at, fmt.Sprintf("e%d", i), 2)
	}
	o.store.SetLatency(20 * time.Millisecond)
	for _, seq := range []string{"_000030.", "_000060.", "_000090."} {
		o.store.Inject(objectstore.Fault{KeyContains: seq, Status: http.StatusServiceUnavailable, Times: 2})
	}
	o.store.ResetCounts()
	wh := filepath.Join(t.TempDir(), "wh")
	res, err := Run(context.Background(), Options{Warehouse: wh, Sources: []string{"s3://" + orgBucket}, AWS: o.aws,
		Window: window.Window{Since: day1}, Now: func() time.Time { return day1.Add(2 * day) }, Workers: 1, S3Concurrency: 16})
	if err != nil {
		t.Fatal(err)
	}
	if res.FilesRead != 120 || res.FilesFailed != 0 || res.EventsStored != 240 {
		t.Fatalf("%+v", res)
	}
	if peak := o.store.PeakGets(); peak < 4 || peak > 16 {
		t.Errorf("%d reads in flight at the peak, want more than the one worker and at most 16", peak)
	}
	if o.store.Gets() != 126 {
		t.Errorf("%d GETs, want 120 and the 6 answered SlowDown", o.store.Gets())
	}
}

// TestFetchAheadBoundsTheBytesWaiting: reads ahead wait for room in the byte budget; a worker
// closing an object gives its room back.
func TestFetchAheadBoundsTheBytesWaiting(t *testing.T) {
	var opened atomic.Int64
	var jobs []job
	for i := range 10 {
		o := object{source: fmt.Sprintf("s3://b/k%d", i), kind: kindTrail, size: 40}
		o.open = func(context.Context) (io.ReadCloser, error) {
			opened.Add(1)
			return io.NopCloser(bytes.NewReader(make([]byte, 40))), nil
		}
		jobs = append(jobs, job{obj: o})
	}
	in := make(chan job)
	var wg sync.WaitGroup
	wg.Go(func() { fetchAhead(context.Background(), jobs, 8, 100, in) })
	settle := func(want int64) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); opened.Load() < want && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		if n := opened.Load(); n != want {
			t.Fatalf("%d objects read ahead, want %d", n, want)
		}
	}
	settle(2) // 2 x 40 bytes fit in 100, a third does not
	j := <-in
	body, err := j.obj.open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	settle(2) // taken by a worker, not yet closed: still held
	body.Close()
	settle(3)
	for j := range in {
		body, err := j.obj.open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		body.Close()
	}
	wg.Wait()
	if opened.Load() != 10 {
		t.Fatalf("%d of 10 read", opened.Load())
	}
}
