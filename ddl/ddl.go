// Package ddl writes what `sentinel warehouse ddl` prints: for Athena, Trino or Spark, the
// statements that make Sentinel's Parquet data queryable there, then the audit queries in that
// engine's SQL. The SQL is in the embedded templates under templates/, named for what they hold;
// the Go side derives the columns from the lake's Parquet schema and spells them per engine.
package ddl

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Engines `sentinel warehouse ddl` writes for, and the layouts it can describe.
const (
	EngineAthena = "athena"
	EngineTrino  = "trino"
	EngineSpark  = "spark"

	// LayoutExport is what `sentinel export --format parquet` writes: events (Hive-partitioned by
	// event_date, deduplicated), issuances, sessions and compliance.
	LayoutExport = "export"
	// LayoutLake is the warehouse's own lake copied as-is (lake/events/event_date=…/,
	// lake/session_snapshots/snapshot_date=…/): every stored copy of every record.
	LayoutLake = "lake"

	defaultDatabase = "sentinel"
)

// Input is the input of `sentinel warehouse ddl`.
type Input struct {
	Engine string // athena, trino or spark
	// Location is where the data is: the export's destination (layout export) or the directory the
	// warehouse directory was synced to (layout lake, which reads Location/lake/...).
	Location string
	Layout   string // export (default) or lake
	Database string // database (schema) to create the tables in; "" = sentinel
}

// Write writes, for one engine, the statements that make Sentinel's Parquet data queryable there
// (CREATE TABLE with partitions registered or projected), then the session-compliance and
// untracked-issuances queries in that engine's SQL. With the lake layout it also creates the views
// that turn the raw lake into events, sessions and issuances. On a bad input it writes nothing.
func Write(in Input, out io.Writer) error {
	if in.Engine == "" {
		return errors.New("--engine is required: athena, trino or spark")
	}
	d, ok := dialects[in.Engine]
	if !ok || d.internal {
		return fmt.Errorf("--engine %q: want athena, trino or spark", in.Engine)
	}
	layout := in.Layout
	if layout == "" {
		layout = LayoutExport
	}
	if layout != LayoutExport && layout != LayoutLake {
		return fmt.Errorf("--layout %q: want export (what `sentinel export` writes) or lake (the warehouse's lake directory, synced)", in.Layout)
	}
	location, err := checkLocation(in.Engine, in.Location)
	if err != nil {
		return err
	}
	db := in.Database
	if db == "" {
		db = defaultDatabase
	}
	if !databaseName.MatchString(db) {
		return fmt.Errorf("--database %q: use lowercase letters, digits and underscores, starting with a letter", db)
	}
	s, err := newScript(d, layout, location, db)
	if err != nil {
		return err
	}
	text, err := s.render(scriptTemplate)
	if err != nil {
		return err
	}
	_, err = io.WriteString(out, text)
	return err
}

var (
	databaseName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,127}$`)
	locationURI  = regexp.MustCompile(`^([a-z][a-z0-9+.-]*)://[^\s'"\\` + "`" + `;]+$`)
)

// checkLocation validates --location and returns it without trailing slashes. Athena reads only
// S3; Trino and Spark take whatever file system their catalog is configured for (s3a://, gs://…).
// A valid location holds no quote, backslash or white space.
func checkLocation(engine, location string) (string, error) {
	if location == "" {
		return "", fmt.Errorf("--location is required: the s3://BUCKET/PREFIX holding the export (or, with --layout lake, the synced warehouse directory)")
	}
	m := locationURI.FindStringSubmatch(location)
	if m == nil {
		return "", fmt.Errorf("--location %q: want a URI such as s3://BUCKET/PREFIX, without spaces, quotes, backslashes or semicolons", location)
	}
	if engine == EngineAthena && m[1] != "s3" {
		return "", fmt.Errorf("--location %q: Athena reads only s3:// locations", location)
	}
	path := strings.TrimRight(strings.TrimPrefix(location, m[1]+"://"), "/")
	if path == "" || strings.HasPrefix(path, "/") && m[1] != "file" && m[1] != "hdfs" {
		return "", fmt.Errorf("--location %q: name a bucket (and prefix), e.g. s3://BUCKET/PREFIX", location)
	}
	return m[1] + "://" + path, nil
}

// generatedBy is the command line that prints the script.
func generatedBy(engine, location, layout, db string) string {
	s := fmt.Sprintf("sentinel warehouse ddl --engine %s --location %s --layout %s", engine, location, layout)
	if db != defaultDatabase {
		s += " --database " + db
	}
	return s
}
