package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/sentinel-audit/sentinel/internal/appender"
)

type committedFile struct {
	rel, dataset, date string
	rows               int
	bytes              int64
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
		if err := upsertListings(ctx, tx, b.listings, b.w.run); err != nil {
			return err
		}
		if err := recordLeftOut(ctx, tx, b.leftOut, b.read, b.w.run, now); err != nil {
			return err
		}
		if err := upsertCoverages(ctx, tx, slices.Collect(maps.Values(b.coverage)), b.w.run, now); err != nil {
			return err
		}
		if err := upsertDigests(ctx, tx, b.digests, b.w.run); err != nil {
			return err
		}
		if err := upsertPublicKeys(ctx, tx, b.publicKeys, now); err != nil {
			return err
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

// upsertCoverage merges c into its coverage row.
func upsertCoverage(ctx context.Context, tx execer, c Coverage, run int64, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO coverage VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (kind, account, region) DO UPDATE SET
			oldest_event = least(coverage.oldest_event, excluded.oldest_event),
			newest_event = greatest(coverage.newest_event, excluded.newest_event),
			last_run = excluded.last_run, updated_at = excluded.updated_at`,
		c.Kind, c.Account, c.Region, c.Oldest.UTC(), c.Newest.UTC(), run, now.UTC())
	if err != nil {
		return fmt.Errorf("record coverage of %s/%s: %w", c.Account, c.Region, err)
	}
	return nil
}

// upsertCoverages merges coverage rows (one per kind, account and region) into the table, all
// at once: an organization trail has thousands of accounts and regions.
func upsertCoverages(ctx context.Context, conn *sql.Conn, cs []Coverage, run int64, now time.Time) error {
	if len(cs) == 0 {
		return nil
	}
	return throughStaging(ctx, conn, "coverage", `INSERT INTO coverage SELECT * FROM staged_coverage
		ON CONFLICT (kind, account, region) DO UPDATE SET
			oldest_event = least(coverage.oldest_event, excluded.oldest_event),
			newest_event = greatest(coverage.newest_event, excluded.newest_event),
			last_run = excluded.last_run, updated_at = excluded.updated_at`, len(cs), func(i int) []driver.Value {
		c := cs[i]
		return []driver.Value{c.Kind, c.Account, c.Region, c.Oldest.UTC(), c.Newest.UTC(), run, now.UTC()}
	})
}

// upsertListings records how far S3 region prefixes were listed, the last of each prefix.
func upsertListings(ctx context.Context, conn *sql.Conn, ls []Listing, run int64) error {
	last := map[string]Listing{}
	for _, l := range ls {
		last[l.Prefix] = l
	}
	if len(last) == 0 {
		return nil
	}
	rows := slices.Collect(maps.Values(last))
	return throughStaging(ctx, conn, "s3_listings", `INSERT INTO s3_listings SELECT * FROM staged_s3_listings
		ON CONFLICT (prefix) DO UPDATE SET listed_from = excluded.listed_from, last_key = excluded.last_key,
		updated_run = excluded.updated_run`, len(rows), func(i int) []driver.Value {
		return []driver.Value{rows[i].Prefix, rows[i].ListedFrom, rows[i].LastKey, run}
	})
}

// recordLeftOut records the trail regions left out, and forgets those read since.
func recordLeftOut(ctx context.Context, conn *sql.Conn, leftOut, read []TrailRegion, run int64, now time.Time) error {
	row := func(rs []TrailRegion) func(int) []driver.Value {
		return func(i int) []driver.Value {
			return []driver.Value{rs[i].Source, rs[i].Account, rs[i].Region, run, now.UTC()}
		}
	}
	if len(leftOut) > 0 {
		if err := throughStaging(ctx, conn, "left_out", `INSERT INTO left_out SELECT DISTINCT ON (source, account, region) * FROM staged_left_out
			ON CONFLICT (source, account, region) DO UPDATE SET last_run = excluded.last_run, updated_at = excluded.updated_at`,
			len(leftOut), row(leftOut)); err != nil {
			return err
		}
	}
	if len(read) == 0 {
		return nil
	}
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM left_out`).Scan(&n); err != nil {
		return fmt.Errorf("read left-out regions: %w", err)
	}
	if n == 0 {
		return nil // nothing to forget (the usual case: no listing left a region out)
	}
	return throughStaging(ctx, conn, "left_out", `DELETE FROM left_out WHERE (source, account, region) IN
		(SELECT (source, account, region) FROM staged_left_out)`, len(read), row(read))
}

// upsertDigests records digest files, replacing what an earlier read of the same source found.
func upsertDigests(ctx context.Context, conn *sql.Conn, digests []DigestRow, run int64) error {
	if len(digests) == 0 {
		return nil
	}
	return throughStaging(ctx, conn, "digests", `INSERT OR REPLACE INTO digests SELECT * FROM staged_digests`, len(digests), func(i int) []driver.Value {
		d := digests[i]
		return []driver.Value{d.Source, d.Bucket, d.Key, d.Account, d.Region, d.Trail, d.HomeRegion, nullTime(d.Start), d.End.UTC(),
			nullString(d.SHA256), nullString(d.Body), nullString(d.Problem), nullString(d.Signature), nullString(d.SignatureAlgorithm),
			d.SignatureStatus, run}
	})
}

// throughStaging loads n rows into a temporary table of table's columns with DuckDB's appender
// (a multi-row INSERT of thousands of bound values costs DuckDB more to plan than to run), moves
// them with the statement move, which reads staged_<table>, and drops the staging table.
func throughStaging(ctx context.Context, conn *sql.Conn, table, move string, n int, row func(int) []driver.Value) error {
	staging := "staged_" + table
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE `+staging+` AS SELECT * FROM `+table+` LIMIT 0`); err != nil {
		return fmt.Errorf("stage %s: %w", table, err)
	}
	if err := appender.Rows(ctx, conn, staging, n, row); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, move); err != nil {
		return fmt.Errorf("record %d rows in %s: %w", n, table, err)
	}
	if _, err := conn.ExecContext(ctx, `DROP TABLE `+staging); err != nil {
		return fmt.Errorf("stage %s: %w", table, err)
	}
	return nil
}

// upsertPublicKeys records CloudTrail's public keys.
func upsertPublicKeys(ctx context.Context, tx execer, keys []PublicKey, now time.Time) error {
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO public_keys VALUES (?, ?, ?, ?, ?, ?)`,
			k.Fingerprint, k.Value, nullTime(k.ValidFrom), nullTime(k.ValidUntil), k.Region, now.UTC()); err != nil {
			return fmt.Errorf("record public key %s: %w", k.Fingerprint, err)
		}
	}
	return nil
}

// upsertLedger records ledger entries, the last one of each source.
func upsertLedger(ctx context.Context, conn *sql.Conn, entries []LedgerEntry, run int64, now time.Time) error {
	entries = lastPerSource(entries)
	if len(entries) == 0 {
		return nil
	}
	return throughStaging(ctx, conn, "ingest_files", `INSERT INTO ingest_files SELECT * FROM staged_ingest_files
		ON CONFLICT (source) DO UPDATE SET kind = excluded.kind, size = excluded.size, mtime = excluded.mtime,
		etag = excluded.etag, status = excluded.status, error = excluded.error, events = excluded.events,
		stored = excluded.stored, duplicates = excluded.duplicates, out_of_window = excluded.out_of_window,
		window_start = excluded.window_start, window_end = excluded.window_end, last_run = excluded.last_run,
		ingested_at = excluded.ingested_at, content_sha256 = excluded.content_sha256, gzip_members = excluded.gzip_members`,
		len(entries), func(i int) []driver.Value {
			e := entries[i]
			var members driver.Value
			if e.GzipMembers > 0 {
				members = int32(e.GzipMembers)
			}
			// In the ledger's column order (migrations 001 and 006).
			return []driver.Value{e.Source, e.Kind, e.Size, nullTime(e.MTime), nullString(e.ETag), e.Status, nullString(e.Error),
				e.Events, e.Stored, e.Duplicates, e.OutOfWindow, nullTime(e.WindowStart), nullTime(e.WindowEnd), run, run,
				now.UTC(), nullString(e.ContentSHA256), members}
		})
}

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
