package reports

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

// textTable is a borderless, aligned text table: what a terminal user reads and what lines up for
// any cell width (display width, so ⚠ and non-ASCII names align too). It keeps each column's
// widest cell, so that render can fit it to the terminal's width (see fit).
type textTable struct {
	table.Writer
	header []string
	widths []int
	right  []int // 1-based columns aligned right
	// anyShrinks lets every column give up width, widest first: for tables whose columns are
	// not known beforehand (sql).
	anyShrinks bool
}

// newTable is a text table with the given column names (shown in upper case).
func newTable(header ...any) *textTable {
	t := &textTable{Writer: table.NewWriter()}
	style := table.StyleLight
	style.Options = table.Options{SeparateColumns: true}
	style.Box.PaddingLeft, style.Box.PaddingRight = "", ""
	style.Box.MiddleVertical = columnGap
	style.Format.Header = text.FormatUpper
	t.SetStyle(style)
	for _, h := range header {
		t.header = append(t.header, fmt.Sprint(h))
	}
	t.measure(header)
	t.Writer.AppendHeader(table.Row(header))
	return t
}

// columnGap separates the columns.
const columnGap = "  "

// AppendRow adds a row and notes its cells' widths.
func (t *textTable) AppendRow(row table.Row, configs ...table.RowConfig) {
	t.measure(row)
	t.Writer.AppendRow(row, configs...)
}

func (t *textTable) measure(row []any) {
	for i, v := range row {
		if i == len(t.widths) {
			t.widths = append(t.widths, 0)
		}
		s, ok := v.(string)
		if !ok {
			s = fmt.Sprint(v)
		}
		t.widths[i] = max(t.widths[i], text.StringWidthWithoutEscSequences(s))
	}
}

// rightAligned aligns the given 1-based columns to the right (numbers).
func rightAligned(t *textTable, columns ...int) {
	t.right = columns
	t.SetColumnConfigs(t.configs(nil))
}

// configs are the column configurations: the alignments, and a maximum width for the columns
// that widths shortens.
func (t *textTable) configs(widths []int) []table.ColumnConfig {
	var cfg []table.ColumnConfig
	for i := range t.widths {
		c := table.ColumnConfig{Number: i + 1}
		if slices.Contains(t.right, i+1) {
			c.Align, c.AlignHeader = text.AlignRight, text.AlignRight
		}
		if widths != nil && widths[i] < t.widths[i] {
			c.WidthMax, c.WidthMaxEnforcer = widths[i], ellipsis
		}
		cfg = append(cfg, c)
	}
	return cfg
}

// shrinking are the columns that give up width when a table is wider than the terminal, by
// header: free text first, then names. Ids, times, numbers and classes keep theirs (as gh keeps
// a pull request's number whole and shortens its title).
var shrinking = [][]string{
	{"user agent", "reason", "sensitive calls", "revoked by"},
	{"user", "role", "profile"},
}

// minShrunk is the narrowest a shrinking column gets (or its header, when wider).
const minShrunk = 8

// fit limits the table to width display columns when it is wider, shortening the shrinking
// columns' cells with an ellipsis: within each group the widest first, down to a common width, so
// that the least is cut. When even that does not fit, the table stays wider.
func (t *textTable) fit(width int) {
	total := len(columnGap) * (len(t.widths) - 1)
	for _, w := range t.widths {
		total += w
	}
	excess := total - width
	if width <= 0 || excess <= 0 {
		return
	}
	widths := slices.Clone(t.widths)
	floor := func(i int) int {
		return min(t.widths[i], max(minShrunk, text.StringWidthWithoutEscSequences(t.header[i])))
	}
	for _, group := range t.shrinkingGroups() {
		// The common width: the widest at which shortening the group's columns to it gives enough.
		cut := func(level int) int {
			n := 0
			for _, i := range group {
				n += widths[i] - min(widths[i], max(level, floor(i)))
			}
			return n
		}
		level := 0
		for _, i := range group {
			level = max(level, widths[i])
		}
		for level > 0 && cut(level) < excess {
			level--
		}
		excess -= cut(level)
		for _, i := range group {
			widths[i] = min(widths[i], max(level, floor(i)))
		}
		if excess <= 0 {
			break
		}
	}
	t.SetColumnConfigs(t.configs(widths))
}

// shrinkingGroups are the indexes of the columns that may shrink, group by group.
func (t *textTable) shrinkingGroups() [][]int {
	if t.anyShrinks {
		all := make([]int, len(t.widths))
		for i := range all {
			all[i] = i
		}
		return [][]int{all}
	}
	var groups [][]int
	for _, names := range shrinking {
		var group []int
		for i, h := range t.header {
			if slices.Contains(names, strings.ToLower(h)) {
				group = append(group, i)
			}
		}
		groups = append(groups, group)
	}
	return groups
}

// ellipsis shortens a cell to maxLen display columns, its last one an ellipsis.
func ellipsis(cell string, maxLen int) string {
	if text.StringWidthWithoutEscSequences(cell) <= maxLen {
		return cell
	}
	return text.Trim(cell, maxLen-1) + "…"
}

// widthOut is a report's output with the terminal width its tables fit.
type widthOut struct {
	io.Writer
	width int
}

// fitTo is out for a report whose tables fit width display columns (0: no limit; the report's
// input Width, which cmd sets from the terminal).
func fitTo(out io.Writer, width int) io.Writer {
	if width <= 0 {
		return out
	}
	return widthOut{out, width}
}

// render writes the table without the padding go-pretty leaves at the end of each line, in
// large writes (a table can have hundreds of thousands of lines), fitted to out's width (fitTo).
// Like the reports' other writes to the terminal, a failed write is not an error of the report.
func render(out io.Writer, t *textTable) { renderIndented(out, t, "") }

// renderIndented is render with every line indented.
func renderIndented(out io.Writer, t *textTable, indent string) {
	if o, ok := out.(widthOut); ok {
		t.fit(o.width - len(indent))
	}
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
