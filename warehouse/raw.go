package warehouse

import (
	"fmt"
	"os"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// RawMember is a column of the events views that is a member of the record, taken from raw when a
// query selects it instead of being stored beside it (EventRow).
type RawMember struct {
	Column string // column name in the views
	Path   string // JSONPath of the member in the record
	// JSON: the member's JSON text (objects); otherwise its value as text (strings unquoted),
	// NULL when absent, null or "".
	JSON bool
}

// RawMembers are the record members that are columns of the events views but not of the lake:
// rarely queried, and costly to store twice (requestID alone would be 8 % of the lake).
var RawMembers = []RawMember{
	{Column: "error_message", Path: "$.errorMessage"},
	{Column: "request_id", Path: "$.requestID"},
	{Column: "shared_event_id", Path: "$.sharedEventID"},
	{Column: "identity_principal_id", Path: "$.userIdentity.principalId"},
	{Column: "session_creation_date", Path: "$.userIdentity.sessionContext.attributes.creationDate"},
	{Column: "session_source_identity", Path: "$.userIdentity.sessionContext.sourceIdentity"},
	{Column: "request_source_identity", Path: "$.requestParameters.sourceIdentity"},
	{Column: "response_source_identity", Path: "$.responseElements.sourceIdentity"},
	{Column: "assumed_role_arn", Path: "$.responseElements.assumedRoleUser.arn"},
	{Column: "request_parameters", Path: "$.requestParameters", JSON: true},
	{Column: "response_elements", Path: "$.responseElements", JSON: true},
}

// rawEventIDColumn is where a lake file says how to put the eventID back into raw (EventRow).
const rawEventIDColumn = "raw_event_id_at"

// RawSQL is the whole record of a lake row, given SQL for its raw, raw_event_id_at and event_id
// columns, in SQL that DuckDB, Trino, Athena and Spark all run. A row of a file written before
// raw_event_id_at existed reads it as NULL: its raw is whole.
func RawSQL(raw, at, eventID string) string {
	return fmt.Sprintf("CASE WHEN %[2]s > 0 THEN concat(substr(%[1]s, 1, %[2]s), %[3]s, substr(%[1]s, %[2]s + 1)) ELSE %[1]s END", raw, at, eventID)
}

// rawMembersSQL is the select list of RawMembers taken from the JSON text in expr (DuckDB).
func rawMembersSQL(expr string) (names, members string) {
	var n, m []string
	for _, c := range RawMembers {
		n = append(n, Literal(c.Column))
		if c.JSON {
			m = append(m, fmt.Sprintf("nullif(json_extract(%s, %s), 'null') AS %s", expr, Literal(c.Path), c.Column))
		} else {
			m = append(m, fmt.Sprintf("nullif(json_extract_string(%s, %s), '') AS %s", expr, Literal(c.Path), c.Column))
		}
	}
	return strings.Join(n, ", "), strings.Join(m, ",\n       ")
}

// hasColumn reports whether the Parquet file at path has a top-level column name (false when it
// cannot be read).
func hasColumn(path, name string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return false
	}
	_, ok := pf.Schema().Lookup(name)
	return ok
}
