package reports

import (
	"context"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/internal/benchwh"
	"github.com/sentinel-audit/sentinel/internal/trailgen"
	"github.com/sentinel-audit/sentinel/window"
)

// The HTML report of the 1M-event benchmark warehouse must be written in under 5 s, as a page of
// under 10 MB.
const (
	reportBenchSeconds = 5
	reportBenchBytes   = 10_000_000
)

// countingWriter counts what is written to it.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// BenchmarkHTMLReport writes the HTML report of the benchmark warehouse (internal/benchwh: 1M
// events, or SENTINEL_BENCH_QUERY_EVENTS) over the generated week, as `sentinel audit report`
// does: open the warehouse, prepare the audit views with a policy that requires every profile to
// be tracked, run every query, render. It reports the median of three runs after a warm-up and
// the page's size. It fails past 10 MB; past 5 s it says so (the time moves with the machine's
// load: run it alone to compare with the target).
func BenchmarkHTMLReport(b *testing.B) {
	events := 1_000_000
	if v := os.Getenv("SENTINEL_BENCH_QUERY_EVENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("SENTINEL_BENCH_QUERY_EVENTS=%q is not a positive number", v)
		}
		events = n
	}
	wh, st := benchwh.Cached(b, events)
	gc := debug.SetGCPercent(AuditGCPercent) // as cmd/sentinel runs audit commands
	b.Cleanup(func() { debug.SetGCPercent(gc) })
	w := window.Window{Since: trailgen.DefaultStart, Until: trailgen.DefaultStart.AddDate(0, 0, trailgen.DefaultDays)}
	in := HTMLReportInput{AuditInput: AuditInput{Warehouse: wh, Window: w, PolicyPath: benchwh.PolicyFile(b)},
		OutPath: "report.html", Version: "bench", GeneratedAt: w.Until}
	run := func() (time.Duration, int64) {
		var out countingWriter
		began := time.Now()
		if _, err := HTMLReport(context.Background(), in, &out, io.Discard); err != nil {
			b.Fatal(err)
		}
		return time.Since(began), out.n
	}
	run()
	var took []time.Duration
	var size int64
	b.ResetTimer()
	for range b.N {
		for range 3 {
			d, n := run()
			took = append(took, d)
			size = n
		}
	}
	b.StopTimer()
	slices.Sort(took)
	median := took[len(took)/2]
	b.ReportMetric(float64(median)/float64(time.Millisecond), "median_ms")
	b.ReportMetric(float64(took[len(took)-1])/float64(time.Millisecond), "max_ms")
	b.ReportMetric(float64(size)/1e6, "page_MB")
	b.ReportMetric(float64(st.Events), "events")
	b.ReportMetric(float64(st.Issuances), "issuances")
	if size > reportBenchBytes {
		b.Fatalf("the page is %d bytes; want under %d", size, reportBenchBytes)
	}
	if median > reportBenchSeconds*time.Second {
		b.Logf("over the target: the report took %s (median); want under %d s", median, reportBenchSeconds)
	}
}
