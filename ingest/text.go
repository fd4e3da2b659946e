package ingest

import (
	"sync"
	"unsafe"
)

// fileText holds the stored raw text of one file's records, one buffer sized for the whole file.
// The rows' strings are views of it (unsafe.String), so a file costs one buffer instead of an
// allocation per record; the buffer comes from textBufs and goes back there once the file's rows
// are written to the lake (the batch keeps copies: warehouse's TestAddEventsKeepsNoBytesOfItsRows).
// Allocating a fresh buffer per file made the collector and the page-fault handler work for
// ~6 % of ingest.
//
// The rule that makes the views safe: bytes handed out are never written again while the buffer
// is in use, the buffer never grows in place (add reports false instead), and it is returned to
// textBufs only by the committer, after putRows cleared every row of its file.
type fileText struct {
	buf []byte
}

// textBufs recycles the buffers of fileText between files.
var textBufs sync.Pool

// newFileText is a fileText with room for n bytes.
func newFileText(n int) *fileText {
	if p, ok := textBufs.Get().(*[]byte); ok && cap(*p) >= n {
		return &fileText{buf: (*p)[:0]}
	}
	return &fileText{buf: make([]byte, 0, n)}
}

// add appends the parts and returns them as one string, or false when they do not fit.
func (t *fileText) add(parts ...[]byte) (string, bool) {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if len(t.buf)+n > cap(t.buf) {
		return "", false
	}
	start := len(t.buf)
	for _, p := range parts {
		t.buf = append(t.buf, p...)
	}
	if n == 0 {
		return "", true
	}
	return unsafe.String(&t.buf[start], n), true
}

// release returns the buffer for another file. Only the owner of every row made from it may
// call it, after the rows are written and cleared.
func (t *fileText) release() {
	if t == nil {
		return
	}
	b := t.buf[:0]
	t.buf = nil
	textBufs.Put(&b)
}
