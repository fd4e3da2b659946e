package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// CompactStats says what a compaction did.
type CompactStats struct {
	Partitions        int   // partitions rewritten
	FilesBefore       int   // lake files in those partitions before
	FilesAfter        int   // and after
	RowsBefore        int64 // rows in those partitions before
	RowsAfter         int64
	DuplicatesDropped int64
	BytesBefore       int64
	BytesAfter        int64
	// IndexError is set when the new files' issuance index could not be written: audits then
	// read their issuances from the events (slower) until the next ingest or compaction retries.
	IndexError error
}

// Compact compacts the warehouse at root under the writer lock (Writer.Compact) and records the
// run; wait waits for a running ingest instead of failing.
func Compact(ctx context.Context, root string, now time.Time, wait bool) (CompactStats, error) {
	w, err := OpenWriter(ctx, root, now, Run{Command: "compact"}, wait)
	if err != nil {
		return CompactStats{}, err
	}
	st, err := w.Compact(ctx, now)
	status := "ok"
	if err != nil {
		status = "failed"
	}
	finish := w.Finish(context.WithoutCancel(ctx), now, status, RunStats{})
	if ie := (*IndexError)(nil); errors.As(finish, &ie) {
		st.IndexError, finish = ie, nil
	}
	return st, errors.Join(err, finish, w.Close())
}

// compactOrder is the row each duplicated event keeps: the one the events view shows (see views.sql).
const compactOrder = `(addendum_original_event_id IS NOT NULL) DESC, ingest_run DESC, source_file DESC`

// Compact rewrites every partition that has more than one file, or duplicate events, into one
// file: events keep one row per eventID (the row the events view shows), snapshots keep one row
// per snapshot and session id. Each partition is swapped atomically in the catalog; the files it
// replaces are deleted after the swap (a crash in between leaves them unregistered, and the next
// writer removes them). Queries answer the same before and after.
func (w *Writer) Compact(ctx context.Context, now time.Time) (CompactStats, error) {
	var st CompactStats
	for _, dataset := range []string{DatasetEvents, DatasetSnapshots} {
		for _, date := range sortedKeys(w.lake[dataset]) {
			files := w.lake[dataset][date]
			n, dups, err := w.partitionStats(ctx, dataset, files)
			if err != nil {
				return st, err
			}
			if len(files) < 2 && dups == 0 {
				continue
			}
			if err := w.compactPartition(ctx, dataset, date, files, n, now, &st); err != nil {
				return st, err
			}
		}
	}
	return st, nil
}

func (w *Writer) sources(files []string) string {
	return "read_parquet(" + sqlList(w.abs(files)) + ", union_by_name = true, hive_partitioning = false)"
}

// dedupKey is what identifies a row of a dataset.
func dedupKey(dataset string) string {
	if dataset == DatasetEvents {
		return "event_id"
	}
	return "snapshot_id, id"
}

func (w *Writer) partitionStats(ctx context.Context, dataset string, files []string) (rows, dups int64, err error) {
	q := fmt.Sprintf(`SELECT count(*), count(*) - count(DISTINCT (%s)) FROM %s`, dedupKey(dataset), w.sources(files))
	if err := w.scratch.QueryRowContext(ctx, q).Scan(&rows, &dups); err != nil {
		return 0, 0, fmt.Errorf("read partition of %s: %w", dataset, err)
	}
	return rows, dups, nil
}

func (w *Writer) compactPartition(ctx context.Context, dataset, date string, files []string, rowsBefore int64, now time.Time, st *CompactStats) error {
	order := compactOrder
	sortBy := "event_time, event_id"
	if dataset == DatasetSnapshots {
		order, sortBy = "ingest_run DESC", "taken_at, snapshot_id, id"
	}
	w.seq++
	tmp := filepath.Join(w.root, lakeName, tmpName, fmt.Sprintf("%s-%06d-%06d.parquet", dataset, w.run, w.seq))
	copySQL := fmt.Sprintf(`COPY (SELECT * FROM %s QUALIFY row_number() OVER (PARTITION BY %s ORDER BY %s) = 1 ORDER BY %s)
		TO %s (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`, w.sources(files), dedupKey(dataset), order, sortBy, Literal(tmp))
	if _, err := w.scratch.ExecContext(ctx, copySQL); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("compact %s partition %s: %w", dataset, date, err)
	}
	if err := syncFile(tmp); err != nil {
		return fmt.Errorf("compact %s partition %s: %w", dataset, date, err)
	}
	var rowsAfter int64
	if err := w.scratch.QueryRowContext(ctx, `SELECT count(*) FROM read_parquet(`+Literal(tmp)+`)`).Scan(&rowsAfter); err != nil {
		return fmt.Errorf("check compacted %s partition %s: %w", dataset, date, err)
	}
	p := &partFile[EventRow]{dataset: dataset, date: date, tmp: tmp}
	rel, size, err := p.move(w.root)
	if err != nil {
		return err
	}
	var bytesBefore int64
	for _, f := range files {
		if info, err := os.Stat(filepath.Join(w.root, f)); err == nil {
			bytesBefore += info.Size()
		}
	}
	// The replaced events files' issuances files go with them; Finish writes the new file's.
	replaced := slices.Clone(files)
	if dataset == DatasetEvents {
		for _, f := range files {
			replaced = append(replaced, issuancesFileOf(f))
		}
	}
	db, err := openCatalog(ctx, CatalogPath(w.root))
	if err != nil {
		return err
	}
	err = inTx(ctx, db, func(tx *sql.Tx) error {
		for _, f := range replaced {
			if _, err := tx.ExecContext(ctx, `DELETE FROM lake_files WHERE path = ?`, f); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO lake_files VALUES (?, ?, ?::DATE, ?, ?, ?, ?)`, rel, dataset, date, rowsAfter, size, w.run, now.UTC())
		return err
	})
	db.Close()
	if err != nil {
		os.Remove(filepath.Join(w.root, rel))
		return fmt.Errorf("swap compacted %s partition %s: %w", dataset, date, err)
	}
	w.lake[dataset][date] = []string{rel}
	if dataset == DatasetEvents {
		delete(w.lake[DatasetIssuances], date)
	}
	for _, f := range replaced {
		if err := os.Remove(filepath.Join(w.root, f)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("remove compacted file %s: %w", f, err)
		}
	}
	st.Partitions++
	st.FilesBefore += len(files)
	st.FilesAfter++
	st.RowsBefore += rowsBefore
	st.RowsAfter += rowsAfter
	st.DuplicatesDropped += rowsBefore - rowsAfter
	st.BytesBefore += bytesBefore
	st.BytesAfter += size
	return nil
}

// syncFile makes a file written by DuckDB durable and private.
func syncFile(path string) error {
	if err := os.Chmod(path, fileMode); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
