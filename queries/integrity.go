package queries

import (
	"cmp"
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
	//go:embed trail_regions_in_window.sql
	trailRegionsInWindowSQL string
	//go:embed account_org.sql
	accountOrgSQL string
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
	// not checked: local copies keep no S3 metadata (SignaturesNotChecked); digests read from S3
	// with no CloudTrail public key at hand (SignaturesWithoutKeys: ListPublicKeys failed).
	Counts                                      map[string]int
	SignaturesNotChecked, SignaturesWithoutKeys int
	// Validated: the trail delivers digests for this account and region (log file validation is
	// on): its coverage is what the digests vouch for, whatever its log files hold. NotValidated:
	// it has log files in the window and its trail delivers no digests (validation is off).
	Validated, NotValidated bool
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
	context                                                 string // "before": the last digest before the window, context only
	sha, body, problem, signature, algorithm, status        string
}

// CheckIntegrity checks the digests and log files of the window, of the accounts asked about (nil:
// every account): the chain of each trail's digests, the log files they list against the hashes
// ingest computed, the signatures with the public keys in the catalog (ingest checked them once;
// only those not found valid are checked again), the log files no digest lists, and what the
// trail's other regions and accounts show (integrity.CheckRegions).
func CheckIntegrity(ctx context.Context, db *sql.DB, w window.Window, accounts []string) (Integrity, error) {
	var res Integrity
	keys, err := readPublicKeys(ctx, db)
	if err != nil {
		return res, err
	}
	digests, err := readDigests(ctx, db, w)
	if err != nil {
		return res, err
	}
	logs, members, err := readLogFiles(ctx, db, w, accounts)
	if err != nil {
		return res, err
	}
	inScope := func(account string) bool { return accounts == nil || slices.Contains(accounts, account) }
	type streamKey struct{ account, region, trail, homeRegion string }
	streams := map[streamKey][]digestRow{}
	newest := map[streamKey]time.Time{}
	evidence := map[[2]string]*integrity.Region{}
	regionOf := func(org, account, name string) *integrity.Region {
		g := evidence[[2]string{account, name}]
		if g == nil {
			g = &integrity.Region{Account: account, Region: name}
			evidence[[2]string{account, name}] = g
		}
		g.OrgID = cmp.Or(g.OrgID, org)
		return g
	}
	all := map[streamKey][]digestRow{}
	for _, d := range digests {
		k := streamKey{d.account, d.region, d.trail, d.homeRegion}
		all[k] = append(all[k], d)
	}
	for k, rows := range all {
		if startsAfter(rows, w.Until.Add(integrity.ListingHorizon)) {
			continue
		}
		for _, d := range rows {
			if !integrity.IsBackfillKey(d.key) {
				if d.end.After(newest[k]) {
					newest[k] = d.end
				}
				dk, _ := integrity.ParseDigestKey(integrity.TrailKey(d.key))
				regionOf(dk.OrgID, d.account, d.region)
			}
			if d.context == "" && inScope(d.account) {
				streams[k] = append(streams[k], d)
			}
		}
	}
	for ar, list := range logs {
		for _, lf := range list {
			k, _ := integrity.ParseLogFileKey(lf.key)
			g := regionOf(k.OrgID, ar[0], ar[1])
			g.LogFiles = append(g.LogFiles, lf.delivered)
		}
	}
	if err := markLogged(ctx, db, w, inScope, evidence, regionOf); err != nil {
		return res, err
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
	addFinding := func(account, name string, f integrity.Finding) {
		region(account, name).Counts[f.Kind.String()]++
		res.Findings = append(res.Findings, IntegrityFinding{Account: account, Region: name, Kind: f.Kind.String(),
			Reason: f.Reason.String(), Object: objectName(f.Object), By: objectName(f.By), From: f.Span.From, To: f.Span.To, Detail: f.Detail})
	}
	span := integrity.Span{From: w.Since, To: w.Until}
	covered := map[streamKey][]integrity.Span{}
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
		covered[k] = result.Covered
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
				switch {
				case !f.Span.To.After(w.Since) || !f.Span.To.Add(-time.Hour).Before(w.Until):
				case f.Reason == integrity.NoKeys:
					r.SignaturesWithoutKeys++
				default:
					r.SignaturesNotChecked++
				}
				continue
			}
			addFinding(k.account, k.region, f)
		}
	}
	for k, end := range newest {
		g := evidence[[2]string{k.account, k.region}]
		g.Streams = append(g.Streams, integrity.RegionStream{Trail: k.trail, HomeRegion: k.homeRegion, Covered: covered[k], Newest: end})
	}
	list := make([]integrity.Region, 0, len(evidence))
	for _, g := range evidence {
		list = append(list, *g)
	}
	for _, rr := range integrity.CheckRegions(span, list) {
		if !inScope(rr.Account) {
			continue
		}
		r := region(rr.Account, rr.Region)
		r.Validated, r.NotValidated = rr.Validated, !rr.Validated
		for _, f := range rr.Findings {
			addFinding(rr.Account, rr.Region, f)
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

// markLogged marks the accounts and regions in scope whose trail log files speak for the window
// (trail_regions_in_window.sql), with their organization when an organization trail logs them
// (known from their other evidence, else account_org.sql).
func markLogged(ctx context.Context, db *sql.DB, w window.Window, inScope func(string) bool, evidence map[[2]string]*integrity.Region,
	regionOf func(org, account, name string) *integrity.Region) error {
	rows, err := db.QueryContext(ctx, trailRegionsInWindowSQL, sql.Named("since", w.Since.UTC()), sql.Named("until", w.Until.UTC()))
	if err != nil {
		return fmt.Errorf("trail regions query: %w", err)
	}
	var logged [][2]string
	for rows.Next() {
		var ar [2]string
		if err := rows.Scan(&ar[0], &ar[1]); err != nil {
			rows.Close()
			return fmt.Errorf("trail regions query: %w", err)
		}
		if inScope(ar[0]) {
			logged = append(logged, ar)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("trail regions query: %w", err)
	}
	orgs := map[string]string{}
	for _, g := range evidence {
		orgs[g.Account] = cmp.Or(orgs[g.Account], g.OrgID)
	}
	for _, ar := range logged {
		org, known := orgs[ar[0]]
		if !known {
			var found sql.NullString
			err := db.QueryRowContext(ctx, accountOrgSQL, sql.Named("account", ar[0])).Scan(&found)
			if err != nil && err != sql.ErrNoRows {
				return fmt.Errorf("account organization query: %w", err)
			}
			org = found.String
			orgs[ar[0]] = org
		}
		regionOf(org, ar[0], ar[1]).Logged = true
	}
	return nil
}

// startsAfter reports whether a stream's digests (oldest first) all end after horizon, the first
// of them starting a chain: the trail began delivering them after the window, whose time it did
// not validate. (A first digest that links back shows its predecessors deleted.)
func startsAfter(rows []digestRow, horizon time.Time) bool {
	for _, d := range rows {
		if !d.end.After(horizon) {
			return false
		}
		if integrity.IsBackfillKey(d.key) {
			continue
		}
		f := digestFile(d)
		return f.Digest != nil && f.Digest.Previous == nil
	}
	return false
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

// readDigests reads the digests that bear on the window (digests_in_window.sql), of every
// account: the other accounts' show what their trail delivers.
func readDigests(ctx context.Context, db *sql.DB, w window.Window) ([]digestRow, error) {
	rows, err := db.QueryContext(ctx, digestsInWindowSQL, sql.Named("since", w.Since.UTC()), sql.Named("horizon_end", w.Until.Add(integrity.ListingHorizon).UTC()))
	if err != nil {
		return nil, fmt.Errorf("digests query: %w", err)
	}
	defer rows.Close()
	var out []digestRow
	for rows.Next() {
		var d digestRow
		if err := rows.Scan(&d.source, &d.bucket, &d.key, &d.account, &d.region, &d.trail, &d.homeRegion, &d.end, &d.context,
			&d.sha, &d.body, &d.problem, &d.signature, &d.algorithm, &d.status); err != nil {
			return nil, fmt.Errorf("digests query: %w", err)
		}
		out = append(out, d)
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
