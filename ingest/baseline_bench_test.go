package ingest_test

// Baselines for BenchmarkDirectoryIngest, over the same generated trail (SENTINEL_BENCH_EVENTS,
// default 200k events):
//
//   - BenchmarkReadJSONBaseline: DuckDB's own read_json loading the trail files into a table with
//     the lake's extracted columns plus the raw record — what ingest has to beat.
//   - BenchmarkGzipFloor: decompressing the same files and throwing the JSON away, with `gzip -dc`
//     and in process with klauspost/compress — the floor no ingest can go below.
//
// Each reports events/s so the ratio to BenchmarkDirectoryIngest's events/s can be read off.
//
//	go test -run '^$' -bench 'ReadJSON|GzipFloor|DirectoryIngest' -benchtime 1x ./ingest/

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/klauspost/compress/gzip"
	"github.com/sentinel-audit/sentinel/internal/trailgen"
)

// readJSONColumns are the lake's extracted columns (warehouse.EventRow) as JSON paths of a
// CloudTrail record, in the order of readJSONSelect's e[1], e[2], ... After them come
// readJSONSourceIdentities, which are read but not stored (as by normalize).
var readJSONColumns = []struct{ name, path string }{
	{"event_id", "$.eventID"},
	{"event_time", "$.eventTime"},
	{"event_version", "$.eventVersion"},
	{"event_source", "$.eventSource"},
	{"event_name", "$.eventName"},
	{"event_type", "$.eventType"},
	{"event_category", "$.eventCategory"},
	{"aws_region", "$.awsRegion"},
	{"recipient_account_id", "$.recipientAccountId"},
	{"source_ip_address", "$.sourceIPAddress"},
	{"user_agent", "$.userAgent"},
	{"error_code", "$.errorCode"},
	{"read_only", "$.readOnly"},
	{"management_event", "$.managementEvent"},
	{"identity_type", "$.userIdentity.type"},
	{"identity_arn", "$.userIdentity.arn"},
	{"identity_account_id", "$.userIdentity.accountId"},
	{"identity_user_name", "$.userIdentity.userName"},
	{"access_key_id", "$.userIdentity.accessKeyId"},
	{"invoked_by", "$.userIdentity.invokedBy"},
	{"session_issuer_arn", "$.userIdentity.sessionContext.sessionIssuer.arn"},
	{"session_issuer_type", "$.userIdentity.sessionContext.sessionIssuer.type"},
	{"session_mfa_authenticated", "$.userIdentity.sessionContext.attributes.mfaAuthenticated"},
	{"role_arn", "$.requestParameters.roleArn"},
	{"role_session_name", "$.requestParameters.roleSessionName"},
	{"issued_access_key_id", "$.responseElements.credentials.accessKeyId"},
	{"addendum_reason", "$.addendum.reason"},
	{"addendum_original_event_id", "$.addendum.originalEventID"},
}

// readJSONSourceIdentities are where the source identity of a record may be: its session's, the
// requested one and the response's.
var readJSONSourceIdentities = []string{
	"$.userIdentity.sessionContext.sourceIdentity", "$.requestParameters.sourceIdentity", "$.responseElements.sourceIdentity",
}

// readJSONSQL is the statement of the baseline: every record of the files (a {"Records":[...]}
// object each) unnested as JSON, all paths extracted in one pass over each record (the list form of
// json_extract_string parses the record once), typed as the lake types them, and the record kept
// whole as raw. The source identity is the one normalize derives (request, response, then
// session for an issuance; the session's otherwise); parsing Sentinel's grammar out of it is left
// out, which only flatters the baseline.
func readJSONSQL(files []string) string {
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = "'" + strings.ReplaceAll(f, "'", "''") + "'"
	}
	paths := make([]string, len(readJSONColumns))
	cols := make([]string, len(readJSONColumns))
	for i, c := range readJSONColumns {
		paths[i] = "'" + c.path + "'"
		v := fmt.Sprintf("nullif(e[%d], '')", i+1)
		switch c.name {
		case "event_time":
			v = fmt.Sprintf("CAST(e[%d] AS TIMESTAMPTZ)", i+1)
		case "read_only", "management_event", "session_mfa_authenticated":
			v = fmt.Sprintf("CASE lower(e[%d]) WHEN 'true' THEN true WHEN 'false' THEN false END", i+1)
		}
		cols[i] = v + " AS " + c.name
	}
	for _, path := range readJSONSourceIdentities {
		paths = append(paths, "'"+path+"'")
	}
	session, request, response := len(readJSONColumns)+1, len(readJSONColumns)+2, len(readJSONColumns)+3
	return `CREATE TABLE events AS
WITH records AS (
    SELECT unnest(Records) AS r
    FROM read_json([` + strings.Join(quoted, ", ") + `], format = 'unstructured', records = true,
                   columns = {Records: 'JSON[]'}, maximum_object_size = 1073741824)
), extracted AS (
    SELECT r, json_extract_string(r, [` + strings.Join(paths, ", ") + `]) AS e FROM records
)
SELECT ` + strings.Join(cols, ",\n    ") + `,
    CASE WHEN e[4] = 'sts.amazonaws.com' AND e[5] IN ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity')
         THEN coalesce(nullif(e[` + fmt.Sprint(request) + `], ''), nullif(e[` + fmt.Sprint(response) + `], ''), nullif(e[` + fmt.Sprint(session) + `], ''))
         ELSE nullif(e[` + fmt.Sprint(session) + `], '') END AS source_identity,
    r::VARCHAR AS raw
FROM extracted`
}

// trailFiles lists the .json.gz files of a generated trail, sorted.
func trailFiles(b *testing.B, dir string) []string {
	b.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(dir, "AWSLogs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json.gz") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	slices.Sort(files)
	return files
}

// BenchmarkReadJSONBaseline loads the trail of BenchmarkDirectoryIngest with DuckDB's read_json
// into a table of a fresh on-disk DuckDB database.
func BenchmarkReadJSONBaseline(b *testing.B) {
	dir, st := cachedTrail(b, trailgen.Config{Events: benchEvents(b, 200_000), Seed: 1})
	files := trailFiles(b, dir)
	if len(files) != st.Files {
		b.Fatalf("%s holds %d trail files; generated %d", dir, len(files), st.Files)
	}
	stmt := readJSONSQL(files)
	ctx := context.Background()
	var elapsed, cpu time.Duration
	var peak, before, size int64
	reset := true
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "baseline.duckdb")
		db, err := sql.Open("duckdb", path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `SET TimeZone = 'UTC'`); err != nil {
			b.Fatal(err)
		}
		reset = resetPeakRSS() && reset
		before = max(before, rss())
		b.StartTimer()
		began, cpuBefore := time.Now(), cpuTime()
		_, err = db.ExecContext(ctx, stmt)
		if err == nil {
			_, err = db.ExecContext(ctx, `CHECKPOINT`)
		}
		elapsed += time.Since(began)
		cpu += cpuTime() - cpuBefore
		b.StopTimer()
		peak = max(peak, peakRSS())
		if err != nil {
			b.Fatalf("read_json of %d files: %v", len(files), err)
		}
		var events, ids, issuances, raw int64
		err = db.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT event_id),
			count(*) FILTER (event_source = 'sts.amazonaws.com' AND event_name = 'AssumeRole' AND error_code IS NULL AND issued_access_key_id IS NOT NULL),
			count(*) FILTER (raw LIKE '{%}' AND event_time IS NOT NULL AND identity_type IS NOT NULL AND read_only IS NOT NULL)
			FROM events`).Scan(&events, &ids, &issuances, &raw)
		if err != nil {
			b.Fatal(err)
		}
		if events != int64(st.Events) || ids != events || issuances != int64(st.Issuances) || raw != events {
			b.Fatalf("read_json stored %d events (%d distinct ids, %d with raw, time, identity and readOnly), %d issuances; generated %d events, %d issuances",
				events, ids, raw, issuances, st.Events, st.Issuances)
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		info, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		size = info.Size()
		b.StartTimer()
	}
	b.StopTimer()
	sameRun.readJSON[st.Events] = reportRun(b, st, elapsed, cpu, peak, before, reset)
	b.ReportMetric(float64(size)/(1<<20), "db_MiB")
	b.ReportMetric(float64(size)/float64(st.CompressedBytes), "db/gz_input")
}

// countingWriter counts what is written to it and throws it away.
type countingWriter struct{ n atomic.Int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return len(p), nil
}

// BenchmarkGzipFloor decompresses the trail of BenchmarkDirectoryIngest and discards the JSON:
//
//   - gzip-dc: one `gzip -dc` process over every file, its output read through a pipe;
//   - gzip-dc-parallel: GOMAXPROCS such processes, each over its share of the files;
//   - klauspost: in process with klauspost/compress/gzip (what ingest uses), one goroutine;
//   - klauspost-parallel: GOMAXPROCS goroutines taking files in turn.
//
// Each checks that exactly the generated JSON came out.
func BenchmarkGzipFloor(b *testing.B) {
	dir, st := cachedTrail(b, trailgen.Config{Events: benchEvents(b, 200_000), Seed: 1})
	files := trailFiles(b, dir)
	if len(files) != st.Files {
		b.Fatalf("%s holds %d trail files; generated %d", dir, len(files), st.Files)
	}
	workers := runtime.GOMAXPROCS(0)
	gzipPath, gzipErr := exec.LookPath("gzip")
	for _, bc := range []struct {
		name    string
		workers int
		inflate func(files []string, out io.Writer) error
	}{
		{"gzip-dc", 1, gzipDC(gzipPath)},
		{"gzip-dc-parallel", workers, gzipDC(gzipPath)},
		{"klauspost", 1, klauspostInflate},
		{"klauspost-parallel", workers, klauspostInflate},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if strings.HasPrefix(bc.name, "gzip-dc") && gzipErr != nil {
				b.Skipf("no gzip: %v", gzipErr)
			}
			var elapsed time.Duration
			b.ResetTimer()
			for range b.N {
				var out countingWriter
				began := time.Now()
				err := inflateAll(files, bc.workers, &out, bc.inflate)
				elapsed += time.Since(began)
				if err != nil {
					b.Fatal(err)
				}
				if out.n.Load() != st.UncompressedBytes {
					b.Fatalf("%s inflated %d bytes of JSON; generated %d", bc.name, out.n.Load(), st.UncompressedBytes)
				}
			}
			b.StopTimer()
			sec := elapsed.Seconds()
			b.ReportMetric(float64(st.UncompressedBytes)*float64(b.N)/1e6/sec, "MB/s")
			b.ReportMetric(float64(st.Events*b.N)/sec, "events/s")
			b.ReportMetric(float64(bc.workers), "workers")
			if bc.name == "gzip-dc-parallel" {
				sameRun.gzipDC[st.Events] = float64(st.Events*b.N) / sec
			}
		})
	}
}

// inflateAll splits files into workers interleaved shares and inflates each share concurrently.
func inflateAll(files []string, workers int, out io.Writer, inflate func([]string, io.Writer) error) error {
	shares := make([][]string, workers)
	for i, f := range files {
		shares[i%workers] = append(shares[i%workers], f)
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w, share := range shares {
		wg.Go(func() { errs[w] = inflate(share, out) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// gzipDC runs `gzip -dc files...` and copies its output to out through a pipe.
func gzipDC(gzipPath string) func([]string, io.Writer) error {
	return func(files []string, out io.Writer) error {
		if len(files) == 0 {
			return nil
		}
		cmd := exec.Command(gzipPath, append([]string{"-dc"}, files...)...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start gzip -dc: %w", err)
		}
		_, copyErr := io.Copy(out, stdout)
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("gzip -dc of %d files: %w: %s", len(files), err, stderr.String())
		}
		return copyErr
	}
}

// klauspostInflate inflates files one after the other with one reused klauspost gzip reader.
func klauspostInflate(files []string, out io.Writer) error {
	var zr *gzip.Reader
	buf := make([]byte, 256<<10)
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		if zr == nil {
			zr, err = gzip.NewReader(f)
		} else {
			err = zr.Reset(f)
		}
		if err == nil {
			_, err = io.CopyBuffer(out, zr, buf)
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("inflate %s: %w", name, err)
		}
	}
	return nil
}
