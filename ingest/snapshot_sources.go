package ingest

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/sentinel-audit/sentinel/awsclient"
	"github.com/valyala/fastjson"
	"github.com/zeebo/xxh3"
	"golang.org/x/sync/errgroup"
)

// exportPart matches the files of a DynamoDB export to S3:
// PREFIX/AWSDynamoDB/<export id>/{manifest-summary.json, manifest-files.json, data/*.json.gz}.
var exportPart = regexp.MustCompile(`^(.*/AWSDynamoDB/[^/]+/)(data/.+|manifest-summary\.json|manifest-files\.json)$`)

// snapshotJobs turns the objects of a --sessions-file into snapshot jobs: each plain file is one
// snapshot; all data files of one DynamoDB export are one snapshot, taken at the export's time.
func snapshotJobs(objects []object) []job {
	var jobs []job
	exports := map[string]*job{}
	var order []string
	for _, o := range objects {
		o.kind, o.date = kindSnapshot, time.Time{}
		m := exportPart.FindStringSubmatch(o.source)
		if m == nil {
			jobs = append(jobs, job{obj: o})
			continue
		}
		j := exports[m[1]]
		if j == nil {
			j = &job{obj: object{source: m[1], display: displayDir(o.display, m[2]), kind: kindSnapshot}}
			exports[m[1]] = j
			order = append(order, m[1])
		}
		switch {
		case strings.HasPrefix(m[2], "data/"):
			j.parts = append(j.parts, o)
		case m[2] == "manifest-summary.json":
			manifest := o
			j.manifest = &manifest
		}
	}
	for _, key := range order {
		j := exports[key]
		if len(j.parts) == 0 {
			continue
		}
		sort.Slice(j.parts, func(a, b int) bool { return j.parts[a].source < j.parts[b].source })
		var version strings.Builder
		for _, p := range j.parts {
			j.obj.size += p.size
			if p.mtime.After(j.obj.mtime) {
				j.obj.mtime = p.mtime
			}
			fmt.Fprintf(&version, "%s|%s|%d|%d;", p.source, p.etag, p.size, p.mtime.UnixMicro())
		}
		h := xxh3.HashString128(version.String())
		j.obj.etag = fmt.Sprintf("export-%016x%016x", h.Hi, h.Lo)
		jobs = append(jobs, *j)
	}
	return jobs
}

func displayDir(display, part string) string { return strings.TrimSuffix(display, part) }

// exportTime reads exportTime from a DynamoDB export's manifest-summary.json.
func (r *reader) exportTime(ctx context.Context, manifest object) (time.Time, error) {
	data, err := r.load(ctx, manifest)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", manifest.display, err)
	}
	v, err := fastjson.ParseBytes(data)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", manifest.display, err)
	}
	t, err := time.Parse(time.RFC3339Nano, string(v.GetStringBytes("exportTime")))
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: no valid exportTime: %w", manifest.display, err)
	}
	return t.UTC(), nil
}

// TableScan says how to snapshot the live session table.
type TableScan struct {
	Table          string
	Segments       int  // parallel Scan segments (TotalSegments); 0 = 4
	ConsistentRead bool // strongly consistent reads (twice the read capacity)
}

// scanTable reads every item of the session table with a parallel Scan, as one snapshot taken
// at the scan's start. Items are handed over in chunks of snapshotChunk as partial outcomes while
// the scan goes on, the last ones in the outcome it returns (a scan that fails stores none: see
// committer.store), so a large table is not held whole.
func scanTable(ctx context.Context, client tableScanner, s TableScan, now time.Time, emit func(outcome) bool) outcome {
	segments := s.Segments
	if segments <= 0 {
		segments = 4
	}
	obj := object{source: "dynamodb://" + s.Table, display: "dynamodb://" + s.Table, kind: kindSnapshot, mtime: now.UTC()}
	oc := outcome{job: job{obj: obj}, takenAt: now.UTC(), snapshotID: fmt.Sprintf("scan-%s-%d", s.Table, now.UnixMicro())}
	var mu sync.Mutex // guards oc's items while the segments add to it
	add := func(items []map[string]types.AttributeValue) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, item := range items {
			oc.found++
			var plain map[string]any
			if err := attributevalue.UnmarshalMap(item, &plain); err != nil {
				oc.reject(fmt.Sprintf("item %d: %v", oc.found, err))
				continue
			}
			row, err := snapshotRow(plain)
			if err != nil {
				oc.reject(fmt.Sprintf("item %d: %v", oc.found, err))
				continue
			}
			oc.snapRows = append(oc.snapRows, row)
		}
		if len(oc.snapRows) < snapshotChunk {
			return true
		}
		chunk := outcome{job: oc.job, snapRows: oc.snapRows, takenAt: oc.takenAt, snapshotID: oc.snapshotID, partial: true}
		oc.snapRows = nil
		return emit(chunk)
	}
	g, gctx := errgroup.WithContext(ctx)
	for seg := range segments {
		g.Go(func() error {
			in := &dynamodb.ScanInput{TableName: aws.String(s.Table), Segment: aws.Int32(int32(seg)),
				TotalSegments: aws.Int32(int32(segments)), ConsistentRead: aws.Bool(s.ConsistentRead)}
			p := dynamodb.NewScanPaginator(client, in)
			for p.HasMorePages() {
				page, err := p.NextPage(gctx)
				if err != nil {
					return awsclient.Describe(fmt.Sprintf("scan %s (segment %d of %d)", s.Table, seg, segments), err)
				}
				if !add(page.Items) {
					return gctx.Err()
				}
			}
			return nil
		})
	}
	oc.err = g.Wait()
	return oc
}
