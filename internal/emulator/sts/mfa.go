package sts

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"net/http"
	"time"
)

// totpStep is the time step of a virtual MFA device (RFC 6238).
const totpStep = 30 * time.Second

// mfaDevice is a virtual MFA device of an IAM user.
type mfaDevice struct {
	owner  string // the user's ARN
	secret []byte
	used   map[int64]bool // time steps whose code was accepted once already
}

var (
	errMFACode = &apiError{status: http.StatusForbidden, code: "AccessDenied",
		message: "MultiFactorAuthentication failed with invalid MFA one time pass code. "}
	errMFASerial = &apiError{status: http.StatusForbidden, code: "AccessDenied",
		message: "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial number is valid and associated with this user."}
)

// AddMFADevice registers a virtual MFA device with serial number serial (its
// ARN, arn:aws:iam::ACCOUNT:mfa/NAME) for the IAM user userARN. Its codes are
// MFACode(secret, t).
func (s *Server) AddMFADevice(userARN, serial string, secret []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.devices[serial] = &mfaDevice{owner: userARN, secret: append([]byte(nil), secret...), used: map[int64]bool{}}
}

// MFACode is the code a virtual MFA device with secret shows at t: TOTP
// (RFC 6238) with HMAC-SHA1, 30-second steps and 6 digits, as IAM's.
func MFACode(secret []byte, t time.Time) string {
	return hotp(secret, t.Unix()/int64(totpStep/time.Second))
}

func hotp(secret []byte, counter int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	mac := hmac.New(sha1.New, secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	n := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", n%1_000_000)
}

// checkMFA accepts code from serial for caller: the device must be the
// caller's, and code that of the current time step or a neighbour, not
// accepted before. s.mu must be held.
func (s *Server) checkMFA(caller Identity, serial, code string, now time.Time) *apiError {
	d := s.devices[serial]
	if d == nil || d.owner != caller.ARN {
		return errMFASerial
	}
	step := now.Unix() / int64(totpStep/time.Second)
	for _, st := range []int64{step, step - 1, step + 1} {
		if !d.used[st] && hmac.Equal([]byte(hotp(d.secret, st)), []byte(code)) {
			d.used[st] = true
			return nil
		}
	}
	return errMFACode
}
