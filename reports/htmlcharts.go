package reports

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/sentinel-audit/sentinel/queries"
	"github.com/sentinel-audit/sentinel/window"
)

// bucketing cuts a window into the time buckets of the charts and the coverage map: hours for a
// window of up to three days, days up to 400 days, weeks beyond; bucket i starts at
// Since + i*Width (the last may end after the window).
type bucketing struct {
	Since time.Time
	Width time.Duration
	N     int
	Unit  string // hour, day or week
}

func bucketFor(w window.Window) bucketing {
	b := bucketing{Since: w.Since.UTC(), Width: 24 * time.Hour, Unit: "day"}
	switch span := w.Until.Sub(w.Since); {
	case span <= 72*time.Hour:
		b.Width, b.Unit = time.Hour, "hour"
	case span > 400*24*time.Hour:
		b.Width, b.Unit = 7*24*time.Hour, "week"
	}
	b.N = max(1, int((w.Until.Sub(w.Since)+b.Width-1)/b.Width))
	return b
}

func (b bucketing) start(i int) time.Time { return b.Since.Add(time.Duration(i) * b.Width) }

// label names bucket i by its start: 2026-11-02, 2026-11-02 14:00, or week of 2026-11-02.
func (b bucketing) label(i int) string {
	t := b.start(i)
	switch b.Unit {
	case "hour":
		return t.Format("2006-01-02 15:04")
	case "week":
		return "week of " + t.Format("2006-01-02")
	}
	if t.Hour() != 0 || t.Minute() != 0 {
		return t.Format("2006-01-02 15:04")
	}
	return t.Format("2006-01-02")
}

// tickLabel is label, shorter: 11-02, 14:00 (with the date at midnight and at the first tick).
func (b bucketing) tickLabel(i int) string {
	t := b.start(i)
	if b.Unit == "hour" && i > 0 && t.Hour() != 0 {
		return t.Format("15:04")
	}
	if b.Unit == "hour" {
		return t.Format("01-02 15:04")
	}
	return t.Format("01-02")
}

// The charts' geometry, in SVG user units.
const (
	chartWidth   = 720
	chartHeight  = 220
	chartLeft    = 48
	chartRight   = 52
	chartTop     = 14
	chartBottom  = 34
	maxXTicks    = 8
	minTickGap   = 64  // between two time axis labels
	barFill      = 0.7 // of a bucket's band
	coverageRowH = 18
	coverageLeft = 220
)

// profileChart is one profile's chart: issuances per bucket stacked by class, the compliance
// rate per bucket as a line, and the same numbers as a table.
type profileChart struct {
	Profile   string
	ID        string
	Summary   string
	Bars      []chartBar
	Lines     []string // polyline points, one per run of buckets with issuances
	Dots      []chartDot
	YTicks    []chartTick
	RateTicks []chartTick
	XTicks    []chartTick
	Rows      []bucketLine
}

type chartBar struct {
	Title    string
	Hit      chartRect
	Segments []chartRect
}

type chartRect struct {
	X, Y, W, H string
	Class      string
}

type chartDot struct {
	X, Y, Title string
}

// chartTick is an axis label at Pos (x for the time axis, y for the others).
type chartTick struct {
	Pos, Label string
}

// bucketLine is a bucket's numbers, for the table under a chart.
type bucketLine struct {
	Label string
	queries.BucketRow
	Rate string
}

// profileCharts draws a chart for each profile of the report from its issuances per bucket.
func profileCharts(profiles []ProfileCompliance, rows []queries.BucketRow, b bucketing) []profileChart {
	byProfile := map[string][]queries.BucketRow{}
	for _, r := range rows {
		if r.Bucket >= 0 && r.Bucket < int64(b.N) {
			byProfile[r.Profile] = append(byProfile[r.Profile], r)
		}
	}
	charts := make([]profileChart, 0, len(profiles))
	for i, p := range profiles {
		charts = append(charts, drawChart(fmt.Sprintf("profile-%d", i+1), p, byProfile[p.Profile], b))
	}
	return charts
}

func drawChart(id string, p ProfileCompliance, rows []queries.BucketRow, b bucketing) profileChart {
	c := profileChart{Profile: p.Profile, ID: id}
	plotW := float64(chartWidth - chartLeft - chartRight)
	plotH := float64(chartHeight - chartTop - chartBottom)
	band := plotW / float64(b.N)
	barW := max(band*barFill, 0.5)
	var most int64
	for _, r := range rows {
		most = max(most, r.Total)
	}
	top := niceCeil(most)
	y := func(v float64) float64 { return chartTop + plotH*(1-v) }
	for _, v := range []int64{0, top / 2, top} {
		if v == top/2 && (top%2 != 0 || top < 2) {
			continue
		}
		c.YTicks = append(c.YTicks, chartTick{Pos: num(y(float64(v) / float64(top))), Label: strconv.FormatInt(v, 10)})
	}
	for _, pct := range []int{0, 50, 100} {
		c.RateTicks = append(c.RateTicks, chartTick{Pos: num(y(float64(pct) / 100)), Label: fmt.Sprintf("%d%%", pct)})
	}
	for i := 0; i < b.N; i += tickStep(b.N, band) {
		c.XTicks = append(c.XTicks, chartTick{Pos: num(chartLeft + band*(float64(i)+0.5)), Label: b.tickLabel(i)})
	}
	var line []byte
	prev := int64(-2)
	worst, worstAt := 2.0, ""
	for _, r := range rows {
		x := chartLeft + band*float64(r.Bucket) + (band-barW)/2
		rate := float64(r.Compliant) / float64(r.Total)
		label := b.label(int(r.Bucket))
		bar := chartBar{
			Title: fmt.Sprintf("%s: %s, %d tracked (%d flagged), %d untracked, %d orphaned, %d unverified; %s compliant",
				label, plural64(r.Total, "issuance"), r.Tracked, r.Tracked-r.Compliant, r.Untracked, r.Orphaned, r.Unverified, percent(rate)),
			Hit: chartRect{X: num(chartLeft + band*float64(r.Bucket)), Y: num(chartTop), W: num(band), H: num(plotH), Class: "hit"},
		}
		base := 0.0
		for _, seg := range []struct {
			n     int64
			class string
		}{{r.Tracked, "tracked"}, {r.Unverified, "unverified"}, {r.Orphaned, "orphaned"}, {r.Untracked, "untracked"}} {
			if seg.n == 0 {
				continue
			}
			h := plotH * float64(seg.n) / float64(top)
			base += h
			bar.Segments = append(bar.Segments, chartRect{X: num(x), Y: num(chartTop + plotH - base), W: num(barW), H: num(h), Class: seg.class})
		}
		c.Bars = append(c.Bars, bar)
		cx, cy := num(x+barW/2), num(y(rate))
		c.Dots = append(c.Dots, chartDot{X: cx, Y: cy, Title: fmt.Sprintf("%s: %s compliant (%d of %d)", label, percent(rate), r.Compliant, r.Total)})
		if r.Bucket != prev+1 && len(line) > 0 {
			c.Lines = append(c.Lines, string(line))
			line = line[:0]
		}
		if len(line) > 0 {
			line = append(line, ' ')
		}
		line = append(line, cx+","+cy...)
		prev = r.Bucket
		if rate < worst {
			worst, worstAt = rate, label
		}
		c.Rows = append(c.Rows, bucketLine{Label: label, BucketRow: r, Rate: percent(rate)})
	}
	if len(line) > 0 {
		c.Lines = append(c.Lines, string(line))
	}
	c.Summary = fmt.Sprintf("%s: %s in %d of %d %ss, %.1f%% tracked", p.Profile, plural64(p.IssuanceCount, "issuance"), len(rows), b.N, b.Unit, p.ComplianceRate)
	if worstAt != "" {
		c.Summary += fmt.Sprintf("; lowest %s %s (%s)", b.Unit, worstAt, percent(worst))
	}
	return c
}

// tickStep is how many buckets of width apart the time axis' labels are: at most maxXTicks, and
// far enough apart not to overlap.
func tickStep(n int, width float64) int {
	return max((n+maxXTicks-1)/maxXTicks, int(math.Ceil(minTickGap/width)))
}

// niceCeil is the smallest of 1, 2, 5, 10, 20, 50, ... not below n.
func niceCeil(n int64) int64 {
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}

func percent(f float64) string { return fmt.Sprintf("%.1f%%", math.Round(f*1000)/10) }

// num is a coordinate with at most two decimals.
func num(f float64) string { return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64) }
