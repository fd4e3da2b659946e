package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"unicode"

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
	// outdated are the catalog migrations the warehouse lacks (checkSchema).
	outdated []string
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
	// Lake files are immutable, so their Parquet footers can be kept for every query of the
	// reader: binding the views reads them all, and at 10M events (1,700 row groups) reading
	// them again costs a query about 0.2 s.
	if _, err := r.db.ExecContext(ctx, `SET parquet_metadata_cache = true`); err != nil {
		r.db.Close()
		return nil, fmt.Errorf("open query engine: %w", err)
	}
	if err := r.attach(ctx, catalog); err != nil {
		r.db.Close()
		return nil, err
	}
	if err := r.checkSchema(ctx); err != nil {
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
	if err := retryLocked(ctx, func() error {
		_, err := r.db.ExecContext(ctx, `ATTACH `+Literal(catalog)+` AS catalog (READ_ONLY)`)
		return err
	}); err != nil {
		return fmt.Errorf("attach catalog %s: %w", catalog, err)
	}
	return nil
}

// checkSchema finds the migrations the catalog lacks (it was written by an older Sentinel; a
// reader never writes, so it reads what is there and says so: Outdated).
func (r *Reader) checkSchema(ctx context.Context) error {
	applied, err := r.strings(ctx, `SELECT version FROM catalog.schema_migrations`)
	if err != nil {
		return fmt.Errorf("read catalog schema of %s: %w", r.root, err)
	}
	want, err := migrationVersions()
	if err != nil {
		return err
	}
	for _, v := range want {
		if !slices.Contains(applied, v) && !slices.Contains(writerOnly, v) {
			r.outdated = append(r.outdated, v)
		}
	}
	return nil
}

// writerOnly are the migrations whose tables only writers read (s3_listings: how far ingest
// listed S3): a catalog without them is not outdated for readers.
var writerOnly = []string{"007_s3_listings"}

// laterTables are the catalog tables later migrations add: a reader of a catalog written before
// them reads an empty relation of their schema instead (and says so: Outdated).
var laterTables = []struct{ name, migration, empty string }{
	{"coverage", "005_coverage", `SELECT ''::VARCHAR AS kind, ''::VARCHAR AS account, ''::VARCHAR AS region, now() AS oldest_event,
		now() AS newest_event, 0::BIGINT AS last_run, now() AS updated_at WHERE false`},
	{"digests", "006_integrity", `SELECT ''::VARCHAR AS source, ''::VARCHAR AS bucket, ''::VARCHAR AS object_key, ''::VARCHAR AS account,
		''::VARCHAR AS region, ''::VARCHAR AS trail, ''::VARCHAR AS home_region, now() AS start_time, now() AS end_time,
		''::VARCHAR AS sha256, ''::VARCHAR AS body, ''::VARCHAR AS problem, ''::VARCHAR AS signature,
		''::VARCHAR AS signature_algorithm, ''::VARCHAR AS signature_status, 0::BIGINT AS run WHERE false`},
	{"public_keys", "006_integrity", `SELECT ''::VARCHAR AS fingerprint, ''::BLOB AS value, now() AS valid_from, now() AS valid_until,
		''::VARCHAR AS region, now() AS fetched_at WHERE false`},
	{"left_out", "008_left_out", `SELECT ''::VARCHAR AS source, ''::VARCHAR AS account, ''::VARCHAR AS region, 0::BIGINT AS last_run,
		now() AS updated_at WHERE false`},
}

// Outdated lists the catalog migrations the warehouse lacks: it was written by an older Sentinel
// and what those migrations add reads as empty (coverage) until a writer (`sentinel ingest`,
// `sentinel warehouse compact`) upgrades it.
func (r *Reader) Outdated() []string { return r.outdated }

func (r *Reader) createViews(ctx context.Context) error {
	sources := map[string]string{}
	for _, dataset := range []string{DatasetEvents, DatasetSnapshots} {
		registered, err := r.registered(ctx, dataset)
		if err != nil {
			return err
		}
		files := absPaths(r.root, registered)
		if len(files) == 0 {
			files = []string{schemaFile(r.root, dataset)}
		}
		if dataset == DatasetEvents {
			// The schema file is written by every writer before its first lake file: when it has
			// the column, some lake files may too, and reading it along gives the column to
			// the lake files written before it existed (as NULL: raw whole).
			sources["{{raw}}"] = "raw"
			if schema := schemaFile(r.root, dataset); hasColumn(schema, rawEventIDColumn) {
				sources["{{raw}}"] = RawSQL("raw", rawEventIDColumn, "event_id")
				if len(registered) > 0 {
					files = append(files, schema)
				}
			}
			sources["{{raw_member_names}}"], sources["{{raw_members}}"] = rawMembersSQL("e.raw")
		}
		r.files = append(r.files, files...)
		sources["{{"+dataset+"}}"] = "read_parquet(" + sqlList(files) + ", hive_partitioning = true, union_by_name = true)"
		if dataset == DatasetEvents {
			if sources["{{issuances}}"], err = r.issuances(ctx, registered); err != nil {
				return err
			}
		}
	}
	for _, t := range laterTables {
		sources["{{"+t.name+"}}"] = "catalog." + t.name
		if slices.Contains(r.outdated, t.migration) {
			sources["{{"+t.name+"}}"] = "(" + t.empty + ")"
		}
	}
	var pairs []string
	for k, v := range sources {
		pairs = append(pairs, k, v)
	}
	ddl := IssuanceMacro() + ";\n" + strings.NewReplacer(pairs...).Replace(viewsSQL)
	if _, err := r.db.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("create warehouse views: %w", err)
	}
	return nil
}

// registered lists the lake files of dataset, relative to the warehouse.
func (r *Reader) registered(ctx context.Context, dataset string) ([]string, error) {
	return r.strings(ctx, `SELECT path FROM catalog.lake_files WHERE dataset = ? ORDER BY path`, dataset)
}

func (r *Reader) strings(ctx context.Context, query string, args ...any) ([]string, error) {
	out, err := queryStrings(ctx, r.db, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read lake registry: %w", err)
	}
	return out, nil
}

// queryStrings runs a query of one text column and returns its values.
func queryStrings(ctx context.Context, db *sql.DB, query string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// issuances is the query of the issuance_events view's rows: the issuances files of the events
// files that have one (all of them, unless a writer stopped before indexing a compaction's files
// or the warehouse predates the dataset) and issuance_index.sql over the others.
func (r *Reader) issuances(ctx context.Context, events []string) (string, error) {
	registered, err := r.registered(ctx, DatasetIssuances)
	if err != nil {
		return "", err
	}
	indexed := map[string]bool{}
	for _, f := range registered {
		indexed[f] = true
	}
	var covered, rest []string
	for _, f := range events {
		if indexed[issuancesFileOf(f)] {
			covered = append(covered, issuancesFileOf(f))
		} else {
			rest = append(rest, f)
		}
	}
	var parts []string
	if len(covered) > 0 {
		files := absPaths(r.root, covered)
		r.files = append(r.files, files...)
		parts = append(parts, `SELECT * FROM read_parquet(`+sqlList(files)+`, union_by_name = true, hive_partitioning = false)`)
	}
	if len(rest) > 0 || len(parts) == 0 {
		files := absPaths(r.root, rest)
		if len(files) == 0 {
			files = []string{schemaFile(r.root, DatasetEvents)}
		}
		parts = append(parts, `SELECT * EXCLUDE (filename) FROM (`+issuanceRows(files)+`)`)
	}
	return strings.Join(parts, "\nUNION ALL BY NAME\n"), nil
}

// DB is the query engine; its views are documented in docs/warehouse.md.
func (r *Reader) DB() *sql.DB { return r.db }

// Root is the warehouse directory.
func (r *Reader) Root() string { return r.root }

// Seal makes the engine read-only for ad-hoc queries: no file outside the lake files it was opened
// with can be read, none can be written, nothing can be attached or loaded, and the settings are
// locked. Tables the caller created before sealing stay queryable.
func (r *Reader) Seal(ctx context.Context) error {
	for _, stmt := range []string{
		`SET allowed_paths = ` + sqlList(r.files),
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

// ReadOnlyQuery runs one statement after checking, without running it, that it only reads:
// a SELECT (or EXPLAIN of one). Anything else is refused with the statement kind named, and so
// are several statements.
func (r *Reader) ReadOnlyQuery(ctx context.Context, query string) (*sql.Rows, error) {
	conn, err := r.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		prep, ok := dc.(driver.Conn)
		if !ok {
			return errors.New("query engine cannot prepare statements")
		}
		// Prepare parses and binds without running anything, and refuses several statements
		// (PrepareContext would run all but the last).
		stmt, err := prep.Prepare(query)
		if err != nil {
			return unprepared(query, err)
		}
		defer stmt.Close()
		kind, err := stmt.(*duckdb.Stmt).StatementType()
		if err != nil {
			return err
		}
		if kind != duckdb.STATEMENT_TYPE_SELECT && kind != duckdb.STATEMENT_TYPE_EXPLAIN {
			// Named as written: DuckDB's kind of CHECKPOINT is CALL, of USE is SET.
			if keyword := firstKeyword(query); slices.Contains(writing, keyword) {
				return notReadOnly(keyword)
			}
			return notReadOnly(statementName(kind))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	rows, err := r.db.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	return rows, nil
}

func notReadOnly(kind string) error {
	article := "a"
	if strings.ContainsRune("AEIOU", rune(kind[0])) && kind != "USE" { // "a USE", said "yoose"
		article = "an"
	}
	return fmt.Errorf("only read-only queries (SELECT, WITH ... SELECT, VALUES, EXPLAIN, DESCRIBE, SHOW, SUMMARIZE) are allowed; this is %s %s statement", article, kind)
}

// writing are the first keywords of statements that are not read-only.
var writing = []string{"INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "CREATE", "ALTER", "DROP", "COPY", "ATTACH", "DETACH",
	"INSTALL", "LOAD", "SET", "RESET", "PRAGMA", "CALL", "EXPORT", "IMPORT", "VACUUM", "CHECKPOINT", "ANALYZE", "BEGIN", "COMMIT",
	"ROLLBACK", "PREPARE", "EXECUTE", "DEALLOCATE", "USE"}

// unprepared explains why a query could not be prepared. A statement that writes is refused as
// such: DuckDB binds it before telling its kind, and a view cannot be written ("Can only delete
// from base table"). DuckDB's own errors are a query it cannot parse or bind; the driver's, other
// than for an empty query, are its refusal of several statements.
func unprepared(query string, err error) error {
	keyword := firstKeyword(query)
	switch {
	case slices.Contains(writing, keyword):
		return notReadOnly(keyword)
	case keyword == "" || errors.As(err, new(*duckdb.Error)):
		return err
	}
	return errors.New("one statement at a time: the query holds several (separated by ;)")
}

// firstKeyword is the query's first word in upper case, after blanks, comments and parentheses.
func firstKeyword(query string) string {
	q := query
	for {
		switch t := strings.TrimLeft(q, " \t\r\n("); {
		case strings.HasPrefix(t, "--"):
			_, q, _ = strings.Cut(t, "\n")
		case strings.HasPrefix(t, "/*"):
			_, q, _ = strings.Cut(t, "*/")
		default:
			end := strings.IndexFunc(t, func(r rune) bool { return !unicode.IsLetter(r) })
			if end < 0 {
				end = len(t)
			}
			return strings.ToUpper(t[:end])
		}
	}
}

func statementName(k duckdb.StmtType) string {
	names := map[duckdb.StmtType]string{
		duckdb.STATEMENT_TYPE_INSERT: "INSERT", duckdb.STATEMENT_TYPE_UPDATE: "UPDATE", duckdb.STATEMENT_TYPE_DELETE: "DELETE",
		duckdb.STATEMENT_TYPE_CREATE: "CREATE", duckdb.STATEMENT_TYPE_ALTER: "ALTER", duckdb.STATEMENT_TYPE_DROP: "DROP",
		duckdb.STATEMENT_TYPE_COPY: "COPY", duckdb.STATEMENT_TYPE_ATTACH: "ATTACH", duckdb.STATEMENT_TYPE_DETACH: "DETACH",
		duckdb.STATEMENT_TYPE_LOAD: "LOAD or INSTALL", duckdb.STATEMENT_TYPE_SET: "SET", duckdb.STATEMENT_TYPE_VARIABLE_SET: "SET",
		duckdb.STATEMENT_TYPE_EXPORT: "EXPORT", duckdb.STATEMENT_TYPE_PRAGMA: "PRAGMA", duckdb.STATEMENT_TYPE_CALL: "CALL",
		duckdb.STATEMENT_TYPE_TRANSACTION: "transaction", duckdb.STATEMENT_TYPE_CREATE_FUNC: "CREATE FUNCTION",
		duckdb.STATEMENT_TYPE_EXTENSION: "INSTALL", duckdb.STATEMENT_TYPE_VACUUM: "VACUUM", duckdb.STATEMENT_TYPE_ANALYZE: "ANALYZE",
		duckdb.STATEMENT_TYPE_PREPARE: "PREPARE", duckdb.STATEMENT_TYPE_EXECUTE: "EXECUTE",
	}
	if n, ok := names[k]; ok {
		return n
	}
	return "non-SELECT"
}

// Close releases the engine.
func (r *Reader) Close() error { return r.db.Close() }
