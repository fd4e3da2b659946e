package reports

import (
	"bufio"
	"io"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

// newTable is a borderless, aligned text table: what a terminal user reads and what lines up for
// any cell width (display width, so ⚠ and non-ASCII names align too).
func newTable(header ...any) table.Writer {
	t := table.NewWriter()
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

// render writes the table without the padding go-pretty leaves at the end of each line, in
// large writes (a table can have hundreds of thousands of lines). Like the reports' other writes
// to the terminal, a failed write is not an error of the report.
func render(out io.Writer, t table.Writer) { renderIndented(out, t, "") }

// renderIndented is render with every line indented.
func renderIndented(out io.Writer, t table.Writer, indent string) {
	w := bufio.NewWriterSize(out, 1<<16)
	text := t.Render()
	for len(text) > 0 {
		line, rest, _ := strings.Cut(text, "\n")
		w.WriteString(indent)
		w.WriteString(strings.TrimRight(line, " "))
		w.WriteByte('\n')
		text = rest
	}
	w.Flush()
}

// clipCell shortens long free text (user agents) for a table cell; JSON and CSV keep it whole.
func clipCell(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
