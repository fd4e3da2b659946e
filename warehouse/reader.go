package warehouse

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

//go:embed views.sql
var viewsSQL string

// Reader is a read-only view of a warehouse: an in-memory DuckDB with the catalog attached
// read-only and the views of views.sql over the lake files committed when it was opened.
type Reader struct {
	db    *sql.DB
	root  string
	files []string // absolute paths of the lake and schema files the views read
}

// OpenReader opens the warehouse at root for reading. It fails if no ingest ever ran there.
func OpenReader(ctx context.Context, root string) (*Reader, error) {
	catalog := CatalogPath(root)
	if _, err := os.Stat(catalog); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no warehouse at %s: run `sentinel ingest` first, or point --warehouse at one", root)
	}
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, fmt.Errorf("open query engine: %w", err)
	}
	r := &Reader{db: sql.OpenDB(connector), root: root}
	if err := r.attach(ctx, catalog); err != nil {
		r.db.Close()
		return nil, err
	}
	if err := r.createViews(ctx); err != nil {
		r.db.Close()
		return nil, err
	}
	return r, nil
}

func (r *Reader) attach(ctx context.Context, catalog string) error {
	deadline := time.Now().Add(30 * time.Second)
	for delay := 20 * time.Millisecond; ; delay = min(delay*2, time.Second) {
		_, err := r.db.ExecContext(ctx, `ATTACH `+sqlString(catalog)+` AS catalog (READ_ONLY)`)
		if err == nil {
			return nil
		}
		if !isLockConflict(err) || time.Now().After(deadline) {
			return fmt.Errorf("attach catalog %s: %w", catalog, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

func (r *Reader) createViews(ctx context.Context) error {
	sources := map[string]string{}
	for _, dataset := range []string{DatasetEvents, DatasetSnapshots} {
		var files []string
		rows, err := r.db.QueryContext(ctx, `SELECT path FROM catalog.lake_files WHERE dataset = ? ORDER BY path`, dataset)
		if err != nil {
			return fmt.Errorf("read lake registry: %w", err)
		}
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				rows.Close()
				return fmt.Errorf("read lake registry: %w", err)
			}
			files = append(files, filepath.Join(r.root, p))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read lake registry: %w", err)
		}
		if len(files) == 0 {
			files = []string{schemaFile(r.root, dataset)}
		}
		r.files = append(r.files, files...)
		quoted := make([]string, len(files))
		for i, f := range files {
			quoted[i] = sqlString(f)
		}
		sources["{{"+dataset+"}}"] = "read_parquet([" + strings.Join(quoted, ", ") + "], hive_partitioning = true, union_by_name = true)"
	}
	ddl := viewsSQL
	for k, v := range sources {
		ddl = strings.ReplaceAll(ddl, k, v)
	}
	if _, err := r.db.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("create warehouse views: %w", err)
	}
	return nil
}

// DB is the query engine; its views are documented in docs/warehouse.md.
func (r *Reader) DB() *sql.DB { return r.db }

// Root is the warehouse directory.
func (r *Reader) Root() string { return r.root }

// Seal makes the engine read-only for ad-hoc queries: no file outside the lake files it was opened
// with can be read, none can be written, nothing can be attached or loaded, and the settings are
// locked. Tables the caller created before sealing stay queryable.
func (r *Reader) Seal(ctx context.Context) error {
	quoted := make([]string, len(r.files))
	for i, f := range r.files {
		quoted[i] = sqlString(f)
	}
	for _, stmt := range []string{
		`SET allowed_paths = [` + strings.Join(quoted, ", ") + `]`,
		`SET enable_external_access = false`,
		`SET autoinstall_known_extensions = false`,
		`SET autoload_known_extensions = false`,
		`SET lock_configuration = true`,
	} {
		if _, err := r.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("seal query engine (%s): %w", stmt, err)
		}
	}
	return nil
}

// Close releases the engine.
func (r *Reader) Close() error { return r.db.Close() }
