package ingest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/sentinel-audit/sentinel/integrity"
	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/valyala/fastjson"
)

// run starts the readers (opts.Workers parse workers, fed by fetchAhead, which has up to
// opts.S3Concurrency S3 objects in flight), the API syncs and the table scan; outcomes arrive in
// completion order and the channel closes when all are done or ctx is cancelled.
func (p *work) run(ctx context.Context, opts Options) <-chan outcome {
	out := make(chan outcome, opts.Workers)
	emit := sender(ctx, out)
	var wg sync.WaitGroup
	// Objects read ahead wait here for a worker, so that a worker's pause (the committer's
	// checkpoint, a large file) does not stop the reads in flight; their bytes stay bounded by
	// fetchAhead's budget.
	in := make(chan job, readyObjects*opts.S3Concurrency)
	for range opts.Workers {
		wg.Go(func() {
			r := &reader{keys: p.keys}
			for j := range in {
				if !emit(r.read(ctx, j, emit)) {
					return
				}
			}
		})
	}
	wg.Go(func() { fetchAhead(ctx, p.jobs, opts.S3Concurrency, readAheadBytes, in) })
	for _, s := range p.syncs {
		wg.Go(func() { s.run(ctx, emit) })
	}
	if p.scan != nil {
		wg.Go(func() { emit(scanTable(ctx, p.scanner, *p.scan, opts.Now(), emit)) })
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}

// sender sends outcomes to out until ctx is done; it reports whether the outcome was sent.
func sender(ctx context.Context, out chan<- outcome) func(outcome) bool {
	return func(oc outcome) bool {
		select {
		case out <- oc:
			return true
		case <-ctx.Done():
			return false
		}
	}
}

// rowSlices recycles the row slices of outcomes: the committer hands a file's rows to the
// batch (which copies them into Parquet pages) and the slice goes back to a reader.
var rowSlices sync.Pool

func getRows() []warehouse.EventRow {
	if p, ok := rowSlices.Get().(*[]warehouse.EventRow); ok {
		return (*p)[:0]
	}
	return nil
}

// putRows recycles rows, cleared so that they keep no file's text alive.
func putRows(rows []warehouse.EventRow) {
	if cap(rows) == 0 {
		return
	}
	clear(rows)
	rows = rows[:0]
	rowSlices.Put(&rows)
}

// reader is one worker's reusable state.
type reader struct {
	stored []byte // the object as stored (load)
	text   []byte // a gzip object inflated (load)
	split  splitter
	norm   normalizer
	keys   []integrity.PublicKey // CloudTrail's, to check digest signatures with
}

// read reads one object. A large snapshot file is handed over in parts through emit before the
// outcome read returns.
func (r *reader) read(ctx context.Context, j job, emit func(outcome) bool) outcome {
	defer r.release()
	oc := outcome{job: j}
	switch j.obj.kind {
	case kindSnapshot:
		r.readSnapshot(ctx, &oc, emit)
		return oc
	case kindDigest:
		r.readDigest(ctx, &oc, r.keys)
		return oc
	}
	data, text, members, err := r.loadText(ctx, j.obj)
	if err != nil {
		oc.err = err
		return oc
	}
	if coverageKind(j.obj) == warehouse.CoverageTrail {
		// What the trail's digest lists: the SHA-256 of every byte the file inflates to.
		oc.contentSHA256, oc.gzipMembers = integrity.HashOf(text.buf).String(), members
	}
	oc.text = text
	r.norm.setFile(data, oc.text)
	defer r.norm.setFile(nil, nil)
	oc.rows = getRows()
	// keep keeps the last row when it is in the window.
	keep := func() {
		row := &oc.rows[len(oc.rows)-1]
		if !j.window.Contains(row.EventTime) {
			oc.rows = oc.rows[:len(oc.rows)-1]
			oc.outOfWindow++
			return
		}
		row.SourceFile = j.obj.source
	}
	r.split.element = r.norm.elementEnd
	r.split.fast = func(k int, raw []byte) (taken, insight bool) {
		oc.rows = append(oc.rows, warehouse.EventRow{})
		row := &oc.rows[len(oc.rows)-1]
		if !r.norm.normalizeFast(raw, k, row) {
			oc.rows = oc.rows[:len(oc.rows)-1]
			return false, false
		}
		if row.EventType != nil && *row.EventType == insightEventType {
			oc.rows = oc.rows[:len(oc.rows)-1]
			return true, true
		}
		keep()
		return true, false
	}
	split, err := r.split.split(data, func(i int, rec *fastjson.Value, raw []byte) error {
		oc.rows = append(oc.rows, warehouse.EventRow{})
		row := &oc.rows[len(oc.rows)-1]
		if err := r.norm.normalize(rec, raw, row); err != nil {
			oc.rows = oc.rows[:len(oc.rows)-1]
			oc.reject(fmt.Sprintf("record %d: %v", i+1, err))
			return nil
		}
		keep()
		return nil
	})
	oc.found, oc.skipped, oc.err = int64(split.found), int64(split.skipped), err
	oc.coverage = coverageOf(oc.rows, coverageKind(j.obj))
	if err == nil {
		for _, reason := range split.reasons {
			oc.reject(reason)
		}
		oc.rejectedN += int64(split.rejected - len(split.reasons))
	}
	return oc
}

// snapshotChunk is how many items of a snapshot file are handed to the committer at once.
const snapshotChunk = 8192

// readSnapshot reads a snapshot: one file, or every data file of a DynamoDB export (taken at the
// exportTime of its manifest, when it has one).
func (r *reader) readSnapshot(ctx context.Context, oc *outcome, emit func(outcome) bool) {
	parts := oc.parts
	if len(parts) == 0 && oc.manifest == nil {
		parts = []object{oc.obj}
	}
	if oc.manifest != nil {
		if oc.takenAt, oc.err = r.exportTime(ctx, *oc.manifest); oc.err != nil {
			return
		}
	}
	r.readSnapshotParts(ctx, oc, parts, emit)
}

// readSnapshotParts reads the items of a snapshot's files as streams, so that neither its items
// nor its text need be held all at once. Unless the snapshot's time is known (an export's), a
// first pass finds it (the newest change any item records, which every row is stamped and
// partitioned with) and checks that every file reads; then the items are handed over in chunks of
// snapshotChunk, as partial outcomes, the last ones in oc. A snapshot that does not read whole
// stores nothing (see committer.store).
func (r *reader) readSnapshotParts(ctx context.Context, oc *outcome, parts []object, emit func(outcome) bool) {
	if oc.takenAt.IsZero() {
		var newest time.Time
		for _, part := range parts {
			if _, err := eachSnapshotItemOf(ctx, part, func(row warehouse.SnapshotRow) error {
				newest = newestChange(newest, row)
				return nil
			}); err != nil {
				oc.err = fmt.Errorf("%s: %w", part.display, err)
				return
			}
		}
		oc.takenAt = newest
		if newest.IsZero() {
			oc.takenAt = oc.obj.mtime.UTC()
		}
	}
	var rows []warehouse.SnapshotRow
	for _, part := range parts {
		problems, err := eachSnapshotItemOf(ctx, part, func(row warehouse.SnapshotRow) error {
			rows = append(rows, row)
			if len(rows) < snapshotChunk {
				return nil
			}
			oc.found += int64(len(rows))
			if !emit(outcome{job: oc.job, snapRows: rows, takenAt: oc.takenAt, partial: true}) {
				return ctx.Err()
			}
			rows = nil
			return nil
		})
		oc.found += int64(len(problems))
		for _, p := range problems {
			oc.reject(part.display + ": " + p)
		}
		if err != nil {
			oc.err = fmt.Errorf("%s: %w", part.display, err)
			break
		}
	}
	oc.snapRows = rows
	oc.found += int64(len(rows))
}

// eachSnapshotItemOf opens o and reads its items as eachSnapshotItem does.
func eachSnapshotItemOf(ctx context.Context, o object, fn func(warehouse.SnapshotRow) error) ([]string, error) {
	in, err := openStream(ctx, o)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	return eachSnapshotItem(in, fn)
}

// keptBuffer is the largest read buffer a reader keeps between objects: trail files are a few
// MB, and one large snapshot file must not keep its size resident for the rest of the run.
const keptBuffer = 16 << 20

func (r *reader) release() {
	if cap(r.stored) > keptBuffer {
		r.stored = nil
	}
	if cap(r.text) > keptBuffer {
		r.text = nil
	}
}

// load reads a whole object: inflated when it is gzip (detected by its magic bytes, whatever the
// name; concatenated members read as one), without a leading byte order mark, and failing past
// maxObjectBytes. The bytes are the reader's until its next load.
func (r *reader) load(ctx context.Context, o object) ([]byte, error) {
	data, _, err := r.readStored(ctx, o)
	if err != nil {
		return nil, err
	}
	if isGzip(data) {
		if r.text, _, err = inflate(r.text[:0], data, maxObjectBytes); err != nil {
			return nil, err
		}
		data = r.text
	}
	return withoutBOM(data)
}

// loadText is load into a fileText of the object's own, which the rows made from it may keep
// views of until it is released. It also says how many gzip members the object had (0: not gzip);
// the text's buf is every byte inflated, BOM included.
func (r *reader) loadText(ctx context.Context, o object) ([]byte, *fileText, int, error) {
	stored, _, err := r.readStored(ctx, o)
	if err != nil {
		return nil, nil, 0, err
	}
	var t *fileText
	members := 0
	if isGzip(stored) {
		// A gzip trailer ends with the size of its member: the file's, for one member.
		size := 0
		if len(stored) >= 4 {
			size = int(min(binary.LittleEndian.Uint32(stored[len(stored)-4:]), maxObjectBytes))
		}
		t = newFileText(size)
		if t.buf, members, err = inflate(t.buf, stored, maxObjectBytes); err != nil {
			t.release()
			return nil, nil, 0, err
		}
	} else {
		t = fileTextOf(stored)
	}
	data, err := withoutBOM(t.buf)
	if err != nil {
		t.release()
		return nil, nil, 0, err
	}
	return data, t, members, nil
}

// readStored reads a whole object as stored into the reader's buffer, failing past maxObjectBytes,
// with its S3 user metadata (nil for a local file).
func (r *reader) readStored(ctx context.Context, o object) ([]byte, map[string]string, error) {
	body, err := o.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer body.Close()
	var meta map[string]string
	if m, ok := body.(withMetadata); ok {
		meta = m.meta
	}
	// The size is known: one allocation instead of a buffer doubling its way up.
	buf := bytes.NewBuffer(slices.Grow(r.stored[:0], int(min(max(o.size, 0), maxObjectBytes+1))+bytes.MinRead))
	_, err = buf.ReadFrom(io.LimitReader(body, maxObjectBytes+1))
	r.stored = buf.Bytes()
	if err != nil {
		return nil, nil, fmt.Errorf("read: %w", err)
	}
	if len(r.stored) > maxObjectBytes {
		return nil, nil, errTooLarge(maxObjectBytes)
	}
	return r.stored, meta, nil
}

// withoutBOM is data without a leading byte order mark; an empty file is an error.
func withoutBOM(data []byte) ([]byte, error) {
	data = bytes.TrimPrefix(data, []byte(bom))
	if len(data) == 0 {
		return nil, errors.New("empty file")
	}
	return data, nil
}
