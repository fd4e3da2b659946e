package integrity_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/integrity"
	"github.com/sentinel-audit/sentinel/internal/testkeys"
)

// The trail the chain tests build: one account, region and trail, hourly digests from t0.
const (
	bucket  = "acme-org-cloudtrail"
	account = "222222222222"
	region  = "us-east-1"
	trail   = "org-trail"
	org     = "o-a1b2c3d4e5"
)

var t0 = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

func hour(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

// trailSpec says what to build.
type trailSpec struct {
	hours  int   // digests for hours 0..hours-1 (digest h covers [hour(h), hour(h+1)))
	logsIn []int // hours with one log file each (delivered 10 minutes into the hour)
	off    []int // hours with no digest: logging was off; the next digest starts a chain
	// signer picks the key of digest h; Primary when nil.
	signer func(h int) testkeys.Key
}

// built is a trail as it would sit in S3: digest files with their signature metadata, and log
// files. Tests change it, then check it.
type built struct {
	digests   []*storedDigest
	backfills []*storedDigest
	logs      map[integrity.Object][]byte // inflated bytes
}

type storedDigest struct {
	hour      int
	obj       integrity.Object
	body      []byte // inflated JSON
	signature string // x-amz-meta-signature
	algorithm string
}

// wireDigest is a digest as CloudTrail writes it; written here with encoding/json, apart from
// the parser under test.
type wireDigest struct {
	AWSAccountID                string        `json:"awsAccountId"`
	DigestStartTime             string        `json:"digestStartTime"`
	DigestEndTime               string        `json:"digestEndTime"`
	DigestS3Bucket              string        `json:"digestS3Bucket"`
	DigestS3Object              string        `json:"digestS3Object"`
	DigestPublicKeyFingerprint  string        `json:"digestPublicKeyFingerprint"`
	DigestSignatureAlgorithm    string        `json:"digestSignatureAlgorithm"`
	NewestEventTime             *string       `json:"newestEventTime"`
	OldestEventTime             *string       `json:"oldestEventTime"`
	PreviousDigestS3Bucket      *string       `json:"previousDigestS3Bucket"`
	PreviousDigestS3Object      *string       `json:"previousDigestS3Object"`
	PreviousDigestHashValue     *string       `json:"previousDigestHashValue"`
	PreviousDigestHashAlgorithm *string       `json:"previousDigestHashAlgorithm"`
	PreviousDigestSignature     *string       `json:"previousDigestSignature"`
	LogFiles                    []wireLogFile `json:"logFiles"`
}

type wireLogFile struct {
	S3Bucket        string `json:"s3Bucket"`
	S3Object        string `json:"s3Object"`
	HashValue       string `json:"hashValue"`
	HashAlgorithm   string `json:"hashAlgorithm"`
	NewestEventTime string `json:"newestEventTime"`
	OldestEventTime string `json:"oldestEventTime"`
}

func digestKey(end time.Time) string {
	return fmt.Sprintf("AWSLogs/%s/%s/CloudTrail-Digest/%s/%s/%s_CloudTrail-Digest_%s_%s_%s_%s.json.gz",
		org, account, region, end.Format("2006/01/02"), account, region, trail, region, end.Format("20060102T150405Z"))
}

func logKey(delivered time.Time, unique string) string {
	return fmt.Sprintf("AWSLogs/%s/%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%s_%s.json.gz",
		org, account, region, delivered.Format("2006/01/02"), account, region, delivered.Format("20060102T1504Z"), unique)
}

// logFile is the log file of hour h: its object and inflated bytes.
func logFile(h int) (integrity.Object, []byte) {
	at := hour(h).Add(10 * time.Minute)
	body := fmt.Appendf(nil, `{"Records":[{"eventVersion":"1.08","eventTime":"%s","eventID":"event-%d"}]}`, at.Add(-5*time.Minute).Format(integrity.TimeLayout), h)
	return integrity.Object{Bucket: bucket, Key: logKey(at, fmt.Sprintf("LogFile%08dX", h))}, body
}

func ptr(s string) *string { return &s }

func build(spec trailSpec) *built {
	b := &built{logs: map[integrity.Object][]byte{}}
	logs := map[int]bool{}
	for _, h := range spec.logsIn {
		logs[h] = true
		o, body := logFile(h)
		b.logs[o] = body
	}
	off := map[int]bool{}
	for _, h := range spec.off {
		off[h] = true
	}
	var prev *storedDigest
	for h := range spec.hours {
		if off[h] {
			prev = nil
			continue
		}
		key := testkeys.Primary
		if spec.signer != nil {
			key = spec.signer(h)
		}
		w := newWireDigest(h, digestKey(hour(h+1)), key)
		if logs[h] {
			w.listLogFile(h)
			w.NewestEventTime, w.OldestEventTime = ptr(w.LogFiles[0].NewestEventTime), ptr(w.LogFiles[0].OldestEventTime)
		}
		d := w.seal(h, key, prev)
		b.digests = append(b.digests, d)
		prev = d
	}
	return b
}

// newWireDigest is the digest of hour h delivered at objectKey, signed with key, listing nothing.
func newWireDigest(h int, objectKey string, key testkeys.Key) *wireDigest {
	return &wireDigest{
		AWSAccountID: account, DigestStartTime: hour(h).Format(integrity.TimeLayout), DigestEndTime: hour(h + 1).Format(integrity.TimeLayout),
		DigestS3Bucket: bucket, DigestS3Object: objectKey, DigestPublicKeyFingerprint: key.Fingerprint(),
		DigestSignatureAlgorithm: integrity.SignatureAlgorithm, LogFiles: []wireLogFile{},
	}
}

// listLogFile lists the log file of hour l, with its hash.
func (w *wireDigest) listLogFile(l int) {
	o, body := logFile(l)
	ev := hour(l).Add(5 * time.Minute).Format(integrity.TimeLayout)
	w.LogFiles = append(w.LogFiles, wireLogFile{S3Bucket: o.Bucket, S3Object: o.Key, HashValue: integrity.HashOf(body).String(), HashAlgorithm: "SHA-256", NewestEventTime: ev, OldestEventTime: ev})
}

// seal links the digest of hour h to prev (nil: it starts its chain) and signs it with key.
func (w *wireDigest) seal(h int, key testkeys.Key, prev *storedDigest) *storedDigest {
	if prev != nil {
		w.PreviousDigestS3Bucket, w.PreviousDigestS3Object = ptr(prev.obj.Bucket), ptr(prev.obj.Key)
		w.PreviousDigestHashValue = ptr(integrity.HashOf(prev.body).String())
		w.PreviousDigestHashAlgorithm, w.PreviousDigestSignature = ptr("SHA-256"), ptr(prev.signature)
	}
	body, err := json.Marshal(w)
	if err != nil {
		panic(err)
	}
	d := &storedDigest{hour: h, obj: integrity.Object{Bucket: bucket, Key: w.DigestS3Object}, body: body, algorithm: integrity.SignatureAlgorithm}
	d.signature = sign(key, d, prev)
	return d
}

func backfillKey(end time.Time) string {
	return strings.Replace(digestKey(end), ".json.gz", "_backfill.json.gz", 1)
}

// addBackfill adds the backfill digest of hour h, listing the log files of hours logs (delivered
// late: their hour's digest missed them) and linked to prev (nil: it starts the backfill chain).
func (b *built) addBackfill(h int, logs []int, prev *storedDigest) *storedDigest {
	w := newWireDigest(h, backfillKey(hour(h+1)), testkeys.Primary)
	for _, l := range logs {
		o, body := logFile(l)
		b.logs[o] = body
		w.listLogFile(l)
	}
	d := w.seal(h, testkeys.Primary, prev)
	b.backfills = append(b.backfills, d)
	return d
}

// sign makes the signature CloudTrail would give d (whose predecessor is prev), written apart
// from integrity.SigningString.
func sign(key testkeys.Key, d, prev *storedDigest) string {
	prevSig := "null"
	if prev != nil {
		prevSig = prev.signature
	}
	var w wireDigest
	if err := json.Unmarshal(d.body, &w); err != nil {
		panic(err)
	}
	return key.Sign(w.DigestEndTime + "\n" + w.DigestS3Bucket + "/" + w.DigestS3Object + "\n" + integrity.HashOf(d.body).String() + "\n" + prevSig)
}

func (b *built) digest(h int) *storedDigest {
	for _, d := range b.digests {
		if d.hour == h {
			return d
		}
	}
	panic(fmt.Sprintf("no digest for hour %d", h))
}

func (b *built) removeDigest(h int) {
	for i, d := range b.digests {
		if d.hour == h {
			b.digests = append(b.digests[:i], b.digests[i+1:]...)
			return
		}
	}
	panic(fmt.Sprintf("no digest for hour %d", h))
}

// keys is the ListPublicKeys answer: Primary and Rotated.
func keys() []integrity.PublicKey {
	var out []integrity.PublicKey
	for _, k := range []testkeys.Key{testkeys.Primary, testkeys.Rotated} {
		out = append(out, integrity.PublicKey{Fingerprint: k.Fingerprint(), Value: k.PublicDER(), ValidityStart: k.ValidityStart, ValidityEnd: k.ValidityEnd})
	}
	return out
}

// chain is what a caller reading the trail from S3 (signatures at hand) passes to Check.
func (b *built) chain(window integrity.Span) integrity.Chain {
	c := integrity.Chain{Window: window, LogFiles: map[integrity.Object]integrity.Hash{}, Keys: keys()}
	for _, d := range b.digests {
		c.Digests = append(c.Digests, integrity.ReadDigestFile(d.obj, d.body, d.signature, d.algorithm))
	}
	for _, d := range b.backfills {
		c.Backfill = append(c.Backfill, integrity.ReadDigestFile(d.obj, d.body, d.signature, d.algorithm))
	}
	for o, body := range b.logs {
		c.LogFiles[o] = integrity.HashOf(body)
	}
	return c
}
