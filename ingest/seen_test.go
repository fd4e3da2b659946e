package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/warehouse"
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
