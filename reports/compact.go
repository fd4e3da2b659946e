package reports

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/sentinel-audit/sentinel/warehouse"
)

// CompactInput is the input of `sentinel warehouse compact`.
type CompactInput struct {
	Warehouse string
	Wait      bool // wait for a running ingest instead of failing
	Now       time.Time
}

// Compact merges each partition's lake files into one and drops duplicate events, under the
// writer lock, and reports what changed.
func Compact(ctx context.Context, in CompactInput, out io.Writer) error {
	st, err := warehouse.Compact(ctx, in.Warehouse, in.Now, in.Wait)
	if err != nil {
		return err
	}
	if st.IndexError != nil {
		fmt.Fprintf(out, "compact: warning: the issuance index was not brought up to date (audits read the new files' issuances from the events, slower; the next ingest or compact retries): %v\n", st.IndexError)
	}
	if st.Partitions == 0 {
		fmt.Fprintln(out, "compact: nothing to do: every partition is one file without duplicates")
		return nil
	}
	fmt.Fprintf(out, "compact: %s, %s -> %d, %s dropped, %s -> %s\n", plural(st.Partitions, "partition"), plural(st.FilesBefore, "file"),
		st.FilesAfter, plural64(st.DuplicatesDropped, "duplicate row"), megabytes(st.BytesBefore), megabytes(st.BytesAfter))
	return nil
}
