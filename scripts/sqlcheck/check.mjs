// Parses SQL statements with the engines' own grammars (dt-sql-parser's ANTLR grammars, derived
// from Trino's, Spark's and Hive's): the ddl package's tests run it on what
// `sentinel warehouse ddl` prints.
//
// stdin:  a JSON array of {"grammar": "trino" | "spark" | "hive", "sql": "ONE STATEMENT;"}
// stdout: a JSON array, one entry per input in its order:
//         {"statements": N, "errors": [{"line": L, "column": C, "message": "..."}]}
//         where N is how many statements the grammar sees in the text (one, for one statement).
import { register } from 'node:module';
import { readFileSync } from 'node:fs';

register('./resolve.mjs', import.meta.url);
const { TrinoSQL, SparkSQL, HiveSQL } = await import('dt-sql-parser');

const grammars = { trino: new TrinoSQL(), spark: new SparkSQL(), hive: new HiveSQL() };
const inputs = JSON.parse(readFileSync(0, 'utf8'));
const results = inputs.map(({ grammar, sql }) => {
  const parser = grammars[grammar];
  if (!parser) {
    throw new Error(`unknown grammar ${JSON.stringify(grammar)}: want one of ${Object.keys(grammars).join(', ')}`);
  }
  return {
    statements: (parser.splitSQLByStatement(sql) ?? []).length,
    errors: parser.validate(sql).map((e) => ({ line: e.startLine, column: e.startColumn, message: e.message })),
  };
});
process.stdout.write(JSON.stringify(results));
