package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parquet-go/parquet-go"
)

// rowGroupRows is the most rows a lake file's row group holds. parquet-go keeps a row group's
// compressed pages in memory until the group is written: at 32,768 rows an open partition costs
// ~5 MB of them, a quarter of what DuckDB's 122,880 would, and the lake is the same size (the
// 1 MiB pages, not the row groups, decide how well zstd compresses).
const rowGroupRows = 32_768

// maxOpenPartitions is how many event partition files a batch writes at once. Each open file
// holds a page buffer per column (up to 1 MiB each); when a row falls into another partition,
// the file written to least recently is finished. Ingest reads in delivery-date order, so files
// of days behind the run are the ones finished, and a day rarely gets a second file per batch.
const maxOpenPartitions = 3

// bufferedRows bounds the rows a batch holds in row groups still being written, across all its
// open partition files: parquet-go keeps a row group's compressed pages and its dictionaries in
// memory until the group is written out. Past the bound, the partitions holding the most rows
// write theirs out. Ingest reads files in delivery-date order, so few partitions are open at once
// and row groups stay large.
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
	finished   []committedFile // event files finished before the commit (see maxOpenPartitions)
	rows       int
	writes     int // AddEvents calls, to find the partition written to least recently
}

type partFile[T any] struct {
	dataset, date string
	snapshot      string // the snapshot whose items it holds (session_snapshots files)
	tmp           string
	f             *os.File
	pw            rowWriter[T]
	rows          int
	buffered      int
	lastWrite     int
	issuances     []IssuanceRow  // rows of the events file's issuances file
	bg            *background[T] // nil: rows are written in the caller's goroutine
}

// background writes a partition file's rows in a goroutine of its own: encoding and compressing
// them is most of a batch's work, and it runs beside the caller (ingest's committer) instead of
// in turn with it. Jobs run in the order they are sent; the caller keeps all the bookkeeping
// (row counts, when to flush), so only the goroutine touches the Parquet writer until wait.
type background[T any] struct {
	jobs chan writeJob[T]
	done chan struct{}
	err  atomic.Pointer[error] // the first error; the jobs after it only release their rows
}

// writeJob writes rows, or with flush set writes the rows held in memory out as a row group.
type writeJob[T any] struct {
	rows  []T
	flush bool
	rel   *releaser
}

// backgroundJobs is how many jobs may wait for a partition's goroutine: enough that the caller
// rarely waits while a row group is compressed, few because each holds its rows' memory.
const backgroundJobs = 1

func (p *partFile[T]) start() {
	bg := &background[T]{jobs: make(chan writeJob[T], backgroundJobs), done: make(chan struct{})}
	p.bg = bg
	go func() {
		defer close(bg.done)
		for j := range bg.jobs {
			if bg.err.Load() == nil {
				var err error
				if j.flush {
					err = p.flushNow()
				} else {
					err = p.writeNow(j.rows)
				}
				if err != nil {
					bg.err.Store(&err)
				}
			}
			j.rel.done()
		}
	}()
}

// failed is the error the background goroutine stopped at, if any.
func (p *partFile[T]) failed() error {
	if p.bg == nil {
		return nil
	}
	if err := p.bg.err.Load(); err != nil {
		return *err
	}
	return nil
}

// wait lets the background goroutine finish its jobs and stop; the file is written in the
// caller's goroutine from then on.
func (p *partFile[T]) wait() error {
	if p.bg == nil {
		return nil
	}
	close(p.bg.jobs)
	<-p.bg.done
	err := p.failed()
	p.bg = nil
	return err
}

// releaser calls f once every part of one AddEvents call's rows is written.
type releaser struct {
	n atomic.Int32
	f func()
}

func (r *releaser) done() {
	if r != nil && r.n.Add(-1) == 0 && r.f != nil {
		r.f()
	}
}

// NewBatch starts an empty batch.
func (w *Writer) NewBatch() *Batch {
	return &Batch{w: w, events: map[string]*partFile[EventRow]{}, snaps: map[string]*partFile[SnapshotRow]{}}
}

// Day is the number of the UTC date of t (days since 1970-01-01): the event-date partition, as
// a number that is cheap to compare (a formatted date per row was measurable).
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
// until the snapshot was whole let a checkpoint grow past its size while a 175k-item snapshot was
// read: 4M events peaked at up to 340 MiB instead of ~290.)
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

// SetWatermark records an API sync position, committed with the rows it covers.
func (b *Batch) SetWatermark(w Watermark) { b.watermarks = append(b.watermarks, w) }

// part is the file of m under key (a file of dataset's partition date), created if m has none.
func part[T any](w *Writer, m map[string]*partFile[T], dataset, date, key string) (*partFile[T], error) {
	if p := m[key]; p != nil {
		return p, nil
	}
	w.seq++
	tmp := filepath.Join(w.root, lakeName, tmpName, fmt.Sprintf("%s-%06d-%06d.parquet", dataset, w.run, w.seq))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return nil, fmt.Errorf("create lake file: %w", err)
	}
	pw, err := newRowWriter[T](f)
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, err
	}
	p := &partFile[T]{dataset: dataset, date: date, tmp: tmp, f: f, pw: pw}
	m[key] = p
	return p, nil
}

// rowWriter writes a lake file's rows.
type rowWriter[T any] interface {
	Write(rows []T) (int, error)
	Flush() error // writes the rows so far out as a row group
	Close() error // writes the footer
}

// newRowWriter starts a lake file of T rows on f: events files are written by the column writer,
// session snapshots (a few rows per event file's thousands) by parquet-go, with 1 MiB pages like
// the column writer's and 2*rowGroupRows rows at most per row group.
func newRowWriter[T any](f *os.File) (rowWriter[T], error) {
	if _, ok := any(new(T)).(*EventRow); ok {
		l, err := eventLayout()
		if err != nil {
			return nil, err
		}
		return newColumnWriter[T](f, l)
	}
	return parquet.NewGenericWriter[T](f, append([]parquet.WriterOption{parquet.Compression(lakeCodec),
		parquet.MaxRowsPerRowGroup(maxGroupRows), parquet.PageBufferSize(pageBytes)}, statisticsOptions[T]()...)...), nil
}

// statisticsKept are the lake columns that carry min/max statistics: the times a query filters on,
// which DuckDB prunes row groups of a time window with. Other columns' statistics cost ~5 % of
// ingest (a comparison per value; for raw, a whole record as min and max in every page header and
// the footer, 7 % of raw's size) and prune nothing: ids are random, names repeat in every row group.
var statisticsKept = map[string]bool{"event_time": true, "taken_at": true}

// statisticsOptions are the writer options that leave out the statistics of the columns of T
// not in statisticsKept.
func statisticsOptions[T any]() []parquet.WriterOption {
	var opts []parquet.WriterOption
	for _, f := range parquet.SchemaOf(new(T)).Fields() {
		if !statisticsKept[f.Name()] {
			opts = append(opts, parquet.SkipPageStatistics(f.Name()), parquet.SkipPageBounds(f.Name()))
		}
	}
	return opts
}

// write adds rows to the file, in the background when the file has a goroutine (rel is told
// when they are written).
func (p *partFile[T]) write(rows []T, rel *releaser) error {
	p.rows += len(rows)
	p.buffered += len(rows)
	if p.bg == nil {
		return p.writeNow(rows)
	}
	if err := p.failed(); err != nil {
		return err
	}
	rel.n.Add(1)
	p.bg.jobs <- writeJob[T]{rows: rows, rel: rel}
	return nil
}

func (p *partFile[T]) writeNow(rows []T) error {
	if _, err := p.pw.Write(rows); err != nil {
		return fmt.Errorf("write lake file %s: %w", p.tmp, err)
	}
	return nil
}

// flush writes the rows the file holds in memory as a row group.
func (p *partFile[T]) flush() error {
	p.buffered = 0
	if p.bg == nil {
		return p.flushNow()
	}
	if err := p.failed(); err != nil {
		return err
	}
	p.bg.jobs <- writeJob[T]{flush: true}
	return nil
}

func (p *partFile[T]) flushNow() error {
	if err := p.pw.Flush(); err != nil {
		return fmt.Errorf("write lake file %s: %w", p.tmp, err)
	}
	return nil
}

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

// finish closes the Parquet file, syncs it and moves it into its partition; it returns the
// lake-relative path and size.
func (p *partFile[T]) finish(root string) (string, int64, error) {
	if err := p.wait(); err != nil {
		p.f.Close()
		return "", 0, err
	}
	if err := p.pw.Close(); err != nil {
		p.f.Close()
		return "", 0, fmt.Errorf("finish lake file %s: %w", p.tmp, err)
	}
	if err := p.f.Sync(); err != nil {
		p.f.Close()
		return "", 0, fmt.Errorf("sync lake file %s: %w", p.tmp, err)
	}
	if err := p.f.Close(); err != nil {
		return "", 0, fmt.Errorf("close lake file %s: %w", p.tmp, err)
	}
	return p.move(root)
}

// move puts the finished file into its partition and returns its lake-relative path and size.
func (p *partFile[T]) move(root string) (string, int64, error) {
	rel := filepath.Join(partitionDir(p.dataset, p.date), "part-"+filepath.Base(p.tmp)[len(p.dataset)+1:])
	size, err := place(root, p.tmp, rel)
	return rel, size, err
}

// place moves the finished file tmp to rel (relative to root) and returns its size.
func place(root, tmp, rel string) (int64, error) {
	st, err := os.Stat(tmp)
	if err != nil {
		return 0, fmt.Errorf("stat lake file %s: %w", tmp, err)
	}
	dir := filepath.Dir(rel)
	if err := os.MkdirAll(filepath.Join(root, dir), dirMode); err != nil {
		return 0, fmt.Errorf("create partition %s: %w", dir, err)
	}
	if err := os.Rename(tmp, filepath.Join(root, rel)); err != nil {
		return 0, fmt.Errorf("move lake file into %s: %w", dir, err)
	}
	if err := syncDir(filepath.Join(root, dir)); err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func (p *partFile[T]) abort() {
	p.wait()
	p.f.Close()
	os.Remove(p.tmp)
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

type committedFile struct {
	rel, dataset, date string
	rows               int
	bytes              int64
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
// checkpoint the readers wait for it (the run's last seal had one core busy for ~0.5 s per 1M
// events when the files were finished one after another).
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

// seal finishes the file (see finish) and describes it for the commit, followed by its issuances
// file if it is an events file; a file that could not be finished is deleted.
func (p *partFile[T]) seal(root string) ([]committedFile, error) {
	rel, size, err := p.finish(root)
	if err != nil {
		os.Remove(p.tmp)
		return nil, err
	}
	files := []committedFile{{rel, p.dataset, p.date, p.rows, size}}
	if p.dataset == DatasetEvents {
		tmp := filepath.Join(filepath.Dir(p.tmp), DatasetIssuances+strings.TrimPrefix(filepath.Base(p.tmp), p.dataset))
		f, err := writeIssuancesFile(root, tmp, rel, p.date, p.issuances)
		if err != nil {
			os.Remove(filepath.Join(root, rel))
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// Register records the sealed batch's files, ledger entries, snapshots and watermarks in the
// catalog in one transaction, which makes them visible to readers. It may run on another
// goroutine while the writer's next batch is filled (ingest registers in the background), but
// batches register one at a time, in the order their entries must be recorded.
func (b *Batch) Register(ctx context.Context, now time.Time) error {
	files := b.finished
	db, err := openCatalog(ctx, CatalogPath(b.w.root))
	if err != nil {
		return err
	}
	defer db.Close()
	err = inConnTx(ctx, db, func(tx *sql.Conn) error {
		for _, f := range files {
			if _, err := tx.ExecContext(ctx, `INSERT INTO lake_files VALUES (?, ?, ?::DATE, ?, ?, ?, ?)`,
				f.rel, f.dataset, f.date, f.rows, f.bytes, b.w.run, now.UTC()); err != nil {
				return fmt.Errorf("register lake file %s: %w", f.rel, err)
			}
		}
		for _, s := range b.snapshots {
			if _, err := tx.ExecContext(ctx, `INSERT INTO snapshots VALUES (?, ?, ?, ?, ?)`,
				s.ID, s.Source, s.TakenAt.UTC(), s.Items, b.w.run); err != nil {
				return fmt.Errorf("record snapshot %s: %w", s.ID, err)
			}
		}
		for _, wm := range b.watermarks {
			if _, err := tx.ExecContext(ctx, `INSERT INTO watermarks (source, account, region, watermark, updated_run, covered_from)
				VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source, account, region) DO UPDATE SET watermark = excluded.watermark,
				updated_run = excluded.updated_run, covered_from = excluded.covered_from`,
				wm.Source, wm.Account, wm.Region, wm.Watermark.UTC(), b.w.run, nullTime(wm.CoveredFrom)); err != nil {
				return fmt.Errorf("record watermark %s/%s: %w", wm.Account, wm.Region, err)
			}
		}
		return upsertLedger(ctx, tx, b.ledger, b.w.run, now)
	})
	if err != nil {
		return fmt.Errorf("commit to catalog: %w", err)
	}
	for _, f := range files {
		b.w.register(f.dataset, f.date, f.rel)
	}
	return nil
}

// ledgerChunk is how many ledger entries go into one INSERT: one statement per entry costs a
// round trip through DuckDB's planner each, which dominated runs over many small files.
const ledgerChunk = 256

func upsertLedger(ctx context.Context, tx execer, entries []LedgerEntry, run int64, now time.Time) error {
	const row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	entries = lastPerSource(entries)
	for len(entries) > 0 {
		chunk := entries[:min(ledgerChunk, len(entries))]
		entries = entries[len(chunk):]
		args := make([]any, 0, 16*len(chunk))
		for _, e := range chunk {
			args = append(args, e.Source, e.Kind, e.Size, nullTime(e.MTime), nullString(e.ETag), e.Status,
				nullString(e.Error), e.Events, e.Stored, e.Duplicates, e.OutOfWindow, nullTime(e.WindowStart),
				nullTime(e.WindowEnd), run, run, now.UTC())
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO ingest_files (source, kind, size, mtime, etag, status, error, events, stored,
		duplicates, out_of_window, window_start, window_end, first_run, last_run, ingested_at)
		VALUES `+strings.TrimSuffix(strings.Repeat(row+", ", len(chunk)), ", ")+`
		ON CONFLICT (source) DO UPDATE SET kind = excluded.kind, size = excluded.size, mtime = excluded.mtime,
		etag = excluded.etag, status = excluded.status, error = excluded.error, events = excluded.events,
		stored = excluded.stored, duplicates = excluded.duplicates, out_of_window = excluded.out_of_window,
		window_start = excluded.window_start, window_end = excluded.window_end, last_run = excluded.last_run,
		ingested_at = excluded.ingested_at`, args...)
		if err != nil {
			return fmt.Errorf("record %d sources in the ledger (first %s): %w", len(chunk), chunk[0].Source, err)
		}
	}
	return nil
}

// lastPerSource keeps the last entry of each source (one statement cannot update a row twice).
func lastPerSource(entries []LedgerEntry) []LedgerEntry {
	last := make(map[string]int, len(entries))
	for i, e := range entries {
		last[e.Source] = i
	}
	if len(last) == len(entries) {
		return entries
	}
	out := make([]LedgerEntry, 0, len(last))
	for i, e := range entries {
		if last[e.Source] == i {
			out = append(out, e)
		}
	}
	return out
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// writeSchemaFiles writes a zero-row file per dataset outside the lake: readers use it to give
// the views their columns while the lake is still empty.
func writeSchemaFiles(root string) error {
	if err := writeEmpty[EventRow](schemaFile(root, DatasetEvents)); err != nil {
		return err
	}
	return writeEmpty[SnapshotRow](schemaFile(root, DatasetSnapshots))
}

func writeEmpty[T any](path string) error {
	if err := os.MkdirAll(filepath.Dir(path), dirMode); err != nil {
		return fmt.Errorf("create schema directory: %w", err)
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fileMode)
	if err != nil {
		return fmt.Errorf("write schema file: %w", err)
	}
	pw := parquet.NewGenericWriter[T](f, parquet.Compression(lakeCodec))
	if err := errors.Join(pw.Close(), f.Close()); err != nil {
		return fmt.Errorf("write schema file %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write schema file %s: %w", path, err)
	}
	return nil
}
