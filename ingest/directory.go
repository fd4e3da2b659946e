package ingest

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Kinds of source objects in the ledger.
const (
	kindTrail    = "trail"
	kindDigest   = "digest"
	kindInsight  = "insight"
	kindSnapshot = "snapshot"
	kindAPI      = "api"
)

// object is one source object to consider: a local file or an S3 object.
type object struct {
	source  string    // ledger key: file:///abs/path or s3://bucket/key
	display string    // how to name it in messages
	rel     string    // path below the source it was listed from, with slashes (--exclude matches it)
	size    int64     // bytes as stored
	mtime   time.Time // last modification (microseconds, as the ledger keeps it)
	etag    string    // S3 ETag; "" for local files
	kind    string    // trail | digest | insight | snapshot
	date    time.Time // delivery date from the CloudTrail key layout; zero when not in that layout
	open    func(ctx context.Context) (io.ReadCloser, error)
}

// trailDate finds the delivery date in the CloudTrail key layout
// AWSLogs/[o-org/]ACCOUNT/CloudTrail[-Digest|-Insight]/REGION/YYYY/MM/DD/file.
var trailDate = regexp.MustCompile(`(?:^|/)CloudTrail(?:-Digest|-Insight)?/[^/]+/(\d{4})/(\d{2})/(\d{2})/[^/]+$`)

// eventFile reports whether a file name has one of the extensions ingest reads.
func eventFile(name string) bool {
	n := strings.ToLower(name)
	for _, ext := range []string{".json", ".jsonl", ".json.gz", ".jsonl.gz", ".ndjson", ".ndjson.gz"} {
		if strings.HasSuffix(n, ext) {
			return true
		}
	}
	return false
}

// classify sets the kind and delivery date of an object from its path.
func classify(o *object, slashPath string) {
	o.kind = kindTrail
	switch {
	case strings.Contains(slashPath, "/CloudTrail-Digest/") || strings.Contains(slashPath, "_CloudTrail-Digest_"):
		o.kind = kindDigest
	case strings.Contains(slashPath, "/CloudTrail-Insight/") || strings.Contains(slashPath, "_CloudTrail-Insight_"):
		o.kind = kindInsight
	}
	if m := trailDate.FindStringSubmatch(slashPath); m != nil {
		if d, err := time.Parse("2006-01-02", m[1]+"-"+m[2]+"-"+m[3]); err == nil {
			o.date = d
		}
	}
}

// listDirectory finds every event file and macOS metadata file (listed) below root (or root
// itself when it is a file). Symbolic
// links below root are not followed, so link loops cannot trap the walk. It returns the objects in
// path order and how many other files it ignored.
func listDirectory(root string) ([]object, int, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, 0, fmt.Errorf("source %s: %w", root, err)
	}
	if resolved, err := filepath.EvalSymlinks(abs); err == nil {
		abs = resolved
	}
	info, err := os.Stat(abs)
	if err != nil {
		return nil, 0, fmt.Errorf("source %s: %w", root, err)
	}
	var objects []object
	ignored := 0
	add := func(path string, info fs.FileInfo) {
		display, below := filepath.Base(path), filepath.Base(path)
		if rel, err := filepath.Rel(abs, path); err == nil && rel != "." {
			display, below = filepath.ToSlash(filepath.Join(filepath.Base(abs), rel)), filepath.ToSlash(rel)
		}
		size, mtime := info.Size(), info.ModTime().UTC().Truncate(time.Microsecond)
		o := object{
			source:  "file://" + filepath.ToSlash(path),
			display: display,
			rel:     below,
			size:    size,
			mtime:   mtime,
			open:    func(context.Context) (io.ReadCloser, error) { return openListed(path, size, mtime) },
		}
		classify(&o, filepath.ToSlash(path))
		objects = append(objects, o)
	}
	if !info.IsDir() {
		add(abs, info)
		return objects, 0, nil
	}
	err = filepath.WalkDir(abs, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walk %s: %w", path, err)
		}
		if d.IsDir() || !d.Type().IsRegular() {
			if !d.IsDir() {
				ignored++
			}
			return nil
		}
		if rel, err := filepath.Rel(abs, path); err != nil || !listed(filepath.ToSlash(rel)) {
			ignored++
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("stat %s: %w", path, err)
		}
		add(path, info)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	sort.Slice(objects, func(i, j int) bool { return objects[i].source < objects[j].source })
	return objects, ignored, nil
}

// openListed opens the file at path for reading, if it is still what was listed (its size and
// mtime): like an S3 object read with If-Match on its listed ETag, a file changed since (being
// written, or rewritten between the two passes over a snapshot file) fails and is read again by
// the next run, instead of being recorded in the ledger with what it was listed as.
func openListed(path string, size int64, mtime time.Time) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if info.Size() != size || !info.ModTime().UTC().Truncate(time.Microsecond).Equal(mtime) {
		f.Close()
		return nil, fmt.Errorf("changed since it was listed (%d bytes, modified %s; now %d bytes, modified %s): read again by the next run",
			size, mtime.Format(time.RFC3339Nano), info.Size(), info.ModTime().UTC().Format(time.RFC3339Nano))
	}
	return f, nil
}
