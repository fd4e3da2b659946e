package reports

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

// textTable is a borderless, aligned text table: what a terminal user reads and what lines up for
// any cell width (display width, so ⚠ and non-ASCII names align too). It keeps each column's
// widest cell, so that render can fit it to the terminal's width (see fit).
type textTable struct {
	table.Writer
	header []string
	widths []int // each column's widest cell, its header included
	values []int // each column's widest cell below the header
	right  []int // 1-based columns aligned right
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
	t.widths = t.measure(nil, header)
	t.Writer.AppendHeader(table.Row(header))
	return t
}

// columnGap separates the columns.
const columnGap = "  "

// AppendRow adds a row and notes its cells' widths.
func (t *textTable) AppendRow(row table.Row, configs ...table.RowConfig) {
	t.values = t.measure(t.values, row)
	t.widths = t.measure(t.widths, row)
	t.Writer.AppendRow(row, configs...)
}

// measure is widths widened to the row's cells (display columns).
func (t *textTable) measure(widths []int, row []any) []int {
	for i, v := range row {
		if i == len(widths) {
			widths = append(widths, 0)
		}
		s, ok := v.(string)
		if !ok {
			s = fmt.Sprint(v)
		}
		widths[i] = max(widths[i], text.StringWidthWithoutEscSequences(s))
	}
	return widths
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

// A column's kind says when it gives up width to fit a terminal (see fit).
type columnKind int

const (
	// freeText (user agents, reasons, lists of calls) is cut first.
	freeText columnKind = iota
	// name (users, roles, profiles, ids, classes: any column not known) is cut next.
	name
	// whole (times, account ids, regions, source IPs, short values: of which a prefix says
	// little) is cut last.
	whole
	// number is a right-aligned column: its header may be cut, its numbers never.
	number
)

// columnKinds are the kinds of the columns known by header (lower case, a query's user_agent as
// user agent); the others are names.
var columnKinds = map[string]columnKind{
	"user agent": freeText, "reason": freeText, "sensitive calls": freeText, "revoked by": freeText, "detail": freeText,
	"time": whole, "issued at": whole, "first call": whole, "last call": whole, "started": whole, "last access": whole,
	"expires": whole, "from": whole, "until": whole, "last ingest": whole, "watermark": whole, "covered from": whole,
	"dates": whole, "account": whole, "region": whole, "source ip": whole,
}

// minWidth is the narrowest a column is cut to: four cells and the ellipsis.
const minWidth = 5

// readableWidth is the width free text and names are cut to before any header is.
const readableWidth = 16

// fit limits the table to width display columns when it is wider, as gh does: the widest column
// that may still give up width loses a cell while the table is too wide, its cells cut with an
// ellipsis. Free text gives first, down to readableWidth; then names and ids with it; then headers
// wider than their columns' cells; then free text, names and ids down to minWidth. When that is
// not enough, the columns are one space apart instead of two, and times, account ids, regions and
// short values give too; numbers never. A table that does not fit even then (many columns, or a
// terminal narrower than 80) is as narrow as it gets.
func (t *textTable) fit(width int) {
	if width <= 0 || rowWidth(t.widths, columnGap) <= width {
		return
	}
	kinds := make([]columnKind, len(t.widths))
	for i := range kinds {
		kinds[i] = t.kind(i)
	}
	// floors are the widths down to which the columns give up cells in a step: to(i) for the
	// columns of the kinds that give, their own width for the others.
	floors := func(to func(i int) int, give ...columnKind) []int {
		f := slices.Clone(t.widths)
		for i := range f {
			if slices.Contains(give, kinds[i]) {
				f[i] = min(f[i], to(i))
			}
		}
		return f
	}
	cells := func(n int) func(int) int { return func(int) int { return n } }
	headers := func(i int) int { return max(minWidth, t.valueWidth(i)) }
	steps := [][]int{
		floors(cells(readableWidth), freeText),
		floors(cells(readableWidth), freeText, name),
		floors(headers, freeText, name, whole, number),
		floors(cells(minWidth), freeText, name),
	}
	// shrunk are the widths after the steps with gap between the columns, and the cells still
	// too many.
	shrunk := func(gap string, steps [][]int) ([]int, int) {
		widths := slices.Clone(t.widths)
		excess := rowWidth(widths, gap) - width
		for _, floor := range steps {
			excess = shrink(widths, excess, floor)
		}
		return widths, excess
	}
	gap := columnGap
	widths, excess := shrunk(gap, steps)
	if excess > 0 {
		gap = " "
		widths, _ = shrunk(gap, append(steps, floors(cells(minWidth), freeText, name, whole)))
	}
	t.Style().Box.MiddleVertical = gap
	t.SetColumnConfigs(t.configs(widths))
}

// shrink takes up to excess cells from widths, a cell at a time from the widest column still
// wider than its floor, and returns how many it could not take.
func shrink(widths []int, excess int, floors []int) int {
	for ; excess > 0; excess-- {
		widest := -1
		for i, w := range widths {
			if w > floors[i] && (widest < 0 || w >= widths[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			break
		}
		widths[widest]--
	}
	return excess
}

// rowWidth is how wide a table's rows are with the given column widths and gap between columns.
func rowWidth(widths []int, gap string) int {
	total := len(gap) * (len(widths) - 1)
	for _, w := range widths {
		total += w
	}
	return total
}

// shortWidth is the width of the widest cell of a column of short values (statuses, yes or no,
// kinds of source), which is cut last: little width to gain, all its meaning to lose.
const shortWidth = 8

// kind is the kind of the column i.
func (t *textTable) kind(i int) columnKind {
	switch {
	case slices.Contains(t.right, i+1):
		return number
	case t.valueWidth(i) <= shortWidth:
		return whole
	}
	if k, ok := columnKinds[strings.ReplaceAll(strings.ToLower(t.header[i]), "_", " ")]; ok {
		return k
	}
	return name
}

// valueWidth is the width of the column i's widest cell below the header (0 without rows).
func (t *textTable) valueWidth(i int) int {
	if i < len(t.values) {
		return t.values[i]
	}
	return 0
}

// ellipsis shortens a cell to maxLen display columns with an ellipsis: at its end, or at its
// start for an ARN, whose end names the resource.
func ellipsis(cell string, maxLen int) string {
	if text.StringWidthWithoutEscSequences(cell) <= maxLen {
		return cell
	}
	if strings.HasPrefix(cell, "arn:") {
		return "…" + lastCells(cell, maxLen-1)
	}
	return strings.TrimRight(text.Trim(cell, maxLen-1), " ") + "…"
}

// lastCells is the longest end of s at most n display columns wide.
func lastCells(s string, n int) string {
	start := len(s)
	for start > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:start])
		if n -= text.RuneWidth(r); n < 0 {
			break
		}
		start -= size
	}
	return s[start:]
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
