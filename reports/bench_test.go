package reports

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// benchUntrackedN is an untracked-sessions report of n rows.
func benchUntrackedN(n int) UntrackedReport {
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	rep := UntrackedReport{StartTime: t0, EndTime: t0.AddDate(0, 0, 7), UntrackedSessions: make([]UntrackedSession, n)}
	yes := true
	for i := range rep.UntrackedSessions {
		rep.UntrackedSessions[i] = UntrackedSession{
			EventID: fmt.Sprintf("3f1c9a52-8f0e-4c55-9d2f-%012d", i), EventTime: t0.Add(time.Duration(i) * time.Second),
			AccountID: "222222222222", RoleARN: "arn:aws:iam::222222222222:role/ProdAdmin", Profile: "prod", User: "alice",
			SourceIPAddress: "192.0.2.44", UserAgent: "aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off command/sts.assume-role",
			SourceIdentity: "sentinel-r-ab12cd34ef560789-alice", Category: "untracked_sentinel",
			Reason: "issued by Sentinel outside a server session (request ab12cd34ef560789), so it cannot be tracked or revoked", PolicyRequired: &yes,
			PolicyRule: "prod-requires-server", Flags: []string{},
		}
	}
	return rep
}

// BenchmarkUntrackedRender writes the report of 360,708 untracked issuances in each format, as
// `sentinel audit untracked-sessions` does to its (unbuffered) standard output.
func BenchmarkUntrackedRender(b *testing.B) {
	rep := benchUntrackedN(360_708) // the size of the 10M-event benchmark's report
	for _, format := range []string{FormatTable, FormatCSV, FormatJSON} {
		b.Run(format, func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "out"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			for b.Loop() {
				if _, err := f.Seek(0, io.SeekStart); err != nil {
					b.Fatal(err)
				}
				if err := writeUntracked(f, rep, format); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
