package trailgen_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sentinel-audit/sentinel/integrity"
	"github.com/sentinel-audit/sentinel/internal/testkeys"
	"github.com/sentinel-audit/sentinel/internal/trailgen"
)

// TestDigestsVouchForEveryTrailFile checks the generated digests as the audit will: per account
// and region, one signed chain over the whole span that lists every trail file with its hash.
func TestDigestsVouchForEveryTrailFile(t *testing.T) {
	dir, st := generate(t, small)
	var manifest struct {
		Bucket             string            `json:"bucket"`
		SignatureAlgorithm string            `json:"signatureAlgorithm"`
		Fingerprint        string            `json:"publicKeyFingerprint"`
		Signatures         map[string]string `json:"signatures"`
	}
	data, err := os.ReadFile(filepath.Join(dir, trailgen.SignaturesPath))
	if err == nil {
		err = json.Unmarshal(data, &manifest)
	}
	if err != nil {
		t.Fatalf("%s: %v", trailgen.SignaturesPath, err)
	}
	if manifest.Bucket != trailgen.Bucket || manifest.Fingerprint != testkeys.Primary.Fingerprint() || len(manifest.Signatures) != st.Digests {
		t.Fatalf("manifest: bucket %s, key %s, %d signatures; %d digests", manifest.Bucket, manifest.Fingerprint, len(manifest.Signatures), st.Digests)
	}
	chains := map[integrity.Stream][]integrity.DigestFile{}
	logs := map[integrity.Stream]map[integrity.Object]integrity.Hash{}
	for name, data := range files(t, dir) {
		if !strings.HasPrefix(name, "AWSLogs/") {
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		inflated, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		o := integrity.Object{Bucket: trailgen.Bucket, Key: name}
		if k, err := integrity.ParseDigestKey(name); err == nil {
			if !trailgen.DigestKeyPattern.MatchString(name) {
				t.Errorf("%s does not match DigestKeyPattern", name)
			}
			chains[k.Stream()] = append(chains[k.Stream()], integrity.ReadDigestFile(o, inflated, manifest.Signatures[name], manifest.SignatureAlgorithm))
			continue
		}
		k, err := integrity.ParseLogFileKey(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s := integrity.Stream{OrgID: trailgen.Org, Account: k.Account, Region: k.Region, Trail: trailgen.TrailName, HomeRegion: "us-east-1"}
		if logs[s] == nil {
			logs[s] = map[integrity.Object]integrity.Hash{}
		}
		logs[s][o] = integrity.HashOf(inflated)
	}
	if want := len(trailgen.DefaultAccounts) * len(trailgen.DefaultRegions); len(chains) != want {
		t.Fatalf("%d digest chains, want one per account and region (%d)", len(chains), want)
	}
	hours := st.Digests / len(chains)
	if hours < 24*small.Days || hours*len(chains) != st.Digests {
		t.Errorf("%d digests in %d chains: not one per hour of the %d days", st.Digests, len(chains), small.Days)
	}
	window := integrity.Span{From: trailgen.DefaultStart, To: trailgen.DefaultStart.AddDate(0, 0, small.Days)}
	k := testkeys.Primary
	keys := []integrity.PublicKey{{Fingerprint: k.Fingerprint(), Value: k.PublicDER(), ValidityStart: k.ValidityStart, ValidityEnd: k.ValidityEnd}}
	listed := 0
	for s, digests := range chains {
		res := integrity.Check(integrity.Chain{Window: window, Digests: digests, LogFiles: logs[s], Keys: keys})
		for _, f := range res.Findings {
			t.Errorf("%s %s: %s %s: %s", s.Account, s.Region, f.Kind, f.Reason, f.Detail)
		}
		if res.ValidDigests != hours || len(res.Covered) != 1 || res.Covered[0] != window || res.ValidLogFiles != len(logs[s]) {
			t.Errorf("%s %s: %d valid digests, %d of %d log files, covered %v", s.Account, s.Region, res.ValidDigests, res.ValidLogFiles, len(logs[s]), res.Covered)
		}
		listed += res.ValidLogFiles
	}
	if listed != st.Files {
		t.Errorf("digests list %d log files, Stats.Files = %d", listed, st.Files)
	}
}

func TestNoDigestsWritesNone(t *testing.T) {
	cfg := small
	cfg.NoDigests = true
	dir, st := generate(t, cfg)
	if st.Digests != 0 {
		t.Errorf("Stats.Digests = %d", st.Digests)
	}
	for name := range files(t, dir) {
		if trailgen.DigestKeyPattern.MatchString(name) || name == trailgen.SignaturesPath {
			t.Fatalf("%s written with NoDigests", name)
		}
	}
}
