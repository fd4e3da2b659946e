package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/sentinel-audit/sentinel/awsclient"
	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/sentinel-audit/sentinel/window"
	"github.com/valyala/fastjson"
	"golang.org/x/time/rate"
)

const (
	// APIHistory is how far back LookupEvents can see.
	APIHistory = 90 * 24 * time.Hour
	// APIRequestsPerSecond is LookupEvents' limit per account and region.
	APIRequestsPerSecond = 2
	// apiOverlap is how far before the last watermark a sync starts again: events can become
	// visible to the API some minutes after they happened. Duplicates are dropped by eventID.
	apiOverlap  = time.Hour
	apiPageSize = 50
	apiSource   = "lookup-events"
)

// apiSync reads one account and region of the LookupEvents API.
type apiSync struct {
	client    eventLooker
	account   string
	region    string
	window    window.Window // both ends set
	limiter   *rate.Limiter
	watermark warehouse.Watermark // to record when the sync completes
}

func (s *apiSync) object() object {
	src := fmt.Sprintf("cloudtrail-api://%s/%s", s.account, s.region)
	return object{source: src, display: fmt.Sprintf("LookupEvents %s %s", s.account, s.region), kind: kindAPI}
}

// planAPISync decides the window of a region's sync from the requested window and the last
// watermark: an incremental run starts an hour before the watermark; an earlier --since than the
// range already covered reads from there. It returns the sync and a warning ("" if none).
func planAPISync(w window.Window, old *warehouse.Watermark, now time.Time) (window.Window, warehouse.Watermark, string) {
	end := w.Until
	if end.IsZero() || end.After(now) {
		end = now
	}
	start := w.Since
	switch {
	case old != nil && (start.IsZero() || !start.Before(old.CoveredFrom)):
		if resume := old.Watermark.Add(-apiOverlap); start.IsZero() || resume.After(start) {
			start = resume
		}
	case start.IsZero():
		start = now.Add(-APIHistory)
	}
	warning := ""
	if limit := now.Add(-APIHistory); start.Before(limit) {
		warning = fmt.Sprintf("--since %s reaches past LookupEvents' 90-day history: events before %s are not available from the API (ingest the trail's S3 archives for them)",
			start.Format(time.RFC3339), limit.Format(time.RFC3339))
	}
	wm := warehouse.Watermark{Source: apiSource, Watermark: end, CoveredFrom: start}
	if old != nil {
		switch {
		case !start.After(old.Watermark) && !end.Before(old.CoveredFrom):
			wm.CoveredFrom = minTime(start, old.CoveredFrom)
			wm.Watermark = maxTime(end, old.Watermark)
		case !end.After(old.Watermark):
			wm = *old
		}
	}
	return window.Window{Since: start, Until: end}, wm, warning
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// run pages through the window at the API's rate, sending one outcome per page and a final one
// that carries the watermark (or the error that ended the sync).
func (s *apiSync) run(ctx context.Context, send func(outcome) bool) {
	obj := s.object()
	var parser fastjson.Parser
	var norm normalizer
	p := cloudtrail.NewLookupEventsPaginator(s.client, &cloudtrail.LookupEventsInput{
		StartTime:  aws.Time(s.window.Since),
		EndTime:    aws.Time(s.window.Until),
		MaxResults: aws.Int32(apiPageSize),
	})
	for p.HasMorePages() {
		if err := s.limiter.Wait(ctx); err != nil {
			send(outcome{job: job{obj: obj, window: s.window}, err: err})
			return
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			send(outcome{job: job{obj: obj, window: s.window}, err: awsclient.Describe(fmt.Sprintf("LookupEvents in %s", s.region), err)})
			return
		}
		oc := outcome{job: job{obj: obj, window: s.window}, partial: true}
		for i, ev := range page.Events {
			oc.found++
			if ev.CloudTrailEvent == nil {
				oc.reject(fmt.Sprintf("event %s: no CloudTrailEvent", aws.ToString(ev.EventId)))
				continue
			}
			rec, err := parser.Parse(*ev.CloudTrailEvent)
			if err != nil {
				oc.reject(fmt.Sprintf("event %d (%s): %v", i+1, aws.ToString(ev.EventId), err))
				continue
			}
			var row warehouse.EventRow
			if err := norm.normalize(rec, []byte(*ev.CloudTrailEvent), &row); err != nil {
				oc.reject(err.Error())
				continue
			}
			if !s.window.Contains(row.EventTime) && !row.EventTime.Equal(s.window.Until) {
				oc.outOfWindow++
				continue
			}
			row.SourceFile = obj.source
			oc.rows = append(oc.rows, row)
		}
		if !send(oc) {
			return
		}
	}
	wm := s.watermark
	wm.Account, wm.Region = s.account, s.region
	send(outcome{job: job{obj: obj, window: s.window}, watermark: &wm})
}
