package warehouse

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

//go:embed issuance_index.sql
var issuanceIndexSQL string

// issuanceRows is issuance_index.sql over the lake files (absolute paths).
func issuanceRows(files []string) string {
	return strings.ReplaceAll(issuanceIndexSQL, "{{files}}",
		"read_parquet("+sqlList(files)+", union_by_name = true, hive_partitioning = false, filename = true)")
}

// isIssuance is issuance_index.sql's selection of one row: a successful credential issuance.
func isIssuance(e *EventRow) bool {
	return IsIssuanceCall(e.EventSource, e.EventName) && e.ErrorCode == nil
}

// issuanceOf is e's row of the issuance index, its strings copied (e's strings may be views of a
// file's text that ingest reuses).
func issuanceOf(e *EventRow) IssuanceRow {
	return IssuanceRow{EventID: strings.Clone(e.EventID), EventTime: e.EventTime, EventName: cloned(e.EventName),
		AWSRegion: cloned(e.AWSRegion), RecipientAccountID: cloned(e.RecipientAccountID), SourceIPAddress: cloned(e.SourceIPAddress),
		UserAgent: cloned(e.UserAgent), IdentityType: cloned(e.IdentityType), IdentityARN: cloned(e.IdentityARN),
		IdentityUserName: cloned(e.IdentityUserName), RoleARN: cloned(e.RoleARN), RoleSessionName: cloned(e.RoleSessionName),
		IssuedAccessKeyID: cloned(e.IssuedAccessKeyID), SourceIdentity: cloned(e.SourceIdentity),
		SourceIdentityKind: cloned(e.SourceIdentityKind), SourceIdentityID: cloned(e.SourceIdentityID),
		SourceIdentityUser: cloned(e.SourceIdentityUser)}
}

func cloned(s *string) *string {
	if s == nil {
		return nil
	}
	c := strings.Clone(*s)
	return &c
}

// writeIssuancesFile writes rows, through tmp, as the issuances file of the lake-relative events
// file events, and describes it for the commit.
func writeIssuancesFile(root, tmp, events, date string, rows []IssuanceRow) (committedFile, error) {
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return committedFile{}, fmt.Errorf("create issuances file: %w", err)
	}
	err = writeIssuances(f, rows)
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		os.Remove(tmp)
		return committedFile{}, fmt.Errorf("write issuances file %s: %w", tmp, err)
	}
	return placeIssuancesFile(root, tmp, events, date, len(rows))
}

// writeIssuances writes rows as a whole file on f.
func writeIssuances(f *os.File, rows []IssuanceRow) error {
	l, err := issuanceLayout()
	if err != nil {
		return err
	}
	cw, err := newColumnWriter[IssuanceRow](f, l)
	if err != nil {
		return err
	}
	if _, err := cw.Write(rows); err != nil {
		return err
	}
	return cw.Close()
}

// placeIssuancesFile moves the written issuances file tmp into the lake beside the events file
// events, and describes it for the commit.
func placeIssuancesFile(root, tmp, events, date string, rows int) (committedFile, error) {
	rel := issuancesFileOf(events)
	size, err := place(root, tmp, rel)
	if err != nil {
		os.Remove(tmp)
		return committedFile{}, err
	}
	return committedFile{rel: rel, dataset: DatasetIssuances, date: date, rows: rows, bytes: size}, nil
}

// indexIssuances writes the issuances files of the registered events files that have none (a
// compaction's, or a warehouse's from before the dataset) with issuance_index.sql, and drops those
// whose events file is no longer registered (a compaction drops them in its own swap, so this
// only repairs a registry changed otherwise), in one catalog transaction; the dropped files are
// deleted once it commits.
func (w *Writer) indexIssuances(ctx context.Context, db *sql.DB) error {
	w.lakeMu.Lock()
	var events []committedFile
	for date, files := range w.lake[DatasetEvents] {
		for _, f := range files {
			events = append(events, committedFile{rel: f, date: date})
		}
	}
	indexed := map[string]bool{}
	for _, files := range w.lake[DatasetIssuances] {
		for _, f := range files {
			indexed[f] = true
		}
	}
	w.lakeMu.Unlock()
	slices.SortFunc(events, func(a, b committedFile) int { return strings.Compare(a.rel, b.rel) })
	var added []committedFile
	for _, e := range events {
		if indexed[issuancesFileOf(e.rel)] {
			delete(indexed, issuancesFileOf(e.rel))
			continue
		}
		f, err := w.copyIssuances(ctx, e.rel, e.date)
		if err != nil {
			for _, a := range added {
				os.Remove(filepath.Join(w.root, a.rel))
			}
			return err
		}
		added = append(added, f)
	}
	gone := sortedKeys(indexed) // what is left: issuances files of events files no longer registered
	if len(added) == 0 && len(gone) == 0 {
		return nil
	}
	err := inTx(ctx, db, func(tx *sql.Tx) error {
		for _, f := range gone {
			if _, err := tx.ExecContext(ctx, `DELETE FROM lake_files WHERE path = ?`, f); err != nil {
				return fmt.Errorf("drop the issuances file %s of a compacted events file: %w", f, err)
			}
		}
		for _, f := range added {
			if _, err := tx.ExecContext(ctx, `INSERT INTO lake_files VALUES (?, ?, ?::DATE, ?, ?, ?, now())`,
				f.rel, f.dataset, f.date, f.rows, f.bytes, w.run); err != nil {
				return fmt.Errorf("register issuances file %s: %w", f.rel, err)
			}
		}
		return nil
	})
	if err != nil {
		for _, a := range added {
			os.Remove(filepath.Join(w.root, a.rel))
		}
		return err
	}
	w.lakeMu.Lock()
	for _, f := range added {
		w.lake[DatasetIssuances][f.date] = append(w.lake[DatasetIssuances][f.date], f.rel)
	}
	for date, files := range w.lake[DatasetIssuances] {
		w.lake[DatasetIssuances][date] = slices.DeleteFunc(files, func(f string) bool { return indexed[f] })
	}
	w.lakeMu.Unlock()
	for _, f := range gone {
		if err := os.Remove(filepath.Join(w.root, f)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("remove the issuances file of a compacted events file: %w", err)
		}
	}
	return nil
}

// copyIssuances writes the issuances file of the registered events file rel with issuance_index.sql.
func (w *Writer) copyIssuances(ctx context.Context, rel, date string) (committedFile, error) {
	w.seq++
	tmp := filepath.Join(w.root, lakeName, tmpName, fmt.Sprintf("%s-%06d-%06d.parquet", DatasetIssuances, w.run, w.seq))
	res, err := w.scratch.ExecContext(ctx, `COPY (SELECT * EXCLUDE (filename) FROM (`+issuanceRows(w.abs([]string{rel}))+`) ORDER BY event_time)
		TO `+Literal(tmp)+` (FORMAT parquet, COMPRESSION zstd)`)
	var rows int64
	if err == nil {
		rows, err = res.RowsAffected()
	}
	if err == nil {
		err = syncFile(tmp)
	}
	if err != nil {
		os.Remove(tmp)
		return committedFile{}, fmt.Errorf("index the issuances of lake file %s: %w", rel, err)
	}
	return placeIssuancesFile(w.root, tmp, rel, date, int(rows))
}
