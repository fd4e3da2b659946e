package warehouse

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

//go:embed migrations/*.sql
var migrations embed.FS

// openCatalog opens the catalog database read-write, migrating it to the current schema. The
// caller closes it: the writer holds the catalog only while it reads or commits, so readers in
// other processes can attach it in between.
func openCatalog(ctx context.Context, path string) (*sql.DB, error) {
	db, err := openDuckDB(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate catalog %s: %w", path, err)
	}
	return db, nil
}

// openDuckDB opens a DuckDB database file, retrying while another process holds its lock (an
// ingest committing a checkpoint).
func openDuckDB(ctx context.Context, path string) (*sql.DB, error) {
	var db *sql.DB
	err := retryLocked(ctx, func() error {
		connector, err := duckdb.NewConnector(path, nil)
		if err != nil {
			return err
		}
		db = sql.OpenDB(connector)
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open catalog %s: %w", path, err)
	}
	return db, nil
}

// lockWait is how long retryLocked waits for another process's lock on a DuckDB file.
const lockWait = 30 * time.Second

// retryLocked runs attempt until it succeeds, fails for another reason than a DuckDB file lock
// held by another process, or lockWait has passed, backing off from 20 ms to 1 s.
func retryLocked(ctx context.Context, attempt func() error) error {
	deadline := time.Now().Add(lockWait)
	for delay := 20 * time.Millisecond; ; delay = min(delay*2, time.Second) {
		err := attempt()
		if !isLockConflict(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

func isLockConflict(err error) bool {
	return err != nil && strings.Contains(err.Error(), "Could not set lock")
}

func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)`); err != nil {
		return err
	}
	versions, err := migrationVersions()
	if err != nil {
		return err
	}
	for _, version := range versions {
		name := "migrations/" + version + ".sql"
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		if err := inTx(ctx, db, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, now())`, version)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// migrationVersions are the catalog's schema migrations, in the order they apply.
func migrationVersions() ([]string, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for i, name := range names {
		names[i] = strings.TrimSuffix(filepath.Base(name), ".sql")
	}
	return names, nil
}

// execer runs statements: a transaction, or a connection inside one (inConnTx).
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// inConnTx runs fn in a transaction on one connection of db, so that fn can also use the
// connection's appender (which joins the connection's transaction; database/sql's Tx has none).
func inConnTx(ctx context.Context, db *sql.DB, fn func(*sql.Conn) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN TRANSACTION`); err != nil {
		return err
	}
	if err := fn(conn); err != nil {
		_, rollback := conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		return errors.Join(err, rollback)
	}
	_, err = conn.ExecContext(ctx, `COMMIT`)
	return err
}

func inTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}
