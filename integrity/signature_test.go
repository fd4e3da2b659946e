package integrity_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/integrity"
	"github.com/sentinel-audit/sentinel/internal/testkeys"
)

func TestFingerprint(t *testing.T) {
	t.Run("matches_the_aws_documented_list_public_keys_example", func(t *testing.T) {
		// aws cloudtrail list-public-keys, from the AWS CLI's examples.
		der, err := base64.StdEncoding.DecodeString("MIIBCgKCAQEAlSS3cl92HDycr/MTj0moOhas8habjrraXw+KzlWF0axSI2tcF+3iJ9BKQAVSKxGwxwu3m0wG3J+kUl1xboEcEPHYoIYMbgfSw7KGnuDKwkLzsQWhUJ0cIbOHASox1vv/5fNXkrHhGbDCHeVXm804c83nvHUEFYThr1PfyP/8HwrCtR3FX5OANtQCP61C1nJtSSkC8JSQUOrIP4CuwJjc+4WGDk+BGH5m9iuiAKkipEHWmUl8/P7XpfpWQuk4h8g3pXZOrNXr08lbh4d39svj7UqdhvOXoBISp9t/EXYuePGEtBdrKD9Dz+VHwyUPtBQvYr9BnkF88qBnaPNhS44rzwIDAQAB")
		if err != nil {
			t.Fatal(err)
		}
		if got := integrity.Fingerprint(der); got != "7f3f401420072e50a65a141430817ab3" {
			t.Errorf("Fingerprint = %s", got)
		}
	})
	t.Run("matches_the_test_keys", func(t *testing.T) {
		for _, k := range []testkeys.Key{testkeys.Primary, testkeys.Rotated, testkeys.Foreign} {
			if got := integrity.Fingerprint(k.PublicDER()); got != k.Fingerprint() {
				t.Errorf("Fingerprint = %s, want %s", got, k.Fingerprint())
			}
		}
	})
}

func TestSigningString(t *testing.T) {
	d, err := integrity.ParseDigest([]byte(awsExample))
	if err != nil {
		t.Fatal(err)
	}
	h := integrity.HashOf([]byte(awsExample))
	want := "2015-08-17T15:01:31Z\nS3-bucket-name/" + d.S3Object + "\n" + h.String() + "\n" + d.Previous.Signature
	if got := d.SigningString(h); got != want {
		t.Errorf("SigningString:\n got %q\nwant %q", got, want)
	}
	t.Run("first_digest_signs_null_for_the_previous_signature", func(t *testing.T) {
		d, _ := integrity.ParseDigest([]byte(firstOfChain))
		if got := d.SigningString(h); !strings.HasSuffix(got, "\nnull") {
			t.Errorf("SigningString = %q", got)
		}
	})
	t.Run("end_time_is_signed_as_written", func(t *testing.T) {
		d, _ := integrity.ParseDigest([]byte(strings.Replace(firstOfChain, `15:01:31Z`, `15:01:31.000Z`, 1)))
		if got := d.SigningString(h); !strings.HasPrefix(got, "2015-08-17T15:01:31.000Z\n") {
			t.Errorf("SigningString = %q", got)
		}
	})
	t.Run("a_digest_made_in_code_signs_cloudtrails_time_layout", func(t *testing.T) {
		d := integrity.Digest{EndTime: time.Date(2026, 11, 2, 1, 0, 0, 0, time.UTC), S3Bucket: "b", S3Object: "k"}
		if got := d.SigningString(h); got != "2026-11-02T01:00:00Z\nb/k\n"+h.String()+"\nnull" {
			t.Errorf("SigningString = %q", got)
		}
	})
}

func TestVerifySignature(t *testing.T) {
	const s = "2026-11-02T01:00:00Z\nb/k\nabc\nnull"
	der := testkeys.Primary.PublicDER()
	if err := integrity.VerifySignature(der, s, testkeys.Primary.Sign(s)); err != nil {
		t.Errorf("good signature: %v", err)
	}
	for name, sig := range map[string]string{
		"other_text":  testkeys.Primary.Sign(s + "x"),
		"foreign_key": testkeys.Foreign.Sign(s),
		"not_hex":     "zz",
		"empty":       "",
	} {
		t.Run(name+"_is_a_bad_signature", func(t *testing.T) {
			if err := integrity.VerifySignature(der, s, sig); !errors.Is(err, integrity.ErrBadSignature) {
				t.Errorf("VerifySignature = %v, want ErrBadSignature", err)
			}
		})
	}
	t.Run("unreadable_key_is_an_error", func(t *testing.T) {
		err := integrity.VerifySignature([]byte("not der"), s, testkeys.Primary.Sign(s))
		if err == nil || errors.Is(err, integrity.ErrBadSignature) {
			t.Errorf("VerifySignature = %v, want a key error", err)
		}
	})
}

func TestSelectKey(t *testing.T) {
	rot := hour(3)
	keys := rotation(rot)
	digestAt := func(k testkeys.Key, end time.Time) *integrity.Digest {
		return &integrity.Digest{EndTime: end, PublicKeyFingerprint: k.Fingerprint()}
	}
	tests := []struct {
		name  string
		keys  []integrity.PublicKey
		d     *integrity.Digest
		want  string // fingerprint, or "" for ErrNoKey
		error string
	}{
		{"key_valid_at_the_digest_end", keys, digestAt(testkeys.Primary, hour(1)), testkeys.Primary.Fingerprint(), ""},
		{"rotated_key_after_rotation", keys, digestAt(testkeys.Rotated, hour(5)), testkeys.Rotated.Fingerprint(), ""},
		{"validity_bounds_are_inclusive", keys, digestAt(testkeys.Primary, rot), testkeys.Primary.Fingerprint(), ""},
		{"retired_key_after_rotation", keys, digestAt(testkeys.Primary, hour(4)), "", "was valid"},
		{"unknown_fingerprint", keys, digestAt(testkeys.Foreign, hour(1)), "", "none of the 2 public keys has the fingerprint"},
		{"fingerprint_in_another_case", keys, &integrity.Digest{EndTime: hour(1), PublicKeyFingerprint: strings.ToUpper(testkeys.Primary.Fingerprint())}, "", "none of the 2"},
		{"listed_fingerprint_not_the_keys", []integrity.PublicKey{{Fingerprint: testkeys.Primary.Fingerprint(), Value: testkeys.Foreign.PublicDER(), ValidityStart: hour(0), ValidityEnd: hour(9)}},
			digestAt(testkeys.Primary, hour(1)), "", "has the fingerprint " + testkeys.Foreign.Fingerprint()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := integrity.SelectKey(tc.keys, tc.d)
			if tc.want != "" {
				if err != nil || k.Fingerprint != tc.want {
					t.Errorf("SelectKey = %s, %v; want %s", k.Fingerprint, err, tc.want)
				}
				return
			}
			if !errors.Is(err, integrity.ErrNoKey) || !strings.Contains(err.Error(), tc.error) {
				t.Errorf("SelectKey = %v, want ErrNoKey with %q", err, tc.error)
			}
		})
	}
}

func TestVerifyDigestNeedsSHA256withRSA(t *testing.T) {
	b := build(trailSpec{hours: 1})
	d := b.digests[0]
	f := integrity.ReadDigestFile(d.obj, d.body, d.signature, d.algorithm)
	if err := integrity.VerifyDigest(keys(), f.Digest, f.Hash, d.signature, "SHA256withRSA"); err != nil {
		t.Fatalf("VerifyDigest: %v", err)
	}
	if err := integrity.VerifyDigest(keys(), f.Digest, f.Hash, d.signature, "SHA1withRSA"); !errors.Is(err, integrity.ErrBadSignature) {
		t.Errorf("VerifyDigest with SHA1withRSA = %v, want ErrBadSignature", err)
	}
}
