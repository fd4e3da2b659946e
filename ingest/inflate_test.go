package ingest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strings"
	"testing"
)

// gz is text compressed as one gzip member.
func gz(t testing.TB, text string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// inflaters are the inflates a build has: this build's (libdeflate with the libdeflate tag), the
// pure-Go one and the stream's (snapshot files), which must agree. The stream does not count
// members (-1).
var inflaters = map[string]func(dst, src []byte, limit int) ([]byte, int, error){
	Inflater: inflate, "inflateGo": inflateGo, "stream": inflateStream,
}

// inflateStream is inflate through gzipMembers.
func inflateStream(dst, src []byte, limit int) ([]byte, int, error) {
	g, err := newGzipMembers(bytes.NewReader(src))
	if err != nil {
		return dst, -1, fmt.Errorf("gzip: %w", err)
	}
	defer g.zr.Close()
	out := bytes.NewBuffer(dst)
	n, err := out.ReadFrom(io.LimitReader(g, int64(limit)+1))
	if err != nil {
		return out.Bytes(), -1, fmt.Errorf("gzip: %w", err)
	}
	if n > int64(limit) {
		return out.Bytes(), -1, errTooLarge(limit)
	}
	return out.Bytes(), -1, nil
}

// TestInflate: whole gzip objects inflate to their text, concatenated members as one text, after
// what dst held; damaged input, anything after the last member and output past the limit fail
// with a reason.
func TestInflate(t *testing.T) {
	big := strings.Repeat(`{"eventID":"e","eventName":"GetObject"},`, 50_000)
	one, small := gz(t, big), gz(t, "tail")
	corrupt := bytes.Clone(one)
	corrupt[len(corrupt)-6] ^= 0xff // the CRC
	cases := []struct {
		name    string
		in      []byte
		limit   int
		want    string
		members int
		err     string
	}{
		{"one_member", one, maxObjectBytes, big, 1, ""},
		// The last trailer is small: the room made for the first member must grow.
		{"members_larger_first", append(bytes.Clone(one), small...), maxObjectBytes, big + "tail", 2, ""},
		{"members_larger_last", append(bytes.Clone(small), one...), maxObjectBytes, "tail" + big, 2, ""},
		{"three_members", append(append(bytes.Clone(small), small...), small...), maxObjectBytes, "tailtailtail", 3, ""},
		{"empty_member", gz(t, ""), maxObjectBytes, "", 1, ""},
		{"exactly_the_limit", one, len(big), big, 1, ""},
		{"past_the_limit", one, len(big) - 1, "", 0, "larger than"},
		{"past_the_limit_in_a_later_member", append(bytes.Clone(small), one...), len(big), "", 0, "larger than"},
		{"truncated", one[:len(one)/2], maxObjectBytes, "", 0, "gzip: "},
		{"bad_checksum", corrupt, maxObjectBytes, "", 0, "gzip: "},
		{"garbage_after_the_member", append(bytes.Clone(small), "garbage"...), maxObjectBytes, "", 0, "gzip: "},
		{"zeros_after_the_member", append(bytes.Clone(small), make([]byte, 32)...), maxObjectBytes, "", 0, "gzip: "},
		{"header_only", one[:10], maxObjectBytes, "", 0, "gzip: "},
	}
	for name, fn := range inflaters {
		for _, c := range cases {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				got, members, err := fn([]byte("kept:"), c.in, c.limit)
				if c.err != "" {
					if err == nil || !strings.HasPrefix(err.Error(), c.err) {
						t.Fatalf("error %v, want one starting with %q", err, c.err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != "kept:"+c.want {
					t.Fatalf("inflated %d bytes, want %d (kept: and the text)", len(got), len("kept:"+c.want))
				}
				if members >= 0 && members != c.members {
					t.Fatalf("%d members, want %d", members, c.members)
				}
			})
		}
	}
}

// FuzzInflate: this build's inflate, the pure-Go one and the stream's agree on every input, gzip'd or damaged:
// the same text, or both an error.
func FuzzInflate(f *testing.F) {
	f.Add(gz(f, `{"Records":[]}`))
	f.Add(append(gz(f, "a"), gz(f, "bc")...))
	f.Add(gz(f, strings.Repeat("x", 5000))[:40])
	f.Add([]byte("\x1f\x8b"))
	f.Fuzz(func(t *testing.T, in []byte) {
		const limit = 1 << 20
		want, wantMembers, wantErr := inflateGo(nil, in, limit)
		for name, fn := range inflaters {
			got, members, err := fn(nil, in, limit)
			if (err == nil) != (wantErr == nil) || err == nil && !bytes.Equal(got, want) {
				t.Fatalf("%s: %d bytes, %v; inflateGo: %d bytes, %v", name, len(got), err, len(want), wantErr)
			}
			if err == nil && members >= 0 && members != wantMembers {
				t.Fatalf("%s: %d members, inflateGo %d", name, members, wantMembers)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "gzip: ") && !strings.HasPrefix(err.Error(), "larger than") {
				t.Fatalf("%s: error without its kind: %v", name, err)
			}
		}
	})
}
