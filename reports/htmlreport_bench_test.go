package reports

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/internal/benchwh"
	"github.com/sentinel-audit/sentinel/internal/trailgen"
	"github.com/sentinel-audit/sentinel/window"
)

// The HTML report of the 1M-event benchmark warehouse must be written in under 5 s (the median of
// three runs), as a page of under 10 MB.
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
// be tracked, run every query, render. It reports the median and the slowest of three runs after
// a warm-up (median_ms, max_ms) and the page's size (page_MB), and fails past a target: a page
// over 10 MB, or, up to 1M events, a median over 5 s (the time moves with the machine's load:
// compare it on an otherwise idle machine).
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
	var over []string
	if median > reportBenchSeconds*time.Second && events <= 1_000_000 {
		over = append(over, fmt.Sprintf("the report took %s (median of %d runs: %v); want under %d s", median.Round(time.Millisecond), len(took), took, reportBenchSeconds))
	}
	if size > reportBenchBytes {
		over = append(over, fmt.Sprintf("the page is %d bytes; want under %d", size, reportBenchBytes))
	}
	if len(over) > 0 {
		b.Fatalf("the report of %d events is over its target: %s", st.Events, strings.Join(over, "; "))
	}
}
