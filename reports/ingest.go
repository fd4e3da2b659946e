package reports

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/ingest"
)

// IngestSummary writes the end-of-run summary: failures and warnings on diag, then the one-line
// summary on out.
func IngestSummary(out, diag io.Writer, r *ingest.Result) {
	for _, w := range r.Warnings {
		fmt.Fprintf(diag, "warning: %s\n", w)
	}
	for _, f := range r.Failures {
		fmt.Fprintf(diag, "failed: %s: %s\n", f.Source, f.Error)
	}
	fmt.Fprintln(out, IngestLine(r))
}

// IngestLine is the one-line summary of a run. A run stopped early (Ctrl-C, an error) counts what
// its last checkpoint kept, and says that running it again resumes.
func IngestLine(r *ingest.Result) string {
	elapsed := r.Elapsed.Round(time.Millisecond)
	if r.Stopped {
		return "ingest: stopped early; kept up to its last checkpoint: " + counts(r, elapsed) +
			"; run the same command again to resume (what was kept is not read again)"
	}
	if r.NothingNew() {
		return fmt.Sprintf("ingest: nothing new: %s unchanged since the last run, %s; 0 events stored (%s)",
			plural(r.FilesUnchanged, "file"), skippedDetail(r, false), elapsed)
	}
	return "ingest: " + counts(r, elapsed)
}

// counts says what a run read and stored.
func counts(r *ingest.Result, elapsed time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s read", plural(r.FilesRead, "file"))
	if r.DigestFiles > 0 {
		fmt.Fprintf(&b, " and %s", plural(r.DigestFiles, "digest file"))
	}
	fmt.Fprintf(&b, ", %d skipped (%s), %d failed; ", r.Skipped(), skippedDetail(r, true), r.FilesFailed)
	fmt.Fprintf(&b, "%s stored, %d duplicate, %d out of window", plural64(r.EventsStored, "event"), r.EventsDuplicate, r.EventsOutOfWindow)
	if r.RecordsRejected > 0 {
		fmt.Fprintf(&b, ", %d rejected", r.RecordsRejected)
	}
	if r.Snapshots > 0 {
		fmt.Fprintf(&b, "; %s (%s)", plural(r.Snapshots, "session snapshot"), plural64(r.SnapshotItems, "item"))
	}
	fmt.Fprintf(&b, "; %s in %s", megabytes(r.Bytes), elapsed)
	return b.String()
}

func skippedDetail(r *ingest.Result, withUnchanged bool) string {
	var parts []string
	if withUnchanged && r.FilesUnchanged > 0 {
		parts = append(parts, fmt.Sprintf("%d unchanged", r.FilesUnchanged))
	}
	parts = append(parts, fmt.Sprintf("%d insight", r.InsightFiles))
	if r.FilesOutsideWindow > 0 {
		parts = append(parts, fmt.Sprintf("%d outside the window", r.FilesOutsideWindow))
	}
	if r.MacOSFiles > 0 {
		parts = append(parts, fmt.Sprintf("%d macOS metadata", r.MacOSFiles))
	}
	if r.ExcludedFiles > 0 {
		parts = append(parts, fmt.Sprintf("%d excluded", r.ExcludedFiles))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, word string) string { return plural64(int64(n), word) }

func plural64(n int64, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
