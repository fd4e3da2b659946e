package integrity

import (
	"crypto"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// SignatureAlgorithm is the only algorithm CloudTrail signs digests with (digestSignatureAlgorithm
// and x-amz-meta-signature-algorithm): RSA PKCS#1 v1.5 over SHA-256.
const SignatureAlgorithm = "SHA256withRSA"

// ErrBadSignature is a signature that the public key does not verify: the digest, its location
// or its link to the previous digest changed after CloudTrail signed it, or someone else signed.
var ErrBadSignature = errors.New("the signature does not match: the digest is not as CloudTrail signed it")

// SigningString is the text CloudTrail signs for a digest whose inflated bytes hash to
// digestHash: digestEndTime (as written), "\n", digestS3Bucket "/" digestS3Object, "\n", the
// hash in hex, "\n", previousDigestSignature, or "null" when the digest starts a chain.
func (d *Digest) SigningString(digestHash Hash) string {
	end := d.endText
	if end == "" {
		end = d.EndTime.UTC().Format(TimeLayout)
	}
	prev := "null"
	if d.Previous != nil {
		prev = d.Previous.Signature
	}
	return end + "\n" + d.S3Bucket + "/" + d.S3Object + "\n" + digestHash.String() + "\n" + prev
}

// Fingerprint is how CloudTrail names a public key, in ListPublicKeys' Fingerprint and in a
// digest's digestPublicKeyFingerprint: the hex MD5 of the key's PKCS#1 DER encoding (checked
// against AWS's documented example of ListPublicKeys). validate-logs matches the two strings
// exactly.
func Fingerprint(publicKeyDER []byte) string {
	sum := md5.Sum(publicKeyDER)
	return hex.EncodeToString(sum[:])
}

// VerifySignature checks a hex SHA256withRSA signature (x-amz-meta-signature) of signingString
// with a PKCS#1 DER public key (ListPublicKeys' Value). A signature that does not verify is
// ErrBadSignature; a key or signature that cannot be read is another error.
func VerifySignature(publicKeyDER []byte, signingString, signatureHex string) error {
	pub, err := x509.ParsePKCS1PublicKey(publicKeyDER)
	if err != nil {
		return fmt.Errorf("read the public key (PKCS#1 DER): %w", err)
	}
	sig, err := hex.DecodeString(signatureHex)
	if err != nil || len(sig) == 0 {
		return fmt.Errorf("the signature is not hex: %w", ErrBadSignature)
	}
	h := sha256.Sum256([]byte(signingString))
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) != nil {
		return ErrBadSignature
	}
	return nil
}

// ErrNoKey is a digest whose signing key is not among the public keys: none has its fingerprint,
// or none with it was valid when the digest was signed.
var ErrNoKey = errors.New("no public key for the digest")

// PublicKey is one of CloudTrail's regional digest signing keys, as ListPublicKeys returns it.
type PublicKey struct {
	Fingerprint string
	Value       []byte // PKCS#1 DER
	// ValidityStart and ValidityEnd bound the digests the key signed (by digestEndTime).
	ValidityStart, ValidityEnd time.Time
}

// SelectKey finds the key that signed d among keys that rotate: the one named by
// d.PublicKeyFingerprint (matched exactly, as validate-logs does) whose validity covers d.EndTime
// (bounds included). A key whose Value does not have its listed Fingerprint is never selected:
// the list itself would be wrong. Every error wraps ErrNoKey.
func SelectKey(keys []PublicKey, d *Digest) (PublicKey, error) {
	return selectKey(keys, d, Span{d.EndTime, d.EndTime})
}

// selectKey is SelectKey for a digest signed at some time in signed (bounds included; a zero To
// has no bound).
func selectKey(keys []PublicKey, d *Digest, signed Span) (PublicKey, error) {
	var named []PublicKey
	for _, k := range keys {
		if k.Fingerprint == d.PublicKeyFingerprint {
			named = append(named, k)
		}
	}
	if len(named) == 0 {
		return PublicKey{}, fmt.Errorf("%w: none of the %d public keys has the fingerprint %s", ErrNoKey, len(keys), d.PublicKeyFingerprint)
	}
	for _, k := range named {
		if got := Fingerprint(k.Value); got != k.Fingerprint {
			return PublicKey{}, fmt.Errorf("%w: the public key listed as %s has the fingerprint %s", ErrNoKey, k.Fingerprint, got)
		}
		if !k.ValidityEnd.Before(signed.From) && (signed.To.IsZero() || !signed.To.Before(k.ValidityStart)) {
			return k, nil
		}
	}
	k := named[0]
	when := "at the digest's end " + signed.From.UTC().Format(TimeLayout)
	if signed.From != signed.To {
		when = "when the digest was signed (" + signed.String() + ")"
		if signed.To.IsZero() {
			when = "when the digest was signed (after " + signed.From.UTC().Format(TimeLayout) + ")"
		}
	}
	return PublicKey{}, fmt.Errorf("%w: the public key %s was valid %s to %s, not %s", ErrNoKey, k.Fingerprint, k.ValidityStart.UTC().Format(TimeLayout), k.ValidityEnd.UTC().Format(TimeLayout), when)
}

// VerifyDigest checks the signature (hex, with its algorithm from x-amz-meta-signature-algorithm)
// of the digest d whose inflated bytes hash to digestHash, with the key keys hold for it.
func VerifyDigest(keys []PublicKey, d *Digest, digestHash Hash, signatureHex, algorithm string) error {
	return VerifyDigestSigned(keys, d, Span{d.EndTime, d.EndTime}, digestHash, signatureHex, algorithm)
}

// VerifyDigestSigned is VerifyDigest for a digest CloudTrail signed at some time in signed
// (bounds included; a zero To has no bound): a backfill digest is signed when CloudTrail makes
// it (S3 metadata backfill-generation-timestamp), after its hour.
func VerifyDigestSigned(keys []PublicKey, d *Digest, signed Span, digestHash Hash, signatureHex, algorithm string) error {
	if algorithm != SignatureAlgorithm || d.SignatureAlgorithm != SignatureAlgorithm {
		return fmt.Errorf("the signature algorithm is %q (metadata) and %q (digest), not %s: %w", algorithm, d.SignatureAlgorithm, SignatureAlgorithm, ErrBadSignature)
	}
	k, err := selectKey(keys, d, signed)
	if err != nil {
		return err
	}
	return VerifySignature(k.Value, d.SigningString(digestHash), signatureHex)
}
