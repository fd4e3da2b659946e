package reports

import (
	"io"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

// newTable is a borderless, aligned text table: what a terminal user reads and what lines up for
// any cell width (display width, so ⚠ and non-ASCII names align too).
func newTable(out io.Writer, header ...any) table.Writer {
	t := table.NewWriter()
	t.SetOutputMirror(out)
	style := table.StyleLight
	style.Options = table.Options{SeparateColumns: true}
	style.Box.PaddingLeft, style.Box.PaddingRight = "", ""
	style.Box.MiddleVertical = "  "
	style.Format.Header = text.FormatUpper
	t.SetStyle(style)
	t.AppendHeader(table.Row(header))
	return t
}

// rightAligned aligns the given 1-based columns to the right (numbers).
func rightAligned(t table.Writer, columns ...int) {
	var cfg []table.ColumnConfig
	for _, c := range columns {
		cfg = append(cfg, table.ColumnConfig{Number: c, Align: text.AlignRight, AlignHeader: text.AlignRight})
	}
	t.SetColumnConfigs(cfg)
}
