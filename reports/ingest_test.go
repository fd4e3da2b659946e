package reports

import (
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/ingest"
)

func TestIngestLineSaysWhatWasKeptAndSkipped(t *testing.T) {
	for name, tc := range map[string]struct {
		r    ingest.Result
		want string
	}{
		"macos_metadata_and_excluded_files_are_skipped_with_their_reason": {
			ingest.Result{FilesRead: 2, FilesUnchanged: 1, MacOSFiles: 3, ExcludedFiles: 4, EventsStored: 5, Elapsed: time.Second},
			"ingest: 2 files read, 8 skipped (1 unchanged, 0 insight, 3 macOS metadata, 4 excluded), 0 failed; 5 events stored, 0 duplicate, 0 out of window; 0.0 MB in 1s"},
		"a_stopped_run_counts_what_its_last_checkpoint_kept": {
			ingest.Result{Stopped: true, FilesRead: 14, EventsStored: 708000, Elapsed: time.Minute},
			"ingest: stopped early; kept up to its last checkpoint: 14 files read, 0 skipped (0 insight), 0 failed; 708000 events stored, 0 duplicate, 0 out of window; 0.0 MB in 1m0s; run the same command again to resume (what was kept is not read again)"},
		"a_run_stopped_before_its_first_checkpoint_is_not_nothing_new": {
			ingest.Result{Stopped: true, Elapsed: time.Second},
			"ingest: stopped early; kept up to its last checkpoint: 0 files read, 0 skipped (0 insight), 0 failed; 0 events stored, 0 duplicate, 0 out of window; 0.0 MB in 1s; run the same command again to resume (what was kept is not read again)"},
	} {
		t.Run(name, func(t *testing.T) {
			if got := IngestLine(&tc.r); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
