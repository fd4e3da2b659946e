package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/internal/testenv"

	"github.com/sentinel-audit/sentinel/integrity"
	"github.com/sentinel-audit/sentinel/internal/emulator/cloudtrail"
	"github.com/sentinel-audit/sentinel/internal/testkeys"
)

// The attack tests: whoever can delete or rewrite files in the trail bucket tries to hide P6, the
// untracked prod AssumeRole of 2026-11-05T07:45:10Z (the only prod issuance from midnight to noon
// that day). Without log file validation each attack turns GAPS FOUND into COMPLIANT; with it,
// `audit integrity` names what was done and session-compliance is INCONCLUSIVE. Each runs on S3
// (signatures checked with the CloudTrail emulator's key) and on a local copy (no signatures:
// hashes and the chain).
const (
	p6ID       = "0541f627-e40e-4f0d-9d58-8cecda53acc5"
	p6LogFile  = "AWSLogs/o-a1b2c3d4e5/222222222222/CloudTrail/us-east-1/2026/11/05/222222222222_CloudTrail_us-east-1_20261105T0759Z_IsTFcfaKDFssjJwZ.json.gz"
	p6Digest   = "AWSLogs/o-a1b2c3d4e5/222222222222/CloudTrail-Digest/us-east-1/2026/11/05/222222222222_CloudTrail-Digest_us-east-1_org-trail_us-east-1_20261105T080000Z.json.gz"
	p6Window   = "2026-11-05T00:00:00Z"
	p6WindowTo = "2026-11-05T12:00:00Z"
)

// attackedTrail is a copy of the fixture trail an attack changes, with the digests' signatures.
type attackedTrail struct {
	dir        string
	signatures map[string]string
}

func newAttackedTrail(t *testing.T) *attackedTrail {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "trail")
	copyTree(t, filepath.Join(repoRoot(t), fixtures, "trail"), dir)
	return &attackedTrail{dir: dir, signatures: fixtureSignatures(t)}
}

func (a *attackedTrail) path(key string) string { return filepath.Join(a.dir, filepath.FromSlash(key)) }

func (a *attackedTrail) remove(t *testing.T, key string) {
	t.Helper()
	if err := os.Remove(a.path(key)); err != nil {
		t.Fatal(err)
	}
}

// rewrite replaces the JSON document of a gzip'd file with what change makes of it.
func (a *attackedTrail) rewrite(t *testing.T, key string, change func(doc map[string]any)) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(testenv.ReadGzip(t, a.path(key)), &doc); err != nil {
		t.Fatal(err)
	}
	change(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(out)
	zw.Close()
	if err := os.WriteFile(a.path(key), buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// withoutP6 drops P6's record from a log file's Records.
func withoutP6(doc map[string]any) {
	var kept []any
	for _, r := range doc["Records"].([]any) {
		if r.(map[string]any)["eventID"] != p6ID {
			kept = append(kept, r)
		}
	}
	doc["Records"] = kept
}

// unlistingP6 drops P6's log file from a digest's logFiles.
func unlistingP6(doc map[string]any) {
	var kept []any
	for _, lf := range doc["logFiles"].([]any) {
		if lf.(map[string]any)["s3Object"] != p6LogFile {
			kept = append(kept, lf)
		}
	}
	doc["logFiles"] = kept
}

// resign signs the digest at key with key k, as an attacker with a key of their own would.
func (a *attackedTrail) resign(t *testing.T, key string, k testkeys.Key) {
	t.Helper()
	data, err := os.ReadFile(a.path(key))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	inflated, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	d, err := integrity.ParseDigest(inflated)
	if err != nil {
		t.Fatal(err)
	}
	a.signatures[key] = k.Sign(d.SigningString(integrity.HashOf(inflated)))
}

// keysEndpoint serves CloudTrail's public key (the test key the fixtures are signed with).
func keysEndpoint(t *testing.T) string {
	t.Helper()
	ct := cloudtrail.New(cloudtrail.Options{RequestsPerSecond: -1, PublicKeys: []cloudtrail.PublicKey{
		{Value: testkeys.Primary.PublicDER(), ValidityStart: testkeys.Primary.ValidityStart, ValidityEnd: testkeys.Primary.ValidityEnd}}})
	endpoint, stop, err := ct.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return endpoint
}

// ingestAttacked ingests the attacked trail and the fixture snapshots into a new warehouse, from
// S3 (through the stand-ins, the way users point the SDK at LocalStack) or from the local copy.
func ingestAttacked(t *testing.T, a *attackedTrail, fromS3 bool) string {
	t.Helper()
	wh := filepath.Join(t.TempDir(), "wh")
	if !fromS3 {
		sentinel(t, nil, "--warehouse", wh, "ingest", "--source", a.dir, "--sessions-file", fixtures+"/sessions").mustExit(t, 0)
		return wh
	}
	_, s3Endpoint := s3WithTrailFrom(t, a.dir, a.signatures)
	env := awsEnv("AWS_ENDPOINT_URL_S3="+s3Endpoint, "AWS_ENDPOINT_URL_CLOUDTRAIL="+keysEndpoint(t))
	r := sentinel(t, env, "--warehouse", wh, "ingest", "--source", "s3://"+bucket, "--sessions-file", fixtures+"/sessions").mustExit(t, 0)
	if strings.Contains(r.stderr, "warning") {
		t.Fatalf("ingest from S3 warned: %s", r.stderr)
	}
	return wh
}

// checksOutAndShowsP6: audit integrity with args says CLEAN, with the digests and log files
// valid (as "valid/all") and the signatures checked (S3) or not (a local copy), and
// session-compliance over P6's window shows its gap. It returns session-compliance's run.
func checksOutAndShowsP6(t *testing.T, wh string, fromS3 bool, args []string, digests, logFiles string) result {
	t.Helper()
	r := sentinel(t, nil, append([]string{"--warehouse", wh, "audit", "integrity"}, args...)...).mustExit(t, 0)
	status := "signatures not checked"
	if fromS3 {
		status = "validated"
	}
	for _, want := range []string{"222222222222  us-east-1  " + status, digests, logFiles, "Result: CLEAN"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("integrity lacks %q:\n%s", want, r.stdout)
		}
	}
	c := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "session-compliance",
		"--since", p6Window, "--until", p6WindowTo, "--profile", "prod").mustExit(t, 1)
	if !strings.Contains(c.stdout, "Result: GAPS FOUND — prod") {
		t.Fatalf("P6's gap does not show:\n%s", c.stdout)
	}
	return c
}

// namedAndNeverCompliant: audit integrity with args finds (exit 1) and names each of want, and
// session-compliance of prod over since..until is INCONCLUSIVE (exit 3), whose verdict it returns.
func namedAndNeverCompliant(t *testing.T, wh string, args, want []string, since, until string) verdictJSON {
	t.Helper()
	r := sentinel(t, nil, append([]string{"--warehouse", wh, "audit", "integrity"}, args...)...).mustExit(t, 1)
	for _, w := range append(want, "Result: FOUND") {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("integrity does not name %q:\n%s", w, r.stdout)
		}
	}
	c := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "session-compliance",
		"--since", since, "--until", until, "--profile", "prod", "--format", "json").mustExit(t, 3)
	var rep complianceJSON
	if err := json.Unmarshal([]byte(c.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Verdict.Result != "INCONCLUSIVE" {
		t.Fatalf("verdict %+v", rep.Verdict)
	}
	return rep.Verdict
}

func TestIntactTrailValidatesClean(t *testing.T) {
	for _, fromS3 := range []bool{true, false} {
		t.Run(map[bool]string{true: "s3", false: "local_copy"}[fromS3], func(t *testing.T) {
			wh := ingestAttacked(t, newAttackedTrail(t), fromS3)
			c := checksOutAndShowsP6(t, wh, fromS3, []string{"--since", since, "--until", until}, "168/168", "8/8")
			if fromS3 && !strings.Contains(c.stdout, "Integrity: log files validated 1 of 1, digests 24 of 24; signatures checked") {
				t.Errorf("evidence:\n%s", c.stdout)
			}
			// A local copy keeps no signatures: required, that is a reason.
			req := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "session-compliance",
				"--since", since, "--until", until, "--profile", "prod-readonly", "--require-signatures")
			if fromS3 {
				req.mustExit(t, 0)
			} else if req.mustExit(t, 3); !strings.Contains(req.stdout, "the signatures of 336 digest files were not checked") {
				t.Errorf("--require-signatures on a local copy:\n%s", req.stdout)
			}
		})
	}
}

func TestTamperedTrailIsNamedAndNeverCompliant(t *testing.T) {
	attacks := []struct {
		name string
		do   func(t *testing.T, a *attackedTrail)
		// what audit integrity names, on S3 and on a local copy
		s3, local []string
	}{
		{
			name: "deleted_log_file",
			do:   func(t *testing.T, a *attackedTrail) { a.remove(t, p6LogFile) },
			s3:   []string{"missing", p6LogFile}, local: []string{"missing", p6LogFile},
		},
		{
			name: "log_file_rewritten_without_the_record",
			do:   func(t *testing.T, a *attackedTrail) { a.rewrite(t, p6LogFile, withoutP6) },
			s3:   []string{"modified", p6LogFile}, local: []string{"modified", p6LogFile},
		},
		{
			name: "log_file_and_its_digest_deleted",
			do: func(t *testing.T, a *attackedTrail) {
				a.remove(t, p6LogFile)
				a.remove(t, p6Digest)
			},
			s3:    []string{"chain broken (absent)", p6Digest, "gap"},
			local: []string{"chain broken (absent)", p6Digest, "gap"},
		},
		{
			name: "digest_rewritten_without_the_entry",
			do: func(t *testing.T, a *attackedTrail) {
				a.remove(t, p6LogFile)
				a.rewrite(t, p6Digest, unlistingP6)
			},
			s3:    []string{"chain broken (bad signature)", p6Digest},
			local: []string{"chain broken (digest modified)", p6Digest},
		},
		{
			name: "digest_signed_with_another_key",
			do: func(t *testing.T, a *attackedTrail) {
				a.remove(t, p6LogFile)
				a.rewrite(t, p6Digest, unlistingP6)
				a.resign(t, p6Digest, testkeys.Foreign)
			},
			s3:    []string{"chain broken (bad signature)", "chain broken (signature replaced)", p6Digest},
			local: []string{"chain broken (digest modified)", p6Digest},
		},
	}
	for _, attack := range attacks {
		for _, fromS3 := range []bool{true, false} {
			t.Run(attack.name+"/"+map[bool]string{true: "s3", false: "local_copy"}[fromS3], func(t *testing.T) {
				a := newAttackedTrail(t)
				attack.do(t, a)
				wh := ingestAttacked(t, a, fromS3)
				want := attack.local
				if fromS3 {
					want = attack.s3
				}
				// P6 is gone from the warehouse, but the verdict cannot be COMPLIANT.
				if v := namedAndNeverCompliant(t, wh, []string{"--since", since, "--until", until}, want, p6Window, p6WindowTo); v.codes() != "integrity_findings" {
					t.Fatalf("verdict %+v", v)
				}
			})
		}
	}
}

// TestTrailWithoutDigestsIsNotVerified: a trail whose log file validation is off delivers no
// digests, for any account. The Evidence says so; --require-integrity makes it a reason, and
// audit integrity counts its accounts and regions as not validated.
func TestTrailWithoutDigestsIsNotVerified(t *testing.T) {
	a := newAttackedTrail(t)
	for _, account := range []string{"033333333333", "111111111111", "222222222222", "444444444444"} {
		if err := os.RemoveAll(filepath.Join(a.dir, "AWSLogs/o-a1b2c3d4e5", account, "CloudTrail-Digest")); err != nil {
			t.Fatal(err)
		}
	}
	wh := ingestAttacked(t, a, false)
	// Without digests, the window's evidence is the log files' events, Nov 2 to Nov 5: audit a
	// day they cover, prod-readonly's R2.
	args := []string{"--warehouse", wh, "--config", fixtures + "/sentinel.yaml", "audit", "session-compliance",
		"--since", "2026-11-04T08:00:00Z", "--until", "2026-11-04T09:00:00Z", "--profile", "prod-readonly"}
	r := sentinel(t, nil, args...).mustExit(t, 0)
	if !strings.Contains(r.stdout, "Integrity: not verified: log file validation is off for this trail (no digest files)") {
		t.Errorf("evidence:\n%s", r.stdout)
	}
	r = sentinel(t, nil, append(args, "--require-integrity")...).mustExit(t, 3)
	if !strings.Contains(r.stdout, "log file integrity is not verified for 222222222222 eu-west-1, 222222222222 us-east-1: its trail delivered log files but no digest files") {
		t.Errorf("--require-integrity:\n%s", r.stdout)
	}
	// Validation off: its integrity cannot be known.
	i := sentinel(t, nil, "--warehouse", wh, "audit", "integrity", "--since", since, "--until", until, "--accounts", "222222222222").mustExit(t, 3)
	for _, want := range []string{"222222222222  us-east-1  not validated", "Result: INCONCLUSIVE",
		"log file validation is off for 222222222222 eu-west-1, 222222222222 us-east-1"} {
		if !strings.Contains(i.stdout, want) {
			t.Errorf("integrity lacks %q:\n%s", want, i.stdout)
		}
	}
}

// TestIntegrityThatCannotBeKnownIsInconclusive: audit integrity says INCONCLUSIVE (exit 3), and
// why, when it cannot know: signatures required of a local copy, a window without files.
func TestIntegrityThatCannotBeKnownIsInconclusive(t *testing.T) {
	wh := ingestAttacked(t, newAttackedTrail(t), false)
	r := sentinel(t, nil, "--warehouse", wh, "audit", "integrity", "--since", since, "--until", until, "--accounts", "222222222222", "--require-signatures").mustExit(t, 3)
	for _, want := range []string{"Result: INCONCLUSIVE", "the signatures of 336 digest files were not checked",
		"222222222222 eu-west-1 (168), 222222222222 us-east-1 (168)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--require-signatures lacks %q:\n%s", want, r.stdout)
		}
	}
	r = sentinel(t, nil, "--warehouse", wh, "audit", "integrity", "--since", "2026-10-01T00:00:00Z", "--until", "2026-10-02T00:00:00Z", "--format", "json").mustExit(t, 3)
	var rep struct {
		Result  string   `json:"result"`
		Reasons []string `json:"reasons"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Result != "INCONCLUSIVE" || len(rep.Reasons) != 1 || !strings.HasPrefix(rep.Reasons[0], "no CloudTrail log or digest files in this window") {
		t.Errorf("empty window: %+v", rep)
	}
}

// TestAppendedGzipMemberIsFlagged: a log file with a second gzip member (CloudTrail writes one)
// carrying a made-up record: its hash no longer matches its digest, and the extra member is named.
func TestAppendedGzipMemberIsFlagged(t *testing.T) {
	a := newAttackedTrail(t)
	data, err := os.ReadFile(a.path(p6LogFile))
	if err != nil {
		t.Fatal(err)
	}
	var member bytes.Buffer
	zw := gzip.NewWriter(&member)
	zw.Write([]byte(`{"Records":[{"eventVersion":"1.08","eventID":"00000000-0000-4000-8000-000000000001","eventTime":"2026-11-05T07:50:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","recipientAccountId":"222222222222"}]}`))
	zw.Close()
	if err := os.WriteFile(a.path(p6LogFile), append(data, member.Bytes()...), 0o600); err != nil {
		t.Fatal(err)
	}
	wh := ingestAttacked(t, a, false)
	r := sentinel(t, nil, "--warehouse", wh, "audit", "integrity", "--since", since, "--until", until, "--format", "json").mustExit(t, 1)
	var rep struct {
		Findings []struct{ Kind, Object string } `json:"findings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, f := range rep.Findings {
		if strings.HasSuffix(f.Object, p6LogFile) {
			kinds[f.Kind] = true
		}
	}
	if !kinds["modified"] || !kinds["extra_gzip_data"] || len(rep.Findings) != 2 {
		t.Fatalf("findings %+v", rep.Findings)
	}
}

// p6Stream is the folder of the digests of P6's account and region.
const p6Stream = "AWSLogs/o-a1b2c3d4e5/222222222222/CloudTrail-Digest/us-east-1"

// digestsFrom are the keys of the digests of p6Stream from first on, oldest first.
func (a *attackedTrail) digestsFrom(t *testing.T, first string) []string {
	t.Helper()
	var keys []string
	err := filepath.WalkDir(a.path(p6Stream), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a.dir, p)
		if key := filepath.ToSlash(rel); key >= first {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// relinked rewrites the digest at first with change, then every later digest of its stream so
// that its link names the rewritten predecessor's hash: what an attacker who cannot sign does to
// keep the chain's hashes whole. Rewritten digests lose their signature metadata.
func (a *attackedTrail) relinked(t *testing.T, first string, change func(doc map[string]any)) {
	t.Helper()
	prevHash := ""
	for _, key := range a.digestsFrom(t, first) {
		a.rewrite(t, key, func(doc map[string]any) {
			if key == first {
				change(doc)
			} else {
				doc["previousDigestHashValue"] = prevHash
			}
		})
		prevHash = integrity.HashOf(testenv.ReadGzip(t, a.path(key))).String()
		delete(a.signatures, key)
	}
}

// TestUnsignedDigestInS3BreaksTheChain: in S3, CloudTrail signs every digest. An attacker who
// cannot sign rewrites P6's digest without it and re-links every later digest, dropping their
// signature metadata: each is a broken link, not a local copy's unchecked signature.
func TestUnsignedDigestInS3BreaksTheChain(t *testing.T) {
	a := newAttackedTrail(t)
	a.remove(t, p6LogFile)
	a.relinked(t, p6Digest, unlistingP6)
	wh := ingestAttacked(t, a, true)
	want := []string{"chain broken (no signature)", p6Digest, "has no signature metadata (x-amz-meta-signature) in S3"}
	if v := namedAndNeverCompliant(t, wh, []string{"--since", p6Window, "--until", p6WindowTo}, want, p6Window, p6WindowTo); v.codes() != "integrity_findings" {
		t.Fatalf("verdict %+v", v)
	}
}

// TestCopiesOfTheTrailCountOnce: the same trail ingested twice, from S3 and a local copy or from
// two local copies, is one trail: each digest and log file counts once. A copy that differs from
// the other is named.
func TestCopiesOfTheTrailCountOnce(t *testing.T) {
	tests := []struct {
		name   string
		fromS3 bool
		change func(t *testing.T, copied *attackedTrail)
		// what audit integrity says over the fixture week
		exit int
		want []string
	}{
		{name: "s3_and_a_local_copy", fromS3: true, exit: 0,
			want: []string{"222222222222  us-east-1  validated", "168/168", "8/8", "Result: CLEAN"}},
		{name: "two_local_copies", exit: 0,
			want: []string{"222222222222  us-east-1  signatures not checked", "168/168", "8/8", "Result: CLEAN"}},
		{name: "a_copy_with_a_rewritten_digest", fromS3: true, exit: 1,
			change: func(t *testing.T, c *attackedTrail) { c.rewrite(t, p6Digest, unlistingP6) },
			want:   []string{"chain broken (copies differ)", p6Digest, "Result: FOUND"}},
		{name: "a_copy_with_a_rewritten_log_file", fromS3: true, exit: 1,
			change: func(t *testing.T, c *attackedTrail) { c.rewrite(t, p6LogFile, withoutP6) },
			want:   []string{"modified (copies differ)", p6LogFile, "Result: FOUND"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			original, copied := newAttackedTrail(t), newAttackedTrail(t)
			if tc.change != nil {
				tc.change(t, copied)
			}
			wh := filepath.Join(t.TempDir(), "wh")
			args := []string{"--warehouse", wh, "ingest", "--source", original.dir, "--source", copied.dir, "--sessions-file", fixtures + "/sessions"}
			var env []string
			if tc.fromS3 {
				_, s3Endpoint := s3WithTrailFrom(t, original.dir, original.signatures)
				env = awsEnv("AWS_ENDPOINT_URL_S3="+s3Endpoint, "AWS_ENDPOINT_URL_CLOUDTRAIL="+keysEndpoint(t))
				args[4] = "s3://" + bucket
			}
			sentinel(t, env, args...).mustExit(t, 0)
			r := sentinel(t, nil, "--warehouse", wh, "audit", "integrity", "--since", since, "--until", until).mustExit(t, tc.exit)
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("integrity lacks %q:\n%s", w, r.stdout)
				}
			}
			if tc.exit == 0 {
				c := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "session-compliance",
					"--since", p6Window, "--until", p6WindowTo, "--profile", "prod").mustExit(t, 1)
				if !strings.Contains(c.stdout, "Result: GAPS FOUND — prod") {
					t.Errorf("P6's gap:\n%s", c.stdout)
				}
			}
		})
	}
}

// cutAt makes the trail as it stood at now on a live trail: the log files delivered before now,
// and the digests of the hours that ended before newestDigest (the next is not delivered yet).
func (a *attackedTrail) cutAt(t *testing.T, now, newestDigest time.Time) {
	t.Helper()
	err := filepath.WalkDir(a.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a.dir, p)
		key := filepath.ToSlash(rel)
		if k, err := integrity.ParseDigestKey(key); err == nil && k.End.After(newestDigest) {
			return os.Remove(p)
		}
		if k, err := integrity.ParseLogFileKey(key); err == nil && !k.Delivered.Before(now) {
			return os.Remove(p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLiveTrailLogFilesNotYetDigestedAreNoFinding: audited up to now, a live trail holds log
// files delivered after its newest digest (13:00), whose hour's digest is not delivered yet (the
// 13:12 one): they are not yet covered, not unlisted.
func TestLiveTrailLogFilesNotYetDigestedAreNoFinding(t *testing.T) {
	for _, fromS3 := range []bool{true, false} {
		t.Run(map[bool]string{true: "s3", false: "local_copy"}[fromS3], func(t *testing.T) {
			a := newAttackedTrail(t)
			a.cutAt(t, time.Date(2026, 11, 5, 13, 30, 0, 0, time.UTC), time.Date(2026, 11, 5, 13, 0, 0, 0, time.UTC))
			wh := ingestAttacked(t, a, fromS3)
			r := sentinel(t, nil, "--warehouse", wh, "audit", "integrity", "--since", p6Window, "--until", "2026-11-05T13:30:00Z").mustExit(t, 0)
			if !strings.Contains(r.stdout, "Result: CLEAN") || strings.Contains(r.stdout, "unlisted (") {
				t.Errorf("integrity:\n%s", r.stdout)
			}
			// Their events are not vouched for: the evidence of validated regions is what the
			// digests cover, up to 13:00, whatever the 13:12 log file holds.
			c := sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "session-compliance",
				"--since", p6Window, "--until", "2026-11-05T13:30:00Z", "--profile", "prod", "--format", "json").mustExit(t, 1)
			var rep complianceJSON
			if err := json.Unmarshal([]byte(c.stdout), &rep); err != nil {
				t.Fatal(err)
			}
			if rep.Verdict.codes() != "evidence_ends_before_window_end" {
				t.Errorf("verdict %+v", rep.Verdict)
			}
		})
	}
}

// The late log file and the backfill digest that lists it (TestBackfillDigestListsALateLogFile).
const (
	lateLogFile    = "AWSLogs/o-a1b2c3d4e5/222222222222/CloudTrail/us-east-1/2026/11/05/222222222222_CloudTrail_us-east-1_20261105T0930Z_BackfillLate0001.json.gz"
	backfillDigest = "AWSLogs/o-a1b2c3d4e5/222222222222/CloudTrail-Digest/us-east-1/2026/11/05/222222222222_CloudTrail-Digest_us-east-1_org-trail_us-east-1_20261105T100000Z_backfill.json.gz"
)

// writeGzip writes doc, gzip'd, at key.
func (a *attackedTrail) writeGzip(t *testing.T, key string, doc []byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(doc)
	zw.Close()
	if err := os.MkdirAll(filepath.Dir(a.path(key)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(a.path(key), buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// addLateLogFile adds a log file delivered at 09:30 that the digest of its hour does not list,
// as CloudTrail delivers late files, and, with backfill, the backfill digest CloudTrail
// delivers for it (signed with CloudTrail's key); it returns the backfill digest's signature.
func (a *attackedTrail) addLateLogFile(t *testing.T, backfill bool) string {
	t.Helper()
	logDoc := []byte(`{"Records":[{"eventVersion":"1.08","eventID":"00000000-0000-4000-8000-00000000b0f1","eventTime":"2026-11-05T09:20:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","recipientAccountId":"222222222222","userIdentity":{"type":"IAMUser","accountId":"222222222222","userName":"ops"}}]}`)
	a.writeGzip(t, lateLogFile, logDoc)
	if !backfill {
		return ""
	}
	doc, err := json.Marshal(map[string]any{
		"awsAccountId": "222222222222", "digestStartTime": "2026-11-05T09:00:00Z", "digestEndTime": "2026-11-05T10:00:00Z",
		"digestS3Bucket": bucket, "digestS3Object": backfillDigest, "digestPublicKeyFingerprint": testkeys.Primary.Fingerprint(),
		"digestSignatureAlgorithm": "SHA256withRSA", "newestEventTime": "2026-11-05T09:20:00Z", "oldestEventTime": "2026-11-05T09:20:00Z",
		"previousDigestS3Bucket": nil, "previousDigestS3Object": nil, "previousDigestHashValue": nil, "previousDigestHashAlgorithm": nil, "previousDigestSignature": nil,
		"logFiles": []map[string]any{{"s3Bucket": bucket, "s3Object": lateLogFile, "hashValue": integrity.HashOf(logDoc).String(), "hashAlgorithm": "SHA-256",
			"newestEventTime": "2026-11-05T09:20:00Z", "oldestEventTime": "2026-11-05T09:20:00Z"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	a.writeGzip(t, backfillDigest, doc)
	d, err := integrity.ParseDigest(doc)
	if err != nil {
		t.Fatal(err)
	}
	return testkeys.Primary.Sign(d.SigningString(integrity.HashOf(doc)))
}

// TestBackfillDigestListsALateLogFile: CloudTrail delivers a backfill digest (…_backfill.json.gz)
// for log files the digest of their hour missed. It is read, its signature checked (with a key
// valid when CloudTrail made it, its metadata backfill-generation-timestamp) and the log file
// it lists is vouched for; without it, the late file is unlisted.
func TestBackfillDigestListsALateLogFile(t *testing.T) {
	for _, fromS3 := range []bool{true, false} {
		t.Run(map[bool]string{true: "s3", false: "local_copy"}[fromS3], func(t *testing.T) {
			a := newAttackedTrail(t)
			signature := a.addLateLogFile(t, true)
			wh := filepath.Join(t.TempDir(), "wh")
			if fromS3 {
				store, s3Endpoint := s3WithTrailFrom(t, a.dir, a.signatures)
				data, err := os.ReadFile(a.path(backfillDigest))
				if err != nil {
					t.Fatal(err)
				}
				if err := store.PutWithMetadata(bucket, backfillDigest, data, map[string]string{"signature": signature, "signature-algorithm": "SHA256withRSA",
					"backfill-generation-timestamp": "2026-11-05T12:00:00Z"}); err != nil {
					t.Fatal(err)
				}
				env := awsEnv("AWS_ENDPOINT_URL_S3="+s3Endpoint, "AWS_ENDPOINT_URL_CLOUDTRAIL="+keysEndpoint(t))
				r := sentinel(t, env, "--warehouse", wh, "ingest", "--source", "s3://"+bucket, "--sessions-file", fixtures+"/sessions").mustExit(t, 0)
				if strings.Contains(r.stderr, "warning") {
					t.Fatalf("ingest warned: %s", r.stderr)
				}
			} else {
				sentinel(t, nil, "--warehouse", wh, "ingest", "--source", a.dir, "--sessions-file", fixtures+"/sessions").mustExit(t, 0)
			}
			checksOutAndShowsP6(t, wh, fromS3, []string{"--since", p6Window, "--until", p6WindowTo, "--accounts", "222222222222"}, "13/13", "2/2")
		})
	}
	t.Run("without_it_the_late_log_file_is_unlisted", func(t *testing.T) {
		a := newAttackedTrail(t)
		a.addLateLogFile(t, false)
		wh := ingestAttacked(t, a, false)
		r := sentinel(t, nil, "--warehouse", wh, "audit", "integrity", "--since", p6Window, "--until", p6WindowTo).mustExit(t, 1)
		if !strings.Contains(r.stdout, "unlisted (while digesting)") || !strings.Contains(r.stdout, lateLogFile) {
			t.Errorf("integrity:\n%s", r.stdout)
		}
	})
}

// TestDeletedDigestsAreNamedAndNeverCompliant: attacks that delete digests along with P6's log
// file, so that no digest lists it: the chain cut short at the window's end, the whole region
// (the trail's home region), the account's digests. Each is named by audit integrity, and the
// trail's other log files do not vouch for the hours the digests no longer cover.
func TestDeletedDigestsAreNamedAndNeverCompliant(t *testing.T) {
	removeDigests := func(t *testing.T, a *attackedTrail, first, last string) {
		for _, key := range a.digestsFrom(t, first) {
			if last != "" && key > last {
				break
			}
			a.remove(t, key)
		}
	}
	removeAll := func(t *testing.T, a *attackedTrail, folders ...string) {
		for _, f := range folders {
			if err := os.RemoveAll(a.path(f)); err != nil {
				t.Fatal(err)
			}
		}
	}
	attacks := []struct {
		name         string
		do           func(t *testing.T, a *attackedTrail)
		since, until string
		want         []string // what audit integrity names
	}{
		{
			// The 15:00 digest links back to the deleted 14:00 one.
			name: "digests_deleted_past_the_windows_end",
			do: func(t *testing.T, a *attackedTrail) {
				a.remove(t, p6LogFile)
				removeDigests(t, a, p6Digest, strings.Replace(p6Digest, "T080000Z", "T140000Z", 1))
			},
			since: p6Window, until: p6WindowTo,
			want: []string{"222222222222  us-east-1  gap", "2026-11-05T07:00:00Z .. 2026-11-05T12:00:00Z"},
		},
		{
			// No later digest links back; the 13:12 log file shows the digests should go on.
			name: "every_digest_deleted_from_p6s_on",
			do: func(t *testing.T, a *attackedTrail) {
				a.remove(t, p6LogFile)
				removeDigests(t, a, p6Digest, "")
			},
			since: p6Window, until: p6WindowTo,
			want: []string{"222222222222  us-east-1  digests end", "end at 2026-11-05T07:00:00Z, but its log files go on to 2026-11-05T13:12:00Z"},
		},
		{
			name: "home_region_folder_deleted",
			do: func(t *testing.T, a *attackedTrail) {
				removeAll(t, a, "AWSLogs/o-a1b2c3d4e5/222222222222/CloudTrail/us-east-1", p6Stream)
			},
			since: since, until: until,
			want: []string{"222222222222  us-east-1  region missing", "The trail org-trail's home region us-east-1 has no digests of account 222222222222"},
		},
		{
			name: "account_digests_deleted",
			do: func(t *testing.T, a *attackedTrail) {
				removeAll(t, a, "AWSLogs/o-a1b2c3d4e5/222222222222/CloudTrail-Digest", "AWSLogs/o-a1b2c3d4e5/222222222222/CloudTrail/eu-west-1")
				a.remove(t, p6LogFile)
			},
			since: p6Window, until: p6WindowTo,
			want: []string{"222222222222  us-east-1  digests missing", "the organization trail of o-a1b2c3d4e5 delivers digests for its other accounts and regions"},
		},
	}
	for _, attack := range attacks {
		for _, fromS3 := range []bool{true, false} {
			t.Run(attack.name+"/"+map[bool]string{true: "s3", false: "local_copy"}[fromS3], func(t *testing.T) {
				a := newAttackedTrail(t)
				attack.do(t, a)
				wh := ingestAttacked(t, a, fromS3)
				args := []string{"--since", attack.since, "--until", attack.until, "--accounts", "222222222222"}
				if v := namedAndNeverCompliant(t, wh, args, attack.want, attack.since, attack.until); !strings.Contains(v.codes(), "integrity_findings") {
					t.Fatalf("verdict %+v", v)
				}
			})
		}
	}
}

// TestS3DigestsWithoutKeysAreNeverCompliant: an S3 trail ingested while CloudTrail listed no
// public key (ListPublicKeys failed, or answered with none) has digests whose signatures nobody
// checked: prod-readonly, COMPLIANT on a checked trail, is INCONCLUSIVE, the Evidence says why,
// and the next ingest fetches the keys of those digests' days, though it reads no file again.
func TestS3DigestsWithoutKeysAreNeverCompliant(t *testing.T) {
	_, s3Endpoint := s3WithTrail(t)
	noKeys := cloudtrail.New(cloudtrail.Options{RequestsPerSecond: -1})
	noKeysEndpoint, stop, err := noKeys.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	wh := filepath.Join(t.TempDir(), "wh")
	ingest := func(keys string) string {
		t.Helper()
		env := awsEnv("AWS_ENDPOINT_URL_S3="+s3Endpoint, "AWS_ENDPOINT_URL_CLOUDTRAIL="+keys)
		return sentinel(t, env, "--warehouse", wh, "ingest", "--source", "s3://"+bucket, "--sessions-file", fixtures+"/sessions").mustExit(t, 0).stdout
	}
	audit := func(code int) string {
		t.Helper()
		return sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "session-compliance",
			"--since", since, "--until", until, "--profile", "prod-readonly").mustExit(t, code).stdout
	}
	ingest(noKeysEndpoint)
	out := audit(3)
	if strings.Contains(out, "signatures checked") {
		t.Fatalf("the Evidence says the signatures were checked:\n%s", out)
	}
	for _, want := range []string{
		"signatures not checked for 336 digests from S3 (no CloudTrail public keys: ListPublicKeys failed at ingest)",
		"the signatures of 336 digest files read from S3 were not checked: no CloudTrail public key was at hand",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("lacks %q:\n%s", want, out)
		}
	}
	integ := sentinel(t, nil, "--warehouse", wh, "audit", "integrity", "--since", since, "--until", until).mustExit(t, 3)
	if !strings.Contains(integ.stdout, "the signatures of 1344 digest files read from S3 were not checked: no CloudTrail public key was at hand") {
		t.Fatalf("audit integrity:\n%s", integ.stdout)
	}
	if again := ingest(keysEndpoint(t)); !strings.HasPrefix(again, "ingest: nothing new") {
		t.Fatalf("the second ingest read files again: %s", again)
	}
	if out := audit(0); !strings.Contains(out, "signatures checked") || !strings.Contains(out, "Result: COMPLIANT") {
		t.Fatalf("after the keys were fetched:\n%s", out)
	}
	sentinel(t, nil, "--warehouse", wh, "audit", "integrity", "--since", since, "--until", until).mustExit(t, 0)
}
