package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	_ "embed"
	"fmt"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/internal/appender"
)

//go:embed issuances.sql
var issuancesSQL string

// issuanceRows is issuances.sql over the lake files (absolute paths).
func issuanceRows(files []string) string {
	return strings.ReplaceAll(issuancesSQL, "{{files}}",
		"read_parquet("+sqlList(files)+", union_by_name = true, hive_partitioning = false, filename = true)")
}

// issuanceEventNames are the STS calls that mint role credentials (as in issuances.sql).
var issuanceEventNames = map[string]bool{"AssumeRole": true, "AssumeRoleWithSAML": true, "AssumeRoleWithWebIdentity": true}

// isIssuance is issuances.sql's selection of one row: a successful AssumeRole* call.
func isIssuance(e *EventRow) bool {
	return e.EventSource != nil && *e.EventSource == "sts.amazonaws.com" && e.EventName != nil &&
		issuanceEventNames[*e.EventName] && e.ErrorCode == nil
}

// issuanceRow is a row of the issuance index without its path, kept until the commit: the
// event's time and its text columns in the index's order (nil: NULL), copied (e's strings may be
// views of a file's text that ingest reuses).
type issuanceRow struct {
	eventTime time.Time
	text      [16]*string // event_id, then event_name ... source_identity_user
}

// issuanceIndexRow is e's row of the issuance index.
func issuanceIndexRow(e *EventRow) issuanceRow {
	id := e.EventID
	r := issuanceRow{eventTime: e.EventTime, text: [16]*string{&id, e.EventName, e.AWSRegion, e.RecipientAccountID,
		e.SourceIPAddress, e.UserAgent, e.IdentityType, e.IdentityARN, e.IdentityUserName, e.RoleARN, e.RoleSessionName,
		e.IssuedAccessKeyID, e.SourceIdentity, e.SourceIdentityKind, e.SourceIdentityID, e.SourceIdentityUser}}
	for i, s := range r.text {
		if s != nil {
			c := strings.Clone(*s)
			r.text[i] = &c
		}
	}
	return r
}

// values is the row as the appender takes it, in the table's column order.
func (r issuanceRow) values(path string) []driver.Value {
	v := make([]driver.Value, 0, 2+len(r.text))
	v = append(v, path, *r.text[0], r.eventTime)
	for _, s := range r.text[1:] {
		if s == nil {
			v = append(v, nil)
		} else {
			v = append(v, *s)
		}
	}
	return v
}

// indexFiles adds the issuance index rows of the events files a batch registers, in its
// transaction, through the appender: the writer knows them as it writes, so the files need not
// be read again (indexIssuances does that for files written otherwise: compaction, a catalog from
// before the index).
func indexFiles(ctx context.Context, conn *sql.Conn, files []committedFile) error {
	type ref struct {
		path string
		row  *issuanceRow
	}
	var refs []ref
	for _, f := range files {
		if f.dataset != DatasetEvents {
			continue
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO issuance_index_files VALUES (?)`, f.rel); err != nil {
			return fmt.Errorf("index lake file %s: %w", f.rel, err)
		}
		for i := range f.issuances {
			refs = append(refs, ref{f.rel, &f.issuances[i]})
		}
	}
	if err := appender.Rows(ctx, conn, "issuance_index", len(refs), func(i int) []driver.Value {
		return refs[i].row.values(refs[i].path)
	}); err != nil {
		return fmt.Errorf("index %d issuances: %w", len(refs), err)
	}
	return nil
}

// boundDuckDB keeps the catalog's DuckDB small while a writer adds to it: bounded, one thread and
// no ordering to keep, it holds ~50 MB instead of growing with the run (indexing a run's files:
// 1M events 465 -> 419 MB resident, 4M 654 -> 448 MB).
func boundDuckDB(ctx context.Context, db *sql.DB) error {
	for _, set := range []string{`SET threads = 1`, `SET memory_limit = '64MB'`, `SET preserve_insertion_order = false`} {
		if _, err := db.ExecContext(ctx, set); err != nil {
			return fmt.Errorf("bound the catalog's memory: %w", err)
		}
	}
	return nil
}

// indexBatch is how many lake files one statement indexes.
const indexBatch = 256

// indexIssuances brings the catalog's issuance index up to date with the events files registered
// in it (lake_files): the files not indexed yet are read and their issuances copied, in one transaction with
// the record that they are indexed; the rows of files no longer registered are deleted.
func (w *Writer) indexIssuances(ctx context.Context, db *sql.DB) error {
	done, err := queryStrings(ctx, db, `SELECT path FROM issuance_index_files`)
	if err != nil {
		return fmt.Errorf("read issuance index: %w", err)
	}
	indexed := map[string]bool{}
	for _, p := range done {
		indexed[p] = true
	}
	registered, err := queryStrings(ctx, db, `SELECT path FROM lake_files WHERE dataset = ? ORDER BY path`, DatasetEvents)
	if err != nil {
		return fmt.Errorf("read lake registry: %w", err)
	}
	var todo []string
	for _, f := range registered {
		if !indexed[f] {
			todo = append(todo, f)
		}
		delete(indexed, f)
	}
	gone := sortedKeys(indexed)
	if len(todo) == 0 && len(gone) == 0 {
		return nil
	}
	if err := boundDuckDB(ctx, db); err != nil {
		return err
	}
	return inTx(ctx, db, func(tx *sql.Tx) error {
		for start := 0; start < len(gone); start += indexBatch {
			list := sqlList(gone[start:min(start+indexBatch, len(gone))])
			for _, table := range []string{"issuance_index", "issuance_index_files"} {
				if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE list_contains(`+list+`, path)`); err != nil {
					return fmt.Errorf("drop compacted files from the issuance index: %w", err)
				}
			}
		}
		for start := 0; start < len(todo); start += indexBatch {
			batch := todo[start:min(start+indexBatch, len(todo))]
			abs := w.abs(batch)
			files := make([]string, len(batch))
			for i, f := range batch {
				files[i] = "(" + sqlString(abs[i]) + ", " + sqlString(f) + ")"
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO issuance_index
				SELECT f.path, i.* EXCLUDE (filename)
				FROM (`+issuanceRows(abs)+`) i
				JOIN (VALUES `+strings.Join(files, ", ")+`) f(filename, path) USING (filename)`)
			if err != nil {
				return fmt.Errorf("index the issuances of %d lake files: %w", len(batch), err)
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO issuance_index_files SELECT path FROM (VALUES `+strings.Join(files, ", ")+`) f(filename, path)`)
			if err != nil {
				return fmt.Errorf("index the issuances of %d lake files: %w", len(batch), err)
			}
		}
		return nil
	})
}
