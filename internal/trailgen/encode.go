package trailgen

import (
	"encoding/base64"
	"strconv"
	"time"
)

// rng is a splitmix64 stream: tiny, fast, and the same on every platform and Go version, so a
// seed always gives the same bytes. Every record seeds its own stream from (seed, what, where),
// which is what lets files be generated independently and in parallel.
type rng struct{ s uint64 }

// mix is splitmix64's finalizer. It is a bijection on uint64, so distinct inputs give distinct
// outputs: ids derived from distinct counters never collide.
func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

const golden = 0x9e3779b97f4a7c15

// Tags keep the streams of different purposes apart.
const (
	tagPlan uint64 = iota + 1
	tagIssuance
	tagActivity
	tagSession
	tagFile
	tagEventID
	tagAccessKey
	tagSessionID
	tagRequestID
	tagStatic
	tagSnapshot
)

// salt is the base of the streams and ids of one purpose.
func salt(seed, tag uint64) uint64 { return mix(seed + tag*golden) }

func newRNG(seed, tag, a, b uint64) rng {
	s := mix(salt(seed, tag) ^ (a + golden))
	s = mix(s ^ (b + 0x3c6ef372fe94f82a))
	return rng{s: s}
}

func (r *rng) next() uint64 {
	r.s += golden
	return mix(r.s)
}

// intn returns a number in [0, n); the modulo bias is irrelevant here.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

const (
	hexDigits   = "0123456789abcdef"
	base32Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	alnumDigits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	upperAlnum  = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

func appendHex(b []byte, v uint64, digits int) []byte {
	for i := digits - 1; i >= 0; i-- {
		b = append(b, hexDigits[(v>>(4*uint(i)))&0xf])
	}
	return b
}

// appendUUID writes a version-4-shaped UUID whose first 64 bits (less the version nibble, kept
// elsewhere) are hi, so UUIDs of distinct hi values differ.
func appendUUID(b []byte, hi, lo uint64) []byte {
	b = appendHex(b, hi>>32, 8)
	b = append(b, '-')
	b = appendHex(b, hi>>16, 4)
	b = append(b, '-', '4')
	b = appendHex(b, hi>>4, 3)
	b = append(b, '-')
	// variant 10xx: two bits fixed, then the last nibble of hi and two bits of lo.
	b = append(b, hexDigits[0x8|(hi>>2)&0x3])
	b = appendHex(b, (hi&0x3)<<8|lo&0xff, 3)
	b = append(b, '-')
	return appendHex(b, lo>>16, 12)
}

// appendKeyID writes an AWS access key id: prefix and 16 characters of [A-Z2-7] whose first 64
// bits are v.
func appendKeyID(b []byte, prefix string, v, w uint64) []byte {
	b = append(b, prefix...)
	// 12 characters carry 60 bits of v; the 13th its last 4 bits and 1 bit of w.
	for i := 0; i < 12; i++ {
		b = append(b, base32Upper[(v>>(59-5*uint(i)))&31])
	}
	b = append(b, base32Upper[(v&0xf)<<1|w>>63])
	for i := 0; i < 3; i++ {
		b = append(b, base32Upper[(w>>(58-5*uint(i)))&31])
	}
	return b
}

// appendAlnum writes n characters of [0-9A-Za-z] from successive draws of r.
func appendAlnum(b []byte, r *rng, alphabet string, n int) []byte {
	for range n {
		b = append(b, alphabet[r.intn(len(alphabet))])
	}
	return b
}

func appendBase64(b []byte, r *rng, rawBytes int) []byte {
	var tmp [8]byte
	raw := make([]byte, 0, rawBytes+8)
	for len(raw) < rawBytes {
		v := r.next()
		for i := range tmp {
			tmp[i] = byte(v >> (8 * i))
		}
		raw = append(raw, tmp[:]...)
	}
	return base64.StdEncoding.AppendEncode(b, raw[:rawBytes])
}

// appendTime writes t (Unix seconds) as CloudTrail does: RFC 3339, UTC, whole seconds.
func appendTime(b []byte, t int64) []byte {
	return time.Unix(t, 0).UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
}

// jw appends JSON. Every string it writes is generated here from JSON-safe characters, so no
// escaping is needed; fields get their comma from what precedes them.
type jw struct{ b []byte }

func (w *jw) comma() {
	if n := len(w.b); n > 0 {
		if c := w.b[n-1]; c != '{' && c != '[' {
			w.b = append(w.b, ',')
		}
	}
}

func (w *jw) key(k string) {
	w.comma()
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

func (w *jw) str(k, v string) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = append(w.b, v...)
	w.b = append(w.b, '"')
}

// strB is str for a value held in a byte slice.
func (w *jw) strB(k string, v []byte) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = append(w.b, v...)
	w.b = append(w.b, '"')
}

func (w *jw) time(k string, t int64) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = appendTime(w.b, t)
	w.b = append(w.b, '"')
}

func (w *jw) boolean(k string, v bool) {
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
}

func (w *jw) int(k string, v int64) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
}

func (w *jw) null(k string) {
	w.key(k)
	w.b = append(w.b, "null"...)
}

// raw writes k and a preformatted JSON value.
func (w *jw) raw(k, v string) {
	w.key(k)
	w.b = append(w.b, v...)
}

func (w *jw) obj(k string) {
	w.key(k)
	w.b = append(w.b, '{')
}

func (w *jw) arr(k string) {
	w.key(k)
	w.b = append(w.b, '[')
}

// elem starts an object inside an array.
func (w *jw) elem() {
	w.comma()
	w.b = append(w.b, '{')
}

func (w *jw) end()    { w.b = append(w.b, '}') }
func (w *jw) endArr() { w.b = append(w.b, ']') }

// open starts a quoted value for k that the caller appends to w.b and closes with closeStr.
func (w *jw) open(k string) {
	w.key(k)
	w.b = append(w.b, '"')
}

func (w *jw) closeStr() { w.b = append(w.b, '"') }
