package warehouse

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/parquet-go/parquet-go"
)

// partFile is one lake file being written: the rows of one partition (an event date, or a
// snapshot's items of one date) go to a temporary file that finish/seal moves into the lake.
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
