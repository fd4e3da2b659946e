package ddl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sqlcheck is the Node script that parses SQL with the engines' grammars (dt-sql-parser, pinned in
// its package-lock.json; scripts/with-standins.sh installs it).
const sqlcheck = "../scripts/sqlcheck"

// statement is one statement of a script, with the grammar it is parsed with.
type statement struct {
	Grammar string `json:"grammar"`
	SQL     string `json:"sql"`
	line    int    // where it starts in the script
}

// grammarResult is what scripts/sqlcheck says of one statement.
type grammarResult struct {
	Statements int `json:"statements"`
	Errors     []struct {
		Line    int    `json:"line"`
		Column  int    `json:"column"`
		Message string `json:"message"`
	} `json:"errors"`
}

// statements splits a script the way its header says it is laid out: statements end with ";" at
// the end of a line and are separated by blank lines; comment lines between them are left out,
// those inside a statement kept.
func statements(t *testing.T, script string) []statement {
	t.Helper()
	var out []statement
	var cur []string
	start := 0
	for i, line := range strings.Split(script, "\n") {
		code := strings.TrimSpace(line) != "" && !strings.HasPrefix(strings.TrimSpace(line), "--")
		if !code && statementLines(cur) == 0 {
			cur = nil // a comment between statements
			continue
		}
		if len(cur) == 0 {
			start = i + 1
		}
		cur = append(cur, line)
		if code && strings.HasSuffix(strings.TrimRight(line, " "), ";") {
			out = append(out, statement{SQL: strings.Join(cur, "\n"), line: start})
			cur = nil
		}
	}
	if statementLines(cur) > 0 {
		t.Errorf("the script ends inside a statement (no \";\"):\n%s", strings.Join(cur, "\n"))
	}
	return out
}

func statementLines(lines []string) int {
	n := 0
	for _, l := range lines {
		if s := strings.TrimSpace(l); s != "" && !strings.HasPrefix(s, "--") {
			n++
		}
	}
	return n
}

// grammarOf is the grammar that an engine parses a statement with. Trino and Spark have one each.
// Athena has two: "With some exceptions, Athena DDL is based on HiveQL DDL and Athena DML is based
// on Trino" (docs.aws.amazon.com/athena/latest/ug/ddl-sql-reference.html). Its CREATE DATABASE and
// CREATE EXTERNAL TABLE are Hive's; its queries and its views (CREATE VIEW, athena/latest/ug/
// create-view.html: the view's query is Trino SQL) are Trino's.
func grammarOf(engine, sql string) string {
	if engine != EngineAthena {
		return engine
	}
	var code []string
	for _, l := range strings.Split(sql, "\n") {
		if s := strings.TrimSpace(l); s != "" && !strings.HasPrefix(s, "--") {
			code = append(code, s)
		}
	}
	first := strings.Join(code, " ")
	if strings.HasPrefix(first, "CREATE DATABASE ") || strings.HasPrefix(first, "CREATE EXTERNAL TABLE ") {
		return "hive"
	}
	return "trino"
}

// runSQLCheck parses the statements with scripts/sqlcheck.
func runSQLCheck(t *testing.T, node string, stmts []statement) []grammarResult {
	t.Helper()
	input, err := json.Marshal(stmts)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "check.mjs")
	cmd.Dir = sqlcheck
	cmd.Stdin = bytes.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s/check.mjs: %v\n%s", sqlcheck, err, stderr.String())
	}
	var results []grammarResult
	if err := json.Unmarshal(stdout.Bytes(), &results); err != nil || len(results) != len(stmts) {
		t.Fatalf("%s/check.mjs answered %d results for %d statements (%v):\n%s", sqlcheck, len(results), len(stmts), err, stdout.String())
	}
	return results
}

// nodeForGrammars is the node binary to run scripts/sqlcheck with. Without node the test is
// skipped, unless SENTINEL_REQUIRE_STANDINS is set (as `make test` does), where it fails; with node
// but without the grammars installed it fails.
func nodeForGrammars(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("SENTINEL_REQUIRE_STANDINS") != "" {
			t.Fatal("node is not installed: the engines' grammars (scripts/sqlcheck) need it")
		}
		t.Skip("node is not installed: the DDL is not parsed with the engines' grammars (scripts/sqlcheck)")
	}
	if _, err := os.Stat(filepath.Join(sqlcheck, "node_modules", "dt-sql-parser", "package.json")); err != nil {
		t.Fatalf("the engines' grammars are not installed (%v): run `npm ci` in scripts/sqlcheck, as scripts/with-standins.sh (`make test`) does", err)
	}
	return node
}

// Every statement `sentinel warehouse ddl` prints parses in the grammar of the engine it is for.
func TestEveryStatementParsesInTheEnginesGrammar(t *testing.T) {
	node := nodeForGrammars(t)
	type script struct{ engine, layout string }
	var scripts []script
	var stmts []statement
	for _, engine := range []string{EngineAthena, EngineTrino, EngineSpark} {
		for _, layout := range []string{LayoutExport, LayoutLake} {
			var out bytes.Buffer
			if err := Write(Input{Engine: engine, Location: goldenLocation, Layout: layout}, &out); err != nil {
				t.Fatal(err)
			}
			for _, s := range statements(t, out.String()) {
				s.Grammar = grammarOf(engine, s.SQL)
				stmts = append(stmts, s)
				scripts = append(scripts, script{engine, layout})
			}
		}
	}
	for i, r := range runSQLCheck(t, node, stmts) {
		s, where := stmts[i], scripts[i]
		lines := strings.Split(s.SQL, "\n")
		var problems []string
		for _, e := range r.Errors {
			at := ""
			if e.Line >= 1 && e.Line <= len(lines) {
				at = "\n        " + strings.TrimSpace(lines[e.Line-1])
			}
			problems = append(problems, fmt.Sprintf("line %d, column %d: %s%s", s.line+e.Line-1, e.Column, e.Message, at))
		}
		if r.Statements != 1 {
			problems = append(problems, fmt.Sprintf("the grammar sees %d statements in it, not one", r.Statements))
		}
		if len(problems) > 0 {
			t.Errorf("%s, layout %s: %s's grammar rejects the statement at line %d:\n    %s\n%s", where.engine, where.layout,
				s.Grammar, s.line, strings.Join(problems, "\n    "), s.SQL)
		}
	}
	if len(stmts) < 6*5 {
		t.Fatalf("only %d statements in the six scripts: the split is wrong", len(stmts))
	}
}
