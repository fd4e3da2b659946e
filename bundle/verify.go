package bundle

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/sentinel-audit/sentinel/awsclient"
)

// VerifyInput is the input of `sentinel export verify`.
type VerifyInput struct {
	From string            // DIR or s3://BUCKET[/PREFIX]
	AWS  *awsclient.Config // for s3://
}

// VerifyResult is what verify found. Problems is empty when the export is intact.
type VerifyResult struct {
	Files    int
	Rows     int64
	Problems []string
}

// Verify re-checks an export against its manifest: every listed file is there with its
// size, SHA-256 and row count (read back with DuckDB), and no file the manifest does not list is
// present. It writes the problems, one a line, and a summary to out.
func Verify(ctx context.Context, in VerifyInput, out io.Writer) (VerifyResult, error) {
	var res VerifyResult
	loc, err := destination(in.From, in.AWS)
	if err != nil {
		return res, err
	}
	if l, ok := loc.(*localDir); ok {
		if info, err := os.Stat(l.dir); err != nil {
			return res, err
		} else if !info.IsDir() {
			return res, fmt.Errorf("%s is not a directory", l.dir)
		}
	}
	problems, err := verify(ctx, loc, &res)
	if err != nil {
		return res, err
	}
	res.Problems = problems
	if len(problems) == 0 {
		fmt.Fprintf(out, "verify: intact: %s, %s rows at %s\n", plural(res.Files, "file"), thousands(res.Rows), loc)
		return res, nil
	}
	for _, p := range problems {
		fmt.Fprintln(out, p)
	}
	fmt.Fprintf(out, "verify: NOT INTACT: %s at %s\n", plural(len(problems), "problem"), loc)
	return res, nil
}

func verify(ctx context.Context, loc location, res *VerifyResult) ([]string, error) {
	raw, err := loc.readManifest(ctx)
	if errors.Is(err, fs.ErrNotExist) {
		return []string{manifestName + ": missing: not an export, or one whose writing did not finish"}, nil
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return []string{fmt.Sprintf("%s: not a valid manifest: %v", manifestName, err)}, nil
	}
	if m.FormatVersion != formatVersion {
		return nil, fmt.Errorf("%s: format_version %d; this sentinel reads version %d", manifestName, m.FormatVersion, formatVersion)
	}
	files, err := loc.list(ctx)
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	present := map[string]bool{}
	for _, f := range files {
		present[f] = true
	}
	_, download := loc.(*s3Prefix)
	tmp, err := os.MkdirTemp("", "sentinel-verify-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, fmt.Errorf("open query engine: %w", err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()

	var problems []string
	listed := map[string]bool{manifestName: true}
	for _, f := range m.Files {
		listed[f.Path] = true
		res.Files++
		res.Rows += f.Rows
		if !validPath(f.Path) {
			problems = append(problems, fmt.Sprintf("%s: the manifest names a path outside the export", f.Path))
			continue
		}
		if !present[f.Path] {
			problems = append(problems, fmt.Sprintf("%s: missing (the manifest lists %s rows, %d bytes)", f.Path, thousands(f.Rows), f.Bytes))
			continue
		}
		local, err := loc.fetch(ctx, f.Path, tmp)
		if err != nil {
			return nil, err
		}
		size, sum, err := fileSHA256(local)
		if err != nil {
			return nil, err
		}
		if size != f.Bytes {
			problems = append(problems, fmt.Sprintf("%s: %d bytes, the manifest says %d", f.Path, size, f.Bytes))
		}
		if sum != f.SHA256 {
			problems = append(problems, fmt.Sprintf("%s: SHA-256 %s, the manifest says %s", f.Path, sum, f.SHA256))
		}
		// A page has no rows: its size and SHA-256 are all there is to check.
		if f.Table != reportTable {
			if rows, err := countRows(ctx, db, local); err != nil {
				problems = append(problems, fmt.Sprintf("%s: unreadable: %v", f.Path, err))
			} else if rows != f.Rows {
				problems = append(problems, fmt.Sprintf("%s: %s rows read back, the manifest says %s", f.Path, thousands(rows), thousands(f.Rows)))
			}
		}
		if download {
			os.Remove(local) // keep at most one download at a time
		}
	}
	for _, p := range files {
		if !listed[p] {
			problems = append(problems, fmt.Sprintf("%s: unexpected: the manifest does not list it", p))
		}
	}
	return problems, nil
}
