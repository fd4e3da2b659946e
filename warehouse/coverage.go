package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// trailLayoutSQL matches the source_file of an event read from a trail's log file layout
// (.../CloudTrail/REGION/YYYY/MM/DD/FILE), in SQL: those files' coverage is CoverageTrail.
const trailLayoutSQL = `regexp_matches(source_file, '/CloudTrail/[^/]+/\d{4}/\d{2}/\d{2}/[^/]+$')`

// backfillCoverage fills the coverage table of a catalog that had events before the table
// existed, from the lake: per source kind, account and region, the oldest and newest event.
// Events of API syncs are left out: their watermarks say what they cover.
func (w *Writer) backfillCoverage(ctx context.Context, db *sql.DB, now time.Time) error {
	var needed bool
	if err := db.QueryRowContext(ctx, `SELECT needed FROM coverage_backfill`).Scan(&needed); err != nil {
		return fmt.Errorf("read coverage backfill state: %w", err)
	}
	if !needed {
		return nil
	}
	var files []string
	for _, fs := range w.lake[DatasetEvents] {
		files = append(files, fs...)
	}
	var spans []Coverage
	if len(files) > 0 {
		rows, err := w.scratch.QueryContext(ctx, `SELECT CASE WHEN `+trailLayoutSQL+` THEN '`+CoverageTrail+`' ELSE '`+CoverageFile+`' END,
				recipient_account_id, aws_region, min(event_time), max(event_time)
			FROM read_parquet(`+sqlList(w.abs(files))+`, union_by_name = true, hive_partitioning = false)
			WHERE recipient_account_id IS NOT NULL AND aws_region IS NOT NULL AND NOT starts_with(source_file, 'cloudtrail-api://')
			GROUP BY ALL`)
		if err != nil {
			return fmt.Errorf("compute coverage from the lake: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var c Coverage
			if err := rows.Scan(&c.Kind, &c.Account, &c.Region, &c.Oldest, &c.Newest); err != nil {
				return fmt.Errorf("compute coverage from the lake: %w", err)
			}
			spans = append(spans, c)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("compute coverage from the lake: %w", err)
		}
	}
	return inTx(ctx, db, func(tx *sql.Tx) error {
		for _, c := range spans {
			if err := upsertCoverage(ctx, tx, c, w.run, now); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE coverage_backfill SET needed = false`); err != nil {
			return fmt.Errorf("record coverage backfill: %w", err)
		}
		return nil
	})
}
