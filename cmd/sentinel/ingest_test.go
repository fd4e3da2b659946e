package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/internal/emulator/objectstore"
)

// appleDouble is the start of an AppleDouble file, as a Mac writes ._NAME beside NAME on a
// volume without its metadata (and into __MACOSX/ of a zip).
var appleDouble = []byte("\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02\x00\x00\x00\x09\x00\x00\x00\x32")

// TestInterruptedIngestSaysWhatItKept: Ctrl-C stops an ingest between checkpoints; its summary
// and its record in ingest_runs count what the last checkpoint kept (what the warehouse then
// holds), not what was read, and say that running it again resumes; it does.
func TestInterruptedIngestSaysWhatItKept(t *testing.T) {
	store, endpoint := objectstore.StartWith(t, bucket)
	root := filepath.Join(repoRoot(t), fixtures, "trail")
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.Contains(p, "/CloudTrail/") {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		data, _ := os.ReadFile(p)
		return store.Put(bucket, filepath.ToSlash(rel), data)
	})
	store.Inject(objectstore.Fault{Delay: 200 * time.Millisecond})
	wh := filepath.Join(t.TempDir(), "wh")
	args := []string{"--warehouse", wh, "ingest", "--source", "s3://" + bucket, "--endpoint-url", endpoint}
	stdout, stderr := interruptAfter(t, store, 7, append(args, "--workers", "1", "--s3-concurrency", "1", "--checkpoint", "5")...)
	// An object being read when Ctrl-C came did not fail: it is read by the next run.
	if strings.Contains(stderr, "failed") {
		t.Fatalf("stderr %q", stderr)
	}
	line := regexp.MustCompile(`^ingest: stopped early; kept up to its last checkpoint: (\d+) files read, .*; (\d+) events stored, .*; run the same command again to resume \(what was kept is not read again\)\n$`).
		FindStringSubmatch(stdout)
	if line == nil {
		t.Fatalf("summary %q", stdout)
	}
	files, _ := strconv.Atoi(line[1])
	kept, _ := strconv.Atoi(line[2])
	if files == 0 || files >= 17 {
		t.Fatalf("the interruption should land mid-run after a checkpoint: %s", stdout)
	}
	if stored := scalar(t, wh, `SELECT count(*) FROM events_all`); int(stored) != kept {
		t.Fatalf("the summary says %d events kept, the warehouse holds %v", kept, stored)
	}
	runs := query(t, wh, `SELECT status, events_stored, files_read FROM ingest_runs`)
	if len(runs) != 1 || runs[0]["status"] != "interrupted" || fmt.Sprint(runs[0]["events_stored"]) != line[2] || fmt.Sprint(runs[0]["files_read"]) != line[1] {
		t.Fatalf("the run's record: %v, want status interrupted, %s events and %s files", runs, line[2], line[1])
	}
	store.Clear()
	r := sentinel(t, awsEnv(), args...).mustExit(t, 0)
	if want := fmt.Sprintf("ingest: %d files read", 17-files); !strings.HasPrefix(r.stdout, want) {
		t.Fatalf("the re-run reads what was not kept: %s, want %s", r.stdout, want)
	}
	if n := scalar(t, wh, `SELECT count(*) FROM events_all`); n != 62 {
		t.Fatalf("events_all = %v after the re-run, want 62", n)
	}
}

// interruptAfter runs the built binary with args and presses Ctrl-C (SIGINT) once the S3 stand-in
// has served gets GETs; the run must stop as interrupted (exit 2). It returns stdout and stderr.
func interruptAfter(t *testing.T, store *objectstore.Server, gets int64, args ...string) (string, string) {
	t.Helper()
	cmd := sentinelCommand(t, awsEnv(), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); store.Gets() < gets && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.HasSuffix(stderr.String(), "sentinel: interrupted\n") {
		t.Fatalf("exit %v, stderr %q", err, stderr.String())
	}
	return stdout.String(), stderr.String()
}

// TestUnfinishedIngestIsNeverCompliant: an S3 ingest stopped by Ctrl-C left part of the trail
// unread (files are read many at a time, so the hole need not be at a span's end). prod-readonly,
// COMPLIANT once the trail is read, is INCONCLUSIVE until the same command runs to its end: a
// finished run of other sources does not make up for it.
func TestUnfinishedIngestIsNeverCompliant(t *testing.T) {
	store, endpoint := s3WithTrail(t)
	wh := filepath.Join(t.TempDir(), "wh")
	sentinel(t, nil, "--warehouse", wh, "ingest", "--sessions-file", fixtures+"/sessions").mustExit(t, 0)
	args := []string{"--warehouse", wh, "ingest", "--source", "s3://" + bucket}
	store.Inject(objectstore.Fault{Delay: 200 * time.Millisecond})
	interruptAfter(t, store, 9, append(args, "--endpoint-url", endpoint, "--workers", "1", "--s3-concurrency", "1", "--checkpoint", "5")...)
	store.Clear()
	audit := func(code int, format string) string {
		t.Helper()
		return sentinel(t, nil, "--warehouse", wh, "--config", fixtures+"/sentinel.yaml", "audit", "session-compliance",
			"--since", since, "--until", until, "--profile", "prod-readonly", "--format", format).mustExit(t, code).stdout
	}
	unfinished := func() {
		t.Helper()
		var rep complianceJSON
		if err := json.Unmarshal([]byte(audit(3, "json")), &rep); err != nil {
			t.Fatal(err)
		}
		message := ""
		for _, r := range rep.Verdict.Reasons {
			if r.Code == "ingest_unfinished" {
				message = r.Message
			}
		}
		if rep.Verdict.Result != "INCONCLUSIVE" || !strings.HasPrefix(message, "ingest run 2 (started ") ||
			!strings.Contains(message, ": sentinel ingest --source s3://"+bucket+")") || !strings.Contains(message, ") was interrupted before it read all it had listed") {
			t.Fatalf("verdict %+v", rep.Verdict)
		}
		if table := audit(3, "table"); !regexp.MustCompile(`(?m)^  Unfinished ingest: run 2, started \S+ \(interrupted\): sentinel ingest --source s3://` + bucket + `$`).MatchString(table) {
			t.Fatalf("the Evidence does not name the unfinished run:\n%s", table)
		}
	}
	unfinished()
	sentinel(t, nil, "--warehouse", wh, "ingest", "--sessions-file", fixtures+"/sessions").mustExit(t, 0)
	unfinished()
	// The same sources to the end, with CloudTrail's public keys at hand this time.
	sentinel(t, awsEnv("AWS_ENDPOINT_URL_S3="+endpoint, "AWS_ENDPOINT_URL_CLOUDTRAIL="+keysEndpoint(t)), args...).mustExit(t, 0)
	if out := audit(0, "table"); !strings.Contains(out, "Result: COMPLIANT") || strings.Contains(out, "Unfinished ingest") {
		t.Fatalf("after the same command ran to its end:\n%s", out)
	}
}

// TestMacOSMetadataAndExcludedFilesAreSkipped: a copy made on a Mac (__MACOSX/ from a zip,
// AppleDouble ._ files beside each file, .DS_Store) ingests cleanly, the metadata counted as
// skipped; --exclude leaves out what it matches below the source. Locally and in S3.
func TestMacOSMetadataAndExcludedFilesAreSkipped(t *testing.T) {
	src := t.TempDir()
	copyTree(t, filepath.Join(repoRoot(t), fixtures, "handoff"), filepath.Join(src, "handoff"))
	junk := map[string][]byte{
		"handoff/._export.jsonl":                    appleDouble,
		"handoff/._bare-array.json":                 appleDouble,
		"__MACOSX/handoff/._lookup-events-dev.json": appleDouble,
		"handoff/.DS_Store":                         appleDouble,
		"archive/2025/broken.json":                  []byte("{not json"),
		"handoff/bare-array-old.json":               []byte("[{"),
	}
	for rel, data := range junk {
		p := filepath.Join(src, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	exclude := []string{"--exclude", "archive", "--exclude", "**/*-old.json"}
	// Each of the four is counted: the ._ files, the one in __MACOSX/ and .DS_Store.
	const skipped = "4 macOS metadata, 2 excluded), 0 failed"

	t.Run("local", func(t *testing.T) {
		wh := filepath.Join(t.TempDir(), "wh")
		r := sentinel(t, nil, "--warehouse", wh, "ingest", "--source", src, "--exclude", "archive", "--exclude", "**/*-old.json").mustExit(t, 0)
		if !strings.Contains(r.stdout, "4 files read") || !strings.Contains(r.stdout, skipped) || r.stderr != "" {
			t.Fatalf("stdout %s\nstderr %s", r.stdout, r.stderr)
		}
		r = sentinel(t, nil, "--warehouse", wh, "ingest", "--source", src).mustExit(t, 1)
		if !strings.Contains(r.stdout, "4 macOS metadata") || !strings.Contains(r.stderr, "failed: ") || strings.Contains(r.stderr, "._") {
			t.Fatalf("without --exclude the broken files fail, the metadata never:\nstdout %s\nstderr %s", r.stdout, r.stderr)
		}
	})
	t.Run("s3", func(t *testing.T) {
		store, endpoint := objectstore.StartWith(t, bucket)
		filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			data, _ := os.ReadFile(p)
			return store.Put(bucket, "copy/"+filepath.ToSlash(rel), data)
		})
		wh := filepath.Join(t.TempDir(), "wh")
		r := sentinel(t, awsEnv(), append([]string{"--warehouse", wh, "ingest", "--source", "s3://" + bucket + "/copy", "--endpoint-url", endpoint}, exclude...)...).mustExit(t, 0)
		if !strings.Contains(r.stdout, "4 files read") || !strings.Contains(r.stdout, skipped) {
			t.Fatalf("stdout %s\nstderr %s", r.stdout, r.stderr)
		}
	})
	t.Run("a_bad_pattern_is_an_error", func(t *testing.T) {
		r := sentinel(t, nil, "--warehouse", filepath.Join(t.TempDir(), "wh"), "ingest", "--source", src, "--exclude", "[").mustExit(t, 2)
		if !strings.Contains(r.stderr, `--exclude "[" is not a valid pattern`) {
			t.Fatalf("stderr %s", r.stderr)
		}
	})
}
