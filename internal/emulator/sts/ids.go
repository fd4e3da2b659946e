package sts

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
)

// random reads n bytes from Options.Rand.
func (s *Server) random(n int) ([]byte, error) {
	b := make([]byte, n)
	s.randMu.Lock()
	defer s.randMu.Unlock()
	if _, err := io.ReadFull(s.opts.Rand, b); err != nil {
		return nil, fmt.Errorf("read random bytes: %w", err)
	}
	return b, nil
}

// uuid returns a random (version 4) UUID, the form of request and event ids.
func (s *Server) uuid() (string, error) {
	b, err := s.random(16)
	if err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]), nil
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomAlnum returns n random characters from [A-Za-z0-9].
func (s *Server) randomAlnum(n int) (string, error) {
	b, err := s.random(n)
	if err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b), nil
}

// newCredentials mints temporary credentials shaped like STS's: an ASIA key
// id of 20 characters, a 40-character secret and a long session token.
func (s *Server) newCredentials() (credentials, error) {
	b, err := s.random(10 + 30 + 300)
	if err != nil {
		return credentials{}, err
	}
	return credentials{
		AccessKeyID:     "ASIA" + base32.StdEncoding.EncodeToString(b[:10]),
		SecretAccessKey: base64.StdEncoding.EncodeToString(b[10:40]),
		SessionToken:    "IQoJb3JpZ2luX2VjE" + base64.StdEncoding.EncodeToString(b[40:]),
	}, nil
}

// stableID derives a 17-character IAM-style unique id suffix from seed, so a
// role or user keeps one id across calls.
func stableID(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return base32.StdEncoding.EncodeToString(sum[:])[:17]
}

// roleIDFor is the unique id (AROA...) of a role.
func roleIDFor(roleARN string) string { return "AROA" + stableID(roleARN) }

// principalID is the unique id STS reports for a principal ARN: AIDA... for
// users, AROA...:session for assumed roles, the account for root.
func principalID(arn, accessKeyID string) string {
	switch {
	case strings.Contains(arn, ":assumed-role/"):
		issuer, session := assumedRoleParts(arn)
		return roleIDFor(issuer) + ":" + session
	case strings.HasSuffix(arn, ":root"):
		return arnAccount(arn)
	case strings.Contains(arn, ":user/"):
		return "AIDA" + stableID(arn)
	}
	return "AIDA" + stableID(arn+"|"+accessKeyID)
}

// arnAccount returns the account field of an ARN.
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// arnName returns the part of an ARN after its last slash.
func arnName(arn string) string {
	return arn[strings.LastIndexByte(arn, '/')+1:]
}

// assumedRoleParts splits arn:P:sts::A:assumed-role/ROLE/SESSION into the
// role's IAM ARN (arn:P:iam::A:role/ROLE) and the session name.
func assumedRoleParts(arn string) (roleARN, session string) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return "", ""
	}
	res := strings.TrimPrefix(parts[5], "assumed-role/")
	role, session, _ := strings.Cut(res, "/")
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", parts[1], parts[4], role), session
}
