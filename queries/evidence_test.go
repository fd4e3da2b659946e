package queries

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/sentinel-audit/sentinel/window"
)

// TestUnfinishedRuns: a run that did not finish counts for the audits whose window meets its
// own, until a later run of the same sources finishes over its part of the audit window; a
// finished run of other sources, or over too little time, does not make up for it, and a run
// that reads nothing (compaction) never counts.
func TestUnfinishedRuns(t *testing.T) {
	ctx := context.Background()
	wh := t.TempDir()
	day := func(d int) time.Time { return time.Date(2026, 10, d, 0, 0, 0, 0, time.UTC) }
	run := func(status, sources string, since, until time.Time) {
		t.Helper()
		w, err := warehouse.OpenWriter(ctx, wh, day(1), warehouse.Run{Command: sources + " window ...", Sources: sources, Since: since, Until: until}, false)
		if err != nil {
			t.Fatal(err)
		}
		if status != "killed" {
			if err := w.Finish(ctx, day(1), status, warehouse.RunStats{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	run("interrupted", "--source s3://trail", day(1), time.Time{}) // run 1
	run("ok", "--sessions-file s", day(1), time.Time{})            // run 2: other sources
	run("ok", "--source s3://trail", day(5), time.Time{})          // run 3: the same sources from day 5 on
	run("failed", "--source api", day(20), day(25))                // run 4
	run("killed", "", time.Time{}, time.Time{})                    // run 5: a compaction killed (interrupted by run 6)
	run("killed", "--source s3://trail", day(26), day(28))         // run 6: still marked running

	r, err := warehouse.OpenReader(ctx, wh)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, tt := range []struct {
		since, until int
		want         string
	}{
		{2, 4, "[1 interrupted]"}, // run 3 read from day 5 only
		{6, 10, "[]"},             // run 3 read it all
		{19, 21, "[4 failed]"},    // nothing later read the API's days
		{10, 19, "[]"},            // run 4's window is not the audit's
		{27, 29, "[6 running]"},   // a run still marked running (or killed before a writer noticed)
		{1, 30, "[1 interrupted 4 failed 6 running]"},
	} {
		got, err := UnfinishedRuns(ctx, r.DB(), window.Window{Since: day(tt.since), Until: day(tt.until)})
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, u := range got {
			s = append(s, fmt.Sprintf("%d %s", u.Run, u.Status))
		}
		if fmt.Sprint(s) != tt.want {
			t.Errorf("window days %d..%d: unfinished %v, want %s", tt.since, tt.until, s, tt.want)
		}
	}
}
