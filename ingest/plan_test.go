package ingest

import (
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/sentinel-audit/sentinel/window"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestPlanAPISync(t *testing.T) {
	now := at("2026-11-23T12:00:00Z")
	old := &warehouse.Watermark{Watermark: at("2026-11-20T00:00:00Z"), CoveredFrom: at("2026-11-01T00:00:00Z")}
	tests := []struct {
		name      string
		w         window.Window
		old       *warehouse.Watermark
		wantWin   window.Window
		wantMark  [2]string // covered_from, watermark
		wantWarns string
	}{
		{"first_run_defaults_to_90_days", window.Window{}, nil,
			window.Window{Since: now.Add(-APIHistory), Until: now}, [2]string{"2026-08-25T12:00:00Z", "2026-11-23T12:00:00Z"}, ""},
		{"incremental_run_resumes_an_hour_before_the_watermark", window.Window{}, old,
			window.Window{Since: at("2026-11-19T23:00:00Z"), Until: now}, [2]string{"2026-11-01T00:00:00Z", "2026-11-23T12:00:00Z"}, ""},
		{"since_inside_coverage_still_resumes", window.Window{Since: at("2026-11-10T00:00:00Z")}, old,
			window.Window{Since: at("2026-11-19T23:00:00Z"), Until: now}, [2]string{"2026-11-01T00:00:00Z", "2026-11-23T12:00:00Z"}, ""},
		{"earlier_since_reads_from_there", window.Window{Since: at("2026-10-01T00:00:00Z")}, old,
			window.Window{Since: at("2026-10-01T00:00:00Z"), Until: now}, [2]string{"2026-10-01T00:00:00Z", "2026-11-23T12:00:00Z"}, ""},
		{"until_in_the_past_keeps_the_newer_watermark", window.Window{Since: at("2026-10-01T00:00:00Z"), Until: at("2026-11-05T00:00:00Z")}, old,
			window.Window{Since: at("2026-10-01T00:00:00Z"), Until: at("2026-11-05T00:00:00Z")}, [2]string{"2026-10-01T00:00:00Z", "2026-11-20T00:00:00Z"}, ""},
		{"since_past_the_history_warns", window.Window{Since: at("2026-06-01T00:00:00Z")}, nil,
			window.Window{Since: at("2026-06-01T00:00:00Z"), Until: now}, [2]string{"2026-06-01T00:00:00Z", "2026-11-23T12:00:00Z"}, "90-day history"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			win, mark, warn := planAPISync(tt.w, tt.old, now)
			if win != tt.wantWin {
				t.Errorf("window %v, want %v", win, tt.wantWin)
			}
			if got := [2]string{mark.CoveredFrom.Format(time.RFC3339), mark.Watermark.Format(time.RFC3339)}; got != tt.wantMark {
				t.Errorf("watermark %v, want %v", got, tt.wantMark)
			}
			if (tt.wantWarns == "") != (warn == "") || !strings.Contains(warn, tt.wantWarns) {
				t.Errorf("warning %q, want %q", warn, tt.wantWarns)
			}
		})
	}
}

func TestResumeFromIsTheDayBeforeTheLastKeyListed(t *testing.T) {
	const rp = "AWSLogs/1/CloudTrail/us-east-1/"
	for _, tt := range []struct{ last, want string }{
		{rp + "2026/11/05/1_CloudTrail_us-east-1_20261105T2355Z_a.json.gz", rp + "2026/11/04/"},
		{rp + "2026/11/01/", rp + "2026/10/31/"},
		{rp + "2026/11", rp},
		{rp, rp},
		{"elsewhere/2026/11/05/x", rp},
	} {
		if got := resumeFrom(rp, tt.last); got != tt.want {
			t.Errorf("resumeFrom(%q) = %q, want %q", tt.last, got, tt.want)
		}
	}
}

func TestDeliveryInWindow(t *testing.T) {
	w := window.Window{Since: at("2026-11-04T18:00:00Z"), Until: at("2026-11-06T00:00:00Z")}
	for date, want := range map[string]bool{"2026-11-03": false, "2026-11-04": true, "2026-11-06": true, "2026-11-07": false} {
		d, _ := time.Parse("2006-01-02", date)
		if got := deliveryInWindow(d, w); got != want {
			t.Errorf("%s: %v", date, got)
		}
	}
	if !deliveryInWindow(time.Time{}, w) {
		t.Error("files outside the layout are always read")
	}
}

func TestSnapshotJobsGroupExports(t *testing.T) {
	objs := []object{
		{source: "s3://b/x/AWSDynamoDB/0176-abc/manifest-summary.json", display: "s3://b/x/AWSDynamoDB/0176-abc/manifest-summary.json"},
		{source: "s3://b/x/AWSDynamoDB/0176-abc/manifest-files.json"},
		{source: "s3://b/x/AWSDynamoDB/0176-abc/data/b.json.gz", etag: "2", size: 20},
		{source: "s3://b/x/AWSDynamoDB/0176-abc/data/a.json.gz", etag: "1", size: 10},
		{source: "file:///tmp/plain.jsonl", size: 5},
	}
	jobs := snapshotJobs(objs)
	if len(jobs) != 2 {
		t.Fatalf("jobs: %+v", jobs)
	}
	plain, export := jobs[0], jobs[1]
	if plain.obj.source != "file:///tmp/plain.jsonl" || plain.obj.kind != kindSnapshot {
		t.Errorf("plain: %+v", plain.obj)
	}
	if export.obj.source != "s3://b/x/AWSDynamoDB/0176-abc/" || len(export.parts) != 2 || export.parts[0].etag != "1" ||
		export.manifest == nil || export.obj.size != 30 || !strings.HasPrefix(export.obj.etag, "export-") {
		t.Errorf("export: %+v", export)
	}
}

func TestParseS3URL(t *testing.T) {
	b, p, err := parseS3URL("s3://trail-bucket/org/AWSLogs/")
	if err != nil || b != "trail-bucket" || p != "org/AWSLogs/" {
		t.Fatalf("%q %q %v", b, p, err)
	}
	for _, bad := range []string{"s3:/x", "http://x/y", "s3://"} {
		if _, _, err := parseS3URL(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
