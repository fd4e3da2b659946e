package ddl

import (
	"fmt"
	"slices"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
	"github.com/sentinel-audit/sentinel/warehouse"
)

// sqlType is the small vocabulary of column types the lake and the exported tables use; each
// dialect spells them its own way.
type sqlType int

const (
	stringType sqlType = iota
	timestampType
	booleanType
	bigintType
	integerType
	doubleType
	dateType
	stringArrayType
)

// String is the type's name in the templates' {{type "..."}}.
func (t sqlType) String() string {
	return [...]string{"string", "timestamp", "boolean", "bigint", "int", "double", "date", "array<string>"}[t]
}

func typeNamed(name string) (sqlType, error) {
	for t := stringType; t <= stringArrayType; t++ {
		if t.String() == name {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown SQL type %q", name)
}

// column is a column of a table; its fields are exported for the templates.
type column struct {
	Name string
	Type sqlType
}

// table is one directory of Parquet files made into a table; its fields are exported for the
// templates.
type table struct {
	Name      string   // table name in the engine
	Dir       string   // directory under the location
	About     string   // what the table holds, a sentence for a comment
	Columns   []column // in Parquet order, the partition column apart
	Partition *column  // the Hive partition column (Dir/NAME=YYYY-MM-DD/), nil = none
}

// AllColumns are the columns with the partition column last, as Trino and Spark declare them.
func (t table) AllColumns() []column {
	if t.Partition == nil {
		return t.Columns
	}
	return append(slices.Clone(t.Columns), *t.Partition)
}

// parquetColumns lists the columns of the Parquet schema of a lake row type, with their SQL types,
// in file order. A column whose Parquet type has no mapping is an error, so a new kind of column
// in warehouse/rows.go fails the DDL (and its tests) rather than being mistyped.
func parquetColumns(row any) ([]column, error) {
	var cols []column
	for _, f := range parquet.SchemaOf(row).Fields() {
		t, err := parquetType(f)
		if err != nil {
			return nil, err
		}
		cols = append(cols, column{f.Name(), t})
	}
	return cols, nil
}

func parquetType(f parquet.Field) (sqlType, error) {
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
			return stringType, nil
		}
	case parquet.Boolean:
		if logical == nil {
			return booleanType, nil
		}
	case parquet.Int64:
		switch lt := logical.(type) {
		case nil:
			return bigintType, nil
		case *format.IntType:
			if lt.BitWidth == 64 && lt.IsSigned {
				return bigintType, nil
			}
		case *format.TimestampType:
			// Trino's DDL names the precision: only microseconds (what the lake writes) is mapped.
			if _, micros := lt.Unit.Value.(*format.MicroSeconds); micros {
				return timestampType, nil
			}
		}
	case parquet.Int32:
		switch lt := logical.(type) {
		case nil:
			return integerType, nil
		case *format.IntType:
			if lt.BitWidth == 32 && lt.IsSigned {
				return integerType, nil
			}
		case *format.DateType:
			return dateType, nil
		}
	case parquet.Double:
		if logical == nil {
			return doubleType, nil
		}
	}
	return 0, fmt.Errorf("lake column %s: Parquet type %s has no DDL mapping (extend ddl/columns.go)", f.Name(), t)
}

// Columns of the exported tables that are not lake datasets. They are the columns of the
// warehouse views the export reads (docs/warehouse.md); the tests compare them with DuckDB's.
var (
	issuanceColumns = []column{
		{"event_id", stringType}, {"event_time", timestampType}, {"event_name", stringType}, {"aws_region", stringType},
		{"recipient_account_id", stringType}, {"account_id", stringType}, {"role_arn", stringType}, {"role_name", stringType},
		{"role_session_name", stringType}, {"issued_access_key_id", stringType}, {"caller_type", stringType},
		{"caller_arn", stringType}, {"source_ip_address", stringType}, {"user_agent", stringType},
		{"source_identity", stringType}, {"source_identity_kind", stringType}, {"source_identity_id", stringType},
		{"class", stringType}, {"reason", stringType}, {"profile", stringType}, {"profile_source", stringType},
		{"user", stringType}, {"mode", stringType}, {"session_id", stringType}, {"session_status", stringType},
		{"session_started_at", timestampType}, {"session_expires_at", timestampType},
		{"session_first_seen", timestampType}, {"session_last_seen", timestampType}, {"orphan_snapshot_at", timestampType},
		{"flags", stringArrayType},
		{"policy_effect", stringType}, {"policy_rule", stringType}, {"policy_reason", stringType},
		{"policy_required", booleanType},
	}
	sessionHistoryColumns = []column{{"first_seen", timestampType}, {"last_seen", timestampType}, {"snapshot_count", bigintType}}
	complianceColumns     = []column{
		{"profile", stringType}, {"policy_required", booleanType}, {"tracked_count", bigintType},
		{"untracked_count", bigintType}, {"orphaned_count", bigintType}, {"unverified_count", bigintType},
		{"issuance_count", bigintType},
		{"flagged_count", bigintType}, {"compliance_rate", doubleType}, {"has_gap", booleanType},
	}
)

// rawMemberColumns are the events columns taken from raw rather than stored in the lake.
func rawMemberColumns() []column {
	var cols []column
	for _, m := range warehouse.RawMembers {
		cols = append(cols, column{m.Column, stringType})
	}
	return cols
}

// rawEventIDAt is the lake column that says where raw's eventID was cut out (warehouse.EventRow).
const rawEventIDAt = "raw_event_id_at"

// Partition columns of the lake datasets (directories NAME=YYYY-MM-DD).
var (
	eventDate    = column{"event_date", dateType}
	snapshotDate = column{"snapshot_date", dateType}
)

// layoutTables are the tables of a layout.
func layoutTables(layout string) ([]table, error) {
	events, err := parquetColumns(new(warehouse.EventRow))
	if err != nil {
		return nil, err
	}
	snapshots, err := parquetColumns(new(warehouse.SnapshotRow))
	if err != nil {
		return nil, err
	}
	if layout == LayoutLake {
		return []table{
			{Name: "events_all", Dir: "lake/" + warehouse.DatasetEvents, Columns: events, Partition: &eventDate,
				About: "events_all: every stored copy of every CloudTrail record (the lake as ingest wrote it: where raw_event_id_at > 0, raw lacks its eventID's value, which the events view puts back), partitioned by the UTC date of event_time."},
			{Name: "session_snapshots", Dir: "lake/" + warehouse.DatasetSnapshots, Columns: snapshots, Partition: &snapshotDate,
				About: "session_snapshots: every item of every snapshot of the session table, partitioned by the UTC date of taken_at."},
		}, nil
	}
	sessions := append(without(snapshots, "ingest_run"), sessionHistoryColumns...)
	return []table{
		{Name: "events", Dir: "events", Columns: append(without(events, rawEventIDAt), rawMemberColumns()...), Partition: &eventDate,
			About: "events: one row per eventID (deduplicated, corrections applied), partitioned by the UTC date of event_time."},
		{Name: "issuances", Dir: "issuances", Columns: issuanceColumns,
			About: "issuances: every successful credential issuance, classified, with the policy's verdict at its moment."},
		{Name: "sessions", Dir: "sessions", Columns: sessions,
			About: "sessions: the latest known state of every session id ever seen in a snapshot."},
		{Name: "compliance", Dir: "compliance", Columns: complianceColumns,
			About: "compliance: the session-compliance report of the exported window, one row per profile."},
	}, nil
}

func without(cols []column, names ...string) []column {
	var out []column
	for _, c := range cols {
		if !slices.Contains(names, c.Name) {
			out = append(out, c)
		}
	}
	return out
}
