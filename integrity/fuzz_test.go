package integrity_test

import (
	"testing"

	"github.com/sentinel-audit/sentinel/integrity"
)

// The fuzzers check that the parsers are total (no panic, an error or a value) and that what
// they accept is consistent. Inputs are bounded so each run stays fast.

func FuzzParseDigest(f *testing.F) {
	f.Add([]byte(awsExample))
	f.Add([]byte(firstOfChain))
	f.Add(build(trailSpec{hours: 2, logsIn: []int{1}}).digests[1].body)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 8<<10 {
			t.Skip()
		}
		d, err := integrity.ParseDigest(data)
		if err != nil {
			if _, ok := err.(*integrity.ParseError); !ok {
				t.Fatalf("error %T is not a *ParseError: %v", err, err)
			}
			return
		}
		if d.EndTime.Before(d.StartTime) || d.S3Bucket == "" || d.S3Object == "" {
			t.Fatalf("accepted an inconsistent digest: %+v", d)
		}
		if d.Previous != nil && (d.Previous.S3Object == "" || d.Previous.Signature == "") {
			t.Fatalf("accepted a partial link: %+v", d.Previous)
		}
		_ = d.SigningString(integrity.HashOf(data))
	})
}

func FuzzParseDigestKey(f *testing.F) {
	f.Add(digestKey(hour(1)))
	f.Add("prefix/AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2026/11/02/111122223333_CloudTrail-Digest_us-east-2_a_b_us-east-1_20261102T150000Z.json.gz")
	f.Fuzz(func(t *testing.T, key string) {
		if len(key) > 1024 {
			t.Skip()
		}
		k, err := integrity.ParseDigestKey(key)
		if err != nil {
			return
		}
		if k.Account == "" || k.Region == "" || k.Trail == "" || k.HomeRegion == "" || k.End.IsZero() {
			t.Fatalf("accepted %q as %+v", key, k)
		}
		if _, err := integrity.ParseLogFileKey(key); err == nil {
			t.Fatalf("%q is both a digest key and a log file key", key)
		}
	})
}

func FuzzParseLogFileKey(f *testing.F) {
	o, _ := logFile(1)
	f.Add(o.Key)
	f.Add("AWSLogs/111122223333/CloudTrail/us-east-2/2026/11/02/111122223333_CloudTrail_us-east-2_20261102T1445Z_9nYN7gp2eWAJHIfT.json.gz")
	f.Fuzz(func(t *testing.T, key string) {
		if len(key) > 1024 {
			t.Skip()
		}
		k, err := integrity.ParseLogFileKey(key)
		if err != nil {
			return
		}
		if k.Account == "" || k.Region == "" || len(k.Unique) != 16 || k.Delivered.IsZero() {
			t.Fatalf("accepted %q as %+v", key, k)
		}
	})
}
