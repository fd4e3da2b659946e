package cloudtrail

import (
	"crypto/rand"
	"fmt"
	"time"
)

// bucketKey names one throttling scope: LookupEvents is limited per account
// and region.
type bucketKey struct {
	account, region string
}

// tokenBucket refills at a fixed rate up to a burst size; each served request
// takes one token.
type tokenBucket struct {
	tokens float64
	last   time.Time
}

// allow reports whether a request in region may be served now, taking a
// token if so. A refused request takes nothing.
func (s *Server) allow(region string) bool {
	rate := s.opts.RequestsPerSecond
	if rate <= 0 {
		return true
	}
	burst := float64(s.opts.Burst)
	now := s.wallClock()

	s.throttleMu.Lock()
	defer s.throttleMu.Unlock()
	key := bucketKey{account: Account, region: region}
	b := s.buckets[key]
	if b == nil {
		b = &tokenBucket{tokens: burst, last: now}
		s.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(burst, b.tokens+elapsed*rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// requestID returns a random UUID, as AWS request ids are.
func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
