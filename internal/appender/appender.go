// Package appender bulk-loads rows into a DuckDB table through DuckDB's appender, on a
// connection of database/sql (inside its transaction when one is open on it).
package appender

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Rows appends n rows, row(0) ... row(n-1), to table; each row holds a value per column, in
// the table's order (nil is NULL).
func Rows(ctx context.Context, conn *sql.Conn, table string, n int, row func(int) []driver.Value) error {
	if n == 0 {
		return nil
	}
	err := conn.Raw(func(dc any) error {
		a, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", table)
		if err != nil {
			return err
		}
		for i := range n {
			if err := a.AppendRow(row(i)...); err != nil {
				return errors.Join(err, a.Close())
			}
		}
		return a.CloseWithCancel(ctx)
	})
	if err != nil {
		return fmt.Errorf("load %s: %w", table, err)
	}
	return nil
}
