package bundle

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sentinel-audit/sentinel/reports"
)

// withReport is the export of the fixtures with their HTML evidence report.
func withReport(wh, to string) Input {
	in := exportInput(wh, to)
	in.Report = func(ctx context.Context, w io.Writer) error {
		_, err := reports.HTMLReport(ctx, reports.HTMLReportInput{AuditInput: reports.AuditInput{Warehouse: wh, Window: exportWindow,
			PolicyPath: in.PolicyPath, AWSConfigPath: fixtures + "/aws-config"}, OutPath: "report.html", Version: "test", GeneratedAt: in.CreatedAt}, w, io.Discard)
		return err
	}
	return in
}

func TestExportHoldsTheReportListedWithItsChecksum(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "export")
	m, out := runExport(t, withReport(exportWarehouse(t), dir))
	var report *File
	for i := range m.Files {
		if m.Files[i].Table == reportTable {
			report = &m.Files[i]
		}
	}
	if report == nil || report.Path != "report/report.html" || report.Rows != 0 || len(report.SHA256) != 64 {
		t.Fatalf("manifest files %+v", m.Files)
	}
	page, err := os.ReadFile(filepath.Join(dir, "report", "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(page)) != report.Bytes || !strings.Contains(string(page), "GAPS FOUND") {
		t.Fatalf("report of %d bytes (manifest: %d)", len(page), report.Bytes)
	}
	if !strings.HasPrefix(out, "export: 4 tables, ") {
		t.Fatalf("summary %q", out)
	}
	if res, vout := runVerify(t, VerifyInput{From: dir}); len(res.Problems) > 0 || res.Files != len(m.Files) {
		t.Fatalf("verify: %+v\n%s", res, vout)
	}
	// The page is evidence like the tables: a changed byte is found.
	page[len(page)/2] ^= 1
	if err := os.WriteFile(filepath.Join(dir, "report", "report.html"), page, 0o644); err != nil {
		t.Fatal(err)
	}
	res, vout := runVerify(t, VerifyInput{From: dir})
	if len(res.Problems) != 1 || !strings.HasPrefix(res.Problems[0], "report/report.html: SHA-256 ") {
		t.Fatalf("verify of a changed report: %+v\n%s", res, vout)
	}
	// A re-export replaces the export, report included.
	runExport(t, withReport(exportWarehouse(t), dir))
	if res, vout := runVerify(t, VerifyInput{From: dir}); len(res.Problems) > 0 {
		t.Fatalf("verify after a re-export: %+v\n%s", res, vout)
	}
}
