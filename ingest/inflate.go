package ingest

import (
	"bytes"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// Whole objects are inflated in one call (inflate, below): trail files are a few MB, read whole
// anyway. Built with the libdeflate tag (make does when libdeflate-dev is installed), inflate is
// libdeflate's, which inflates a trail file in ~40 % of klauspost/compress's time (1M events:
// 0.72 s against 1.83 s on one core; docs/performance.md); without it, inflateGo.

// gzipMagic starts every gzip member.
const gzipMagic = "\x1f\x8b"

// isGzip reports whether b starts like a gzip member, whatever the object's name.
func isGzip(b []byte) bool { return bytes.HasPrefix(b, []byte(gzipMagic)) }

// bom is the UTF-8 byte order mark some tools write first; it is skipped.
const bom = "\xef\xbb\xbf"

// errTooLarge is an object that inflates to more than the limit.
func errTooLarge(limit int) error {
	return fmt.Errorf("larger than %d bytes uncompressed", int64(limit))
}

// inflateGo appends the inflated gzip members of src (concatenated members read as one stream) to
// dst and says how many members there were. More than limit bytes inflated is an error; so is
// anything after the last member that is not a whole member.
func inflateGo(dst, src []byte, limit int) ([]byte, int, error) {
	in := bytes.NewReader(src)
	zr, err := gzip.NewReader(in)
	if err != nil {
		return dst, 0, fmt.Errorf("gzip: %w", err)
	}
	defer zr.Close()
	out := bytes.NewBuffer(dst)
	start, at := len(dst), 0 // at: where the member starts in src
	for members := 1; ; members++ {
		// One member at a time: klauspost's multistream mode takes a truncated header after a
		// member for the end of the stream.
		zr.Multistream(false)
		if _, err := out.ReadFrom(io.LimitReader(zr, int64(limit-(out.Len()-start))+1)); err != nil {
			return out.Bytes(), members, fmt.Errorf("gzip: member at byte %d: %w", at, err)
		}
		if out.Len()-start > limit {
			return out.Bytes(), members, errTooLarge(limit)
		}
		if in.Len() == 0 {
			return out.Bytes(), members, nil
		}
		at = int(in.Size()) - in.Len()
		if err := zr.Reset(in); err != nil {
			return out.Bytes(), members, fmt.Errorf("gzip: member at byte %d: %w", at, err)
		}
	}
}
