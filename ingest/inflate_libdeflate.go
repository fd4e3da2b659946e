//go:build libdeflate

package ingest

/*
#cgo linux LDFLAGS: -l:libdeflate.a
#cgo !linux LDFLAGS: -ldeflate
#include <libdeflate.h>
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"unsafe"
)

// Inflater names the gzip inflate this build has (sentinel --version shows it).
const Inflater = "libdeflate"

// errGzipData is a member libdeflate cannot inflate: corrupt, truncated, or not gzip at all.
var errGzipData = errors.New("invalid or truncated data")

// maxDeflateRatio bounds how much a deflate stream inflates (258 bytes per 2 bits, ~1032:1): a
// member's trailer may lie about its size, and no more room than this is made from it.
const maxDeflateRatio = 1032

// inflate appends the inflated gzip members of src to dst, as inflateGo does, with libdeflate, and
// says how many members there were. libdeflate inflates a member into a buffer that must hold all
// of it: the room made is the size the file's last trailer gives (exact for a file of one member,
// the usual case), doubled until the member fits.
func inflate(dst, src []byte, limit int) ([]byte, int, error) {
	d := C.libdeflate_alloc_decompressor()
	if d == nil {
		return dst, 0, errors.New("gzip: cannot allocate a decompressor")
	}
	defer C.libdeflate_free_decompressor(d)
	start, members := len(dst), 0
	for off := 0; off == 0 || off < len(src); members++ { // an empty src is no member
		rest := src[off:]
		if len(rest) < 18 { // header and trailer of the smallest member
			return dst, members, fmt.Errorf("gzip: member at byte %d: %w", off, errGzipData)
		}
		room := int(binary.LittleEndian.Uint32(src[len(src)-4:]))
		room = max(min(room, maxDeflateRatio*len(rest), limit-(len(dst)-start)+1), 1)
		for {
			dst = slices.Grow(dst, room)
			free := dst[len(dst):cap(dst)]
			var in, out C.size_t
			rc := C.libdeflate_gzip_decompress_ex(d, unsafe.Pointer(&rest[0]), C.size_t(len(rest)),
				unsafe.Pointer(&free[0]), C.size_t(len(free)), &in, &out)
			if rc == C.LIBDEFLATE_SUCCESS {
				dst = dst[:len(dst)+int(out)]
				off += int(in)
				break
			}
			if rc != C.LIBDEFLATE_INSUFFICIENT_SPACE {
				return dst, members, fmt.Errorf("gzip: member at byte %d: %w", off, errGzipData)
			}
			if len(dst)-start+len(free) > limit {
				return dst, members, errTooLarge(limit)
			}
			room = min(2*len(free), limit-(len(dst)-start)+1)
		}
		if len(dst)-start > limit {
			return dst, members, errTooLarge(limit)
		}
	}
	return dst, members, nil
}
