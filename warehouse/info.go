package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Info describes a warehouse: what its lake holds, where it came from and how it got
// there. Its JSON form is part of the CLI contract.
type Info struct {
	Warehouse  string            `json:"warehouse"`
	Datasets   []LakeDataset     `json:"datasets"`
	Sources    []LedgerSource    `json:"sources"`
	Runs       int64             `json:"runs"`
	LastRun    *IngestRun        `json:"last_run"`
	Sessions   SessionHistory    `json:"sessions"`
	Watermarks []IngestWatermark `json:"watermarks"`
}

// LakeDataset is one dataset of the lake. Rows count every stored record, duplicates written by
// older versions or concurrent tools included; the views deduplicate.
type LakeDataset struct {
	Dataset    string `json:"dataset"` // events, session_snapshots or issuances
	Files      int64  `json:"files"`
	Rows       int64  `json:"rows"`
	Bytes      int64  `json:"bytes"`
	Partitions int64  `json:"partitions"`
	// FirstDate and LastDate are the oldest and newest partition (YYYY-MM-DD, UTC).
	FirstDate *string `json:"first_date"`
	LastDate  *string `json:"last_date"`
	// TimeColumn is event_time (events) or taken_at (session_snapshots); FirstTime and LastTime
	// are its minimum and maximum.
	TimeColumn string     `json:"time_column"`
	FirstTime  *time.Time `json:"first_time"`
	LastTime   *time.Time `json:"last_time"`
}

// LedgerSource sums the ingest ledger for one kind of source object read through one scheme
// (file, s3, cloudtrail-api, dynamodb).
type LedgerSource struct {
	Kind   string `json:"kind"` // trail, snapshot, digest, insight, api
	Scheme string `json:"scheme"`
	// Prefix is the longest folder (or key prefix) every one of these objects lies under, as a
	// URI: file:///data/trail/AWSLogs/, s3://bucket/AWSLogs/o-1/ (the scheme alone when they share
	// no more).
	Prefix      string `json:"prefix"`
	Files       int64  `json:"files"` // source objects: files, S3 objects, account/region API streams, table scans
	OK          int64  `json:"ok"`
	Failed      int64  `json:"failed"`
	Skipped     int64  `json:"skipped"`
	RecordsRead int64  `json:"records_read"` // in each object's last read (items, for snapshots)
	Stored      int64  `json:"stored"`
	Duplicates  int64  `json:"duplicates"`
}

// IngestRun is one run of `sentinel ingest` (or of an audit's sync, or of compaction).
type IngestRun struct {
	Run        int64      `json:"run"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Status     string     `json:"status"` // running, ok, partial, failed, interrupted
	Command    string     `json:"command"`
	// Sources are what the run set out to read, as ingest's flags (--source PATH --sessions-file
	// PATH ...; "" for a run that reads nothing, as compaction), and WindowStart and WindowEnd its
	// event-time window (nil: open).
	Sources      string     `json:"sources"`
	WindowStart  *time.Time `json:"window_start"`
	WindowEnd    *time.Time `json:"window_end"`
	FilesRead    int64      `json:"files_read"`
	FilesSkipped int64      `json:"files_skipped"`
	FilesFailed  int64      `json:"files_failed"`
	EventsStored int64      `json:"events_stored"`
	Duplicates   int64      `json:"events_duplicate"`
	SnapshotRows int64      `json:"snapshot_items"`
}

// AsCommand is the command the run amounts to, to run it again: `sentinel ingest` with its sources
// and window (an audit's sync is one), `sentinel warehouse compact`, or the command as recorded
// for a run that read nothing else.
func (r IngestRun) AsCommand() string {
	switch {
	case r.Command == "compact":
		return "sentinel warehouse compact"
	case r.Sources == "":
		return r.Command
	}
	c := "sentinel ingest " + r.Sources
	if r.WindowStart != nil {
		c += " --since " + r.WindowStart.UTC().Format(time.RFC3339)
	}
	if r.WindowEnd != nil {
		c += " --until " + r.WindowEnd.UTC().Format(time.RFC3339)
	}
	return c
}

// SessionHistory is what the snapshots of the session table hold.
type SessionHistory struct {
	Snapshots    int64      `json:"snapshots"`
	Items        int64      `json:"items"`
	SessionIDs   int64      `json:"session_ids"` // distinct session ids ever seen
	FirstTakenAt *time.Time `json:"first_taken_at"`
	LastTakenAt  *time.Time `json:"last_taken_at"`
}

// IngestWatermark is how far an API sync got for one account and region.
type IngestWatermark struct {
	Source      string     `json:"source"`
	Account     string     `json:"account"`
	Region      string     `json:"region"`
	Watermark   time.Time  `json:"watermark"`
	CoveredFrom *time.Time `json:"covered_from"`
	UpdatedRun  int64      `json:"updated_run"`
}

// Info reads what the warehouse holds from the catalog and the lake views.
func (r *Reader) Info(ctx context.Context) (*Info, error) {
	db := r.db
	info := &Info{Datasets: []LakeDataset{}, Sources: []LedgerSource{}, Watermarks: []IngestWatermark{}}
	for _, ds := range []struct{ name, view, column string }{
		{DatasetEvents, "events_all", "event_time"},
		{DatasetSnapshots, "session_snapshots", "taken_at"},
		{DatasetIssuances, "issuance_events", "event_time"},
	} {
		d := LakeDataset{Dataset: ds.name, TimeColumn: ds.column}
		var first, last, firstTime, lastTime sql.NullTime
		err := db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum("rows"), 0)::BIGINT, coalesce(sum(bytes), 0)::BIGINT,
			count(DISTINCT partition_date), min(partition_date), max(partition_date)
			FROM lake_files WHERE dataset = ?`, ds.name).Scan(&d.Files, &d.Rows, &d.Bytes, &d.Partitions, &first, &last)
		if err != nil {
			return nil, fmt.Errorf("lake files: %w", err)
		}
		d.FirstDate, d.LastDate = nullableDate(first), nullableDate(last)
		err = db.QueryRowContext(ctx, `SELECT min(`+ds.column+`), max(`+ds.column+`) FROM `+ds.view).Scan(&firstTime, &lastTime)
		if err != nil {
			return nil, fmt.Errorf("%s time range: %w", ds.name, err)
		}
		d.FirstTime, d.LastTime = nullableTime(firstTime), nullableTime(lastTime)
		info.Datasets = append(info.Datasets, d)
	}

	rows, err := db.QueryContext(ctx, `SELECT kind, split_part(source, '://', 1) AS scheme, min(source), max(source), count(*),
			count(*) FILTER (WHERE status = 'ok'), count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE status = 'skipped'),
			coalesce(sum(events), 0)::BIGINT, coalesce(sum(stored), 0)::BIGINT, coalesce(sum(duplicates), 0)::BIGINT
		FROM ingest_files
		GROUP BY kind, scheme
		ORDER BY CASE kind WHEN 'trail' THEN 0 WHEN 'api' THEN 1 WHEN 'snapshot' THEN 2 WHEN 'digest' THEN 3 WHEN 'insight' THEN 4 ELSE 5 END,
			kind, scheme`)
	if err != nil {
		return nil, fmt.Errorf("ingest ledger: %w", err)
	}
	for rows.Next() {
		var s LedgerSource
		var first, last string
		if err := rows.Scan(&s.Kind, &s.Scheme, &first, &last, &s.Files, &s.OK, &s.Failed, &s.Skipped, &s.RecordsRead, &s.Stored, &s.Duplicates); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ingest ledger: %w", err)
		}
		s.Prefix = folderPrefix(s.Scheme, first, last)
		info.Sources = append(info.Sources, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ingest ledger: %w", err)
	}

	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM ingest_runs`).Scan(&info.Runs); err != nil {
		return nil, fmt.Errorf("ingest runs: %w", err)
	}
	if info.Runs > 0 {
		last, err := r.IngestRuns(ctx, 1)
		if err != nil {
			return nil, err
		}
		info.LastRun = &last[0]
	}

	var firstTaken, lastTaken sql.NullTime
	err = db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(items), 0)::BIGINT, min(taken_at), max(taken_at) FROM snapshots`).Scan(
		&info.Sessions.Snapshots, &info.Sessions.Items, &firstTaken, &lastTaken)
	if err != nil {
		return nil, fmt.Errorf("snapshots: %w", err)
	}
	info.Sessions.FirstTakenAt, info.Sessions.LastTakenAt = nullableTime(firstTaken), nullableTime(lastTaken)
	if err := db.QueryRowContext(ctx, `SELECT count(DISTINCT id) FROM session_snapshots`).Scan(&info.Sessions.SessionIDs); err != nil {
		return nil, fmt.Errorf("session ids: %w", err)
	}

	rows, err = db.QueryContext(ctx, `SELECT source, account, region, watermark, covered_from, updated_run
		FROM watermarks ORDER BY source, account, region`)
	if err != nil {
		return nil, fmt.Errorf("watermarks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var w IngestWatermark
		var covered sql.NullTime
		if err := rows.Scan(&w.Source, &w.Account, &w.Region, &w.Watermark, &covered, &w.UpdatedRun); err != nil {
			return nil, fmt.Errorf("watermarks: %w", err)
		}
		w.Watermark = w.Watermark.UTC()
		w.CoveredFrom = nullableTime(covered)
		info.Watermarks = append(info.Watermarks, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("watermarks: %w", err)
	}
	return info, nil
}

// IngestRuns reads the newest limit ingest runs, newest first.
func (r *Reader) IngestRuns(ctx context.Context, limit int) ([]IngestRun, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT run, started_at, finished_at, status, command, files_read, files_skipped, files_failed,
			events_stored, events_duplicate, snapshot_items, coalesce(sources, ''), window_start, window_end
		FROM ingest_runs ORDER BY run DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("ingest runs: %w", err)
	}
	defer rows.Close()
	var out []IngestRun
	for rows.Next() {
		var run IngestRun
		var finished, start, end sql.NullTime
		if err := rows.Scan(&run.Run, &run.StartedAt, &finished, &run.Status, &run.Command, &run.FilesRead, &run.FilesSkipped, &run.FilesFailed,
			&run.EventsStored, &run.Duplicates, &run.SnapshotRows, &run.Sources, &start, &end); err != nil {
			return nil, fmt.Errorf("ingest runs: %w", err)
		}
		run.StartedAt = run.StartedAt.UTC()
		run.FinishedAt, run.WindowStart, run.WindowEnd = nullableTime(finished), nullableTime(start), nullableTime(end)
		out = append(out, run)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ingest runs: %w", err)
	}
	return out, nil
}

// folderPrefix is the longest folder both first and last lie under (the first and last of the
// sorted sources: every source between them shares it), as a URI of scheme; first itself when
// they are one.
func folderPrefix(scheme, first, last string) string {
	if first == last {
		return first
	}
	n := 0
	for n < min(len(first), len(last)) && first[n] == last[n] {
		n++
	}
	root := scheme + "://"
	if i := strings.LastIndexByte(first[:n], '/'); i >= len(root) {
		return first[:i+1]
	}
	return root
}

func nullableTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

func nullableDate(t sql.NullTime) *string {
	if !t.Valid {
		return nil
	}
	s := t.Time.UTC().Format(time.DateOnly)
	return &s
}
