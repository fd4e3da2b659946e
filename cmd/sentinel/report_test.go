package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAuditReportWritesThePageAndExitsWithTheVerdict(t *testing.T) {
	wh := ingestFixtures(t)
	out := filepath.Join(t.TempDir(), "evidence.html")
	args := []string{"--warehouse", wh, "--config", fixtures + "/sentinel.yaml", "audit", "report", "--since", "2026-11-01", "--until", until}
	r := sentinel(t, nil, append(args, "--out", out)...).mustExit(t, 1) // GAPS FOUND, as session-compliance
	if r.stdout != "" {
		t.Fatalf("stdout: %q", r.stdout)
	}
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"GAPS FOUND", `data-profile="prod"`,
		// how to reproduce it: the window resolved to times, the files as given
		"--config " + fixtures + "/sentinel.yaml audit report --since 2026-11-01T00:00:00Z --until 2026-11-08T00:00:00Z --policy " + fixtures + "/policy.yaml"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
		t.Errorf("beside the page: %v", entries)
	}

	r = sentinel(t, nil, append(args, "--out", "-")...).mustExit(t, 1)
	if !strings.HasPrefix(r.stdout, "<!DOCTYPE html>") {
		t.Fatalf("--out -: %.80q", r.stdout)
	}

	sentinel(t, nil, args...).mustExit(t, 2)
	failed := filepath.Join(t.TempDir(), "unknown.html")
	r = sentinel(t, nil, append(args, "--profile", "nosuch", "--out", failed)...).mustExit(t, 2)
	if !strings.Contains(r.stderr, "--profile nosuch") {
		t.Fatalf("stderr: %s", r.stderr)
	}
	if entries, _ := os.ReadDir(filepath.Dir(failed)); len(entries) != 0 {
		t.Fatalf("a failed report left %v", entries)
	}
}

func TestExportHoldsTheHTMLReport(t *testing.T) {
	wh := ingestFixtures(t)
	dir := filepath.Join(t.TempDir(), "evidence")
	export(t, nil, wh, "--to", dir).mustExit(t, 0)
	m := readManifest(t, dir)
	found := false
	for _, f := range m.Files {
		found = found || f.Path == "report/report.html" && f.Table == "report" && f.Rows == 0
	}
	if !found {
		t.Fatalf("manifest files: %+v", m.Files)
	}
	sentinel(t, nil, "export", "verify", dir).mustExit(t, 0)

	// A report changed after the export (its verdict turned around) fails verify, named.
	path := filepath.Join(dir, "report", "report.html")
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(page), "GAPS FOUND", "COMPLIANT", 1)
	if changed == string(page) {
		t.Fatal("the exported report does not say GAPS FOUND")
	}
	if err := os.WriteFile(path, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	r := sentinel(t, nil, "export", "verify", dir).mustExit(t, 1)
	for _, want := range []string{"report/report.html: SHA-256", "verify: NOT INTACT"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("verify output lacks %q:\n%s", want, r.stdout)
		}
	}
}
