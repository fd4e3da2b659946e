package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// ---------------------------------------------------------------------------------------------
// Deterministic ids and small helpers
// ---------------------------------------------------------------------------------------------

func sum(parts ...string) []byte {
	h := sha256.Sum256([]byte("sentinel-fixtures\x00" + strings.Join(parts, "\x00")))
	return h[:]
}

func uuid4(parts ...string) string {
	h := sum(parts...)
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// b32 returns n characters of [A-Z2-7], the alphabet of AWS key ids.
func b32(n int, parts ...string) string {
	return base32.StdEncoding.EncodeToString(sum(parts...))[:n]
}

func pick(alphabet string, n int, parts ...string) string {
	var out []byte
	for i := 0; len(out) < n; i++ {
		for _, c := range sum(append(parts, strconv.Itoa(i))...) {
			if len(out) < n {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out)
}

func alnumMixed(n int, parts ...string) string {
	return pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", n, parts...)
}

func alnumUpper(n int, parts ...string) string {
	return pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", n, parts...)
}

func digits(n int, parts ...string) string { return "3" + pick("0123456789", n-1, parts...) }

func ts(s string) time.Time {
	t, err := time.Parse(ctTime, s)
	must(err)
	return t
}

// gz compresses deterministically: no file name, zero mtime.
func gz(b []byte) []byte {
	var out bytes.Buffer
	w, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	must(err)
	_, err = w.Write(b)
	must(err)
	must(w.Close())
	return out.Bytes()
}
