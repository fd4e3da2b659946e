package trailgen

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/sentinel-audit/sentinel/internal/testkeys"
)

// The organization trail whose digests Generate writes.
const (
	Bucket    = "synthetic-org-cloudtrail"
	TrailName = "org-trail"
)

// SignaturesPath is where Generate writes the digests' signatures, relative to its directory and
// outside AWSLogs/: a JSON object {"bucket", "signatureAlgorithm", "publicKeyFingerprint",
// "signatures": {digest key: hex signature}}, the x-amz-meta-signature a local copy cannot keep.
const SignaturesPath = "digest-signatures.json"

// DigestKeyPattern matches the key of every digest Generate writes, relative to its directory.
var DigestKeyPattern = regexp.MustCompile(`^AWSLogs/` + Org + `/(\d{12})/CloudTrail-Digest/([a-z]{2}(?:-[a-z]+)+-\d)/(\d{4})/(\d{2})/(\d{2})/(\d{12})_CloudTrail-Digest_([a-z]{2}(?:-[a-z]+)+-\d)_` + TrailName + `_([a-z]{2}(?:-[a-z]+)+-\d)_(\d{8})T(\d{6})Z\.json\.gz$`)

// written is what Generate learnt of a trail file while writing it, for the digests.
type written struct {
	uncompressed, compressed, records int64
	key                               string
	delivered                         time.Time
	oldest, newest                    int64 // event times, Unix seconds
	hash                              [sha256.Size]byte
}

// digest and logFile are a digest file's JSON, in CloudTrail's member order.
type digest struct {
	AWSAccountID                string    `json:"awsAccountId"`
	DigestStartTime             string    `json:"digestStartTime"`
	DigestEndTime               string    `json:"digestEndTime"`
	DigestS3Bucket              string    `json:"digestS3Bucket"`
	DigestS3Object              string    `json:"digestS3Object"`
	DigestPublicKeyFingerprint  string    `json:"digestPublicKeyFingerprint"`
	DigestSignatureAlgorithm    string    `json:"digestSignatureAlgorithm"`
	NewestEventTime             *string   `json:"newestEventTime"`
	OldestEventTime             *string   `json:"oldestEventTime"`
	PreviousDigestS3Bucket      *string   `json:"previousDigestS3Bucket"`
	PreviousDigestS3Object      *string   `json:"previousDigestS3Object"`
	PreviousDigestHashValue     *string   `json:"previousDigestHashValue"`
	PreviousDigestHashAlgorithm *string   `json:"previousDigestHashAlgorithm"`
	PreviousDigestSignature     *string   `json:"previousDigestSignature"`
	LogFiles                    []logFile `json:"logFiles"`
}

type logFile struct {
	S3Bucket        string `json:"s3Bucket"`
	S3Object        string `json:"s3Object"`
	HashValue       string `json:"hashValue"`
	HashAlgorithm   string `json:"hashAlgorithm"`
	NewestEventTime string `json:"newestEventTime"`
	OldestEventTime string `json:"oldestEventTime"`
}

const digestTime = "2006-01-02T15:04:05Z"

// writeDigests writes, per account and region, an hourly digest chain from the hour of the
// plan's start to the hour after the last delivery (hours without log files included), each
// digest listing the files delivered in its hour with the SHA-256 of their inflated bytes, and
// signed with the test key testkeys.Primary. It returns the signatures by digest key.
func (p *plan) writeDigests(dir string, files []written) (map[string]string, error) {
	first := p.cfg.Start.Truncate(time.Hour)
	last := first
	streams := map[[2]int][]written{}
	for i, w := range files {
		fp := p.files[i]
		streams[[2]int{fp.account, fp.region}] = append(streams[[2]int{fp.account, fp.region}], w)
		if w.delivered.After(last) {
			last = w.delivered
		}
	}
	last = last.Truncate(time.Hour).Add(time.Hour)
	home := p.cfg.Regions[p.issueRegion]
	var mu sync.Mutex
	signatures := map[string]string{}
	var wg sync.WaitGroup
	errs := make([]error, len(p.accounts)*len(p.cfg.Regions))
	for a := range p.accounts {
		for r := range p.cfg.Regions {
			wg.Go(func() {
				sigs, err := p.digestChain(dir, a, r, home, first, last, streams[[2]int{a, r}])
				errs[a*len(p.cfg.Regions)+r] = err
				mu.Lock()
				defer mu.Unlock()
				for k, v := range sigs {
					signatures[k] = v
				}
			})
		}
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return signatures, nil
}

// digestChain writes the digests of one account and region over [first, last).
func (p *plan) digestChain(dir string, a, r int, home string, first, last time.Time, files []written) (map[string]string, error) {
	account, region := p.accounts[a].id, p.cfg.Regions[r]
	slices.SortFunc(files, func(x, y written) int { return cmp.Or(x.delivered.Compare(y.delivered), cmp.Compare(x.key, y.key)) })
	key := testkeys.Primary
	signatures := map[string]string{}
	var prev *digest
	var prevHash, prevSig string
	zw, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
	for start := first; start.Before(last); start = start.Add(time.Hour) {
		end := start.Add(time.Hour)
		d := &digest{
			AWSAccountID: account, DigestStartTime: start.Format(digestTime), DigestEndTime: end.Format(digestTime), DigestS3Bucket: Bucket,
			DigestS3Object: fmt.Sprintf("AWSLogs/%s/%s/CloudTrail-Digest/%s/%s/%s_CloudTrail-Digest_%s_%s_%s_%s.json.gz",
				Org, account, region, end.Format("2006/01/02"), account, region, TrailName, home, end.Format("20060102T150405Z")),
			DigestPublicKeyFingerprint: key.Fingerprint(), DigestSignatureAlgorithm: "SHA256withRSA", LogFiles: []logFile{},
		}
		var oldest, newest int64
		for len(files) > 0 && files[0].delivered.Before(end) {
			f := files[0]
			files = files[1:]
			d.LogFiles = append(d.LogFiles, logFile{S3Bucket: Bucket, S3Object: f.key, HashValue: hex.EncodeToString(f.hash[:]), HashAlgorithm: "SHA-256",
				NewestEventTime: time.Unix(f.newest, 0).UTC().Format(digestTime), OldestEventTime: time.Unix(f.oldest, 0).UTC().Format(digestTime)})
			if oldest == 0 || f.oldest < oldest {
				oldest = f.oldest
			}
			newest = max(newest, f.newest)
		}
		if len(d.LogFiles) > 0 {
			o, n := time.Unix(oldest, 0).UTC().Format(digestTime), time.Unix(newest, 0).UTC().Format(digestTime)
			d.OldestEventTime, d.NewestEventTime = &o, &n
		}
		prevSignature := "null"
		if prev != nil {
			algorithm := "SHA-256"
			d.PreviousDigestS3Bucket, d.PreviousDigestS3Object = &prev.DigestS3Bucket, &prev.DigestS3Object
			d.PreviousDigestHashValue, d.PreviousDigestHashAlgorithm, d.PreviousDigestSignature = &prevHash, &algorithm, &prevSig
			prevSignature = prevSig
		}
		body, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		h := sha256.Sum256(body)
		sig := key.Sign(d.DigestEndTime + "\n" + Bucket + "/" + d.DigestS3Object + "\n" + hex.EncodeToString(h[:]) + "\n" + prevSignature)
		var gz bytes.Buffer
		zw.Reset(&gz)
		zw.ModTime = time.Unix(0, 0)
		if _, err := zw.Write(body); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		if err := writeFile(filepath.Join(dir, filepath.FromSlash(d.DigestS3Object)), gz.Bytes()); err != nil {
			return nil, fmt.Errorf("digest %s: %w", d.DigestS3Object, err)
		}
		signatures[d.DigestS3Object] = sig
		prev, prevHash, prevSig = d, hex.EncodeToString(h[:]), sig
	}
	if len(files) > 0 {
		return nil, fmt.Errorf("trailgen: %d trail files of %s %s delivered after the last digest", len(files), account, region)
	}
	return signatures, nil
}

// writeSignatures writes the signature manifest.
func writeSignatures(dir string, signatures map[string]string) error {
	data, err := json.MarshalIndent(struct {
		Bucket             string            `json:"bucket"`
		SignatureAlgorithm string            `json:"signatureAlgorithm"`
		Fingerprint        string            `json:"publicKeyFingerprint"`
		Signatures         map[string]string `json:"signatures"`
	}{Bucket, "SHA256withRSA", testkeys.Primary.Fingerprint(), signatures}, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, SignaturesPath), append(data, '\n'))
}
