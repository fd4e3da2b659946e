package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/zeebo/xxh3"
)

// seenSet knows which event ids the warehouse already holds, per event-date partition. A
// partition's stored ids are loaded the first time a row falls into it; ids are kept as 128-bit
// hashes, so a collision would need about 2^64 events.
type seenSet struct {
	w     *warehouse.Writer
	dates map[string]map[xxh3.Uint128]struct{}
}

func newSeenSet(w *warehouse.Writer) *seenSet {
	return &seenSet{w: w, dates: map[string]map[xxh3.Uint128]struct{}{}}
}

// add records id in the partition of t and reports whether it was already there.
func (s *seenSet) add(ctx context.Context, id string, t time.Time) (bool, error) {
	date := t.UTC().Format(time.DateOnly)
	ids, ok := s.dates[date]
	if !ok {
		stored, err := s.w.EventIDs(ctx, date)
		if err != nil {
			return false, err
		}
		ids = make(map[xxh3.Uint128]struct{}, len(stored))
		for _, x := range stored {
			ids[xxh3.HashString128(x)] = struct{}{}
		}
		s.dates[date] = ids
	}
	h := xxh3.HashString128(id)
	if _, dup := ids[h]; dup {
		return true, nil
	}
	ids[h] = struct{}{}
	return false, nil
}

// snapshotID names the snapshot made from one version of a source object.
func snapshotID(o object) string {
	h := xxh3.HashString128(fmt.Sprintf("%s|%d|%d", o.source, o.size, o.mtime.UnixNano()))
	return fmt.Sprintf("%016x%016x", h.Hi, h.Lo)[:20]
}
