package ingest

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/zeebo/xxh3"
)

// seenSet knows which event ids the warehouse already holds, per event-date partition. A
// partition's stored ids are loaded the first time a row falls into it; ids are kept as 128-bit
// hashes, so a collision would need about 2^64 events. After each commit, partitions not among the
// most recently used are forgotten (and loaded again from the lake if a row falls into them), so
// memory follows the days being read, not the length of the run.
type seenSet struct {
	w     *warehouse.Writer
	dates map[int64]*seenDate // by warehouse.Day
	adds  int
}

type seenDate struct {
	ids     idSet
	lastAdd int
}

// seenKeep is how many partitions' ids stay in memory across a commit: delivery-date order means
// a trail file holds events of its day and the one before.
const seenKeep = 3

func newSeenSet(w *warehouse.Writer) *seenSet {
	return &seenSet{w: w, dates: map[int64]*seenDate{}}
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
		d = &seenDate{ids: newIDSet(len(stored))}
		for _, x := range stored {
			d.ids.add(xxh3.HashString128(x))
		}
		s.dates[day] = d
	}
	s.adds++
	d.lastAdd = s.adds
	return d.ids.add(xxh3.HashString128(id)), nil
}

// committed is called when every id added up to the upTo'th add is committed: it forgets all but
// the seenKeep most recently used partitions among those not added to since (a forgotten one is
// loaded again from the lake, so it must not hold ids of a batch still open or committing).
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
		}
	}
}

// idSet is a set of 128-bit id hashes: open addressing with linear probing, a hash's low bits its
// first slot (they are uniform already). It replaced a sorted slice searched by halves plus a map
// of the ids added since the last commit, which the committer spent ~6 % of ingest CPU on, in
// turn with everything else it does (docs/performance-log.md, seventh round). The zero hash marks an
// empty slot; an id that hashes to it is held apart.
type idSet struct {
	slots []xxh3.Uint128 // a power of two of them, at most idSetLoad full
	n     int
	zero  bool
}

// idSetLoad is the most an idSet fills its slots before it doubles them: a new id (most are)
// probes ~8 slots at three quarters full, in one or two cache lines.
const idSetLoad = 0.75

func newIDSet(n int) idSet {
	size := 16
	for float64(n) > idSetLoad*float64(size) {
		size *= 2
	}
	return idSet{slots: make([]xxh3.Uint128, size)}
}

// add adds h and reports whether the set held it already.
func (s *idSet) add(h xxh3.Uint128) bool {
	if h == (xxh3.Uint128{}) {
		had := s.zero
		s.zero = true
		return had
	}
	if float64(s.n+1) > idSetLoad*float64(len(s.slots)) {
		s.grow()
	}
	if s.insert(h) {
		s.n++
		return false
	}
	return true
}

// insert puts h in its slot, unless it is there: it reports whether it put it.
func (s *idSet) insert(h xxh3.Uint128) bool {
	mask := uint64(len(s.slots) - 1)
	for i := h.Lo & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return false
		case xxh3.Uint128{}:
			s.slots[i] = h
			return true
		}
	}
}

func (s *idSet) grow() {
	old := s.slots
	s.slots = make([]xxh3.Uint128, max(2*len(old), 16))
	for _, h := range old {
		if h != (xxh3.Uint128{}) {
			s.insert(h)
		}
	}
}

// snapshotID names the snapshot made from one version of a source object.
func snapshotID(o object) string {
	h := xxh3.HashString128(fmt.Sprintf("%s|%d|%d", o.source, o.size, o.mtime.UnixNano()))
	return fmt.Sprintf("%016x%016x", h.Hi, h.Lo)[:20]
}
