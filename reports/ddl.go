package reports

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
	"github.com/sentinel-audit/sentinel/warehouse"
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

	ddlDefaultDatabase = "sentinel"
)

// DDLInput is the input of `sentinel warehouse ddl`.
type DDLInput struct {
	Engine string // athena, trino or spark
	// Location is where the data is: the export's destination (layout export) or the directory the
	// warehouse directory was synced to (layout lake, which reads Location/lake/...).
	Location string
	Layout   string // export (default) or lake
	Database string // database (schema) to create the tables in; "" = sentinel
}

// WarehouseDDL writes, for one engine, the statements that make Sentinel's Parquet data queryable
// there (CREATE TABLE with partitions registered or projected), then the session-compliance and
// untracked-issuances queries in that engine's SQL. With the lake layout it also creates the views
// that turn the raw lake into events, sessions and issuances.
func WarehouseDDL(in DDLInput, out io.Writer) error {
	d, ok := ddlDialects[in.Engine]
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
	location, err := ddlCheckLocation(in.Engine, in.Location)
	if err != nil {
		return err
	}
	db := in.Database
	if db == "" {
		db = ddlDefaultDatabase
	}
	if !ddlDatabaseName.MatchString(db) {
		return fmt.Errorf("--database %q: use lowercase letters, digits and underscores, starting with a letter", db)
	}
	script, err := renderDDL(d, layout, location, db, ddlGeneratedBy(in.Engine, location, layout, db))
	if err != nil {
		return err
	}
	_, err = io.WriteString(out, script)
	return err
}

var (
	ddlDatabaseName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,127}$`)
	ddlLocationURI  = regexp.MustCompile(`^([a-z][a-z0-9+.-]*)://[^\s'"\\` + "`" + `;]+$`)
)

// ddlCheckLocation validates --location and returns it without trailing slashes. Athena reads only
// S3; Trino and Spark take whatever file system their catalog is configured for (s3a://, gs://…).
func ddlCheckLocation(engine, location string) (string, error) {
	if location == "" {
		return "", fmt.Errorf("--location is required: the s3://BUCKET/PREFIX holding the export (or, with --layout lake, the synced warehouse directory)")
	}
	m := ddlLocationURI.FindStringSubmatch(location)
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

func ddlGeneratedBy(engine, location, layout, db string) string {
	s := fmt.Sprintf("sentinel warehouse ddl --engine %s --location %s --layout %s", engine, location, layout)
	if db != ddlDefaultDatabase {
		s += " --database " + db
	}
	return s
}

// ddlType is the small vocabulary of column types the lake and the exported tables use; each
// dialect spells them its own way.
type ddlType int

const (
	ddlString ddlType = iota
	ddlTimestamp
	ddlBoolean
	ddlBigint
	ddlInteger
	ddlDouble
	ddlDate
	ddlStringArray
)

func (t ddlType) String() string {
	return [...]string{"string", "timestamp", "boolean", "bigint", "int", "double", "date", "array<string>"}[t]
}

type ddlColumn struct {
	name string
	typ  ddlType
}

// ddlTable is one directory of Parquet files made into a table.
type ddlTable struct {
	name      string // table name in the engine
	dir       string // directory under the location
	about     string // a comment line
	columns   []ddlColumn
	partition *ddlColumn // the Hive partition column (dir/NAME=YYYY-MM-DD/), nil = none
}

// ddlParquetColumns lists the columns of the Parquet schema of a lake row type, with their SQL types,
// in file order. A column whose Parquet type has no mapping is an error, so a new kind of column
// in warehouse/rows.go fails the DDL (and its tests) rather than being mistyped.
func ddlParquetColumns(row any) ([]ddlColumn, error) {
	var cols []ddlColumn
	for _, f := range parquet.SchemaOf(row).Fields() {
		t, err := ddlParquetType(f)
		if err != nil {
			return nil, err
		}
		cols = append(cols, ddlColumn{f.Name(), t})
	}
	return cols, nil
}

func ddlParquetType(f parquet.Field) (ddlType, error) {
	if !f.Leaf() || f.Repeated() {
		return 0, fmt.Errorf("lake column %s: nested or repeated Parquet columns have no DDL mapping", f.Name())
	}
	t := f.Type()
	var logical format.LogicalTypeValue
	if lt := t.LogicalType(); lt != nil {
		logical = lt.Value
	}
	switch t.Kind() {
	case parquet.ByteArray:
		switch logical.(type) {
		case *format.StringType, *format.JsonType, *format.EnumType:
			return ddlString, nil
		}
	case parquet.Boolean:
		if logical == nil {
			return ddlBoolean, nil
		}
	case parquet.Int64:
		switch lt := logical.(type) {
		case nil:
			return ddlBigint, nil
		case *format.IntType:
			if lt.BitWidth == 64 && lt.IsSigned {
				return ddlBigint, nil
			}
		case *format.TimestampType:
			// Trino's DDL names the precision: only microseconds (what the lake writes) is mapped.
			if _, micros := lt.Unit.Value.(*format.MicroSeconds); micros {
				return ddlTimestamp, nil
			}
		}
	case parquet.Int32:
		switch lt := logical.(type) {
		case nil:
			return ddlInteger, nil
		case *format.IntType:
			if lt.BitWidth == 32 && lt.IsSigned {
				return ddlInteger, nil
			}
		case *format.DateType:
			return ddlDate, nil
		}
	case parquet.Double:
		if logical == nil {
			return ddlDouble, nil
		}
	}
	return 0, fmt.Errorf("lake column %s: Parquet type %s has no DDL mapping (extend reports/ddl.go)", f.Name(), t)
}

// Columns of the exported tables that are not lake datasets. They are the columns of the
// warehouse views the export reads (docs/warehouse.md); the tests compare them with DuckDB's.
var (
	ddlIssuanceColumns = []ddlColumn{
		{"event_id", ddlString}, {"event_time", ddlTimestamp}, {"event_name", ddlString}, {"aws_region", ddlString},
		{"recipient_account_id", ddlString}, {"account_id", ddlString}, {"role_arn", ddlString}, {"role_name", ddlString},
		{"role_session_name", ddlString}, {"issued_access_key_id", ddlString}, {"caller_type", ddlString},
		{"caller_arn", ddlString}, {"source_ip_address", ddlString}, {"user_agent", ddlString},
		{"source_identity", ddlString}, {"source_identity_kind", ddlString}, {"source_identity_id", ddlString},
		{"class", ddlString}, {"reason", ddlString}, {"profile", ddlString}, {"profile_source", ddlString},
		{"user", ddlString}, {"mode", ddlString}, {"session_id", ddlString}, {"session_status", ddlString},
		{"session_started_at", ddlTimestamp}, {"session_expires_at", ddlTimestamp},
		{"session_first_seen", ddlTimestamp}, {"session_last_seen", ddlTimestamp}, {"flags", ddlStringArray},
		{"policy_effect", ddlString}, {"policy_rule", ddlString}, {"policy_reason", ddlString},
		{"policy_required", ddlBoolean},
	}
	ddlSessionHistoryColumns = []ddlColumn{{"first_seen", ddlTimestamp}, {"last_seen", ddlTimestamp}, {"snapshot_count", ddlBigint}}
	ddlComplianceColumns     = []ddlColumn{
		{"profile", ddlString}, {"policy_required", ddlBoolean}, {"tracked_count", ddlBigint},
		{"untracked_count", ddlBigint}, {"orphaned_count", ddlBigint}, {"issuance_count", ddlBigint},
		{"flagged_count", ddlBigint}, {"compliance_rate", ddlDouble}, {"has_gap", ddlBoolean},
	}
)

// ddlRawMemberColumns are the events columns taken from raw rather than stored in the lake.
func ddlRawMemberColumns() []ddlColumn {
	var cols []ddlColumn
	for _, m := range warehouse.RawMembers {
		cols = append(cols, ddlColumn{m.Column, ddlString})
	}
	return cols
}

// ddlRawEventIDAt is the lake column that says where raw's eventID was cut out (warehouse.EventRow).
const ddlRawEventIDAt = "raw_event_id_at"

// Partition columns of the lake datasets (directories NAME=YYYY-MM-DD).
var (
	ddlEventDate    = ddlColumn{"event_date", ddlDate}
	ddlSnapshotDate = ddlColumn{"snapshot_date", ddlDate}
)

// ddlLayoutTables are the tables of a layout, columns in Parquet order, partition column apart.
func ddlLayoutTables(layout string) ([]ddlTable, error) {
	events, err := ddlParquetColumns(new(warehouse.EventRow))
	if err != nil {
		return nil, err
	}
	snapshots, err := ddlParquetColumns(new(warehouse.SnapshotRow))
	if err != nil {
		return nil, err
	}
	if layout == LayoutLake {
		return []ddlTable{
			{name: "events_all", dir: "lake/" + warehouse.DatasetEvents, columns: events, partition: &ddlEventDate,
				about: "events_all: every stored copy of every CloudTrail record (the lake as ingest wrote it: where raw_event_id_at > 0, raw lacks its eventID's value, which the events view puts back), partitioned by the UTC date of event_time."},
			{name: "session_snapshots", dir: "lake/" + warehouse.DatasetSnapshots, columns: snapshots, partition: &ddlSnapshotDate,
				about: "session_snapshots: every item of every snapshot of the session table, partitioned by the UTC date of taken_at."},
		}, nil
	}
	sessions := append(ddlWithout(snapshots, "ingest_run"), ddlSessionHistoryColumns...)
	return []ddlTable{
		{name: "events", dir: "events", columns: append(ddlWithout(events, ddlRawEventIDAt), ddlRawMemberColumns()...), partition: &ddlEventDate,
			about: "events: one row per eventID (deduplicated, corrections applied), partitioned by the UTC date of event_time."},
		{name: "issuances", dir: "issuances", columns: ddlIssuanceColumns,
			about: "issuances: every successful credential issuance, classified, with the policy's verdict at its moment."},
		{name: "sessions", dir: "sessions", columns: sessions,
			about: "sessions: the latest known state of every session id ever seen in a snapshot."},
		{name: "compliance", dir: "compliance", columns: ddlComplianceColumns,
			about: "compliance: the session-compliance report of the exported window, one row per profile."},
	}, nil
}

func ddlWithout(cols []ddlColumn, names ...string) []ddlColumn {
	var out []ddlColumn
	for _, c := range cols {
		if !slices.Contains(names, c.name) {
			out = append(out, c)
		}
	}
	return out
}

// ddlDialect is how one engine spells types, identifiers, literals and the few non-standard
// functions the portable SQL needs.
type ddlDialect struct {
	engine   string
	title    string
	internal bool // not offered on the command line (DuckDB: the tests run the portable SQL on it)
	// ddlTypes spell the column types of CREATE TABLE, dmlTypes those of CAST in views and queries
	// (Athena's DDL is Hive's, its DML is Trino's).
	ddlTypes, dmlTypes map[ddlType]string
	ddlQuote, dmlQuote func(string) string
	literal            func(string) string
	catalog            string // prefix of the database in qualified names ("hive." for Trino)
	// arrayLen is the array-length function; arrayOpen … arrayClose wrap a list of expressions
	// into an array of the non-NULL ones.
	arrayLen              string
	arrayOpen, arrayClose string
	// preamble is engine set-up printed before the tables.
	preamble string
	// jsonMember is the JSON text of the member at path of a JSON document in expr (NULL when
	// absent); jsonScalar its value as text (strings unquoted; NULL when absent, null or "").
	jsonMember, jsonScalar func(expr, path string) string
}

func ddlDoubleQuoted(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func ddlBackQuoted(s string) string   { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
func ddlLiteral(s string) string      { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// ddlSparkLiteral escapes the way Spark's parser unescapes string literals (backslash escapes).
func ddlSparkLiteral(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

var ddlTrinoTypes = map[ddlType]string{
	ddlString: "varchar", ddlTimestamp: "timestamp(6)", ddlBoolean: "boolean", ddlBigint: "bigint", ddlInteger: "integer",
	ddlDouble: "double", ddlDate: "date", ddlStringArray: "array(varchar)",
}

var ddlSparkTypes = map[ddlType]string{
	ddlString: "STRING", ddlTimestamp: "TIMESTAMP", ddlBoolean: "BOOLEAN", ddlBigint: "BIGINT", ddlInteger: "INT",
	ddlDouble: "DOUBLE", ddlDate: "DATE", ddlStringArray: "ARRAY<STRING>",
}

var ddlDuckDBTypes = map[ddlType]string{
	ddlString: "VARCHAR", ddlTimestamp: "TIMESTAMPTZ", ddlBoolean: "BOOLEAN", ddlBigint: "BIGINT", ddlInteger: "INTEGER",
	ddlDouble: "DOUBLE", ddlDate: "DATE", ddlStringArray: "VARCHAR[]",
}

var ddlDialects = map[string]ddlDialect{
	EngineAthena: {
		engine: EngineAthena, title: "Amazon Athena (engine version 3)",
		ddlTypes: ddlSparkTypes,
		dmlTypes: map[ddlType]string{
			ddlString: "varchar", ddlTimestamp: "timestamp", ddlBoolean: "boolean", ddlBigint: "bigint", ddlInteger: "integer",
			ddlDouble: "double", ddlDate: "date", ddlStringArray: "array(varchar)",
		},
		ddlQuote: ddlBackQuoted, dmlQuote: ddlDoubleQuoted, literal: ddlLiteral,
		arrayLen: "cardinality", arrayOpen: "filter(ARRAY[", arrayClose: "], f -> f IS NOT NULL)",
		jsonMember: ddlTrinoJSONMember, jsonScalar: ddlTrinoJSONScalar,
	},
	EngineTrino: {
		engine: EngineTrino, title: "Trino (Hive connector, catalog \"hive\")",
		ddlTypes: ddlTrinoTypes, dmlTypes: ddlTrinoTypes,
		ddlQuote: ddlDoubleQuoted, dmlQuote: ddlDoubleQuoted, literal: ddlLiteral, catalog: "hive.",
		arrayLen: "cardinality", arrayOpen: "filter(ARRAY[", arrayClose: "], f -> f IS NOT NULL)",
		jsonMember: ddlTrinoJSONMember, jsonScalar: ddlTrinoJSONScalar,
		preamble: `-- The lake's timestamps have microsecond precision. The Hive connector reads timestamp columns
-- at the precision of this session property (or of hive.timestamp-precision in the catalog's
-- properties, the better place for it) and refuses to create timestamp(6) columns below it.
SET SESSION hive.timestamp_precision = 'MICROSECONDS';`,
	},
	EngineSpark: {
		engine: EngineSpark, title: "Apache Spark SQL 3.3+ (Hive metastore or Glue catalog)",
		ddlTypes: ddlSparkTypes, dmlTypes: ddlSparkTypes,
		ddlQuote: ddlBackQuoted, dmlQuote: ddlBackQuoted, literal: ddlSparkLiteral,
		arrayLen: "size", arrayOpen: "filter(array(", arrayClose: "), f -> f IS NOT NULL)",
		jsonMember: func(expr, path string) string { return "get_json_object(" + expr + ", " + ddlSparkLiteral(path) + ")" },
		jsonScalar: func(expr, path string) string {
			return "nullif(get_json_object(" + expr + ", " + ddlSparkLiteral(path) + "), '')"
		},
		preamble: `-- Spark reads TIMESTAMP literals (the query windows below) in the session time zone;
-- Sentinel's times are UTC.
SET TIME ZONE 'UTC';`,
	},
	"duckdb": {
		engine: "duckdb", title: "DuckDB", internal: true,
		ddlTypes: ddlDuckDBTypes, dmlTypes: ddlDuckDBTypes,
		ddlQuote: ddlDoubleQuoted, dmlQuote: ddlDoubleQuoted, literal: ddlLiteral,
		arrayLen: "len", arrayOpen: "list_filter([", arrayClose: "], f -> f IS NOT NULL)",
		jsonMember: func(expr, path string) string {
			return "nullif(json_extract(" + expr + ", " + ddlLiteral(path) + ")::VARCHAR, 'null')"
		},
		jsonScalar: func(expr, path string) string {
			return "nullif(json_extract_string(" + expr + ", " + ddlLiteral(path) + "), '')"
		},
	},
}

func ddlTrinoJSONMember(expr, path string) string {
	return "nullif(json_format(json_extract(" + expr + ", " + ddlLiteral(path) + ")), 'null')"
}

func ddlTrinoJSONScalar(expr, path string) string {
	return "nullif(json_extract_scalar(" + expr + ", " + ddlLiteral(path) + "), '')"
}

// ddlScript is the whole output: header, engine-specific tables, portable views and queries.
type ddlScript struct {
	d        ddlDialect
	layout   string
	location string
	db       string
}

func (s ddlScript) qualified(name string) string { return s.d.catalog + s.db + "." + name }

func renderDDL(d ddlDialect, layout, location, db, command string) (string, error) {
	tables, err := ddlLayoutTables(layout)
	if err != nil {
		return "", err
	}
	s := ddlScript{d: d, layout: layout, location: location, db: db}
	var b strings.Builder
	fmt.Fprintf(&b, "-- Sentinel warehouse DDL for %s, layout %q:\n", d.title, layout)
	if layout == LayoutLake {
		fmt.Fprintf(&b, "-- the warehouse's lake synced to %s/lake (see docs/scale.md).\n", location)
	} else {
		fmt.Fprintf(&b, "-- the Parquet tables `sentinel export --to %s` writes.\n", location)
	}
	fmt.Fprintf(&b, "-- Generated by: %s\n", command)
	b.WriteString(`--
-- Column names and types are derived from the lake's Parquet schema (warehouse.EventRow and
-- warehouse.SnapshotRow in the Sentinel source) and from the warehouse views, so they are what
-- Sentinel writes. Statements end with ";" and are separated by blank lines.
`)
	if d.engine == EngineAthena {
		b.WriteString("-- Athena runs one statement per query: run them in order, one at a time, each from its\n" +
			"-- first keyword to its \";\" (leave out the comment lines above it).\n")
	}
	b.WriteString(`
-- =============================================================================================
-- Part 1. ENGINE-SPECIFIC: database, tables, partitions.
-- =============================================================================================

`)
	if d.preamble != "" {
		b.WriteString(d.preamble + "\n\n")
	}
	b.WriteString(s.createDatabase() + "\n")
	for _, t := range tables {
		b.WriteString("\n" + sqlComment(t.about, 96) + "\n")
		b.WriteString(s.createTable(t) + "\n")
		if sync := s.syncPartitions(t); sync != "" {
			b.WriteString("\n" + sync + "\n")
		}
	}
	if layout == LayoutLake {
		views, err := s.render(ddlLakeViewsSQL, tables)
		if err != nil {
			return "", err
		}
		b.WriteString("\n" + views)
	}
	for _, q := range []string{ddlQueriesHeader, ddlComplianceSQL, ddlUntrackedSQL} {
		text, err := s.render(q, tables)
		if err != nil {
			return "", err
		}
		b.WriteString("\n" + text)
	}
	return b.String(), nil
}

// sqlComment wraps text into "-- " lines of at most width characters.
func sqlComment(text string, width int) string {
	var lines []string
	line := "--"
	for _, w := range strings.Fields(text) {
		if len(line) > 2 && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = "--"
		}
		line += " " + w
	}
	return strings.Join(append(lines, line), "\n")
}

func (s ddlScript) createDatabase() string {
	if s.d.engine == EngineTrino {
		return "-- Give the schema a location if your metastore needs one: WITH (location = '...').\n" +
			"CREATE SCHEMA IF NOT EXISTS " + s.d.catalog + s.db + ";"
	}
	return "CREATE DATABASE IF NOT EXISTS " + s.db + ";"
}

// columnDefs are the column definitions of CREATE TABLE, one a line.
func (s ddlScript) columnDefs(cols []ddlColumn) string {
	lines := make([]string, len(cols))
	for i, c := range cols {
		lines[i] = "    " + s.d.ddlQuote(c.name) + " " + s.d.ddlTypes[c.typ]
	}
	return strings.Join(lines, ",\n")
}

func (s ddlScript) createTable(t ddlTable) string {
	loc := s.location + "/" + t.dir
	var b strings.Builder
	switch s.d.engine {
	case EngineAthena:
		if p := t.partition; p != nil {
			// Projection wants a string partition column; its values are yyyy-MM-dd.
			fmt.Fprintf(&b, `-- Partition projection: Athena computes the partitions a query reads from its %[1]s
-- predicate (a string: WHERE %[1]s >= '2026-11-01') instead of listing them in the Glue
-- catalog, so there is nothing to register or repair. Partitions outside the range are
-- invisible: widen it (ALTER TABLE ... SET TBLPROPERTIES) to query evidence older than three years.
`, p.name)
		}
		fmt.Fprintf(&b, "CREATE EXTERNAL TABLE IF NOT EXISTS %s (\n%s\n)\n", s.qualified(t.name), s.columnDefs(t.columns))
		if p := t.partition; p != nil {
			fmt.Fprintf(&b, "PARTITIONED BY (%s STRING)\n", s.d.ddlQuote(p.name))
		}
		fmt.Fprintf(&b, "STORED AS PARQUET\nLOCATION '%s/'", loc)
		if p := t.partition; p != nil {
			fmt.Fprintf(&b, `
TBLPROPERTIES (
    'projection.enabled' = 'true',
    'projection.%[1]s.type' = 'date',
    'projection.%[1]s.format' = 'yyyy-MM-dd',
    'projection.%[1]s.range' = 'NOW-3YEARS,NOW',
    'projection.%[1]s.interval' = '1',
    'projection.%[1]s.interval.unit' = 'DAYS',
    'storage.location.template' = '%[2]s/%[1]s=${%[1]s}/'
)`, p.name, loc)
		}
		b.WriteString(";")
	case EngineTrino:
		cols := t.columns
		if t.partition != nil {
			cols = append(append([]ddlColumn{}, cols...), *t.partition) // partition columns come last
		}
		fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (\n%s\n)\nWITH (\n    external_location = '%s',\n    format = 'PARQUET'",
			s.qualified(t.name), s.columnDefs(cols), loc)
		if t.partition != nil {
			fmt.Fprintf(&b, ",\n    partitioned_by = ARRAY['%s']", t.partition.name)
		}
		b.WriteString("\n);")
	case EngineSpark:
		cols := t.columns
		if t.partition != nil {
			cols = append(append([]ddlColumn{}, cols...), *t.partition)
		}
		fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (\n%s\n)\nUSING parquet\n", s.qualified(t.name), s.columnDefs(cols))
		if t.partition != nil {
			fmt.Fprintf(&b, "PARTITIONED BY (%s)\n", s.d.ddlQuote(t.partition.name))
		}
		fmt.Fprintf(&b, "LOCATION '%s';", loc)
	}
	return b.String()
}

// syncPartitions registers the partition directories found under a partitioned table's location
// (Athena projects them instead). Run it again whenever new dates arrive.
func (s ddlScript) syncPartitions(t ddlTable) string {
	if t.partition == nil {
		return ""
	}
	switch s.d.engine {
	case EngineTrino:
		return "-- Register the partitions present now; run again after new dates arrive.\n" +
			fmt.Sprintf("CALL hive.system.sync_partition_metadata(%s, %s, 'FULL');", ddlLiteral(s.db), ddlLiteral(t.name))
	case EngineSpark:
		return "-- Register the partitions present now; run again after new dates arrive.\n" +
			"MSCK REPAIR TABLE " + s.qualified(t.name) + ";"
	}
	return ""
}

// render executes one of the portable SQL templates below in the script's dialect.
func (s ddlScript) render(text string, tables []ddlTable) (string, error) {
	funcs := template.FuncMap{
		"tbl":        s.qualified,
		"id":         s.d.dmlQuote,
		"str":        s.d.literal,
		"type":       func(name string) string { return s.d.dmlTypes[ddlTypeNamed(name)] },
		"arrayLen":   func(expr string) string { return s.d.arrayLen + "(" + expr + ")" },
		"arrayOpen":  func() string { return s.d.arrayOpen },
		"arrayClose": func() string { return s.d.arrayClose },
	}
	t, err := template.New("sql").Funcs(funcs).Parse(text)
	if err != nil {
		return "", fmt.Errorf("portable SQL template: %w", err)
	}
	data := map[string]string{"QueriesPart": "2"}
	if s.layout == LayoutLake {
		data["QueriesPart"] = "3"
	}
	for _, tb := range tables {
		switch tb.name {
		case "events_all":
			// whole_raw is the record with its eventID put back (warehouse.RawSQL); the raw
			// members are taken from it.
			q := s.d.dmlQuote
			data["WholeRaw"] = warehouse.RawSQL("a."+q("raw"), "a."+q(ddlRawEventIDAt), "a."+q("event_id"))
			whole := "latest." + q("whole_raw")
			cols := s.selectList("latest", ddlWithout(tb.columns, "raw", ddlRawEventIDAt), tb.partition)
			for _, m := range warehouse.RawMembers {
				member := s.d.jsonScalar
				if m.JSON {
					member = s.d.jsonMember
				}
				cols += ",\n       " + member(whole, m.Path) + " AS " + q(m.Column)
			}
			data["EventColumns"] = cols + ",\n       " + whole + " AS " + q("raw")
		case "session_snapshots":
			data["SessionColumns"] = s.selectList("latest", ddlWithout(tb.columns, "ingest_run"), nil)
		}
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("portable SQL template: %w", err)
	}
	return b.String(), nil
}

func ddlTypeNamed(name string) ddlType {
	for t := ddlString; t <= ddlStringArray; t++ {
		if t.String() == name {
			return t
		}
	}
	panic("reports: unknown SQL type " + name)
}

// selectList is "alias.col, alias.col, ..." wrapped for reading.
func (s ddlScript) selectList(alias string, cols []ddlColumn, partition *ddlColumn) string {
	if partition != nil {
		cols = append(append([]ddlColumn{}, cols...), *partition)
	}
	var lines []string
	line := ""
	for i, c := range cols {
		item := alias + "." + s.d.dmlQuote(c.name)
		if i < len(cols)-1 {
			item += ","
		}
		if line != "" && len(line)+1+len(item) > 96 {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += item
	}
	lines = append(lines, line)
	return strings.Join(lines, "\n       ")
}

// ddlLakeViewsSQL turns the raw lake into the warehouse's views (docs/warehouse.md), in SQL every
// target engine runs: CTEs, row_number() OVER, LEFT JOIN, CASE, coalesce, split_part,
// regexp_extract with a capture group. Engine-specific spellings come from the template functions
// and are marked where they appear.
const ddlLakeViewsSQL = `-- =============================================================================================
-- Part 2. PORTABLE SQL: views over the raw lake with the names and meaning of the warehouse views
-- (docs/warehouse.md). Standard SQL that Athena, Trino, Spark 3 and DuckDB all run; the few
-- lines spelled per engine say "engine-specific". DuckDB's own views use QUALIFY, ANTI JOIN,
-- * EXCLUDE and list functions, which these engines lack: here they are row_number() in a
-- subquery, LEFT JOIN ... IS NULL, explicit column lists and filter(). The views read the whole
-- lake (no partition filter can reach through the deduplication); for routine queries on a large
-- lake prefer the export layout, whose issuances are precomputed.
-- =============================================================================================

-- events: one row per eventID. A repeated delivery counts once; a record corrected by a later
-- one (addendum_original_event_id) is replaced by the correction; among copies, the newest
-- ingest wins.
CREATE OR REPLACE VIEW {{tbl "events"}} AS
SELECT {{.EventColumns}}
FROM (
    SELECT a.*,
           {{.WholeRaw}} AS whole_raw,
           row_number() OVER (
               PARTITION BY a.event_id
               ORDER BY CASE WHEN a.addendum_original_event_id IS NOT NULL THEN 0 ELSE 1 END,
                        a.ingest_run DESC, a.source_file DESC) AS copy_rank
    FROM {{tbl "events_all"}} a
) latest
LEFT JOIN (
    SELECT DISTINCT addendum_original_event_id AS event_id
    FROM {{tbl "events_all"}}
    WHERE addendum_original_event_id IS NOT NULL AND addendum_original_event_id <> event_id
) superseded ON superseded.event_id = latest.event_id
WHERE latest.copy_rank = 1 AND superseded.event_id IS NULL;

-- sessions: the latest known state of every session id ever seen, with when it was first and
-- last seen. A session TTL-deleted from the table keeps its last known state.
CREATE OR REPLACE VIEW {{tbl "sessions"}} AS
SELECT {{.SessionColumns}},
       history.first_seen, history.last_seen, history.snapshot_count
FROM (
    SELECT s.*,
           row_number() OVER (PARTITION BY s.id ORDER BY s.taken_at DESC, s.snapshot_id DESC) AS state_rank
    FROM {{tbl "session_snapshots"}} s
) latest
JOIN (
    SELECT id, min(taken_at) AS first_seen, max(taken_at) AS last_seen,
           count(DISTINCT snapshot_id) AS snapshot_count
    FROM {{tbl "session_snapshots"}}
    GROUP BY id
) history ON history.id = latest.id
WHERE latest.state_rank = 1;

-- issuances: every successful credential issuance (AssumeRole, AssumeRoleWithSAML,
-- AssumeRoleWithWebIdentity without errorCode), one per minted access key (the copy logged in
-- the role's account wins), classified against the whole session history:
--   tracked             SourceIdentity kind "s" and a session record with that id exists in ANY snapshot
--   orphaned            kind "s" but no snapshot ever held that session id
--   untracked_sentinel  kind "r": Sentinel issued it outside a tracked server session
--   non_sentinel_format SourceIdentity present but not Sentinel's grammar
--   no_source_identity  no SourceIdentity at all
-- Differences from Sentinel's own issuances: the profile is the session record's, else the role
-- name (Sentinel also maps role ARNs to profiles with the AWS config file), and the policy
-- columns are NULL (Sentinel evaluates the policy in Go): use the export layout for those.
CREATE OR REPLACE VIEW {{tbl "issuances"}} AS
WITH superseded AS (
    SELECT DISTINCT addendum_original_event_id AS event_id
    FROM {{tbl "events_all"}}
    WHERE addendum_original_event_id IS NOT NULL AND addendum_original_event_id <> event_id
),
sts_copies AS (
    SELECT a.*,
           row_number() OVER (
               PARTITION BY a.event_id
               ORDER BY CASE WHEN a.addendum_original_event_id IS NOT NULL THEN 0 ELSE 1 END,
                        a.ingest_run DESC, a.source_file DESC) AS copy_rank
    FROM {{tbl "events_all"}} a
    WHERE a.event_source = 'sts.amazonaws.com'
      AND a.event_name IN ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity')
),
issuance_events AS (
    SELECT c.*,
           row_number() OVER (
               PARTITION BY coalesce(c.issued_access_key_id, c.event_id)
               ORDER BY CASE WHEN c.recipient_account_id = split_part(c.role_arn, ':', 5)
                               OR (c.recipient_account_id IS NULL AND c.role_arn IS NULL) THEN 0 ELSE 1 END,
                        c.event_time, c.event_id) AS key_rank
    FROM sts_copies c
    LEFT JOIN superseded x ON x.event_id = c.event_id
    WHERE c.copy_rank = 1 AND x.event_id IS NULL AND c.error_code IS NULL
)
SELECT
    e.event_id,
    e.event_time,
    e.event_name,
    e.aws_region,
    e.recipient_account_id,
    nullif(split_part(e.role_arn, ':', 5), '') AS account_id,
    e.role_arn,
    -- regexp_extract with capture group 1: Spark's default group is 1, Trino's and DuckDB's 0.
    regexp_extract(e.role_arn, '([^/]+)$', 1) AS role_name,
    e.role_session_name,
    e.issued_access_key_id,
    e.identity_type AS caller_type,
    e.identity_arn AS caller_arn,
    e.source_ip_address,
    e.user_agent,
    e.source_identity,
    e.source_identity_kind,
    e.source_identity_id,
    CASE
        WHEN e.source_identity_kind = 's' AND s.id IS NOT NULL THEN 'tracked'
        WHEN e.source_identity_kind = 's' THEN 'orphaned'
        WHEN e.source_identity_kind = 'r' THEN 'untracked_sentinel'
        WHEN e.source_identity IS NOT NULL THEN 'non_sentinel_format'
        ELSE 'no_source_identity'
    END AS class,
    -- engine-specific: string literals (Spark escapes quotes with a backslash).
    CASE
        WHEN e.source_identity_kind = 's' AND s.id IS NOT NULL THEN
            'server session ' || s.id || ' is in the session history'
        WHEN e.source_identity_kind = 's' THEN
            'SourceIdentity names server session ' || e.source_identity_id || ', but no snapshot of the session table ever held it'
        WHEN e.source_identity_kind = 'r' THEN
            'issued by Sentinel outside a server session (request ' || e.source_identity_id || '), so it cannot be tracked or revoked'
        WHEN e.source_identity IS NOT NULL THEN
            'SourceIdentity "' || e.source_identity || {{str "\" is not Sentinel's format: issued by another tool"}}
        ELSE 'no SourceIdentity: credentials were issued outside Sentinel'
    END AS reason,
    coalesce(s.profile, regexp_extract(e.role_arn, '([^/]+)$', 1), '(unknown role)') AS profile,
    CASE WHEN s.profile IS NOT NULL THEN 'session' ELSE 'role_name' END AS profile_source,
    -- engine-specific: the quoting of the column name {{id "user"}}.
    coalesce(s.{{id "user"}}, nullif(e.source_identity_user, ''), e.identity_user_name,
             regexp_extract(e.identity_arn, '([^/]+)$', 1), e.role_session_name) AS {{id "user"}},
    CASE WHEN e.source_identity_kind = 's' THEN 'server' END AS mode,
    s.id AS session_id,
    s.status AS session_status,
    s.started_at AS session_started_at,
    s.expires_at AS session_expires_at,
    s.first_seen AS session_first_seen,
    s.last_seen AS session_last_seen,
    -- engine-specific: an array of the non-NULL flags.
    {{arrayOpen}}
        CASE WHEN s.status = 'revoked' AND coalesce(s.revoked_at, s.updated_at) <= e.event_time
             THEN 'issued_after_revocation' END,
        CASE WHEN e.event_time < s.started_at - INTERVAL '5' MINUTE OR e.event_time > s.expires_at + INTERVAL '5' MINUTE
             THEN 'outside_session_window' END
    {{arrayClose}} AS flags,
    -- engine-specific: type names.
    CAST(NULL AS {{type "string"}}) AS policy_effect,
    CAST(NULL AS {{type "string"}}) AS policy_rule,
    CAST(NULL AS {{type "string"}}) AS policy_reason,
    CAST(NULL AS {{type "boolean"}}) AS policy_required
FROM issuance_events e
LEFT JOIN {{tbl "sessions"}} s ON e.source_identity_kind = 's' AND s.id = e.source_identity_id
WHERE e.key_rank = 1;
`

// ddlQueriesHeader introduces the audit queries (ddlComplianceSQL, ddlUntrackedSQL).
const ddlQueriesHeader = `-- =============================================================================================
-- Part {{.QueriesPart}}. PORTABLE SQL: the audit queries over issuances. Standard SQL (CTEs,
-- CASE, count, bool_or, CAST, TIMESTAMP literals) that Athena, Trino, Spark 3 and DuckDB run
-- alike; the lines spelled per engine say "engine-specific". Set the window (UTC; until is
-- exclusive), the profile and the category in params: '' means all.
-- =============================================================================================
`

// ddlComplianceSQL is queries/session_compliance.sql over the issuances table, in SQL every
// target engine runs.
const ddlComplianceSQL = `-- session_compliance: per profile, how many issuances in the window were tracked, untracked and
-- orphaned, whether the policy required a tracked server session, and whether that left a gap.
--   compliance_rate = tracked / all successful issuances (a fraction: 0.571 = 57.1%)
--   has_gap         = the policy required a tracked session for an issuance that was not tracked
-- Unlike ` + "`sentinel audit session-compliance`" + `, profiles the policy names that had no issuance in
-- the window are not listed (the exported compliance table lists them).
WITH params AS (
    SELECT TIMESTAMP '1970-01-01 00:00:00' AS since,
           TIMESTAMP '9999-12-31 00:00:00' AS until,
           '' AS profile
),
windowed AS (
    SELECT i.*
    FROM {{tbl "issuances"}} i
    CROSS JOIN params p
    WHERE i.event_time >= p.since AND i.event_time < p.until
      AND (p.profile = '' OR i.profile = p.profile)
)
SELECT
    profile,
    bool_or(policy_required) AS policy_required,
    count(CASE WHEN class = 'tracked' THEN 1 END) AS tracked_count,
    count(CASE WHEN class IN ('untracked_sentinel', 'non_sentinel_format', 'no_source_identity') THEN 1 END) AS untracked_count,
    count(CASE WHEN class = 'orphaned' THEN 1 END) AS orphaned_count,
    count(*) AS issuance_count,
    -- engine-specific: the array-length function.
    count(CASE WHEN {{arrayLen "flags"}} > 0 THEN 1 END) AS flagged_count,
    CAST(count(CASE WHEN class = 'tracked' THEN 1 END) AS DOUBLE) / count(*) AS compliance_rate,
    count(CASE WHEN policy_required AND class <> 'tracked' THEN 1 END) > 0 AS has_gap
FROM windowed
GROUP BY profile
ORDER BY profile;
`

// ddlUntrackedSQL is queries/untracked_issuances.sql over the issuances table, in SQL every
// target engine runs.
const ddlUntrackedSQL = `-- untracked_issuances: every issuance in the window that was not tracked, oldest first, with why
-- and what the policy required at that moment.
WITH params AS (
    SELECT TIMESTAMP '1970-01-01 00:00:00' AS since,
           TIMESTAMP '9999-12-31 00:00:00' AS until,
           '' AS profile,
           '' AS category
)
SELECT
    i.event_id, i.event_time, i.account_id, i.role_arn, i.profile,
    -- engine-specific: the quoting of the column name {{id "user"}}.
    i.{{id "user"}},
    i.source_ip_address, i.user_agent, i.source_identity, i.class AS category, i.reason,
    i.policy_required, i.policy_rule, i.policy_effect, i.flags
FROM {{tbl "issuances"}} i
CROSS JOIN params p
WHERE i.class <> 'tracked'
  AND i.event_time >= p.since AND i.event_time < p.until
  AND (p.profile = '' OR i.profile = p.profile)
  AND (p.category = '' OR i.class = p.category)
ORDER BY i.event_time, i.event_id;
`
