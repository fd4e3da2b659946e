package integrity_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/integrity"
)

// awsExample is the digest of AWS's "CloudTrail digest file structure" page, shortened to one
// log file.
const awsExample = `{
  "awsAccountId": "111122223333",
  "digestStartTime": "2015-08-17T14:01:31Z",
  "digestEndTime": "2015-08-17T15:01:31Z",
  "digestS3Bucket": "S3-bucket-name",
  "digestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz",
  "digestPublicKeyFingerprint": "31e8b5433410dfb61a9dc45cc65b22ff",
  "digestSignatureAlgorithm": "SHA256withRSA",
  "newestEventTime": "2015-08-17T14:52:27Z",
  "oldestEventTime": "2015-08-17T14:42:27Z",
  "previousDigestS3Bucket": "S3-bucket-name",
  "previousDigestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T140131Z.json.gz",
  "previousDigestHashValue": "97fb791cf91ffc440d274f8190dbdd9aa09c34432aba82739df18b6d3c13df2d",
  "previousDigestHashAlgorithm": "SHA-256",
  "previousDigestSignature": "50887ccffad4c002b97caa37cc9dc626e3c680207d41d27fa5835458e066e0d3652fc4dfc30937e4d5f4cc7f796e7a258fb50a43ac427f2237f6e505d4efaf373d156e15e3b7fea8e58b9e1b7e1d8d5b8e2b6e7b6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1",
  "logFiles": [
    {
      "s3Bucket": "S3-bucket-name",
      "s3Object": "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/17/111122223333_CloudTrail_us-east-2_20150817T1445Z_9nYN7gp2eWAJHIfT.json.gz",
      "hashValue": "9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6",
      "hashAlgorithm": "SHA-256",
      "newestEventTime": "2015-08-17T14:52:27Z",
      "oldestEventTime": "2015-08-17T14:42:27Z"
    }
  ]
}`

// firstOfChain is a digest that starts a chain, for an hour without log files.
const firstOfChain = `{"awsAccountId":"111122223333","digestStartTime":"2015-08-17T14:01:31Z","digestEndTime":"2015-08-17T15:01:31Z","digestS3Bucket":"b","digestS3Object":"k","digestPublicKeyFingerprint":"f","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":null,"oldestEventTime":null,"previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null,"logFiles":[]}`

func TestParseDigest(t *testing.T) {
	t.Run("aws_example_reads_every_member", func(t *testing.T) {
		d, err := integrity.ParseDigest([]byte(awsExample))
		if err != nil {
			t.Fatal(err)
		}
		at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
		if d.AccountID != "111122223333" || !d.StartTime.Equal(at("2015-08-17T14:01:31Z")) || !d.EndTime.Equal(at("2015-08-17T15:01:31Z")) ||
			d.S3Bucket != "S3-bucket-name" || !strings.HasSuffix(d.S3Object, "_20150817T150131Z.json.gz") ||
			d.PublicKeyFingerprint != "31e8b5433410dfb61a9dc45cc65b22ff" || d.SignatureAlgorithm != "SHA256withRSA" ||
			!d.NewestEventTime.Equal(at("2015-08-17T14:52:27Z")) || !d.OldestEventTime.Equal(at("2015-08-17T14:42:27Z")) {
			t.Errorf("digest members: %+v", d)
		}
		p := d.Previous
		if p == nil || p.S3Bucket != "S3-bucket-name" || !strings.HasSuffix(p.S3Object, "_20150817T140131Z.json.gz") ||
			p.Hash.String() != "97fb791cf91ffc440d274f8190dbdd9aa09c34432aba82739df18b6d3c13df2d" || !strings.HasPrefix(p.Signature, "50887ccf") {
			t.Errorf("previous link: %+v", p)
		}
		if len(d.LogFiles) != 1 {
			t.Fatalf("log files: %+v", d.LogFiles)
		}
		f := d.LogFiles[0]
		if f.S3Bucket != "S3-bucket-name" || !strings.HasSuffix(f.S3Object, "_9nYN7gp2eWAJHIfT.json.gz") ||
			f.Hash.String() != "9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6" ||
			!f.NewestEventTime.Equal(at("2015-08-17T14:52:27Z")) || !f.OldestEventTime.Equal(at("2015-08-17T14:42:27Z")) {
			t.Errorf("log file: %+v", f)
		}
	})
	t.Run("first_digest_of_a_chain_has_no_previous_link", func(t *testing.T) {
		d, err := integrity.ParseDigest([]byte(firstOfChain))
		if err != nil {
			t.Fatal(err)
		}
		if d.Previous != nil || len(d.LogFiles) != 0 || !d.NewestEventTime.IsZero() {
			t.Errorf("got %+v", d)
		}
	})
	ok := []struct{ name, json string }{
		{"previous_members_may_be_absent", strings.NewReplacer(`"previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null,`, "").Replace(firstOfChain)},
		{"log_files_null_is_none", strings.Replace(firstOfChain, `"logFiles":[]`, `"logFiles":null`, 1)},
		{"account_and_event_times_may_be_absent", strings.NewReplacer(`"awsAccountId":"111122223333",`, "", `"newestEventTime":null,"oldestEventTime":null,`, "").Replace(firstOfChain)},
		{"unknown_members_are_ignored", strings.Replace(firstOfChain, `"logFiles":[]`, `"logFiles":[],"futureMember":{"a":[1,2]}`, 1)},
		{"fractional_seconds_are_read", strings.Replace(firstOfChain, `15:01:31Z`, `15:01:31.250Z`, 1)},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := integrity.ParseDigest([]byte(tc.json)); err != nil {
				t.Errorf("ParseDigest: %v", err)
			}
		})
	}
	bad := []struct{ name, json, want string }{
		{"not_json", `{"digestStartTime": }`, "line 1, column 21: digestStartTime: not JSON"},
		{"not_an_object", `[1]`, "line 1, column 1: the digest must be a JSON object"},
		{"truncated", `{"digestStartTime": "2015-08-17T14:01:31Z"`, "the JSON ends early"},
		{"trailing_data", firstOfChain + ` {}`, "unexpected data after the digest's JSON object"},
		{"missing_end_time", strings.Replace(firstOfChain, `"digestEndTime":"2015-08-17T15:01:31Z",`, "", 1), "digestEndTime: missing"},
		{"missing_log_files", strings.Replace(firstOfChain, `,"logFiles":[]`, "", 1), "logFiles: missing"},
		{"end_time_null", strings.Replace(firstOfChain, `"digestEndTime":"2015-08-17T15:01:31Z"`, `"digestEndTime":null`, 1), "digestEndTime: must be a time, not null"},
		{"time_not_utc", strings.Replace(firstOfChain, `15:01:31Z`, `15:01:31+01:00`, 1), `digestEndTime: "2015-08-17T15:01:31+01:00" is not a UTC time`},
		{"end_before_start", strings.Replace(firstOfChain, `15:01:31Z`, `13:01:31Z`, 1), "digestEndTime: 2015-08-17T13:01:31Z is before digestStartTime"},
		{"bucket_not_a_string", strings.Replace(firstOfChain, `"digestS3Bucket":"b"`, `"digestS3Bucket":7`, 1), "digestS3Bucket: want a string, got 7"},
		{"bucket_empty", strings.Replace(firstOfChain, `"digestS3Bucket":"b"`, `"digestS3Bucket":""`, 1), "digestS3Bucket: must be a non-empty string"},
		{"member_twice", strings.Replace(firstOfChain, `"digestS3Bucket":"b"`, `"digestS3Bucket":"b","digestS3Bucket":"c"`, 1), "digestS3Bucket: given twice"},
		{"partial_previous_link", strings.Replace(firstOfChain, `"previousDigestS3Object":null`, `"previousDigestS3Object":"k0"`, 1), "the link to the previous digest is partial: previousDigestS3Bucket, previousDigestHashValue, previousDigestSignature null or missing"},
		{"previous_hash_not_hex", strings.Replace(awsExample, `97fb791cf91ffc440d274f8190dbdd9aa09c34432aba82739df18b6d3c13df2d`, `97fb`, 1), `line 13, column 30: previousDigestHashValue: "97fb" is not a SHA-256`},
		{"previous_hash_algorithm_other", strings.Replace(awsExample, `"previousDigestHashAlgorithm": "SHA-256"`, `"previousDigestHashAlgorithm": "MD5"`, 1), `previousDigestHashAlgorithm: "MD5" is not SHA-256`},
		{"log_file_hash_not_hex", strings.Replace(awsExample, `9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6`, `zz`, 1), `line 20, column 20: logFiles[0].hashValue: "zz" is not a SHA-256`},
		{"log_file_without_object", strings.Replace(awsExample, `"s3Object": "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/17/111122223333_CloudTrail_us-east-2_20150817T1445Z_9nYN7gp2eWAJHIfT.json.gz",`, ``, 1), "logFiles[0].s3Object: missing"},
		{"log_file_not_an_object", strings.Replace(firstOfChain, `"logFiles":[]`, `"logFiles":["x"]`, 1), "logFiles[0] must be a JSON object"},
		{"log_files_not_an_array", strings.Replace(firstOfChain, `"logFiles":[]`, `"logFiles":{}`, 1), "logFiles: must be an array"},
	}
	for _, tc := range bad {
		t.Run(tc.name+"_is_an_error", func(t *testing.T) {
			_, err := integrity.ParseDigest([]byte(tc.json))
			var pe *integrity.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseDigest: %v, want a *ParseError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestHash(t *testing.T) {
	h := integrity.HashOf([]byte("abc"))
	if h.String() != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("HashOf(abc) = %s", h)
	}
	if p, err := integrity.ParseHash(strings.ToUpper(h.String())); err != nil || p != h {
		t.Errorf("ParseHash(upper case) = %s, %v", p, err)
	}
	if !(integrity.Hash{}).IsZero() || h.IsZero() {
		t.Error("IsZero")
	}
}
