package integrity_test

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/integrity"
	"github.com/sentinel-audit/sentinel/internal/testkeys"
)

// fixtureTrail reads testdata/fixtures/trail as a caller of Check would: digests inflated and
// parsed, with their signatures from the manifest (S3 metadata a local copy lacks), log files
// hashed as they stream past. Chains are grouped by stream.
func fixtureTrail(t *testing.T) (map[integrity.Stream][]integrity.DigestFile, map[integrity.Object]integrity.Hash) {
	t.Helper()
	root := filepath.Join("..", "testdata", "fixtures")
	var manifest struct {
		Bucket             string            `json:"bucket"`
		SignatureAlgorithm string            `json:"signatureAlgorithm"`
		Signatures         map[string]string `json:"signatures"`
	}
	data, err := os.ReadFile(filepath.Join(root, "digest-signatures.json"))
	if err == nil {
		err = json.Unmarshal(data, &manifest)
	}
	if err != nil {
		t.Fatalf("digest-signatures.json: %v", err)
	}
	chains := map[integrity.Stream][]integrity.DigestFile{}
	logs := map[integrity.Object]integrity.Hash{}
	trail := filepath.Join(root, "trail")
	err = filepath.WalkDir(trail, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(trail, path)
		o := integrity.Object{Bucket: manifest.Bucket, Key: filepath.ToSlash(rel)}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return err
		}
		if k, err := integrity.ParseDigestKey(o.Key); err == nil {
			inflated, err := io.ReadAll(zr)
			if err != nil {
				return err
			}
			chains[k.Stream()] = append(chains[k.Stream()], integrity.ReadDigestFile(o, inflated, manifest.Signatures[o.Key], manifest.SignatureAlgorithm))
			return nil
		}
		if _, err := integrity.ParseLogFileKey(o.Key); err == nil {
			h := sha256.New()
			if _, err := io.Copy(h, zr); err != nil {
				return err
			}
			logs[o] = integrity.Hash(h.Sum(nil))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return chains, logs
}

// TestFixtureTrailIsWhole checks the fixtures' digest chains as the audit will: every digest
// valid and signed, every log file listed once with its hash, the window covered end to end.
func TestFixtureTrailIsWhole(t *testing.T) {
	chains, logs := fixtureTrail(t)
	window := integrity.Span{From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC)}
	k := testkeys.Primary
	keys := []integrity.PublicKey{{Fingerprint: k.Fingerprint(), Value: k.PublicDER(), ValidityStart: k.ValidityStart, ValidityEnd: k.ValidityEnd}}
	if len(chains) != 8 {
		t.Fatalf("%d digest chains, want 8 (4 accounts, 2 regions)", len(chains))
	}
	validLogs := 0
	for stream, digests := range chains {
		t.Run(stream.Account+"_"+stream.Region, func(t *testing.T) {
			streamLogs := map[integrity.Object]integrity.Hash{}
			for o, h := range logs {
				if lk, _ := integrity.ParseLogFileKey(o.Key); lk.Account == stream.Account && lk.Region == stream.Region {
					streamLogs[o] = h
				}
			}
			res := integrity.Check(integrity.Chain{Window: window, Digests: digests, LogFiles: streamLogs, Keys: keys})
			for _, f := range res.Findings {
				t.Errorf("%s %s: %s", f.Kind, f.Reason, f.Detail)
			}
			if res.ValidDigests != 168 || len(res.Covered) != 1 || res.Covered[0] != window || res.ValidLogFiles != len(streamLogs) {
				t.Errorf("%d valid digests, %d of %d log files, covered %v", res.ValidDigests, res.ValidLogFiles, len(streamLogs), res.Covered)
			}
			validLogs += res.ValidLogFiles
			// A local copy: the same chain without signatures proves the hashes and links.
			for i := range digests {
				digests[i].Signature, digests[i].SignatureAlgorithm, digests[i].Local = "", "", true
			}
			res = integrity.Check(integrity.Chain{Window: window, Digests: digests, LogFiles: streamLogs})
			for _, f := range res.Findings {
				if f.Kind != integrity.SignatureNotChecked || !strings.Contains(f.Detail, "no signature metadata") {
					t.Errorf("local copy: %s %s: %s", f.Kind, f.Reason, f.Detail)
				}
			}
			if len(res.Findings) != 168 || res.ValidDigests != 168 {
				t.Errorf("local copy: %d findings, %d valid digests", len(res.Findings), res.ValidDigests)
			}
		})
	}
	if validLogs != 17 {
		t.Errorf("%d log files valid, the fixtures hold 17", validLogs)
	}
}
