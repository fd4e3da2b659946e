package ingest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/zeebo/xxh3"
)

// TestDuplicatesOfForgottenDaysAreStillFound: the seen set forgets days behind the run after a
// commit; a late copy of one of their events must still be found in the lake, not stored twice.
func TestDuplicatesOfForgottenDaysAreStillFound(t *testing.T) {
	root := t.TempDir()
	trail := filepath.Join(root, "AWSLogs", "111122223333", "CloudTrail", "us-east-1")
	record := func(id string, at time.Time) string {
		return fmt.Sprintf(`{"eventVersion":"1.08","eventID":"%s","eventTime":"%s","eventName":"GetObject"}`, id, at.Format(time.RFC3339))
	}
	day0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	write := func(day time.Time, name string, records ...string) {
		dir := filepath.Join(trail, day.Format("2006/01/02"))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		body := `{"Records":[` + strings.Join(records, ",") + `]}`
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	const days = seenKeep + 4
	for d := range days {
		at := day0.AddDate(0, 0, d)
		write(at, "a.json", record(fmt.Sprintf("day%d-a", d), at), record(fmt.Sprintf("day%d-b", d), at))
	}
	// Delivered on the last day: a copy of day 0's first event, and a new event of day 0.
	write(day0.AddDate(0, 0, days), "late.json", record("day0-a", day0), record("day0-late", day0))

	res, err := Run(context.Background(), Options{Warehouse: filepath.Join(root, "wh"), Sources: []string{filepath.Join(root, "AWSLogs")},
		Workers: 1, Checkpoint: 1, Command: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if res.EventsStored != 2*days+1 || res.EventsDuplicate != 1 {
		t.Fatalf("stored %d, duplicates %d; want %d and 1", res.EventsStored, res.EventsDuplicate, 2*days+1)
	}
	r, err := warehouse.OpenReader(context.Background(), filepath.Join(root, "wh"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var rows, ids int
	if err := r.DB().QueryRow(`SELECT count(*), count(DISTINCT event_id) FROM events_all`).Scan(&rows, &ids); err != nil {
		t.Fatal(err)
	}
	if rows != 2*days+1 || ids != rows {
		t.Fatalf("lake holds %d rows of %d ids, want %d of as many", rows, ids, 2*days+1)
	}
}

// TestSeenSetKeepsDaysOfBatchesNotYetCommitted: a commit forgets days behind the run, but not
// one added to since the committed batch closed: its ids are in the batch being filled (or
// registered), not in the lake a forgotten day is loaded again from.
func TestSeenSetKeepsDaysOfBatchesNotYetCommitted(t *testing.T) {
	w, err := warehouse.OpenWriter(context.Background(), t.TempDir(), time.Now(), warehouse.Run{Command: "test"}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	s := newSeenSet(w)
	day0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	add := func(day int) bool {
		dup, err := s.add(context.Background(), fmt.Sprintf("id-%d", day), day0.AddDate(0, 0, day))
		if err != nil {
			t.Fatal(err)
		}
		return dup
	}
	add(0)
	upTo := s.adds // the batch holding day 0 closes here
	for day := 1; day <= seenKeep+1; day++ {
		add(day)
	}
	s.committed(upTo)
	if _, ok := s.dates[warehouse.Day(day0)]; ok {
		t.Error("day 0, committed and behind the run, is still held")
	}
	if !add(1) {
		t.Error("day 1's id, added after the committed batch closed, was forgotten")
	}
}

// TestIDSetHoldsWhatWasAdded: an idSet answers as a map of the same hashes does, through its
// growth, for colliding first slots and for the zero hash, which marks empty slots.
func TestIDSetHoldsWhatWasAdded(t *testing.T) {
	s := newIDSet(0)
	want := map[xxh3.Uint128]bool{}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 50_000 {
		var h xxh3.Uint128
		switch {
		case i%1000 == 7:
			h = xxh3.Uint128{} // the zero hash
		case i%3 == 0 && len(want) > 0:
			h = xxh3.Uint128{Hi: uint64(i % 97), Lo: uint64(i%13) << 40} // the same first slot, often
		default:
			h = xxh3.Uint128{Hi: r.Uint64(), Lo: r.Uint64()}
		}
		if got := s.add(h); got != want[h] {
			t.Fatalf("add %d (%x): had = %v, want %v", i, h, got, want[h])
		}
		want[h] = true
	}
	if float64(s.n) > idSetLoad*float64(len(s.slots)) {
		t.Fatalf("%d ids in %d slots", s.n, len(s.slots))
	}
	for h := range want {
		if !s.add(h) {
			t.Fatalf("%x was lost", h)
		}
	}
}
