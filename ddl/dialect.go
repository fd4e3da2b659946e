package ddl

import (
	"strings"

	"github.com/sentinel-audit/sentinel/warehouse"
)

// dialect is how one engine spells types, identifiers, literals and the few non-standard
// functions the portable SQL needs.
type dialect struct {
	engine   string
	title    string
	internal bool // not offered on the command line (DuckDB: the tests run the portable SQL on it)
	// tables is the template file of the engine's database and tables ("" for DuckDB).
	tables string
	// ddlTypes spell the column types of CREATE TABLE, dmlTypes those of CAST in views and queries
	// (Athena's DDL is Hive's, its DML is Trino's).
	ddlTypes, dmlTypes map[sqlType]string
	ddlQuote, dmlQuote func(string) string
	literal            func(string) string
	catalog            string // prefix of the database in qualified names ("hive." for Trino)
	// arrayLen is the array-length function; arrayOpen … arrayClose wrap a list of expressions
	// into an array of the non-NULL ones.
	arrayLen              string
	arrayOpen, arrayClose string
	// jsonMember is the JSON text of the member at path of a JSON document in expr (NULL when
	// absent); jsonScalar its value as text (strings unquoted; NULL when absent, null or "").
	jsonMember, jsonScalar func(expr, path string) string
}

func doubleQuoted(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func backQuoted(s string) string   { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// sparkLiteral escapes the way Spark's parser unescapes string literals (backslash escapes).
func sparkLiteral(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

var trinoTypes = map[sqlType]string{
	stringType: "varchar", timestampType: "timestamp(6)", booleanType: "boolean", bigintType: "bigint", integerType: "integer",
	doubleType: "double", dateType: "date", stringArrayType: "array(varchar)",
}

var sparkTypes = map[sqlType]string{
	stringType: "STRING", timestampType: "TIMESTAMP", booleanType: "BOOLEAN", bigintType: "BIGINT", integerType: "INT",
	doubleType: "DOUBLE", dateType: "DATE", stringArrayType: "ARRAY<STRING>",
}

var duckDBTypes = map[sqlType]string{
	stringType: "VARCHAR", timestampType: "TIMESTAMPTZ", booleanType: "BOOLEAN", bigintType: "BIGINT", integerType: "INTEGER",
	doubleType: "DOUBLE", dateType: "DATE", stringArrayType: "VARCHAR[]",
}

const duckDB = "duckdb"

var dialects = map[string]dialect{
	EngineAthena: {
		engine: EngineAthena, title: "Amazon Athena (engine version 3)", tables: "athena_tables.sql.tmpl",
		ddlTypes: sparkTypes,
		dmlTypes: map[sqlType]string{
			stringType: "varchar", timestampType: "timestamp", booleanType: "boolean", bigintType: "bigint", integerType: "integer",
			doubleType: "double", dateType: "date", stringArrayType: "array(varchar)",
		},
		ddlQuote: backQuoted, dmlQuote: doubleQuoted, literal: warehouse.Literal,
		arrayLen: "cardinality", arrayOpen: "filter(ARRAY[", arrayClose: "], f -> f IS NOT NULL)",
		jsonMember: trinoJSONMember, jsonScalar: trinoJSONScalar,
	},
	EngineTrino: {
		engine: EngineTrino, title: `Trino (Hive connector, catalog "hive")`, tables: "trino_tables.sql.tmpl",
		ddlTypes: trinoTypes, dmlTypes: trinoTypes,
		ddlQuote: doubleQuoted, dmlQuote: doubleQuoted, literal: warehouse.Literal, catalog: "hive.",
		arrayLen: "cardinality", arrayOpen: "filter(ARRAY[", arrayClose: "], f -> f IS NOT NULL)",
		jsonMember: trinoJSONMember, jsonScalar: trinoJSONScalar,
	},
	EngineSpark: {
		engine: EngineSpark, title: "Apache Spark SQL 3.3+ (Hive metastore or Glue catalog)", tables: "spark_tables.sql.tmpl",
		ddlTypes: sparkTypes, dmlTypes: sparkTypes,
		ddlQuote: backQuoted, dmlQuote: backQuoted, literal: sparkLiteral,
		arrayLen: "size", arrayOpen: "filter(array(", arrayClose: "), f -> f IS NOT NULL)",
		jsonMember: func(expr, path string) string { return "get_json_object(" + expr + ", " + sparkLiteral(path) + ")" },
		jsonScalar: func(expr, path string) string {
			return "nullif(get_json_object(" + expr + ", " + sparkLiteral(path) + "), '')"
		},
	},
	duckDB: {
		engine: duckDB, title: "DuckDB", internal: true,
		ddlTypes: duckDBTypes, dmlTypes: duckDBTypes,
		ddlQuote: doubleQuoted, dmlQuote: doubleQuoted, literal: warehouse.Literal,
		arrayLen: "len", arrayOpen: "list_filter([", arrayClose: "], f -> f IS NOT NULL)",
		jsonMember: func(expr, path string) string {
			return "nullif(json_extract(" + expr + ", " + warehouse.Literal(path) + ")::VARCHAR, 'null')"
		},
		jsonScalar: func(expr, path string) string {
			return "nullif(json_extract_string(" + expr + ", " + warehouse.Literal(path) + "), '')"
		},
	},
}

func trinoJSONMember(expr, path string) string {
	return "nullif(json_format(json_extract(" + expr + ", " + warehouse.Literal(path) + ")), 'null')"
}

func trinoJSONScalar(expr, path string) string {
	return "nullif(json_extract_scalar(" + expr + ", " + warehouse.Literal(path) + "), '')"
}
