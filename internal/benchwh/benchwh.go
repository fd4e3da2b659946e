// Package benchwh builds the warehouses the benchmarks of queries and reports run on: the
// synthetic trail of internal/trailgen with its session snapshot, ingested once and cached under
// os.TempDir() (sentinel-bench/), where ingest's benchmarks cache the same trail.
package benchwh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/ingest"
	"github.com/sentinel-audit/sentinel/internal/trailgen"
	"github.com/sentinel-audit/sentinel/warehouse"
)

// LakeVersion names cached warehouses by how ingest wrote them: bump it when the lake's
// files change (codec, row groups, columns), so figures are taken on what ingest writes now.
// 2: libzstd pages, row groups of 32,768, no request/response columns. 5: min/max statistics only
// for the times. 6: the issuance index in the lake (issuances files). 7: events and issuances
// files written by the column writer. 8: digests read, the coverage and integrity tables.
const LakeVersion = 8

// Seed is the generator seed; the trail is the one ingest's directory benchmarks use.
const Seed = 1

// builtWarehouse is what the marker file of a cached warehouse records.
type builtWarehouse struct {
	FormatVersion int            `json:"format_version"`
	Seed          int64          `json:"seed"`
	Stats         trailgen.Stats `json:"stats"`
}

// Cached returns a warehouse holding the generated trail of events events and its
// session snapshot, ingesting it only when no earlier run left a complete one in the cache. The
// warehouse is complete when its marker file exists; an incomplete one is rebuilt from scratch.
func Cached(b testing.TB, events int) (string, trailgen.Stats) {
	b.Helper()
	wh := filepath.Join(os.TempDir(), "sentinel-bench", fmt.Sprintf("wh-v%d-%d", LakeVersion, events))
	marker := filepath.Join(wh, "bench-complete.json")
	var built builtWarehouse
	if data, err := os.ReadFile(marker); err == nil && json.Unmarshal(data, &built) == nil &&
		built.FormatVersion == trailgen.FormatVersion && built.Seed == Seed && built.Stats.Events == events {
		indexIssuances(b, wh)
		return wh, built.Stats
	}
	// The trail is cached where ingest's benchmarks cache theirs, so both share it.
	dir, st, _, err := trailgen.Cached(filepath.Join(os.TempDir(), "sentinel-bench"), trailgen.Config{Events: events, Seed: Seed})
	if err != nil {
		b.Fatal(err)
	}
	if err := os.RemoveAll(wh); err != nil {
		b.Fatal(err)
	}
	removeOlderLakes(b)
	began := time.Now()
	res, err := ingest.Run(context.Background(), ingest.Options{Warehouse: wh,
		Sources: []string{filepath.Join(dir, "AWSLogs")}, SessionsFiles: []string{filepath.Join(dir, "sessions")}})
	if err != nil {
		b.Fatalf("ingest %s into %s: %v", dir, wh, err)
	}
	if res.EventsStored != int64(st.Events) || res.FilesFailed != 0 || res.RecordsRejected != 0 {
		b.Fatalf("ingest of %d generated events into %s: %+v", st.Events, wh, res)
	}
	data, _ := json.Marshal(builtWarehouse{FormatVersion: trailgen.FormatVersion, Seed: Seed, Stats: st})
	if err := os.WriteFile(marker, data, 0o644); err != nil {
		b.Fatal(err)
	}
	b.Logf("ingested %d events into %s in %s", st.Events, wh, time.Since(began).Round(time.Millisecond))
	return wh, st
}

// removeOlderLakes deletes the cached warehouses of earlier lake versions: at 10M events each
// is ~2 GB, and no run reads them again.
func removeOlderLakes(b testing.TB) {
	b.Helper()
	old, err := filepath.Glob(filepath.Join(os.TempDir(), "sentinel-bench", "wh-v*-*"))
	if err != nil {
		b.Fatal(err)
	}
	current := fmt.Sprintf("wh-v%d-", LakeVersion)
	for _, dir := range old {
		if !strings.HasPrefix(filepath.Base(dir), current) {
			if err := os.RemoveAll(dir); err != nil {
				b.Fatal(err)
			}
			b.Logf("removed %s, a warehouse of an earlier lake version", dir)
		}
	}
}

// indexIssuances brings the issuance index of a cached warehouse up to date, as the end of any
// ingest does: a cached warehouse whose ingest stopped before its end may lack some of it.
func indexIssuances(b testing.TB, wh string) {
	b.Helper()
	ctx := context.Background()
	w, err := warehouse.OpenWriter(ctx, wh, time.Now(), warehouse.Run{Command: "benchmark: index issuances"}, false)
	if err != nil {
		b.Fatal(err)
	}
	err = w.Finish(ctx, time.Now(), "ok", warehouse.RunStats{})
	if err := errors.Join(err, w.Close()); err != nil {
		b.Fatalf("index the issuances of %s: %v", wh, err)
	}
}

// benchPolicy requires a tracked server session for every profile the generator's roles map to
// and, since the benchmark passes no role map (issuances that no session record names are then
// attributed to their role's name), for the role names as well.
const benchPolicy = `version: "1"
rules:
  - name: tracked-everywhere
    effect: require_server_session
    conditions:
      profiles: [%s]
    reason: "every generated role must be used through a tracked server session"
`

// The generator's accounts are labelled prod, staging, dev and security, each with an Admin,
// ReadOnly and Deploy role (profiles <label>, <label>-readonly, <label>-deploy).
var (
	benchLabels   = []string{"prod", "staging", "dev", "security"}
	benchSuffixes = []struct{ profile, role string }{{"", "Admin"}, {"-readonly", "ReadOnly"}, {"-deploy", "Deploy"}}
)

// PolicyFile writes benchPolicy into a temporary directory of tb and returns its path.
func PolicyFile(tb testing.TB) string {
	tb.Helper()
	var names []string
	for _, l := range benchLabels {
		for _, s := range benchSuffixes {
			names = append(names, l+s.profile, strings.ToUpper(l[:1])+l[1:]+s.role)
		}
	}
	path := filepath.Join(tb.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, fmt.Appendf(nil, benchPolicy, strings.Join(names, ", ")), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}
