package trailgen_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/ingest"
	"github.com/sentinel-audit/sentinel/internal/trailgen"
	"github.com/sentinel-audit/sentinel/sourceid"
	"github.com/sentinel-audit/sentinel/warehouse"
)

// small is a configuration that still has every class, failed issuances and several files per
// account and region.
var small = trailgen.Config{Events: 4000, Seed: 7, Days: 2, RecordsPerFile: 300}

func generate(t *testing.T, cfg trailgen.Config) (string, trailgen.Stats) {
	t.Helper()
	dir := t.TempDir()
	st, err := trailgen.Generate(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, st
}

// files maps every file below dir (slash-separated, relative) to its bytes.
func files(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGenerateIsDeterministic(t *testing.T) {
	dirA, a := generate(t, small)
	dirB, b := generate(t, small)
	if !jsonEqual(a, b) {
		t.Fatalf("stats differ:\n%+v\n%+v", a, b)
	}
	fa, fb := files(t, dirA), files(t, dirB)
	if len(fa) != len(fb) {
		t.Fatalf("%d files, then %d", len(fa), len(fb))
	}
	for name, data := range fa {
		if !bytes.Equal(data, fb[name]) {
			t.Fatalf("%s differs between two runs with the same config", name)
		}
	}
	other := small
	other.Seed++
	dirC, _ := generate(t, other)
	for name, data := range files(t, dirC) {
		// Digests of the hours before the first trail file depend on the time span alone.
		if bytes.Equal(data, fa[name]) && !trailgen.DigestKeyPattern.MatchString(name) {
			t.Fatalf("%s is the same for another seed", name)
		}
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// record holds the fields the checks below read.
type record struct {
	EventVersion       string `json:"eventVersion"`
	EventID            string `json:"eventID"`
	EventTime          string `json:"eventTime"`
	EventSource        string `json:"eventSource"`
	EventName          string `json:"eventName"`
	AWSRegion          string `json:"awsRegion"`
	RecipientAccountID string `json:"recipientAccountId"`
	ErrorCode          string `json:"errorCode"`
	ReadOnly           *bool  `json:"readOnly"`
	UserIdentity       struct {
		Type           string `json:"type"`
		AccessKeyID    string `json:"accessKeyId"`
		SessionContext struct {
			SourceIdentity string `json:"sourceIdentity"`
			SessionIssuer  struct {
				ARN string `json:"arn"`
			} `json:"sessionIssuer"`
		} `json:"sessionContext"`
	} `json:"userIdentity"`
	RequestParameters struct {
		RoleArn        string `json:"roleArn"`
		SourceIdentity string `json:"sourceIdentity"`
	} `json:"requestParameters"`
	ResponseElements struct {
		Credentials struct {
			AccessKeyID string `json:"accessKeyId"`
		} `json:"credentials"`
	} `json:"responseElements"`
}

func (r record) issuance() bool {
	return r.EventSource == "sts.amazonaws.com" && r.EventName == "AssumeRole"
}

// trailFile is one generated trail file, read back.
type trailFile struct {
	key          string
	account      string
	region       string
	folder       string // YYYY-MM-DD
	delivered    time.Time
	records      []record
	raw          []json.RawMessage
	uncompressed int
}

func readTrail(t *testing.T, dir string) []trailFile {
	t.Helper()
	var out []trailFile
	for name, data := range files(t, dir) {
		if name == trailgen.SnapshotPath || name == trailgen.SignaturesPath || trailgen.DigestKeyPattern.MatchString(name) {
			continue
		}
		m := trailgen.KeyPattern.FindStringSubmatch(name)
		if m == nil {
			t.Fatalf("%s does not follow the trail key layout", name)
		}
		if m[1] != m[6] || m[2] != m[7] || m[3]+m[4]+m[5] != m[8] {
			t.Fatalf("%s: folder and file name disagree", name)
		}
		delivered, err := time.Parse("20060102T1504Z", m[8]+"T"+m[9]+"Z")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if zr.Name != "" || !zr.ModTime.IsZero() {
			t.Errorf("%s: gzip header carries name %q / mtime %v", name, zr.Name, zr.ModTime)
		}
		var body bytes.Buffer
		if _, err := body.ReadFrom(zr); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var doc struct{ Records []json.RawMessage }
		if err := json.Unmarshal(body.Bytes(), &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		f := trailFile{key: name, account: m[1], region: m[2], folder: m[3] + "-" + m[4] + "-" + m[5],
			delivered: delivered, raw: doc.Records, uncompressed: body.Len()}
		for _, raw := range doc.Records {
			var r record
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			f.records = append(f.records, r)
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b trailFile) int { return strings.Compare(a.key, b.key) })
	return out
}

func readSnapshot(t *testing.T, dir string) map[string]map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, trailgen.SnapshotPath))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	items := map[string]map[string]any{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var item map[string]any
		if err := json.Unmarshal(sc.Bytes(), &item); err != nil {
			t.Fatal(err)
		}
		id, _ := item["id"].(string)
		if _, dup := items[id]; dup || len(id) != 16 {
			t.Fatalf("snapshot item id %q is not a unique 16-hex id", id)
		}
		items[id] = item
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return items
}

// classify applies docs/domain.md's classification to a successful issuance.
func classify(si string, sessions map[string]map[string]any) string {
	if si == "" {
		return trailgen.ClassNoSourceIdentity
	}
	id, ok := sourceid.Parse(si)
	switch {
	case !ok:
		return trailgen.ClassNonSentinelFormat
	case id.Kind == sourceid.KindRequest:
		return trailgen.ClassUntrackedSentinel
	case sessions[id.ID] != nil:
		return trailgen.ClassTracked
	default:
		return trailgen.ClassOrphaned
	}
}

func TestGeneratedTrailMatchesStats(t *testing.T) {
	dir, st := generate(t, small)
	trail := readTrail(t, dir)
	sessions := readSnapshot(t, dir)
	if len(trail) != st.Files {
		t.Errorf("%d trail files, Stats.Files = %d", len(trail), st.Files)
	}
	if len(sessions) != st.Sessions {
		t.Errorf("%d snapshot items, Stats.Sessions = %d", len(sessions), st.Sessions)
	}
	start, end := trailgen.DefaultStart, trailgen.DefaultStart.AddDate(0, 0, small.Days)
	var events, failed, denied, uncompressed, compressed int
	var recordBytes int64
	ids := map[string]bool{}
	byClass, activityByClass := map[string]int{}, map[string]int{}
	keyClass := map[string]string{}
	var activity []record
	versions := map[string]int{}
	for _, f := range trail {
		uncompressed += f.uncompressed
		if len(f.records) == 0 || len(f.records) > small.RecordsPerFile {
			t.Errorf("%s holds %d records", f.key, len(f.records))
		}
		for i, r := range f.records {
			events++
			recordBytes += int64(len(f.raw[i]))
			if r.EventID == "" || ids[r.EventID] {
				t.Fatalf("%s: record %d has a missing or repeated eventID %q", f.key, i, r.EventID)
			}
			ids[r.EventID] = true
			when, err := time.Parse(time.RFC3339, r.EventTime)
			if err != nil {
				t.Fatalf("%s: record %d (%s) has eventTime %q: %v", f.key, i, r.EventID, r.EventTime, err)
			}
			if when.Before(start) || !when.Before(end) || when.After(f.delivered) {
				t.Errorf("%s: event %s at %s is outside the period or after the delivery", f.key, r.EventID, when)
			}
			if r.RecipientAccountID != f.account || r.AWSRegion != f.region {
				t.Errorf("%s: event %s of %s/%s", f.key, r.EventID, r.RecipientAccountID, r.AWSRegion)
			}
			if r.ReadOnly == nil {
				t.Errorf("%s: event %s has no readOnly", f.key, r.EventID)
			}
			versions[r.EventVersion]++
			switch {
			case r.issuance() && r.ErrorCode != "":
				failed++
			case r.issuance():
				if f.region != "us-east-1" || !strings.Contains(r.RequestParameters.RoleArn, "::"+f.account+":role/") {
					t.Errorf("%s: issuance %s not in us-east-1 of the role's account", f.key, r.EventID)
				}
				class := classify(r.RequestParameters.SourceIdentity, sessions)
				byClass[class]++
				keyClass[r.ResponseElements.Credentials.AccessKeyID] = class
			default:
				activity = append(activity, r)
				if r.ErrorCode != "" {
					denied++
				}
			}
		}
	}
	for _, r := range activity {
		class, ok := keyClass[r.UserIdentity.AccessKeyID]
		if !ok || r.UserIdentity.Type != "AssumedRole" || r.UserIdentity.SessionContext.SessionIssuer.ARN == "" {
			t.Fatalf("event %s is not made with an issued key: %+v", r.EventID, r.UserIdentity)
		}
		activityByClass[class]++
	}
	for name, data := range files(t, dir) {
		if name != trailgen.SnapshotPath && name != trailgen.SignaturesPath && !trailgen.DigestKeyPattern.MatchString(name) {
			compressed += len(data)
		}
	}
	if events != st.Events || len(ids) != st.Events {
		t.Errorf("%d records (%d distinct), Stats.Events = %d", events, len(ids), st.Events)
	}
	if failed != st.FailedIssuances || failed == 0 {
		t.Errorf("%d failed issuances, Stats.FailedIssuances = %d", failed, st.FailedIssuances)
	}
	if got := byClass[trailgen.ClassTracked] + byClass[trailgen.ClassOrphaned] + byClass[trailgen.ClassUntrackedSentinel] +
		byClass[trailgen.ClassNonSentinelFormat] + byClass[trailgen.ClassNoSourceIdentity]; got != st.Issuances {
		t.Errorf("%d successful issuances, Stats.Issuances = %d", got, st.Issuances)
	}
	for _, c := range trailgen.Classes {
		if byClass[c] != st.ByClass[c] || byClass[c] == 0 {
			t.Errorf("class %s: %d issuances, Stats.ByClass = %d", c, byClass[c], st.ByClass[c])
		}
		if activityByClass[c] != st.ActivityByClass[c] {
			t.Errorf("class %s: %d activity records, Stats.ActivityByClass = %d", c, activityByClass[c], st.ActivityByClass[c])
		}
	}
	if byClass[trailgen.ClassTracked] != st.Sessions {
		t.Errorf("%d tracked issuances but %d session records", byClass[trailgen.ClassTracked], st.Sessions)
	}
	if int64(uncompressed) != st.UncompressedBytes || int64(compressed) != st.CompressedBytes || recordBytes != st.RecordBytes {
		t.Errorf("bytes: %d/%d/%d, Stats: %d/%d/%d", uncompressed, compressed, recordBytes, st.UncompressedBytes, st.CompressedBytes, st.RecordBytes)
	}
	near := func(what string, got, want, tolerance float64) {
		if math.Abs(got-want) > tolerance {
			t.Errorf("%s = %.3f, want about %.3f", what, got, want)
		}
	}
	near("issuance share", float64(st.Issuances)/float64(st.Events), 0.08, 0.005)
	near("tracked share", float64(byClass[trailgen.ClassTracked])/float64(st.Issuances), 0.55, 0.05)
	near("activity error rate", float64(denied)/float64(len(activity)), 0.03, 0.015)
	for _, v := range []string{"1.08", "1.09", "1.10"} {
		if versions[v] == 0 {
			t.Errorf("no eventVersion %s records: %v", v, versions)
		}
	}
	if len(versions) != 3 {
		t.Errorf("eventVersions: %v", versions)
	}
}

func TestGenerateToGivesTheSameRecords(t *testing.T) {
	dir, st := generate(t, small)
	want := map[string]string{}
	for _, f := range readTrail(t, dir) {
		for i, r := range f.records {
			want[r.EventID] = f.region + " " + string(f.raw[i])
		}
	}
	got := map[string]string{}
	st2, err := trailgen.GenerateTo(small, func(region string, rec []byte) error {
		var r record
		if err := json.Unmarshal(rec, &r); err != nil {
			return err
		}
		got[r.EventID] = region + " " + string(rec)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st2.Events != st.Events || st2.RecordBytes != st.RecordBytes || !jsonEqual(st2.ByClass, st.ByClass) {
		t.Errorf("GenerateTo stats %+v, Generate %+v", st2, st)
	}
	if len(got) != len(want) {
		t.Fatalf("GenerateTo gave %d records, the files hold %d", len(got), len(want))
	}
	for id, rec := range want {
		if got[id] != rec {
			t.Fatalf("event %s differs:\n%s\n%s", id, got[id], rec)
		}
	}
	var snap bytes.Buffer
	n, err := trailgen.Snapshot(small, &snap)
	if err != nil || n != st.Sessions {
		t.Fatalf("Snapshot: %d items, %v", n, err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, trailgen.SnapshotPath)); !bytes.Equal(data, snap.Bytes()) {
		t.Fatal("Snapshot differs from the file Generate wrote")
	}
}

func TestConfigIsChecked(t *testing.T) {
	for name, cfg := range map[string]trailgen.Config{
		"no_events":          {},
		"short_account":      {Events: 10, Accounts: []string{"12345"}},
		"account_twice":      {Events: 10, Accounts: []string{"111111111111", "111111111111"}},
		"numeric_not_region": {Events: 10, Regions: []string{"1"}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := trailgen.GenerateTo(cfg, func(string, []byte) error { return nil }); err == nil {
				t.Fatal("no error")
			}
		})
	}
	// Tiny configurations still plan consistently.
	for events := 1; events <= 60; events++ {
		n := 0
		st, err := trailgen.GenerateTo(trailgen.Config{Events: events, Seed: int64(events)}, func(string, []byte) error { n++; return nil })
		if err != nil || n != events || st.Events != events || st.Issuances == 0 {
			t.Fatalf("%d events: emitted %d, %+v, %v", events, n, st, err)
		}
	}
}

func TestIngestStoresEveryGeneratedEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests into a warehouse")
	}
	dir, st := generate(t, small)
	ctx := context.Background()
	wh := filepath.Join(t.TempDir(), "wh")
	res, err := ingest.Run(ctx, ingest.Options{Warehouse: wh, Sources: []string{filepath.Join(dir, "AWSLogs")},
		SessionsFiles: []string{filepath.Join(dir, "sessions")}})
	if err != nil {
		t.Fatal(err)
	}
	if res.FilesFailed != 0 || res.RecordsRejected != 0 || res.FilesRead != st.Files+1 || res.SnapshotItems != int64(st.Sessions) {
		t.Fatalf("ingest: %+v", res)
	}
	r, err := warehouse.OpenReader(ctx, wh)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	count := func(query string) int {
		t.Helper()
		var n int
		if err := r.DB().QueryRowContext(ctx, query).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	if n := count(`SELECT count(*) FROM events`); n != st.Events {
		t.Errorf("%d distinct events in the warehouse, Stats.Events = %d", n, st.Events)
	}
	issuances := `FROM events WHERE event_source = 'sts.amazonaws.com' AND event_name = 'AssumeRole' AND error_code IS NULL`
	if n := count(`SELECT count(*) ` + issuances); n != st.Issuances {
		t.Errorf("%d issuances in the warehouse, Stats.Issuances = %d", n, st.Issuances)
	}
	if n := count(`SELECT count(*) ` + issuances + ` AND source_identity_kind = 's' AND source_identity_id IN (SELECT id FROM sessions)`); n != st.ByClass[trailgen.ClassTracked] {
		t.Errorf("%d tracked issuances in the warehouse, Stats.ByClass = %d", n, st.ByClass[trailgen.ClassTracked])
	}
}

func TestCachedGeneratesOnce(t *testing.T) {
	root := t.TempDir()
	dir, st, generated, err := trailgen.Cached(root, small)
	if err != nil || !generated || st.Events != small.Events {
		t.Fatalf("first call: %s %+v generated=%v %v", dir, st, generated, err)
	}
	again, st2, generated, err := trailgen.Cached(root, small)
	if err != nil || generated || again != dir || st2.Files != st.Files {
		t.Fatalf("second call: %s %+v generated=%v %v; want %s from the cache", again, st2, generated, err, dir)
	}
	other, _, generated, err := trailgen.Cached(root, trailgen.Config{Events: small.Events, Seed: small.Seed, Days: small.Days, RecordsPerFile: small.RecordsPerFile, Regions: []string{"eu-west-1"}})
	if err != nil || !generated || other == dir {
		t.Fatalf("other regions: %s generated=%v %v; want a directory of its own", other, generated, err)
	}
}

func TestOrganizationLayout(t *testing.T) {
	accounts := make([]string, 300)
	for i := range accounts {
		accounts[i] = fmt.Sprintf("%012d", 100000000000+i)
	}
	regions := []string{"us-east-1", "eu-west-1", "ap-south-1"}
	dir := t.TempDir()
	st, err := trailgen.Generate(trailgen.Config{Events: 20_000, Seed: 9, Accounts: accounts, Regions: regions, RecordsPerFile: 20,
		RegionShares: []float64{0.9, 0.05, 0.05}, NoDigests: true}, dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]int{}
	seen := map[string]bool{}
	err = filepath.WalkDir(filepath.Join(dir, "AWSLogs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		m := trailgen.KeyPattern.FindStringSubmatch(filepath.ToSlash(strings.TrimPrefix(p, dir+string(filepath.Separator))))
		if m == nil {
			t.Fatalf("key %s", p)
		}
		files[m[2]]++
		seen[m[1]] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Accounts are drawn per session: nearly every account has files.
	if len(seen) < 290 || st.Files != files["us-east-1"]+files["eu-west-1"]+files["ap-south-1"] {
		t.Fatalf("%d accounts, files %v of %d", len(seen), files, st.Files)
	}
	// 90% of the activity in us-east-1 (and every issuance): its files outnumber the others'.
	if files["us-east-1"] < 3*files["eu-west-1"] || files["eu-west-1"] == 0 {
		t.Errorf("files by region %v", files)
	}
	if _, err := trailgen.Generate(trailgen.Config{Events: 10, Regions: regions, RegionShares: []float64{1}}, t.TempDir()); err == nil {
		t.Error("shares for fewer regions than given were taken")
	}
}
