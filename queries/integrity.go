package queries

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/integrity"
	"github.com/sentinel-audit/sentinel/window"
)

var (
	//go:embed digests_in_window.sql
	digestsInWindowSQL string
	//go:embed log_files_in_window.sql
	logFilesInWindowSQL string
)

// Integrity is what checking the window's CloudTrail digests and log files found (integrity.Check
// per stream), per account and region.
type Integrity struct {
	Regions  []RegionIntegrity
	Findings []IntegrityFinding
}

// RegionIntegrity sums one account and region.
type RegionIntegrity struct {
	Account, Region string
	// Digests are the digest files whose hour is in the window; ValidDigests those that check
	// out. LogFiles are the log files they list; ValidLogFiles those present with the listed hash.
	Digests, ValidDigests, LogFiles, ValidLogFiles int
	// Covered is the part of the window the readable digests vouch for.
	Covered []integrity.Span
	// Counts of findings by kind (integrity.Kind's names), and of the digests whose signature was
	// not checked (local copies keep no S3 metadata).
	Counts               map[string]int
	SignaturesNotChecked int
}

// IntegrityFinding is one problem, located.
type IntegrityFinding struct {
	Account, Region string
	Kind, Reason    string
	Object, By      string // the file concerned and the digest that names it ("" when none)
	From, To        time.Time
	Detail          string
}

// Finding kinds Sentinel adds to integrity.Check's.
const (
	// FindingExtraGzipData: a log file has bytes after its first gzip member. CloudTrail writes one
	// member; the rest was appended (its records are in the warehouse, and the file's hash
	// cannot match its digest's).
	FindingExtraGzipData = "extra_gzip_data"
)

// digestRow is a row of digests_in_window.sql.
type digestRow struct {
	source, bucket, key, account, region, trail, homeRegion string
	end                                                     time.Time
	sha, body, problem, signature, algorithm, status        string
}

// CheckIntegrity checks the digests and log files of the window, of the accounts asked about (nil:
// every account): the chain of each trail's digests, the log files they list against the hashes
// ingest computed, the signatures with the public keys in the catalog (ingest checked them once;
// only those not found valid are checked again), and the log files no digest lists.
func CheckIntegrity(ctx context.Context, db *sql.DB, w window.Window, accounts []string) (Integrity, error) {
	var res Integrity
	keys, err := readPublicKeys(ctx, db)
	if err != nil {
		return res, err
	}
	digests, err := readDigests(ctx, db, w, accounts)
	if err != nil {
		return res, err
	}
	logs, members, err := readLogFiles(ctx, db, w, accounts)
	if err != nil {
		return res, err
	}
	type streamKey struct{ account, region, trail, homeRegion string }
	streams := map[streamKey][]digestRow{}
	for _, d := range digests {
		k := streamKey{d.account, d.region, d.trail, d.homeRegion}
		streams[k] = append(streams[k], d)
	}
	regions := map[[2]string]*RegionIntegrity{}
	region := func(account, name string) *RegionIntegrity {
		r := regions[[2]string{account, name}]
		if r == nil {
			r = &RegionIntegrity{Account: account, Region: name, Counts: map[string]int{}}
			regions[[2]string{account, name}] = r
		}
		return r
	}
	span := integrity.Span{From: w.Since, To: w.Until}
	for k, rows := range streams {
		chain := integrity.Chain{Window: span, Keys: keys, LogFiles: map[integrity.Object]integrity.Hash{}}
		bucket, prefix := "", ""
		for _, d := range rows {
			f := digestFile(d)
			if f.Digest != nil && bucket == "" {
				bucket, prefix = f.Digest.S3Bucket, integrity.KeyPrefix(f.Digest.S3Object)
			}
			if integrity.IsBackfillKey(d.key) {
				chain.Backfill = append(chain.Backfill, f)
			} else {
				chain.Digests = append(chain.Digests, f)
			}
		}
		r := region(k.account, k.region)
		first := map[integrity.Object]logFile{}
		for _, lf := range logs[[2]string{k.account, k.region}] {
			o := lf.object(bucket, prefix)
			other, copied := first[o]
			if !copied {
				first[o] = lf
				chain.LogFiles[o] = lf.hash
				continue
			}
			if other.hash != lf.hash {
				r.Counts[integrity.Modified.String()]++
				res.Findings = append(res.Findings, IntegrityFinding{Account: k.account, Region: k.region, Kind: integrity.Modified.String(),
					Reason: integrity.CopiesDiffer.String(), Object: lf.source, From: lf.delivered, To: lf.delivered.Add(time.Minute),
					Detail: fmt.Sprintf("The copies of the log file %s differ: %s hashes to %s, %s to %s; one of them changed after delivery.", o, other.source, other.hash, lf.source, lf.hash)})
			}
		}
		result := integrity.Check(chain)
		// The window's digests (their hour overlaps it) and the log files they list count; a
		// digest is valid unless its chain is broken there, a log file unless missing or modified.
		bad := map[integrity.Object]bool{}
		for _, f := range result.Findings {
			if f.Kind == integrity.ChainBroken || f.Kind == integrity.Missing || f.Kind == integrity.Modified {
				bad[f.Object] = true
			}
		}
		counted := map[integrity.Object]bool{}
		for _, d := range slices.Concat(chain.Digests, chain.Backfill) {
			if counted[d.Object] {
				continue // a copy of one counted
			}
			counted[d.Object] = true
			hour := d.Span()
			if hour.From.IsZero() {
				hour.From = hour.To.Add(-time.Hour)
			}
			if hour.To.After(w.Since) && hour.From.Before(w.Until) {
				r.Digests++
				if !bad[d.Object] {
					r.ValidDigests++
				}
				if d.Digest == nil {
					continue
				}
				for _, lf := range d.Digest.LogFiles {
					r.LogFiles++
					if !bad[lf.Object()] {
						r.ValidLogFiles++
					}
				}
			}
		}
		r.Covered = append(r.Covered, result.Covered...)
		for _, f := range result.Findings {
			if f.Kind == integrity.SignatureNotChecked {
				if f.Span.To.After(w.Since) && f.Span.To.Add(-time.Hour).Before(w.Until) {
					r.SignaturesNotChecked++
				}
				continue
			}
			r.Counts[f.Kind.String()]++
			res.Findings = append(res.Findings, IntegrityFinding{Account: k.account, Region: k.region, Kind: f.Kind.String(),
				Reason: f.Reason.String(), Object: objectName(f.Object), By: objectName(f.By), From: f.Span.From, To: f.Span.To, Detail: f.Detail})
		}
	}
	for ar, list := range logs {
		for _, lf := range list {
			if members[lf.source] <= 1 {
				continue
			}
			r := region(ar[0], ar[1])
			r.Counts[FindingExtraGzipData]++
			res.Findings = append(res.Findings, IntegrityFinding{Account: ar[0], Region: ar[1], Kind: FindingExtraGzipData,
				Object: lf.source, From: lf.delivered, To: lf.delivered.Add(time.Minute),
				Detail: fmt.Sprintf("The log file %s has %d gzip members: CloudTrail writes one, so what follows it was appended.", lf.source, members[lf.source])})
		}
	}
	for _, r := range regions {
		res.Regions = append(res.Regions, *r)
	}
	sort.Slice(res.Regions, func(i, j int) bool {
		a, b := res.Regions[i], res.Regions[j]
		return a.Account < b.Account || a.Account == b.Account && a.Region < b.Region
	})
	sort.SliceStable(res.Findings, func(i, j int) bool {
		a, b := res.Findings[i], res.Findings[j]
		if a.Account != b.Account || a.Region != b.Region {
			return a.Account < b.Account || a.Account == b.Account && a.Region < b.Region
		}
		return a.To.Before(b.To)
	})
	return res, nil
}

// digestFile is a digest row as integrity.Check takes it.
func digestFile(d digestRow) integrity.DigestFile {
	f := integrity.DigestFile{Object: integrity.Object{Bucket: d.bucket, Key: d.key}, Signature: d.signature,
		SignatureAlgorithm: d.algorithm, SignatureVerified: d.status == "valid", Local: !strings.HasPrefix(d.source, "s3://"), Source: d.source}
	if h, err := integrity.ParseHash(d.sha); err == nil {
		f.Hash = h
	}
	switch {
	case d.problem != "":
		f.Problem = fmt.Errorf("%s", d.problem)
	default:
		if f.Digest, f.Problem = integrity.ParseDigest([]byte(d.body)); f.Problem != nil {
			f.Digest = nil
		}
	}
	return f
}

// logFile is a log file the ledger holds.
type logFile struct {
	source, key string // the ledger's source and its path from AWSLogs/
	delivered   time.Time
	hash        integrity.Hash // zero when it could not be read
}

// object is where the log file is as its digests name it: an S3 object's own bucket and key; for a
// local copy, the bucket and key prefix of its trail's digests.
func (l logFile) object(bucket, prefix string) integrity.Object {
	if rest, ok := strings.CutPrefix(l.source, "s3://"); ok {
		b, k, _ := strings.Cut(rest, "/")
		return integrity.Object{Bucket: b, Key: k}
	}
	return integrity.Object{Bucket: bucket, Key: prefix + l.key}
}

func readPublicKeys(ctx context.Context, db *sql.DB) ([]integrity.PublicKey, error) {
	rows, err := db.QueryContext(ctx, `SELECT fingerprint, value, coalesce(valid_from, '-infinity'::TIMESTAMPTZ), coalesce(valid_until, 'infinity'::TIMESTAMPTZ) FROM public_keys ORDER BY fingerprint`)
	if err != nil {
		return nil, fmt.Errorf("public keys: %w", err)
	}
	defer rows.Close()
	var keys []integrity.PublicKey
	for rows.Next() {
		var k integrity.PublicKey
		if err := rows.Scan(&k.Fingerprint, &k.Value, &k.ValidityStart, &k.ValidityEnd); err != nil {
			return nil, fmt.Errorf("public keys: %w", err)
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

func readDigests(ctx context.Context, db *sql.DB, w window.Window, accounts []string) ([]digestRow, error) {
	rows, err := db.QueryContext(ctx, digestsInWindowSQL, sql.Named("since", w.Since.UTC()), sql.Named("until", w.Until.UTC()))
	if err != nil {
		return nil, fmt.Errorf("digests query: %w", err)
	}
	defer rows.Close()
	var out []digestRow
	for rows.Next() {
		var d digestRow
		if err := rows.Scan(&d.source, &d.bucket, &d.key, &d.account, &d.region, &d.trail, &d.homeRegion, &d.end,
			&d.sha, &d.body, &d.problem, &d.signature, &d.algorithm, &d.status); err != nil {
			return nil, fmt.Errorf("digests query: %w", err)
		}
		if accounts == nil || slices.Contains(accounts, d.account) {
			out = append(out, d)
		}
	}
	return out, rows.Err()
}

// readLogFiles reads the log files delivered from two hours before the window to two hours after
// it, by account and region, and their gzip member counts by source.
func readLogFiles(ctx context.Context, db *sql.DB, w window.Window, accounts []string) (map[[2]string][]logFile, map[string]int, error) {
	day := func(t time.Time) string { return t.UTC().Format("2006/01/02") }
	rows, err := db.QueryContext(ctx, logFilesInWindowSQL,
		sql.Named("first_day", day(w.Since.Add(-2*time.Hour))), sql.Named("last_day", day(w.Until.Add(2*time.Hour))))
	if err != nil {
		return nil, nil, fmt.Errorf("log files query: %w", err)
	}
	defer rows.Close()
	out := map[[2]string][]logFile{}
	members := map[string]int{}
	for rows.Next() {
		var l logFile
		var sha string
		var n int
		if err := rows.Scan(&l.source, &sha, &n); err != nil {
			return nil, nil, fmt.Errorf("log files query: %w", err)
		}
		l.key = integrity.TrailKey(l.source)
		k, err := integrity.ParseLogFileKey(l.key)
		if err != nil || accounts != nil && !slices.Contains(accounts, k.Account) {
			continue
		}
		l.delivered = k.Delivered
		if h, err := integrity.ParseHash(sha); err == nil {
			l.hash = h
		}
		members[l.source] = n
		out[[2]string{k.Account, k.Region}] = append(out[[2]string{k.Account, k.Region}], l)
	}
	return out, members, rows.Err()
}

func objectName(o integrity.Object) string {
	switch {
	case o == integrity.Object{}:
		return ""
	case o.Bucket == "":
		return o.Key
	}
	return o.String()
}
