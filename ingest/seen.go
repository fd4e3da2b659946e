package ingest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/zeebo/xxh3"
)

// seenSet knows which event ids the warehouse already holds, per event-date partition. A
// partition's stored ids are loaded the first time a row falls into it; ids are kept as 128-bit
// hashes, so a collision would need about 2^64 events. Committed ids sit in a sorted slice (16
// bytes each; a map costs about 40), ids added since the last commit in a map. After each commit,
// partitions not among the most recently used are forgotten (and loaded again from the lake if a
// row falls into them), so memory follows the days being read, not the length of the run.
type seenSet struct {
	w     *warehouse.Writer
	dates map[int64]*seenDate // by warehouse.Day
	adds  int
}

type seenDate struct {
	committed []xxh3.Uint128 // sorted
	added     map[xxh3.Uint128]struct{}
	lastAdd   int
}

// seenKeep is how many partitions' ids stay in memory across a commit: delivery-date order means
// a trail file holds events of its day and the one before.
const seenKeep = 3

func newSeenSet(w *warehouse.Writer) *seenSet {
	return &seenSet{w: w, dates: map[int64]*seenDate{}}
}

func compareHash(a, b xxh3.Uint128) int {
	if c := cmp.Compare(a.Hi, b.Hi); c != 0 {
		return c
	}
	return cmp.Compare(a.Lo, b.Lo)
}

// add records id in the partition of t and reports whether it was already there.
func (s *seenSet) add(ctx context.Context, id string, t time.Time) (bool, error) {
	day := warehouse.Day(t)
	d, ok := s.dates[day]
	if !ok {
		stored, err := s.w.EventIDs(ctx, t.UTC().Format(time.DateOnly))
		if err != nil {
			return false, err
		}
		d = &seenDate{committed: make([]xxh3.Uint128, len(stored)), added: map[xxh3.Uint128]struct{}{}}
		for i, x := range stored {
			d.committed[i] = xxh3.HashString128(x)
		}
		slices.SortFunc(d.committed, compareHash)
		s.dates[day] = d
	}
	s.adds++
	d.lastAdd = s.adds
	h := xxh3.HashString128(id)
	if _, dup := d.added[h]; dup {
		return true, nil
	}
	if _, dup := slices.BinarySearchFunc(d.committed, h, compareHash); dup {
		return true, nil
	}
	d.added[h] = struct{}{}
	return false, nil
}

// committed is called when every id added up to the upTo'th add is committed: it forgets all but
// the seenKeep most recently used partitions among those not added to since (a forgotten one is
// loaded again from the lake, so it must not hold ids of a batch still open or committing) and
// moves the added ids of the others into their sorted slices.
func (s *seenSet) committed(upTo int) {
	recent := make([]int, 0, len(s.dates))
	for _, d := range s.dates {
		recent = append(recent, d.lastAdd)
	}
	slices.Sort(recent)
	oldest := 0
	if len(recent) > seenKeep {
		oldest = recent[len(recent)-seenKeep]
	}
	for day, d := range s.dates {
		if d.lastAdd < oldest && d.lastAdd <= upTo {
			delete(s.dates, day)
			continue
		}
		if len(d.added) == 0 {
			continue
		}
		merged := slices.Grow(d.committed, len(d.added))
		for h := range d.added {
			merged = append(merged, h)
		}
		slices.SortFunc(merged, compareHash)
		d.committed, d.added = merged, map[xxh3.Uint128]struct{}{}
	}
}

// snapshotID names the snapshot made from one version of a source object.
func snapshotID(o object) string {
	h := xxh3.HashString128(fmt.Sprintf("%s|%d|%d", o.source, o.size, o.mtime.UnixNano()))
	return fmt.Sprintf("%016x%016x", h.Hi, h.Lo)[:20]
}
