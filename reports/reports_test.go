package reports

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-runewidth"
	"github.com/sentinel-audit/sentinel/ingest"
	"github.com/sentinel-audit/sentinel/queries"
)

func TestComplianceTableAlignsAnyProfileName(t *testing.T) {
	yes, no := true, false
	in := SessionComplianceInput{AuditInput: AuditInput{PolicyPath: "p.yaml"}}
	in.Window.Since = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	in.Window.Until = time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC)
	rep := buildCompliance(in, []queries.ComplianceRow{
		{Profile: "a", PolicyRequired: &yes, Tracked: 1, Untracked: 1, Issuances: 2, ComplianceRate: 0.5, HasGap: true},
		{Profile: "a-very-long-profile-name-from-an-sso-permission-set-ünïcode", PolicyRequired: &no, Tracked: 12345, Issuances: 12345, ComplianceRate: 1},
		{Profile: "製品", PolicyRequired: &yes, Tracked: 3, Issuances: 3, ComplianceRate: 1},
	})
	var out bytes.Buffer
	if err := writeComplianceTable(&out, rep); err != nil {
		t.Fatal(err)
	}
	var table []string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "PROFILE") || (len(table) > 0 && len(table) < 4) {
			table = append(table, l)
		}
	}
	// Every rate ends at the same display column, two cells (room for the gap mark) left of the
	// header's right edge, whatever the width of the profile names.
	edge := func(l string) int {
		return runewidth.StringWidth(strings.TrimSuffix(strings.TrimRight(l, " "), " ⚠"))
	}
	want := edge(table[0]) - 2
	for _, l := range table[1:] {
		if got := edge(l); got != want {
			t.Errorf("row %q ends at %d, header at %d\n%s", l, got, want, out.String())
		}
	}
	if !strings.Contains(out.String(), "50.0% ⚠") || rep.RequiredProfiles != 2 || rep.ProfilesWithGaps != 1 || rep.FullyCompliantProfiles != 1 {
		t.Fatalf("report:\n%s\n%+v", out.String(), rep)
	}
}

func TestIngestLine(t *testing.T) {
	r := &ingest.Result{FilesRead: 2, DigestFiles: 1, InsightFiles: 1, FilesUnchanged: 3, FilesFailed: 1,
		EventsStored: 10, EventsDuplicate: 2, EventsOutOfWindow: 4, RecordsRejected: 1, Bytes: 2_500_000, Elapsed: 1500 * time.Millisecond,
		Snapshots: 1, SnapshotItems: 9}
	want := "ingest: 2 files read and 1 digest file, 4 skipped (3 unchanged, 1 insight), 1 failed; 10 events stored, 2 duplicate, 4 out of window, 1 rejected; 1 session snapshot (9 items); 2.5 MB in 1.5s"
	if got := IngestLine(r); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	noop := &ingest.Result{FilesUnchanged: 23, InsightFiles: 1, Elapsed: 80 * time.Millisecond}
	if got := IngestLine(noop); !strings.HasPrefix(got, "ingest: nothing new: 23 files unchanged since the last run") {
		t.Fatalf("no-op line: %s", got)
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]string{"": "table", "table": "table", "json": "json", "csv": "csv"} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), `--format "xml"`) {
		t.Errorf("xml: %v", err)
	}
}
