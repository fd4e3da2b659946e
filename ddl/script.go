package ddl

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"text/template"

	"github.com/sentinel-audit/sentinel/warehouse"
)

// The templates: script.sql.tmpl lays out the whole output; ENGINE_tables.sql.tmpl define the
// engine's "notes", "preamble", "database" and "table"; the rest is the portable SQL of the
// views and queries, which every engine (and DuckDB, in the tests) runs.
//
//go:embed templates/*.sql.tmpl
var templates embed.FS

const (
	scriptTemplate     = "script.sql.tmpl"
	lakeViewsTemplate  = "lake_views.sql.tmpl"
	complianceTemplate = "session_compliance.sql.tmpl"
	untrackedTemplate  = "untracked_issuances.sql.tmpl"
	tablesSuffix       = "_tables.sql.tmpl"
)

// lineWidth is the width comments and select lists are wrapped to.
const lineWidth = 96

// script is the whole output for one engine and layout. Its exported fields and methods are what
// the templates read.
type script struct {
	d        dialect
	Title    string
	Layout   string
	Location string // validated by checkLocation: no quote, backslash or white space
	Database string
	Command  string
	Tables   []table // the layout's
	lake     []table // the lake layout's (events_all, session_snapshots), whose columns the views select
	// IssuanceEventNames are the STS events that issue credentials.
	IssuanceEventNames []string
}

func newScript(d dialect, layout, location, db string) (*script, error) {
	tables, err := layoutTables(layout)
	if err != nil {
		return nil, err
	}
	lake, err := layoutTables(LayoutLake)
	if err != nil {
		return nil, err
	}
	return &script{d: d, Title: d.title, Layout: layout, Location: location, Database: db,
		Command: generatedBy(d.engine, location, layout, db), Tables: tables, lake: lake,
		IssuanceEventNames: warehouse.IssuanceEventNames}, nil
}

// Lake says whether the layout is the lake's.
func (s *script) Lake() bool { return s.Layout == LayoutLake }

// QueriesPart is the number of the part that holds the audit queries: the lake layout's views
// are part 2.
func (s *script) QueriesPart() int {
	if s.Lake() {
		return 3
	}
	return 2
}

// EventColumns are the lake's events columns the events view selects from its "latest" row,
// those from raw and raw itself apart.
func (s *script) EventColumns() string {
	return s.selectList("latest", without(s.lake[0].AllColumns(), "raw", rawEventIDAt))
}

// SessionColumns are the snapshot columns the sessions view selects from its "latest" row.
func (s *script) SessionColumns() string {
	return s.selectList("latest", without(s.lake[1].Columns, "ingest_run"))
}

// WholeRaw is the record with its eventID put back, from the events_all row "a"
// (warehouse.RawSQL).
func (s *script) WholeRaw() string {
	q := s.d.dmlQuote
	return warehouse.RawSQL("a."+q("raw"), "a."+q(rawEventIDAt), "a."+q("event_id"))
}

// RawMembers are the events columns taken from raw.
func (s *script) RawMembers() []warehouse.RawMember { return warehouse.RawMembers }

// selectList is "alias.col, alias.col, ..." wrapped for reading.
func (s *script) selectList(alias string, cols []column) string {
	var lines []string
	line := ""
	for i, c := range cols {
		item := alias + "." + s.d.dmlQuote(c.Name)
		if i < len(cols)-1 {
			item += ","
		}
		if line != "" && len(line)+1+len(item) > lineWidth {
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

// funcs are the template functions: the dialect's spellings.
func (s *script) funcs() template.FuncMap {
	d := s.d
	return template.FuncMap{
		// tbl is a table's qualified name; location the directory of a table's files.
		"database": func() string { return s.Database },
		"tbl":      func(name string) string { return d.catalog + s.Database + "." + name },
		"location": func(dir string) string { return s.Location + "/" + dir },
		// name is a column name in CREATE TABLE, columnType its type there; id is an identifier
		// and type a type (by name: "string", "boolean", ...) in views and queries.
		"name":       d.ddlQuote,
		"columnType": func(t sqlType) string { return d.ddlTypes[t] },
		"id":         d.dmlQuote,
		"type": func(name string) (string, error) {
			t, err := typeNamed(name)
			return d.dmlTypes[t], err
		},
		// str is a string literal; strs a list of them, comma-separated.
		"str": d.literal,
		"strs": func(values []string) string {
			quoted := make([]string, len(values))
			for i, v := range values {
				quoted[i] = d.literal(v)
			}
			return strings.Join(quoted, ", ")
		},
		// member is a member of raw taken from the JSON text in expr, as text (JSON text for the
		// members that hold objects).
		"member": func(expr string, m warehouse.RawMember) string {
			if m.JSON {
				return d.jsonMember(expr, m.Path)
			}
			return d.jsonScalar(expr, m.Path)
		},
		"arrayLen":   func(expr string) string { return d.arrayLen + "(" + expr + ")" },
		"arrayOpen":  func() string { return d.arrayOpen },
		"arrayClose": func() string { return d.arrayClose },
		"comment":    func(text string) string { return comment(text, lineWidth) },
		"join":       strings.Join,
	}
}

// render executes one template: the script's layout, the portable templates and the engine's.
func (s *script) render(name string) (string, error) {
	files, err := fs.Glob(templates, "templates/*.sql.tmpl")
	if err != nil {
		return "", err
	}
	var patterns []string
	for _, f := range files {
		if !strings.HasSuffix(f, tablesSuffix) || path.Base(f) == s.d.tables {
			patterns = append(patterns, f)
		}
	}
	t, err := template.New(name).Funcs(s.funcs()).ParseFS(templates, patterns...)
	if err != nil {
		return "", fmt.Errorf("SQL templates: %w", err)
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, name, s); err != nil {
		return "", fmt.Errorf("SQL template %s: %w", name, err)
	}
	return b.String(), nil
}

// comment wraps text into "-- " lines of at most width characters.
func comment(text string, width int) string {
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
