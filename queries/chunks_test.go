package queries

import "testing"

func TestChunksKeepEveryRowInOrder(t *testing.T) {
	var empty chunks[int]
	if got := empty.all(); got != nil {
		t.Fatalf("no rows: %v, want nil", got)
	}
	for _, n := range []int{1, chunkRows, chunkRows + 1, 3*chunkRows + 17} {
		var c chunks[int]
		for i := range n {
			c.add(i)
		}
		got := c.all()
		if len(got) != n || cap(got) != n {
			t.Fatalf("%d rows: len %d cap %d", n, len(got), cap(got))
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("%d rows: row %d is %d", n, i, v)
			}
		}
	}
}
