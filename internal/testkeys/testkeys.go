// Package testkeys holds RSA key pairs for tests and generators ONLY. Their private halves are
// committed in this folder, so anything they sign proves nothing: they stand in for CloudTrail's
// regional signing keys when tests and fixtures need real SHA256withRSA signatures.
//
//   - Primary signs the fixtures' digests and trailgen's (its validity covers both).
//   - Rotated is the key that follows Primary, for key rotation tests.
//   - Foreign is nobody's key: a digest signed with it is the attack "signed with another key".
package testkeys

import (
	"crypto"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	_ "embed"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"time"
)

// Key is a test signing key and the validity CloudTrail's ListPublicKeys would give it.
type Key struct {
	Private       *rsa.PrivateKey
	ValidityStart time.Time
	ValidityEnd   time.Time
}

var (
	//go:embed cloudtrail-2026a.pem
	primaryPEM []byte
	//go:embed cloudtrail-2026b.pem
	rotatedPEM []byte
	//go:embed foreign.pem
	foreignPEM []byte
)

// The keys. Primary is valid for 2026 (trailgen's default start and the fixtures' November week
// included); Rotated takes over from 2027-01-01; Foreign has the validity of Primary.
var (
	Primary = load("cloudtrail-2026a.pem", primaryPEM, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	Rotated = load("cloudtrail-2026b.pem", rotatedPEM, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC))
	Foreign = load("foreign.pem", foreignPEM, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
)

func load(name string, data []byte, start, end time.Time) Key {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "RSA PRIVATE KEY" {
		panic(fmt.Sprintf("testkeys: %s is not a PEM RSA PRIVATE KEY", name))
	}
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		panic(fmt.Sprintf("testkeys: %s: %v", name, err))
	}
	return Key{Private: k, ValidityStart: start, ValidityEnd: end}
}

// PublicDER is the public key in PKCS#1 DER, as ListPublicKeys returns it in Value.
func (k Key) PublicDER() []byte { return x509.MarshalPKCS1PublicKey(&k.Private.PublicKey) }

// Fingerprint is the key's name in digests and in ListPublicKeys: hex MD5 of PublicDER. It is
// computed here independently of the integrity package, which must agree with it.
func (k Key) Fingerprint() string {
	sum := md5.Sum(k.PublicDER())
	return hex.EncodeToString(sum[:])
}

// Sign returns the hex SHA256withRSA (PKCS#1 v1.5) signature of s, as CloudTrail stores it in a
// digest's x-amz-meta-signature. PKCS#1 v1.5 signatures are deterministic: the same s gives the
// same signature.
func (k Key) Sign(s string) string {
	h := sha256.Sum256([]byte(s))
	sig, err := rsa.SignPKCS1v15(nil, k.Private, crypto.SHA256, h[:])
	if err != nil {
		panic(fmt.Sprintf("testkeys: sign: %v", err))
	}
	return hex.EncodeToString(sig)
}
