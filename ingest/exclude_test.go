package ingest

import "testing"

func TestSkipLeavesOutMacOSMetadataAndExcludedPaths(t *testing.T) {
	exclude := []string{"archive", "**/*-old.json.gz", "handoff/tmp-*.json"}
	for rel, want := range map[string]string{
		"AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/04/x.json.gz":            "kept",
		"__MACOSX/AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/04/._x.json.gz": "macOS",
		"copy/__MACOSX/x.json":   "macOS",
		"AWSLogs/._x.json.gz":    "macOS",
		"._sessions.jsonl":       "macOS",
		".DS_Store":              "macOS",
		"MACOSX/x.json":          "kept",
		"archive/2025/x.json.gz": "excluded", // a folder the pattern names
		"archived/x.json.gz":     "kept",
		"a/b/c-old.json.gz":      "excluded",
		"handoff/tmp-1.json":     "excluded",
		"handoff/sub/tmp-1.json": "kept",
		"x.json":                 "kept",
	} {
		var r Result
		kept := r.skip([]object{{rel: rel}}, exclude)
		got := map[bool]string{true: "kept"}[len(kept) == 1]
		switch {
		case r.MacOSFiles == 1:
			got = "macOS"
		case r.ExcludedFiles == 1:
			got = "excluded"
		}
		if got != want {
			t.Errorf("%s: %s, want %s", rel, got, want)
		}
	}
	if err := checkExclude([]string{"ok/**", "bad["}); err == nil || err.Error() != `--exclude "bad[" is not a valid pattern (glob: * within a folder, ** across, [abc], {a,b})` {
		t.Fatalf("err = %v", err)
	}
}
