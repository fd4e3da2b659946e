package warehouse

import (
	"context"
	"reflect"
	"testing"
	"time"
)

func TestIngestRunsNewestFirstWithWhatTheySetOutToRead(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	since := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i, run := range []Run{
		{Command: "--source /trail window the beginning to the end", Sources: "--source /trail"},
		{Command: "audit activity sync: --source api window 2026-11-01T00:00:00Z to 2026-11-08T00:00:00Z", Sources: "--source api",
			Since: since, Until: since.AddDate(0, 0, 7)},
		{Command: "compact"},
	} {
		w, err := OpenWriter(ctx, root, t0.Add(time.Duration(i)*time.Minute), run, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Finish(ctx, t0.Add(time.Duration(i)*time.Minute+time.Second), "ok", RunStats{FilesRead: int64(i)}); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	r, err := OpenReader(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	runs, err := r.IngestRuns(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Run != 3 || runs[1].Run != 2 {
		t.Fatalf("the newest 2 runs: %+v", runs)
	}
	if c := runs[0]; c.Command != "compact" || c.Sources != "" || c.WindowStart != nil || c.WindowEnd != nil || c.FinishedAt == nil {
		t.Errorf("compaction: %+v", c)
	}
	if s := runs[1]; s.Sources != "--source api" || s.WindowStart == nil || !s.WindowStart.Equal(since) ||
		s.WindowEnd == nil || !s.WindowEnd.Equal(since.AddDate(0, 0, 7)) || s.FilesRead != 1 || s.Status != "ok" {
		t.Errorf("the audit's sync: %+v", s)
	}
	info, err := r.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Runs != 3 || info.LastRun == nil || !reflect.DeepEqual(*info.LastRun, runs[0]) {
		t.Errorf("info: %d runs, the last %+v; want 3, the last %+v", info.Runs, info.LastRun, runs[0])
	}
}

func TestLedgerPrefixIsTheFolderEveryObjectLiesUnder(t *testing.T) {
	for _, c := range []struct{ scheme, first, last, want string }{
		{"file", "file:///data/handoff/a.json", "file:///data/trail/AWSLogs/1/x.json.gz", "file:///data/"},
		{"file", "file:///data/trail/a.json", "file:///data/trail/ab.json", "file:///data/trail/"},
		{"s3", "s3://bucket/AWSLogs/1/CloudTrail/a", "s3://bucket/AWSLogs/2/CloudTrail/b", "s3://bucket/AWSLogs/"},
		{"s3", "s3://a-bucket/x", "s3://b-bucket/y", "s3://"},
		{"dynamodb", "dynamodb://sessions", "dynamodb://sessions", "dynamodb://sessions"},
		{"cloudtrail-api", "cloudtrail-api://1/eu-west-1", "cloudtrail-api://1/us-east-1", "cloudtrail-api://1/"},
	} {
		if got := folderPrefix(c.scheme, c.first, c.last); got != c.want {
			t.Errorf("folderPrefix(%q, %q) = %q, want %q", c.first, c.last, got, c.want)
		}
	}
}
