package integrity

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Hash is a SHA-256, the only hash algorithm CloudTrail uses for log files and digests. The zero
// Hash means "unknown": the file could not be read or inflated.
type Hash [sha256.Size]byte

// HashOf is the SHA-256 of b: for a log file or digest, b is its inflated bytes.
func HashOf(b []byte) Hash { return sha256.Sum256(b) }

// ParseHash reads the hex form digests use (hashValue, previousDigestHashValue).
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*len(h) {
		return Hash{}, fmt.Errorf("%q is not a SHA-256 in hex (want %d hex digits, got %d characters)", s, 2*len(h), len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return Hash{}, fmt.Errorf("%q is not a SHA-256 in hex", s)
	}
	return h, nil
}

// String is the lowercase hex form, as CloudTrail writes it.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is unknown.
func (h Hash) IsZero() bool { return h == Hash{} }
