package integrity

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sentinel-audit/sentinel/internal/testenv"
)

// fixtureDigests are the inflated digests of one fixture stream's day, as CloudTrail writes them.
func fixtureDigests(t testing.TB) [][]byte {
	t.Helper()
	paths, err := filepath.Glob("../testdata/fixtures/trail/AWSLogs/o-a1b2c3d4e5/222222222222/CloudTrail-Digest/us-east-1/2026/11/05/*.json.gz")
	if err != nil || len(paths) != 24 {
		t.Fatalf("fixture digests: %d, %v", len(paths), err)
	}
	var out [][]byte
	for _, p := range paths {
		out = append(out, testenv.ReadGzip(t, p))
	}
	return out
}

// TestFastParseReadsWhatCloudTrailWrites: the fixtures' digests (one listing a log file, most
// listing none, one starting no chain) take the fast path, with the positioned parser's result.
func TestFastParseReadsWhatCloudTrailWrites(t *testing.T) {
	for i, data := range fixtureDigests(t) {
		fast, ok := parseDigestFast(data)
		slow, err := parseDigest(data)
		if !ok || err != nil || !reflect.DeepEqual(fast, slow) {
			t.Fatalf("digest %d: fast %v %+v, positioned %v %+v", i, ok, fast, err, slow)
		}
	}
}

// FuzzParseDigestFast: whatever the fast path accepts, the positioned parser accepts too, with
// the same digest.
func FuzzParseDigestFast(f *testing.F) {
	for _, d := range fixtureDigests(f) {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 8<<10 {
			t.Skip()
		}
		fast, ok := parseDigestFast(data)
		if !ok {
			return
		}
		slow, err := parseDigest(data)
		if err != nil || !reflect.DeepEqual(fast, slow) {
			t.Fatalf("fast path accepted %q as %+v; positioned parser: %v %+v", data, fast, err, slow)
		}
	})
}

func BenchmarkParseDigest(b *testing.B) {
	digests := fixtureDigests(b)
	for _, p := range []struct {
		name  string
		parse func([]byte) (*Digest, error)
	}{{"fast_then_positioned", ParseDigest}, {"positioned", parseDigest}} {
		b.Run(p.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if _, err := p.parse(digests[i%len(digests)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
