package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"golang.org/x/sync/semaphore"
)

// DefaultS3Concurrency is how many S3 objects are read ahead of the parse workers at once
// (--s3-concurrency): a bucket answers each request tens of milliseconds late, so reads in flight,
// not CPUs, set the pace of an S3 ingest.
const DefaultS3Concurrency = 64

// readAheadBytes bounds the bytes (as stored) of the objects read ahead and not yet parsed, so
// that memory stays flat whatever the concurrency: 64 reads of 5 KB trail files fit many times,
// and large files wait for room instead of piling up.
const readAheadBytes = 32 << 20

// readyObjects is how many objects read ahead, per read in flight, may wait for a worker.
const readyObjects = 4

// fetchAhead hands the jobs to the parse workers, S3 trail log and digest files read ahead (each
// handed over when its read ends, so not in the jobs' order): up to concurrency of them are
// fetched at once, and those fetched but not yet parsed
// hold at most budget bytes (an object larger than the budget is read alone). A fetched object's
// open returns its bytes; the room it took is given back when the worker closes it. A read that
// fails is handed over too: its open returns the error, as reading it in place would have. Other
// objects (local files, snapshots, which are streamed) go to the workers as they are.
func fetchAhead(ctx context.Context, jobs []job, concurrency int, budget int64, in chan<- job) {
	defer close(in)
	room := semaphore.NewWeighted(budget)
	slots := make(chan struct{}, max(concurrency, 1))
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, j := range jobs {
		if !readAhead(j.obj) {
			select {
			case in <- j:
				continue
			case <-ctx.Done():
				return
			}
		}
		need := min(max(j.obj.size, 1), budget)
		if err := room.Acquire(ctx, need); err != nil {
			return
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			room.Release(need)
			return
		}
		wg.Go(func() {
			defer func() { <-slots }() // a slot is held until the object is queued for the workers
			j.obj.open = fetched(ctx, j.obj, func() { room.Release(need) })
			select {
			case in <- j:
			case <-ctx.Done():
			}
		})
	}
}

// readAhead reports whether o is read ahead of the workers: an S3 trail log or digest file small
// enough to hold whole (a larger one fails when a worker reads it, as it always did).
func readAhead(o object) bool {
	return strings.HasPrefix(o.source, "s3://") && (o.kind == kindTrail || o.kind == kindDigest) && o.size <= maxObjectBytes
}

// fetched reads o whole now and returns an open that gives its bytes (or the error of the read);
// release is called once, when the body is closed or the read failed.
func fetched(ctx context.Context, o object, release func()) func(context.Context) (io.ReadCloser, error) {
	body, err := o.open(ctx)
	if err != nil {
		release()
		return func(context.Context) (io.ReadCloser, error) { return nil, err }
	}
	var meta map[string]string
	if m, ok := body.(withMetadata); ok {
		meta = m.meta
	}
	buf := bytes.NewBuffer(make([]byte, 0, o.size+bytes.MinRead))
	_, err = buf.ReadFrom(io.LimitReader(body, maxObjectBytes+1))
	body.Close()
	if err != nil {
		release()
		err = fmt.Errorf("read: %w", err)
		return func(context.Context) (io.ReadCloser, error) { return nil, err }
	}
	b := &readAheadBody{Reader: bytes.NewReader(buf.Bytes()), release: release}
	return func(context.Context) (io.ReadCloser, error) { return withMetadata{b, meta}, nil }
}

// readAheadBody is an object's bytes read ahead; closing it gives their room back, once.
type readAheadBody struct {
	*bytes.Reader
	release func()
	once    sync.Once
}

func (b *readAheadBody) Close() error {
	b.once.Do(b.release)
	return nil
}
