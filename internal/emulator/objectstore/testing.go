package objectstore

import "testing"

// StartWith starts a stand-in holding the empty buckets for a test or benchmark, stopped when
// it ends, and returns it with its endpoint; it fails tb if the stand-in cannot start.
func StartWith(tb testing.TB, buckets ...string) (*Server, string) {
	tb.Helper()
	s := New()
	endpoint, stop, err := s.Start()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(stop)
	for _, b := range buckets {
		if err := s.CreateBucket(b); err != nil {
			tb.Fatal(err)
		}
	}
	return s, endpoint
}
