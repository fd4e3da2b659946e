package ingest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/sentinel-audit/sentinel/awsclient"
	"github.com/sentinel-audit/sentinel/integrity"
	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/sentinel-audit/sentinel/window"
	"golang.org/x/time/rate"
)

// work is what a run will do: objects to read, API syncs to run and a table to scan.
type work struct {
	keys    []integrity.PublicKey // CloudTrail's public keys, to check the digests' signatures with
	jobs    []job
	syncs   []*apiSync
	scan    *TableScan
	scanner tableScanner
	// listers listed the trails in S3: how far they got is recorded when the run completes.
	listers []*s3Lister
}

// listings is how far the run's S3 listings got, for the prefixes whose every object listed was
// read (see s3Lister.listings). A run with --exclude records none: what it left out was listed
// but not read, and a run without would not list it again.
func (p *work) listings(opts Options, failed []Failure) []warehouse.Listing {
	if len(opts.Exclude) > 0 {
		return nil
	}
	var out []warehouse.Listing
	for _, l := range p.listers {
		out = append(out, l.listings(failed)...)
	}
	return out
}

// regionsRead are the trail regions the run's S3 listings read, which are no longer left out.
func (p *work) regionsRead() []warehouse.TrailRegion {
	var out []warehouse.TrailRegion
	for _, l := range p.listers {
		out = append(out, l.read...)
	}
	return out
}

// plan lists the sources and decides, per object, whether and with which window to read it.
func plan(ctx context.Context, opts Options, w *warehouse.Writer, res *Result, batch *warehouse.Batch) (*work, error) {
	ledger, err := w.Ledger(ctx)
	if err != nil {
		return nil, err
	}
	p := &work{}
	planned := map[string]bool{}
	digestDays := digestRange{}
	win := opts.Window
	var store objectStore
	var marks map[string]warehouse.Listing
	aws := func() (awsclient.Config, error) {
		if opts.AWS == nil {
			return awsclient.Config{}, errors.New("AWS sources need an AWS configuration")
		}
		return *opts.AWS, nil
	}
	s3Store := func() (objectStore, error) {
		if store == nil {
			a, err := aws()
			if err != nil {
				return nil, err
			}
			store = a.S3()
		}
		return store, nil
	}
	for _, src := range opts.Sources {
		var objects []object
		switch {
		case src == "api":
			syncs, warnings, err := planAPI(ctx, opts, w)
			if err != nil {
				return nil, err
			}
			p.syncs = append(p.syncs, syncs...)
			res.Warnings = append(res.Warnings, warnings...)
			continue
		case strings.HasPrefix(src, "s3://"):
			bucket, prefix, err := parseS3URL(src)
			if err != nil {
				return nil, fmt.Errorf("--source: %w", err)
			}
			client, err := s3Store()
			if err != nil {
				return nil, err
			}
			if marks == nil {
				if marks, err = w.Listings(ctx); err != nil {
					return nil, err
				}
			}
			l := &s3Lister{client: client, bucket: bucket, root: prefix, accounts: set(opts.Accounts), regions: set(opts.Regions), window: win, marks: marks}
			if objects, err = l.listTrail(ctx, prefix); err != nil {
				return nil, err
			}
			p.listers = append(p.listers, l)
			// Recorded with the run's first commit: from then on, audits of those accounts
			// say that the regions are missing.
			batch.SetLeftOut(l.leftOut)
		default:
			var ignored int
			if objects, ignored, err = listDirectory(src); err != nil {
				return nil, err
			}
			res.IgnoredFiles += ignored
		}
		for _, o := range res.skip(objects, opts.Exclude) {
			if planned[o.source] {
				continue // the same object through two overlapping sources
			}
			planned[o.source] = true
			if o.kind == kindInsight {
				res.InsightFiles++
				if e, ok := ledger[o.source]; !ok || !sameVersion(e, o) {
					batch.Record(ledgerEntry(o, "skipped", "CloudTrail Insights file (not management or data events)"))
				}
				continue
			}
			if !deliveryInWindow(o.date, win) {
				res.FilesOutsideWindow++
				continue
			}
			readWith := win
			if o.kind == kindDigest {
				readWith = window.Window{} // a digest holds no events: it is read once per version
				if strings.HasPrefix(o.source, "s3://") {
					digestDays.add(o, opts.Now())
				}
			}
			if j, ok := schedule(job{obj: o}, readWith, ledger); ok {
				p.jobs = append(p.jobs, j)
			} else {
				res.FilesUnchanged++
			}
		}
	}
	for _, src := range opts.SessionsFiles {
		var objects []object
		if strings.HasPrefix(src, "s3://") {
			bucket, prefix, err := parseS3URL(src)
			if err != nil {
				return nil, fmt.Errorf("--sessions-file: %w", err)
			}
			client, err := s3Store()
			if err != nil {
				return nil, err
			}
			l := &s3Lister{client: client, bucket: bucket, root: prefix}
			if objects, err = l.listAll(ctx, prefix); err != nil {
				return nil, err
			}
		} else if objects, _, err = listDirectory(src); err != nil {
			return nil, fmt.Errorf("--sessions-file: %w", err)
		}
		for _, j := range snapshotJobs(res.skip(objects, opts.Exclude)) {
			if j, ok := schedule(j, window.Window{}, ledger); ok {
				p.jobs = append(p.jobs, j)
			} else {
				res.FilesUnchanged++
			}
		}
	}
	if err := addUncheckedDigests(ctx, opts, w, digestDays); err != nil {
		return nil, err
	}
	if len(digestDays) > 0 {
		keys, err := fetchKeys(ctx, opts, digestDays)
		if err != nil {
			res.Warnings = append(res.Warnings, err.Error()+": the signatures of the digest files read are not checked")
		}
		batch.AddPublicKeys(keys)
		p.keys = integrityKeys(keys)
	}
	// Delivery-date order: a day's events arrive together, so the batch has few partitions open
	// at once (large row groups, bounded memory) and days behind the run are complete.
	slices.SortStableFunc(p.jobs, func(a, b job) int { return a.obj.date.Compare(b.obj.date) })
	if opts.SessionsTable != nil {
		a, err := aws()
		if err != nil {
			return nil, err
		}
		p.scan, p.scanner = opts.SessionsTable, a.DynamoDB()
	}
	return p, nil
}

// planAPI prepares one LookupEvents sync per region, resuming from each region's watermark.
func planAPI(ctx context.Context, opts Options, w *warehouse.Writer) ([]*apiSync, []string, error) {
	if opts.AWS == nil {
		return nil, nil, errors.New("--source api needs an AWS configuration")
	}
	a := *opts.AWS
	regions := opts.Regions
	if len(regions) == 0 {
		if a.SDK.Region == "" {
			return nil, nil, errors.New("--source api: no region: pass --regions or configure one (--region, AWS_REGION, the profile's region)")
		}
		regions = []string{a.SDK.Region}
	}
	var warnings []string
	if !slices.Contains(regions, "us-east-1") {
		warnings = append(warnings, "LookupEvents sync leaves out us-east-1, where global-service events (IAM, STS via the global endpoint, console sign-in) are recorded — most AssumeRole events live there; add it with --regions")
	}
	id, err := a.STS().GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, nil, awsclient.Describe("identify the account for --source api (STS GetCallerIdentity)", err)
	}
	account := awssdk.ToString(id.Account)
	marks, err := w.Watermarks(ctx, apiSource)
	if err != nil {
		return nil, nil, err
	}
	now := opts.Now().UTC()
	var syncs []*apiSync
	for _, region := range regions {
		var old *warehouse.Watermark
		if m, ok := marks[account+"/"+region]; ok {
			old = &m
		}
		win, wm, warning := planAPISync(opts.Window, old, now)
		if warning != "" && !slices.Contains(warnings, warning) {
			warnings = append(warnings, warning)
		}
		syncs = append(syncs, &apiSync{client: a.CloudTrail(region), account: account, region: region, window: win,
			limiter: rate.NewLimiter(rate.Limit(APIRequestsPerSecond), 1), watermark: wm})
	}
	return syncs, warnings, nil
}

func set(values []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range values {
		m[v] = true
	}
	return m
}

// digestRange is, per region, the first and last delivery day of the digest files in S3 a run
// reads: the keys that signed them are CloudTrail's of those days. A backfill digest is signed
// when CloudTrail made it, after its hour: its keys are those valid up to now.
type digestRange map[string][2]time.Time

func (r digestRange) add(o object, now time.Time) {
	k, err := integrity.ParseDigestKey(integrity.TrailKey(o.source))
	if err != nil {
		return
	}
	last := k.End
	if k.Backfill {
		last = now
	}
	span, ok := r[k.Region]
	if !ok || k.End.Before(span[0]) {
		span[0] = k.End
	}
	if !ok || last.After(span[1]) {
		span[1] = last
	}
	r[k.Region] = span
}

// addUncheckedDigests adds to days those of the digests of the run's S3 trails whose signature an
// earlier run could not check for want of keys (ListPublicKeys failed then): this run fetches
// their keys too.
func addUncheckedDigests(ctx context.Context, opts Options, w *warehouse.Writer, days digestRange) error {
	var trails []string
	for _, src := range opts.Sources {
		if strings.HasPrefix(src, "s3://") {
			trails = append(trails, strings.TrimSuffix(src, "/")+"/")
		}
	}
	if len(trails) == 0 {
		return nil
	}
	unchecked, err := w.UncheckedDigests(ctx)
	if err != nil {
		return err
	}
	for _, source := range unchecked {
		if slices.ContainsFunc(trails, func(t string) bool { return strings.HasPrefix(source, t) }) {
			days.add(object{source: source}, opts.Now())
		}
	}
	return nil
}

// fetchKeys lists CloudTrail's public keys valid over the digests' days, in each of their regions.
func fetchKeys(ctx context.Context, opts Options, days digestRange) ([]warehouse.PublicKey, error) {
	if opts.AWS == nil {
		return nil, errors.New("no AWS configuration to list CloudTrail's public keys with")
	}
	var out []warehouse.PublicKey
	for _, region := range slices.Sorted(maps.Keys(days)) {
		span := days[region]
		keys, err := publicKeys(ctx, opts.AWS.CloudTrail(region), region, span[0].Add(-24*time.Hour), span[1].Add(24*time.Hour))
		if err != nil {
			return out, err
		}
		out = append(out, keys...)
	}
	return out, nil
}

// deliveryInWindow reports whether a delivery folder of date d can hold events of window w.
func deliveryInWindow(d time.Time, w window.Window) bool {
	if d.IsZero() {
		return true
	}
	if !w.Since.IsZero() && d.Before(w.Since.UTC().Truncate(24*time.Hour)) {
		return false
	}
	return w.Until.IsZero() || d.Before(w.Until.Add(LateDeliveryMargin))
}

// schedule decides whether o must be read: it is new, changed, failed before, or was read with a
// window that does not cover w. A re-read covers both the old and the new window, so the ledger's
// window stays true.
func schedule(j job, w window.Window, ledger map[string]warehouse.LedgerEntry) (job, bool) {
	e, ok := ledger[j.obj.source]
	// A trail log file read before Sentinel hashed them, and a digest file it skipped, are read
	// again: their digests must be checked.
	unchecked := ok && (e.Status == "skipped" || coverageKind(j.obj) == warehouse.CoverageTrail && j.obj.kind == kindTrail && e.ContentSHA256 == "")
	if !ok || e.Status == "failed" || unchecked {
		j.window = w
		return j, true
	}
	old := window.Window{Since: e.WindowStart, Until: e.WindowEnd}
	if sameVersion(e, j.obj) && covers(old, w) {
		return job{}, false
	}
	j.window = hull(old, w)
	return j, true
}

// sameVersion reports whether o is the version the ledger recorded: same ETag for S3 objects,
// same size and modification time for files.
func sameVersion(e warehouse.LedgerEntry, o object) bool {
	if o.etag != "" {
		return e.ETag == o.etag && e.Size == o.size
	}
	return e.Size == o.size && e.MTime.Equal(o.mtime)
}

// covers reports whether window a includes window b (zero ends are open).
func covers(a, b window.Window) bool {
	sinceOK := a.Since.IsZero() || (!b.Since.IsZero() && !a.Since.After(b.Since))
	untilOK := a.Until.IsZero() || (!b.Until.IsZero() && !a.Until.Before(b.Until))
	return sinceOK && untilOK
}

func hull(a, b window.Window) window.Window {
	h := a
	if a.Since.IsZero() || b.Since.IsZero() {
		h.Since = time.Time{}
	} else if b.Since.Before(a.Since) {
		h.Since = b.Since
	}
	if a.Until.IsZero() || b.Until.IsZero() {
		h.Until = time.Time{}
	} else if b.Until.After(a.Until) {
		h.Until = b.Until
	}
	return h
}

func ledgerEntry(o object, status, msg string) warehouse.LedgerEntry {
	return warehouse.LedgerEntry{Source: o.source, Kind: o.kind, Size: o.size, MTime: o.mtime, ETag: o.etag, Status: status, Error: msg}
}
