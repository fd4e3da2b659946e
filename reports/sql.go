package reports

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"slices"
	"time"
)

// SQLInput is the input of `sentinel sql`.
type SQLInput struct {
	AuditInput
	Query string
}

// SQL runs one read-only query over the warehouse views (events, issuances, sessions, ...) and
// writes the result. Statements that would change anything are refused before they run, and the
// engine is sealed so no other file can be read, written or attached.
func SQL(ctx context.Context, in SQLInput, out, diag io.Writer) error {
	format, err := ParseFormat(in.Format)
	if err != nil {
		return err
	}
	out = fitTo(out, in.Width)
	a, err := openAuditWith(ctx, in.AuditInput, diag, false)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.reader.Seal(ctx); err != nil {
		return err
	}
	rows, err := a.reader.ReadOnlyQuery(ctx, in.Query)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	var records [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("query: %w", err)
		}
		records = append(records, vals)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("query: %w", err)
	}
	switch format {
	case FormatJSON:
		for i, c := range cols {
			if slices.Contains(cols[:i], c) {
				return fmt.Errorf("query: two columns are named %q, which JSON objects cannot hold: name each (AS)", c)
			}
		}
		list := make([]sqlRow, 0, len(records))
		for _, rec := range records {
			list = append(list, sqlRow{cols, rec})
		}
		return writeJSON(out, list)
	case FormatCSV:
		w := csv.NewWriter(out)
		w.Write(cols)
		for _, rec := range records {
			line := make([]string, len(rec))
			for i, v := range rec {
				line[i] = cell(v, "")
			}
			w.Write(line)
		}
		w.Flush()
		return w.Error()
	default:
		header := make([]any, len(cols))
		for i, c := range cols {
			header[i] = c
		}
		t := newTable(header...)
		t.Style().Format.Header = 0
		for _, rec := range records {
			line := make([]any, len(rec))
			for i, v := range rec {
				line[i] = cell(v, "NULL")
			}
			t.AppendRow(line)
		}
		render(out, t)
		fmt.Fprintf(diag, "(%s)\n", plural(len(records), "row"))
		return nil
	}
}

// cell renders one value as text: times in RFC 3339, nested values as JSON, NULL as null.
func cell(v any, null string) string {
	switch x := v.(type) {
	case nil:
		return null
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return string(x)
	case string:
		return x
	case fmt.Stringer:
		return x.String()
	case map[string]any, []any:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	default:
		return fmt.Sprint(x)
	}
}

// sqlRow is one result row as a JSON object with the columns in the query's order (a map's
// keys would be sorted).
type sqlRow struct {
	cols []string
	vals []any
}

func (r sqlRow) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, c := range r.cols {
		if i > 0 {
			b = append(b, ',')
		}
		k, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(jsonValue(r.vals[i]))
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c, err)
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

func jsonValue(v any) any {
	switch x := v.(type) {
	case *big.Int:
		return json.Number(x.String())
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return string(x)
	case fmt.Stringer:
		return x.String()
	default:
		return x
	}
}
