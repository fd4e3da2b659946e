// Package sourceid parses and mints the SourceIdentity values that link Sentinel's enforce half
// (which sets them on every AssumeRole) to its audit half (which finds them in CloudTrail).
//
// Grammar: sentinel-<kind>-<16 lowercase hex>[-<user>], kind "s" (server session, id = session
// record id) or "r" (one-shot request id); the short form sentinel-<16 hex> is read as kind "s".
// AWS accepts only [A-Za-z0-9_=,.@-] and 2..64 characters, so the user is sanitized and truncated.
package sourceid

import (
	"fmt"
	"strings"
)

// Kind says how Sentinel issued the credentials.
type Kind string

const (
	// KindSession marks credentials served by a tracked server session; the id is the session record's id.
	KindSession Kind = "s"
	// KindRequest marks a one-shot issuance (plain exec or credential_process); the id is a request id.
	KindRequest Kind = "r"
)

const (
	prefix = "sentinel-"
	idLen  = 16
	// MaxLen is the longest SourceIdentity AWS accepts.
	MaxLen = 64
	minLen = 2
)

// Identity is a parsed Sentinel SourceIdentity.
type Identity struct {
	Kind Kind
	ID   string // 16 lowercase hex digits
	User string // may be empty
}

// String renders the identity in its long form.
func (i Identity) String() string {
	s := prefix + string(i.Kind) + "-" + i.ID
	if i.User != "" {
		s += "-" + i.User
	}
	return s
}

// Parse reports whether s is a Sentinel SourceIdentity and, if so, its parts. It never panics and
// accepts nothing AWS itself would reject.
func Parse(s string) (Identity, bool) {
	if !Allowed(s) || !strings.HasPrefix(s, prefix) {
		return Identity{}, false
	}
	rest := s[len(prefix):]
	if len(rest) == idLen && isHexID(rest) {
		return Identity{Kind: KindSession, ID: rest}, true
	}
	if len(rest) < 2+idLen || rest[1] != '-' {
		return Identity{}, false
	}
	kind := Kind(rest[:1])
	if kind != KindSession && kind != KindRequest {
		return Identity{}, false
	}
	id := rest[2 : 2+idLen]
	if !isHexID(id) {
		return Identity{}, false
	}
	tail := rest[2+idLen:]
	switch {
	case tail == "":
		return Identity{Kind: kind, ID: id}, true
	case len(tail) >= 2 && tail[0] == '-':
		return Identity{Kind: kind, ID: id, User: tail[1:]}, true
	default:
		return Identity{}, false
	}
}

// Mint builds the SourceIdentity for kind, id and user, sanitizing and truncating the user so the
// whole value stays within what AWS accepts.
func Mint(kind Kind, id, user string) (string, error) {
	if kind != KindSession && kind != KindRequest {
		return "", fmt.Errorf("mint source identity: unknown kind %q (want %q or %q)", kind, KindSession, KindRequest)
	}
	if len(id) != idLen || !isHexID(id) {
		return "", fmt.Errorf("mint source identity: id %q is not %d lowercase hex digits", id, idLen)
	}
	base := Identity{Kind: kind, ID: id}.String()
	u := SanitizeUser(user)
	if room := MaxLen - len(base) - 1; len(u) > room {
		u = u[:room]
	}
	if u == "" {
		return base, nil
	}
	return base + "-" + u, nil
}

// SanitizeUser maps a user name onto the characters AWS allows in a SourceIdentity: allowed
// characters are kept, whitespace and '/', ':' and '\' become '_', anything else is dropped.
func SanitizeUser(user string) string {
	var b strings.Builder
	for _, r := range user {
		switch {
		case r < 0x80 && allowedByte(byte(r)):
			b.WriteRune(r)
		case r == ' ' || r == '\t' || r == '/' || r == ':' || r == '\\':
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Allowed reports whether AWS would accept s as a SourceIdentity at all.
func Allowed(s string) bool {
	if len(s) < minLen || len(s) > MaxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !allowedByte(s[i]) {
			return false
		}
	}
	return true
}

func allowedByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("_=,.@-", c) >= 0
}

func isHexID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return len(s) == idLen
}
