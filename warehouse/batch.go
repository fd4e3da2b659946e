package warehouse

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// rowGroupRows is the most rows a lake file's row group holds. The lake's writers keep a row
// group's compressed pages in memory until the group is written: at 32,768 rows an open partition
// costs ~5 MB of them, a quarter of what DuckDB's 122,880 would, and the lake is the same size (the
// 1 MiB pages, not the row groups, decide how well zstd compresses).
const rowGroupRows = 32_768

// maxOpenPartitions is how many event partition files a batch writes at once. Each open file
// holds a page buffer per column (up to 1 MiB each); when a row falls into another partition,
// the file written to least recently is finished. Ingest reads in delivery-date order, so files
// of days behind the run are the ones finished, and a day rarely gets a second file per batch.
const maxOpenPartitions = 3

// bufferedRows bounds the rows a batch holds in row groups still being written, across all its
// open partition files: the lake's writers keep a row group's compressed pages and its
// dictionaries in memory until the group is written out. Past the bound, the partitions holding
// the most rows write theirs out. Ingest reads files in delivery-date order, so few partitions
// are open at once and row groups stay large.
const bufferedRows = 131_072

// Batch collects lake rows and ledger entries that become visible together: Commit writes the
// Parquet files, moves them into the lake and registers them with the ledger entries in one
// catalog transaction. A crash before that transaction leaves only unregistered files, which
// readers never see and the next writer removes.
type Batch struct {
	w          *Writer
	events     map[string]*partFile[EventRow]    // by date
	snaps      map[string]*partFile[SnapshotRow] // by snapshot id and date (snapshotKey)
	ledger     []LedgerEntry
	snapshots  []Snapshot
	watermarks []Watermark
	listings   []Listing
	leftOut    []TrailRegion
	read       []TrailRegion
	coverage   map[coverageKey]Coverage
	digests    []DigestRow
	publicKeys []PublicKey
	finished   []committedFile // event files finished before the commit (see maxOpenPartitions)
	rows       int
	writes     int // AddEvents calls, to find the partition written to least recently
}

// NewBatch starts an empty batch.
func (w *Writer) NewBatch() *Batch {
	return &Batch{w: w, events: map[string]*partFile[EventRow]{}, snaps: map[string]*partFile[SnapshotRow]{}}
}

// Day is the number of the UTC date of t (days since 1970-01-01): the event-date partition, as
// a number that is cheap to compare (formatting a date per row costs measurable ingest time).
func Day(t time.Time) int64 {
	sec := t.Unix()
	day := sec / 86400
	if sec%86400 < 0 {
		day--
	}
	return day
}

// Rows is the number of lake rows added so far.
func (b *Batch) Rows() int { return b.rows }

// AddEvents appends event rows, each to the partition of its UTC event date, stamped with the
// writer's run. The rows are encoded in the background: the caller must leave them (and the
// memory their strings are in) as they are until release is called, which happens on another
// goroutine once the batch holds copies of every value, or when Commit or Abort returns if
// release is nil.
func (b *Batch) AddEvents(rows []EventRow, release func()) error {
	rel := &releaser{f: release}
	rel.n.Store(1)
	defer rel.done()
	for i := range rows {
		rows[i].IngestRun = b.w.run
	}
	for start := 0; start < len(rows); {
		day := Day(rows[start].EventTime)
		end := start + 1
		for end < len(rows) && Day(rows[end].EventTime) == day {
			end++
		}
		date := rows[start].EventTime.UTC().Format(time.DateOnly)
		p, err := part(b.w, b.events, DatasetEvents, date, date)
		if err != nil {
			return err
		}
		b.writes++
		p.lastWrite = b.writes
		if err := b.finishLeastRecent(); err != nil {
			return err
		}
		for i := start; i < end; i++ {
			if isIssuance(&rows[i]) {
				p.issuances = append(p.issuances, issuanceOf(&rows[i]))
			}
		}
		if p.bg == nil {
			p.start()
		}
		if err := p.write(rows[start:end], rel); err != nil {
			return err
		}
		if p.buffered >= rowGroupRows {
			if err := p.flush(); err != nil {
				return err
			}
		}
		b.rows += end - start
		start = end
	}
	return b.flushIfFull()
}

// finishLeastRecent finishes the event file written to least recently when more than
// maxOpenPartitions are open and they hold a row group's worth of rows (below that, open files
// cost little and a small input keeps one file per day).
func (b *Batch) finishLeastRecent() error {
	if len(b.events) <= maxOpenPartitions || b.buffered() < rowGroupRows {
		return nil
	}
	var lru *partFile[EventRow]
	for _, p := range b.events {
		if lru == nil || p.lastWrite < lru.lastWrite {
			lru = p
		}
	}
	delete(b.events, lru.date)
	files, err := lru.seal(b.w.root)
	if err != nil {
		return err
	}
	b.finished = append(b.finished, files...)
	return nil
}

// AddSnapshotRows appends items of snapshot s, stamping each with the snapshot's id, time and
// source and the writer's run. A snapshot's items may come in several calls; RecordSnapshot
// records the snapshot itself.
func (b *Batch) AddSnapshotRows(s Snapshot, rows []SnapshotRow) error {
	if len(rows) == 0 {
		return nil
	}
	for i := range rows {
		rows[i].SnapshotID, rows[i].TakenAt, rows[i].SnapshotSource, rows[i].IngestRun = s.ID, s.TakenAt.UTC(), s.Source, b.w.run
	}
	date := s.TakenAt.UTC().Format(time.DateOnly)
	p, err := part(b.w, b.snaps, DatasetSnapshots, date, s.ID+"/"+date)
	if err != nil {
		return err
	}
	p.snapshot = s.ID
	if err := p.write(rows, nil); err != nil {
		return err
	}
	b.rows += len(rows)
	return b.flushIfFull()
}

// RecordSnapshot records snapshot s (its id, source, time and item count) with the batch.
func (b *Batch) RecordSnapshot(s Snapshot) { b.snapshots = append(b.snapshots, s) }

// recorded is the ids of the snapshots recorded in b.
func (b *Batch) recorded() map[string]bool {
	ids := make(map[string]bool, len(b.snapshots))
	for _, s := range b.snapshots {
		ids[s.ID] = true
	}
	return ids
}

// DropSnapshot deletes the items of snapshot id added so far (its file failed part-way); it is
// not recorded.
func (b *Batch) DropSnapshot(id string) {
	for key, p := range b.snaps {
		if p.snapshot == id {
			p.abort()
			delete(b.snaps, key)
			b.rows -= p.rows
		}
	}
}

// Next starts the batch after b. The files of b's snapshots not recorded in b (their items still
// being added) move to it, so that b can be committed while a large snapshot file is read: its
// files are registered with its record, by the batch that records it. (Holding the commit back
// until the snapshot is whole would let a checkpoint grow past its size for as long as a large
// snapshot is read, and ingest's peak memory with it.)
func (b *Batch) Next() *Batch {
	next := b.w.NewBatch()
	recorded := b.recorded()
	for key, p := range b.snaps {
		if !recorded[p.snapshot] {
			delete(b.snaps, key)
			next.snaps[key] = p
			b.rows -= p.rows
			next.rows += p.rows
		}
	}
	return next
}

// Record adds a ledger entry to commit with the batch.
func (b *Batch) Record(e LedgerEntry) { b.ledger = append(b.ledger, e) }

// Cover records what a file's events speak for, committed with them: rows of the same kind,
// account and region merge into their hull.
func (b *Batch) Cover(c Coverage) {
	if b.coverage == nil {
		b.coverage = map[coverageKey]Coverage{}
	}
	k := coverageKey{c.Kind, c.Account, c.Region}
	if old, ok := b.coverage[k]; ok {
		if old.Oldest.Before(c.Oldest) {
			c.Oldest = old.Oldest
		}
		if old.Newest.After(c.Newest) {
			c.Newest = old.Newest
		}
	}
	b.coverage[k] = c
}

type coverageKey struct{ kind, account, region string }

// AddDigest records a digest file, committed with the batch.
func (b *Batch) AddDigest(d DigestRow) { b.digests = append(b.digests, d) }

// AddPublicKeys records CloudTrail's public keys, committed with the batch.
func (b *Batch) AddPublicKeys(keys []PublicKey) { b.publicKeys = append(b.publicKeys, keys...) }

// SetWatermark records an API sync position, committed with the rows it covers.
func (b *Batch) SetWatermark(w Watermark) { b.watermarks = append(b.watermarks, w) }

// SetListings records how far S3 region prefixes were listed, committed with the batch: the
// caller adds them to the batch that commits the last of what was listed.
func (b *Batch) SetListings(l []Listing) { b.listings = append(b.listings, l...) }

// SetLeftOut records trail regions a listing left out (--regions), committed with the batch.
func (b *Batch) SetLeftOut(r []TrailRegion) { b.leftOut = append(b.leftOut, r...) }

// SetRead records trail regions whose listing was read to the end, committed with the batch:
// they are no longer left out.
func (b *Batch) SetRead(r []TrailRegion) { b.read = append(b.read, r...) }

// buffered is the rows in row groups not yet written out, across the open partition files.
func (b *Batch) buffered() int {
	n := 0
	for _, p := range b.events {
		n += p.buffered
	}
	for _, p := range b.snaps {
		n += p.buffered
	}
	return n
}

// flushIfFull writes out the fullest partitions' row groups, once the batch holds bufferedRows
// in them, until half the bound is left.
func (b *Batch) flushIfFull() error {
	left := b.buffered()
	if left < bufferedRows {
		return nil
	}
	type open struct {
		buffered int
		flush    func() error
	}
	var parts []open
	for _, p := range b.events {
		parts = append(parts, open{p.buffered, p.flush})
	}
	for _, p := range b.snaps {
		parts = append(parts, open{p.buffered, p.flush})
	}
	slices.SortFunc(parts, func(x, y open) int { return y.buffered - x.buffered })
	for _, p := range parts {
		if left <= bufferedRows/2 || p.buffered == 0 {
			break
		}
		left -= p.buffered
		if err := p.flush(); err != nil {
			return err
		}
	}
	return nil
}

// Abort drops the batch: its files are deleted and nothing is registered.
func (b *Batch) Abort() {
	for _, f := range b.finished {
		os.Remove(filepath.Join(b.w.root, f.rel))
	}
	for _, p := range b.events {
		p.abort()
	}
	for _, p := range b.snaps {
		p.abort()
	}
}

// Commit makes the batch's rows and ledger entries visible atomically: Seal, then Register.
func (b *Batch) Commit(ctx context.Context, now time.Time) error {
	if err := b.Seal(); err != nil {
		return err
	}
	return b.Register(ctx, now)
}

// Seal finishes the batch's lake files: each is written out, synced and moved into its
// partition, not yet registered (readers do not see it). The batch takes no more rows, and the
// memory the files were written with is released. Every snapshot with items in the batch must be
// recorded in it (see Next).
func (b *Batch) Seal() error {
	recorded := b.recorded()
	for _, p := range b.snaps {
		if !recorded[p.snapshot] {
			return fmt.Errorf("snapshot %s has items in the batch but no record", p.snapshot)
		}
	}
	return errors.Join(sealAll(b, b.events), sealAll(b, b.snaps))
}

// sealAll finishes every file of m into b.finished and empties m. The files are finished at once,
// one goroutine each: finishing is encoding and compressing a file's last row group, and at a
// checkpoint the readers wait for it (one file after another, the run's last seal keeps one core
// busy for ~0.5 s per 1M events while the other idles).
func sealAll[T any](b *Batch, m map[string]*partFile[T]) error {
	keys := sortedKeys(m)
	files, errs := make([][]committedFile, len(keys)), make([]error, len(keys))
	var wg sync.WaitGroup
	for i, key := range keys {
		p := m[key]
		delete(m, key)
		wg.Go(func() { files[i], errs[i] = p.seal(b.w.root) })
	}
	wg.Wait()
	for _, f := range files {
		b.finished = append(b.finished, f...)
	}
	return errors.Join(errs...)
}
