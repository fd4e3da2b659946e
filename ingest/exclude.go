package ingest

import (
	"fmt"
	"path"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// checkExclude refuses --exclude patterns that are not globs.
func checkExclude(patterns []string) error {
	for _, p := range patterns {
		if !doublestar.ValidatePattern(p) {
			return fmt.Errorf("--exclude %q is not a valid pattern (glob: * within a folder, ** across, [abc], {a,b})", p)
		}
	}
	return nil
}

// skip returns the objects to consider, counting those it leaves out: metadata a Mac copies along
// (a zip's __MACOSX folder, AppleDouble ._ files, .DS_Store), never CloudTrail, whose ._ files
// are named like the file they describe (._x.json.gz) and fail every read; and those --exclude
// matches.
func (r *Result) skip(objects []object, exclude []string) []object {
	kept := objects[:0]
	for _, o := range objects {
		switch {
		case macOSMetadata(o.rel):
			r.MacOSFiles++
		case excluded(exclude, o.rel):
			r.ExcludedFiles++
		default:
			kept = append(kept, o)
		}
	}
	return kept
}

// listed reports whether a listing keeps a file: an event file, to read, or macOS metadata, to
// count as skipped (.DS_Store has no event file's extension, yet is counted).
func listed(rel string) bool { return eventFile(rel) || macOSMetadata(rel) }

func macOSMetadata(rel string) bool {
	base := path.Base(rel)
	return strings.HasPrefix(base, "._") || base == ".DS_Store" || strings.HasPrefix(rel, "__MACOSX/") || strings.Contains(rel, "/__MACOSX/")
}

// excluded reports whether a pattern matches rel or one of its folders.
func excluded(patterns []string, rel string) bool {
	for _, p := range patterns {
		for sub := rel; sub != "." && sub != "/"; sub = path.Dir(sub) {
			if ok, _ := doublestar.Match(p, sub); ok {
				return true
			}
		}
	}
	return false
}
