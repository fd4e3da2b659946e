package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/internal/testkeys"
)

// ---- trail files ----

type trailFile struct {
	acct, region string
	stamp        time.Time
	path         string // relative to -out
	json         []byte // uncompressed
	events       []*event
}

type delivery struct {
	e  *event
	at time.Time
}

// writeTrail groups deliveries by account, region, delivery day and half-day, splits each group into
// files of at most 8 records and writes them as CloudTrail log files.
func (g *gen) writeTrail() []*trailFile {
	groups := map[string][]delivery{}
	for _, e := range g.events {
		for _, d := range e.deliver {
			half := "am"
			if d.Hour() >= 12 {
				half = "pm"
			}
			k := strings.Join([]string{e.acct, e.region, d.Format("2006-01-02"), half}, "|")
			groups[k] = append(groups[k], delivery{e, d})
		}
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var files []*trailFile
	for _, k := range keys {
		ds := groups[k]
		sort.Slice(ds, func(i, j int) bool {
			if !ds[i].at.Equal(ds[j].at) {
				return ds[i].at.Before(ds[j].at)
			}
			return ds[i].e.label < ds[j].e.label
		})
		n := (len(ds) + 7) / 8
		for c := 0; c < n; c++ {
			chunk := ds[c*len(ds)/n : (c+1)*len(ds)/n]
			if len(chunk) < 2 || len(chunk) > 12 {
				fail(fmt.Errorf("trail file %s #%d would hold %d records", k, c, len(chunk)))
			}
			f := &trailFile{acct: chunk[0].e.acct, region: chunk[0].e.region}
			for _, d := range chunk {
				if d.at.After(f.stamp) {
					f.stamp = d.at
				}
				f.events = append(f.events, d.e)
			}
			f.stamp = f.stamp.Truncate(time.Minute)
			sort.SliceStable(f.events, func(i, j int) bool {
				if !f.events[i].at.Equal(f.events[j].at) {
					return f.events[i].at.Before(f.events[j].at)
				}
				return f.events[i].label < f.events[j].label
			})
			recs := make([]any, len(f.events))
			for i, e := range f.events {
				recs[i] = e.rec
			}
			f.json = compact(obj{{"Records", recs}})
			name := fmt.Sprintf("%s_CloudTrail_%s_%s_%s.json.gz", f.acct, f.region, f.stamp.Format(fileTime), alnumMixed(16, "file", k, strconv.Itoa(c)))
			f.path = filepath.Join("trail", "AWSLogs", org, f.acct, "CloudTrail", f.region, f.stamp.Format("2006/01/02"), name)
			write(filepath.Join(g.out, f.path), gz(f.json))
			files = append(files, f)
		}
	}
	return files
}

// Digests: CloudTrail's log file integrity validation for the org trail, per account and region,
// hourly over the audit window, chained and signed with the test key (internal/testkeys: the
// stand-in for CloudTrail's regional key). Each digest lists the trail log files delivered in
// its hour (by the file's delivery time, its key's stamp), with the SHA-256 of their inflated
// bytes; hours without log files have digests too.
var (
	digestAccounts = []string{identAcct, prodAcct, stgAcct, devAcct}
	digestRegions  = []string{useast1, euwest1}
	digestFrom     = ts("2026-11-01T00:00:00Z")
	digestTo       = ts("2026-11-08T00:00:00Z")
)

// signaturesFile is the signature manifest: digest key -> x-amz-meta-signature, which a local
// copy cannot keep. Tests upload digests to the S3 stand-in with it.
const signaturesFile = "digest-signatures.json"

// writeDigests writes the digest chains and the signature manifest.
func (g *gen) writeDigests(files []*trailFile) {
	key := testkeys.Primary
	var signatures obj
	for _, acct := range digestAccounts {
		for _, region := range digestRegions {
			var prevObj, prevHash, prevSig string
			for start := digestFrom; start.Before(digestTo); start = start.Add(time.Hour) {
				end := start.Add(time.Hour)
				logFiles := []any{}
				var oldest, newest time.Time
				for _, f := range files {
					if f.acct != acct || f.region != region || f.stamp.Before(start) || !f.stamp.Before(end) {
						continue
					}
					fo, fn := f.events[0].at, f.events[0].at
					for _, e := range f.events {
						if e.at.Before(fo) {
							fo = e.at
						}
						if e.at.After(fn) {
							fn = e.at
						}
					}
					if oldest.IsZero() || fo.Before(oldest) {
						oldest = fo
					}
					if fn.After(newest) {
						newest = fn
					}
					h := sha256.Sum256(f.json)
					logFiles = append(logFiles, obj{
						{"s3Bucket", bucket},
						{"s3Object", filepath.ToSlash(strings.TrimPrefix(f.path, "trail/"))},
						{"hashValue", hex.EncodeToString(h[:])},
						{"hashAlgorithm", "SHA-256"},
						{"newestEventTime", fn.Format(ctTime)},
						{"oldestEventTime", fo.Format(ctTime)},
					})
				}
				name := fmt.Sprintf("%s_CloudTrail-Digest_%s_%s_%s_%s.json.gz", acct, region, trailName, useast1, end.Format("20060102T150405Z"))
				rel := filepath.ToSlash(filepath.Join("AWSLogs", org, acct, "CloudTrail-Digest", region, end.Format("2006/01/02"), name))
				var prev [3]any
				if prevObj != "" {
					prev = [3]any{prevObj, prevHash, prevSig}
				}
				d := obj{
					{"awsAccountId", acct},
					{"digestStartTime", start.Format(ctTime)},
					{"digestEndTime", end.Format(ctTime)},
					{"digestS3Bucket", bucket},
					{"digestS3Object", rel},
					{"digestPublicKeyFingerprint", key.Fingerprint()},
					{"digestSignatureAlgorithm", "SHA256withRSA"},
					{"newestEventTime", ifSet(len(logFiles) > 0, newest.Format(ctTime))},
					{"oldestEventTime", ifSet(len(logFiles) > 0, oldest.Format(ctTime))},
					{"previousDigestS3Bucket", ifSet(prev[0] != nil, bucket)},
					{"previousDigestS3Object", prev[0]},
					{"previousDigestHashValue", prev[1]},
					{"previousDigestHashAlgorithm", ifSet(prev[0] != nil, "SHA-256")},
					{"previousDigestSignature", prev[2]},
					{"logFiles", logFiles},
				}
				body := compact(d)
				write(filepath.Join(g.out, "trail", rel), gz(body))
				h := sha256.Sum256(body)
				prevSignature := "null"
				if prevSig != "" {
					prevSignature = prevSig
				}
				sig := key.Sign(end.Format(ctTime) + "\n" + bucket + "/" + rel + "\n" + hex.EncodeToString(h[:]) + "\n" + prevSignature)
				signatures = append(signatures, kv{rel, sig})
				prevObj, prevHash, prevSig = rel, hex.EncodeToString(h[:]), sig
			}
		}
	}
	sort.Slice(signatures, func(i, j int) bool { return signatures[i].k < signatures[j].k })
	manifest := obj{
		{"about", "x-amz-meta-signature of every digest under trail/, which a local copy cannot keep; signed with the TEST key internal/testkeys/cloudtrail-2026a.pem"},
		{"bucket", bucket},
		{"signatureAlgorithm", "SHA256withRSA"},
		{"publicKeyFingerprint", key.Fingerprint()},
		{"signatures", signatures},
	}
	write(filepath.Join(g.out, signaturesFile), indent(manifest, "  "))
}

func ifSet(cond bool, v any) any {
	if !cond {
		return nil
	}
	return v
}

// writeInsight writes one CloudTrail Insights file (a Start/End pair): not management events.
func (g *gen) writeInsight() {
	shared := uuid4("insight-shared")
	attr := func(name, value string, ins, base float64) obj {
		return obj{{"attribute", name},
			{"insight", []any{obj{{"value", value}, {"average", ins}}}},
			{"baseline", []any{obj{{"value", value}, {"average", base}}}}}
	}
	stats := func(state string) obj {
		s := obj{
			{"baseline", obj{{"average", 0.0833}}},
			{"insight", obj{{"average", 3.0}}},
		}
		if state == "End" {
			s = append(s, kv{"insightDuration", 12}, kv{"baselineDuration", 10079})
		}
		return s
	}
	rec := func(state, at string) obj {
		return obj{
			{"eventVersion", "1.08"},
			{"eventTime", at},
			{"awsRegion", useast1},
			{"eventID", uuid4("insight", state)},
			{"eventType", "AwsCloudTrailInsight"},
			{"recipientAccountId", prodAcct},
			{"sharedEventID", shared},
			{"insightDetails", obj{
				{"state", state},
				{"eventSource", "sts.amazonaws.com"},
				{"eventName", "AssumeRole"},
				{"insightType", "ApiCallRateInsight"},
				{"insightContext", obj{
					{"statistics", stats(state)},
					{"attributions", []any{
						attr("userIdentityArn", "arn:aws:iam::111111111111:user/bob", 2.0, 0.05),
						attr("userAgent", agents["sentinel"], 3.0, 0.08),
						attr("errorCode", "null", 3.0, 0.0833),
					}},
				}},
			}},
			{"eventCategory", "Insight"},
		}
	}
	body := compact(obj{{"Records", []any{rec("Start", "2026-11-04T10:00:00Z"), rec("End", "2026-11-04T10:12:00Z")}}})
	name := fmt.Sprintf("%s_CloudTrail-Insight_%s_20261104T1215Z_%s.json.gz", prodAcct, useast1, alnumMixed(16, "insight-file"))
	write(filepath.Join(g.out, "trail", "AWSLogs", org, prodAcct, "CloudTrail-Insight", useast1, "2026/11/04", name), gz(body))
}
