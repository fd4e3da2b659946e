package main

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The committed fixtures, relative to this package's directory (where go test runs it).
const (
	committedFixtures = "../../testdata/fixtures"
	committedBroken   = "../../testdata/broken"
)

// TestGeneratorWritesExactlyTheCommittedFixtures runs the generator into temporary directories
// and compares its output with testdata/fixtures and testdata/broken, file by file and byte for
// byte: the committed fixtures are exactly what go run ./internal/fixturegen writes. The
// directories start with files a run must keep (hand-written ones) and files it must replace or
// delete (an older run's), as the real ones would.
func TestGeneratorWritesExactlyTheCommittedFixtures(t *testing.T) {
	out, broken := t.TempDir(), t.TempDir()
	// Files the generator does not write, which it must leave alone, by directory.
	keep := map[string]map[string]string{
		out:    {"README.md": "# hand-written\n", "sentinel.yaml": "defaults: {}\n", "notes/a.json": "{}\n"},
		broken: {"notes.txt": "not the generator's\n"},
	}
	// An older run's files, which it must delete or replace.
	stale := []string{
		filepath.Join(out, "trail", "AWSLogs", org, prodAcct, "CloudTrail", useast1, "2026", "11", "01", "stale.json.gz"),
		filepath.Join(out, "handoff", "stale.json"),
		filepath.Join(out, "policy.yaml"),
		filepath.Join(broken, "empty.json"),
	}
	const staleBody = "an older run's output\n"
	for dir, files := range keep {
		for rel, body := range files {
			writeFile(t, filepath.Join(dir, rel), body)
		}
	}
	for _, path := range stale {
		writeFile(t, path, staleBody)
	}

	if err := generate(out, broken, io.Discard); err != nil {
		t.Fatalf("generate: %v", err)
	}

	t.Run("fixtures_match_testdata_fixtures", func(t *testing.T) {
		compareTrees(t, out, committedFixtures, outputs, keep[out])
	})
	t.Run("broken_inputs_match_testdata_broken", func(t *testing.T) {
		compareTrees(t, broken, committedBroken, brokenFiles, keep[broken])
	})
	t.Run("files_it_does_not_write_are_kept", func(t *testing.T) {
		for dir, files := range keep {
			for rel, want := range files {
				if got, err := os.ReadFile(filepath.Join(dir, rel)); err != nil || string(got) != want {
					t.Errorf("%s: got %q, %v; want it untouched: %q", rel, got, err, want)
				}
			}
		}
	})
	t.Run("an_older_runs_files_are_deleted_or_replaced", func(t *testing.T) {
		for _, path := range stale {
			if b, err := os.ReadFile(path); err == nil && string(b) == staleBody {
				t.Errorf("%s survived the run", path)
			}
		}
	})
}

// compareTrees compares the files the generator wrote under got with those under want, both
// taken under the entries it owns (deletes and rewrites) only, and reports a file missing on
// either side or with other bytes. A file under got outside the owned entries, other than the
// test's own (kept), fails too: the generator would not delete it before its next run.
func compareTrees(t *testing.T, got, want string, owned []string, kept map[string]string) {
	t.Helper()
	gotFiles, wantFiles := listFiles(t, got), listFiles(t, want)
	isOwned := func(rel string) bool {
		return slices.ContainsFunc(owned, func(o string) bool { return rel == o || strings.HasPrefix(rel, o+"/") })
	}
	var differ, missing, extra []string
	for rel, b := range gotFiles {
		_, committed := wantFiles[rel]
		_, planted := kept[rel]
		switch {
		case !isOwned(rel) && !planted:
			t.Errorf("the generator wrote %s, outside what it deletes before a run (%s): add it there", rel, strings.Join(owned, ", "))
		case !isOwned(rel):
		case !committed:
			extra = append(extra, rel)
		case !bytes.Equal(b, wantFiles[rel]):
			differ = append(differ, rel)
		}
	}
	for rel := range wantFiles {
		if _, ok := gotFiles[rel]; !ok && isOwned(rel) {
			missing = append(missing, rel)
		}
	}
	report := func(what string, rels []string) {
		if len(rels) == 0 {
			return
		}
		slices.Sort(rels)
		n, more := len(rels), ""
		if n > 10 {
			rels, more = rels[:10], "\n  ..."
		}
		t.Errorf("%s %s (%d):\n  %s%s", what, want, n, strings.Join(rels, "\n  "), more)
	}
	report("files that differ from those in", differ)
	report("files generated but not in", extra)
	report("files not generated but in", missing)
	if len(gotFiles) == len(kept) {
		t.Errorf("the generator wrote nothing under %s", got)
	}
	if t.Failed() {
		t.Log("regenerate the fixtures (go run ./internal/fixturegen from the repository root) and commit them, or fix the generator")
	}
}

// listFiles reads every regular file under dir, keyed by its slash-separated path relative to dir.
func listFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	return files
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
