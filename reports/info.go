package reports

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/warehouse"
)

// WarehouseInfoInput is the input of `sentinel warehouse info`.
type WarehouseInfoInput struct {
	Warehouse string
	Format    string // table or json
	Width     int    // the terminal width the tables fit (0: no limit)
}

// WarehouseInfo reads the warehouse (never writing to it) and writes what it holds.
func WarehouseInfo(ctx context.Context, in WarehouseInfoInput, out io.Writer) (*warehouse.Info, error) {
	format, err := ParseFormat(in.Format)
	if err != nil {
		return nil, err
	}
	if format == FormatCSV {
		return nil, fmt.Errorf("--format csv: want table or json")
	}
	r, err := warehouse.OpenReader(ctx, in.Warehouse)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	info, err := r.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("warehouse info %s: %w", in.Warehouse, err)
	}
	info.Warehouse = in.Warehouse
	if format == FormatJSON {
		return info, writeJSON(out, info)
	}
	writeWarehouseInfoTable(fitTo(out, in.Width), info)
	return info, nil
}

func writeWarehouseInfoTable(out io.Writer, info *warehouse.Info) {
	fmt.Fprintf(out, "Warehouse %s\n\n", info.Warehouse)

	fmt.Fprintln(out, "Lake")
	t := newTable("Dataset", "Files", "Rows", "Size", "Partitions", "Dates", "Times (UTC)")
	rightAligned(t, 2, 3, 4, 5)
	for _, d := range info.Datasets {
		t.AppendRow([]any{d.Dataset, d.Files, d.Rows, infoBytes(d.Bytes), d.Partitions,
			infoRange(d.FirstDate, d.LastDate), infoRange(infoRFC3339(d.FirstTime), infoRFC3339(d.LastTime))})
	}
	render(out, t)

	fmt.Fprintln(out, "\nIngest ledger")
	if len(info.Sources) == 0 {
		fmt.Fprintln(out, "  empty: nothing was ingested")
	} else {
		t = newTable("Kind", "Source", "Files", "OK", "Failed", "Skipped", "Records Read", "Stored", "Duplicates")
		rightAligned(t, 3, 4, 5, 6, 7, 8, 9)
		for _, s := range info.Sources {
			t.AppendRow([]any{s.Kind, s.Scheme + "://", s.Files, s.OK, s.Failed, s.Skipped, s.RecordsRead, s.Stored, s.Duplicates})
		}
		render(out, t)
	}

	fmt.Fprintf(out, "\nIngest runs: %d\n", info.Runs)
	if r := info.LastRun; r != nil {
		finished := "not finished"
		if r.FinishedAt != nil {
			finished = fmt.Sprintf("finished %s (%s)", r.FinishedAt.Format(time.RFC3339), r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond))
		}
		fmt.Fprintf(out, "Last run: %d, %s, started %s, %s\n", r.Run, r.Status, r.StartedAt.Format(time.RFC3339), finished)
		fmt.Fprintf(out, "  %s read, %d skipped, %d failed; %s stored, %d duplicate; %s\n", plural64(r.FilesRead, "file"),
			r.FilesSkipped, r.FilesFailed, plural64(r.EventsStored, "event"), r.Duplicates, plural64(r.SnapshotRows, "snapshot item"))
		fmt.Fprintf(out, "  command: %s\n", r.Command)
	}

	s := info.Sessions
	fmt.Fprintf(out, "\nSession history: %s (%s), %s", plural64(s.Snapshots, "snapshot"), plural64(s.Items, "item"),
		plural64(s.SessionIDs, "distinct session id"))
	if s.FirstTakenAt != nil {
		fmt.Fprintf(out, ", taken %s", infoRange(infoRFC3339(s.FirstTakenAt), infoRFC3339(s.LastTakenAt)))
	}
	fmt.Fprintln(out)

	fmt.Fprint(out, "\nAPI watermarks:")
	if len(info.Watermarks) == 0 {
		fmt.Fprintln(out, " none (no LookupEvents sync yet)")
		return
	}
	fmt.Fprintln(out)
	t = newTable("Source", "Account", "Region", "Watermark", "Covered From", "Run")
	rightAligned(t, 6)
	for _, w := range info.Watermarks {
		t.AppendRow([]any{w.Source, w.Account, w.Region, w.Watermark.Format(time.RFC3339), dash(infoRFC3339Value(w.CoveredFrom)), w.UpdatedRun})
	}
	render(out, t)
}

func infoRFC3339(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.Format(time.RFC3339)
	return &s
}

func infoRFC3339Value(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.RFC3339)
}

// infoRange is "first .. last", or "-" when there is nothing.
func infoRange(first, last *string) string {
	switch {
	case first == nil:
		return "-"
	case last == nil || *first == *last:
		return *first
	}
	return *first + " .. " + *last
}

// infoBytes is a byte count for people: 812 B, 190.5 kB, 3.2 GB.
func infoBytes(n int64) string {
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	for _, unit := range strings.Fields("kB MB GB TB PB") {
		v /= 1000
		if v < 1000 || unit == "PB" {
			return fmt.Sprintf("%.1f %s", v, unit)
		}
	}
	return ""
}
