package ingest

import (
	"slices"
	"sync"
	"unsafe"
)

// fileText holds one file's text (inflated into it by load) and, after it, the stored raw of
// records that could not be stored where they are. The rows' strings are views of it
// (unsafe.String): a record's stored raw is its own bytes, with its eventID's value cut out in
// place (normalizer.storeRaw), so a file costs one buffer and no copy of its records (copying
// them into a buffer of their own was ~4 % of ingest CPU: docs/performance-log.md, seventh round).
// The buffer comes from textBufs and goes back there once the file's rows are written to the lake
// (the batch keeps copies: warehouse's TestAddEventsKeepsNoBytesOfItsRows). Allocating a fresh
// buffer per file made the collector and the page-fault handler work for ~6 % of ingest.
//
// The rule that makes the views safe: bytes handed out are never written again while the buffer
// is in use, the buffer never grows in place (add reports false instead), and it is returned to
// textBufs only by the release the committer hands the batch with the file's rows (it runs once the
// batch has copied them), after putRows cleared every row of its file.
type fileText struct {
	buf []byte
}

// textBufs recycles the buffers of fileText between files. It is a short free list rather than
// a sync.Pool: a pool is emptied by every other collection, and ingest collects often (its heap
// runs near the soft limit), so most files got a fresh buffer (a quarter of all allocation) and
// every fresh buffer brought the next collection closer.
var textBufs struct {
	sync.Mutex
	free [][]byte
}

// freeTexts is how many idle buffers textBufs keeps: about as many as there are files between
// the readers and the lake at once, so that a steady run allocates none.
const freeTexts = 6

// newFileText is a fileText with room for n bytes: the smallest idle buffer that fits, else a
// new one with some room to spare, so that it fits more of the files to come.
func newFileText(n int) *fileText {
	textBufs.Lock()
	best := -1
	for i, b := range textBufs.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(textBufs.free[best])) {
			best = i
		}
	}
	if best >= 0 {
		b := textBufs.free[best]
		textBufs.free = slices.Delete(textBufs.free, best, best+1)
		textBufs.Unlock()
		return &fileText{buf: b[:0]}
	}
	textBufs.Unlock()
	return &fileText{buf: make([]byte, 0, n+n/8)}
}

// fileTextOf is a fileText holding a copy of b.
func fileTextOf(b []byte) *fileText {
	t := newFileText(len(b))
	t.buf = append(t.buf, b...)
	return t
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
	textBufs.Lock()
	defer textBufs.Unlock()
	if len(textBufs.free) < freeTexts {
		textBufs.free = append(textBufs.free, b)
		return
	}
	// Full: keep the larger buffers, which fit more files.
	smallest := 0
	for i, f := range textBufs.free {
		if cap(f) < cap(textBufs.free[smallest]) {
			smallest = i
		}
	}
	if cap(b) > cap(textBufs.free[smallest]) {
		textBufs.free[smallest] = b
	}
}
