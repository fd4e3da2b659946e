package reports

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/integrity"
	"github.com/sentinel-audit/sentinel/queries"
	"github.com/sentinel-audit/sentinel/verdict"
	"github.com/sentinel-audit/sentinel/window"
)

// The coverage map is drawn over a small typed input: per account, region and span of hours, one
// CoverageState. The Evidence's spans of events give delivered hours (every other hour has no
// data); CloudTrail log file validation (queries.CheckIntegrity) gives validated hours and, from
// its findings, missing and tampered ones (coverageFromIntegrity). Another source of evidence
// adds its CoverageSpans the same way.

// CoverageState is what the evidence says of one account, region and hour. For one hour, the
// strongest statement wins (the order of the constants): a digest that validates the hour
// outranks a log file's mere presence, and a missing or tampered file outranks both.
type CoverageState uint8

const (
	// CoverageNoData: no log file, digest or LookupEvents sync covers the hour.
	CoverageNoData CoverageState = iota
	// CoverageDelivered: events were delivered for the hour (trail log files, handed-over event
	// files, LookupEvents), but no digest vouched for them.
	CoverageDelivered
	// CoverageValidated: a digest covers the hour, its signature and chain check out, and every
	// log file it lists is present with the listed hash.
	CoverageValidated
	// CoverageMissing: a log file a digest lists is not there, or no digest covers an hour the
	// chain says was logged (a gap).
	CoverageMissing
	// CoverageTampered: a log file or digest was modified, a signature does not verify, or a log
	// file no digest lists was delivered while digests were on.
	CoverageTampered
)

var coverageStates = [...]struct{ name, label string }{
	CoverageNoData:    {"no_data", "no data"},
	CoverageDelivered: {"delivered", "delivered, not validated"},
	CoverageValidated: {"validated", "validated by digests"},
	CoverageMissing:   {"missing", "missing files or digests"},
	CoverageTampered:  {"tampered", "tampered"},
}

func (s CoverageState) String() string { return coverageStates[s].name }

// severity orders the states of a bucket of several hours: the worst shows.
func (s CoverageState) severity() int {
	return [...]int{CoverageNoData: 0, CoverageValidated: 1, CoverageDelivered: 2, CoverageMissing: 3, CoverageTampered: 4}[s]
}

// CoverageSpan is what the evidence says of the hours [From, Until) of one account and region.
type CoverageSpan struct {
	Account, Region string
	From, Until     time.Time
	State           CoverageState
}

// coverageFromIntegrity is what log file validation says of each hour: the hours the readable
// digests vouch for are validated; a finding's hours are missing (a listed log file or a digest
// is not there, a gap in the chain, digests that end, or are missing for a region or an account,
// while the trail's log files or other digests go on) or tampered (a log file or digest modified, a signature
// that does not verify, a digest not where or not what its chain says, a log file no digest lists
// or with data appended). A span of logging turned off stays without data; a signature not checked
// leaves its hour validated (the finding is listed).
func coverageFromIntegrity(in queries.Integrity) []CoverageSpan {
	var out []CoverageSpan
	for _, r := range in.Regions {
		for _, c := range r.Covered {
			out = append(out, CoverageSpan{Account: r.Account, Region: r.Region, From: c.From, Until: c.To, State: CoverageValidated})
		}
	}
	for _, f := range in.Findings {
		var state CoverageState
		switch {
		case f.Kind == integrity.Missing.String() || f.Kind == integrity.Gap.String(),
			f.Kind == integrity.ChainBroken.String() && f.Reason == integrity.Absent.String(),
			f.Kind == integrity.DigestsEnd.String() || f.Kind == integrity.RegionMissing.String() || f.Kind == integrity.DigestsMissing.String():
			state = CoverageMissing
		case f.Kind == integrity.Modified.String() || f.Kind == integrity.ChainBroken.String() || f.Kind == integrity.Unlisted.String(),
			f.Kind == queries.FindingExtraGzipData:
			state = CoverageTampered
		default:
			continue
		}
		from := f.From
		if from.IsZero() {
			from = f.To.Add(-time.Hour)
		}
		out = append(out, CoverageSpan{Account: f.Account, Region: f.Region, From: from, Until: f.To, State: state})
	}
	return out
}

// coverageMap is the map as drawn: a row per account and region, runs of buckets in one state.
type coverageMap struct {
	Width, Height int
	Rows          []coverageRow
	XTicks        []chartTick
	Legend        []coverageLegend
	Bucket        string
	// Bounds are the x of the lines between buckets, from Top to Bottom (none when buckets are
	// too narrow).
	Bounds      []string
	Top, Bottom string
}

type coverageRow struct {
	Account, Region string
	Y, TextY        string
	Runs            []coverageRun
}

// coverageRun is buckets in a row with one state; Partial when some of their hours had no data.
// Span names the buckets, Label the state and Hours how many hours of them are in each state:
// the map's table says the same.
type coverageRun struct {
	X, Y, W, H  string
	State       string
	Partial     bool
	Buckets     int
	Title       string
	Span, Label string
	Hours       string
}

type coverageLegend struct {
	State, Label string
	Buckets      int
}

// buildCoverage resolves every hour of the window for each account and region the evidence or
// the digests know, and draws buckets of hours: their worst state, marked partial when only some
// of their hours have data.
func buildCoverage(w window.Window, b bucketing, spans []verdict.Span, hours []CoverageSpan) coverageMap {
	origin := w.Since.UTC().Truncate(time.Hour)
	n := int((w.Until.Sub(origin) + time.Hour - 1) / time.Hour)
	grid := map[[2]string][]CoverageState{}
	mark := func(account, region string, from, until time.Time, s CoverageState) {
		k := [2]string{account, region}
		g := grid[k]
		if g == nil {
			g = make([]CoverageState, n)
			grid[k] = g
		}
		first := max(0, int(from.Sub(origin)/time.Hour))
		last := min(n, int((until.Sub(origin)+time.Hour-1)/time.Hour))
		for i := first; i < last; i++ {
			g[i] = max(g[i], s)
		}
	}
	for _, s := range spans {
		if s.Kind == "digest" { // the hours digests vouch for come validated with the hours
			continue
		}
		// A span runs from its oldest to its newest event: the newest one's hour is covered.
		mark(s.Account, s.Region, s.From, s.Until.Add(time.Nanosecond), CoverageDelivered)
	}
	for _, h := range hours {
		mark(h.Account, h.Region, h.From, h.Until, h.State)
	}
	keys := make([][2]string, 0, len(grid))
	for k := range grid {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i][0] < keys[j][0] || keys[i][0] == keys[j][0] && keys[i][1] < keys[j][1]
	})

	cellW := min(80, max(3, 640/float64(b.N)))
	m := coverageMap{Width: coverageLeft + int(cellW*float64(b.N)) + 8, Height: chartTop + coverageRowH*len(keys) + chartBottom, Bucket: b.Unit,
		Top: num(chartTop), Bottom: num(float64(chartTop + coverageRowH*len(keys)))}
	for i := 0; i < b.N; i += tickStep(b.N, cellW) {
		m.XTicks = append(m.XTicks, chartTick{Pos: num(coverageLeft + cellW*(float64(i)+0.5)), Label: b.tickLabel(i)})
	}
	if cellW >= 6 {
		for i := 1; i < b.N; i++ {
			m.Bounds = append(m.Bounds, num(coverageLeft+cellW*float64(i)))
		}
	}
	counts := map[string]int{}
	for r, k := range keys {
		y := float64(chartTop + r*coverageRowH)
		row := coverageRow{Account: k[0], Region: k[1], Y: num(y), TextY: num(y + coverageRowH*0.7)}
		g := grid[k]
		type cell struct {
			state   CoverageState
			partial bool
			hours   [len(coverageStates)]int
		}
		cells := make([]cell, b.N)
		for i, s := range g {
			t := origin.Add(time.Duration(i) * time.Hour)
			bi := min(b.N-1, max(0, int(t.Sub(b.Since)/b.Width)))
			cells[bi].hours[s]++
		}
		for i := range cells {
			c := &cells[i]
			for s, h := range c.hours {
				st := CoverageState(s)
				if h > 0 && st != CoverageNoData && st.severity() > c.state.severity() {
					c.state = st
				}
			}
			c.partial = c.state != CoverageNoData && c.hours[CoverageNoData] > 0
		}
		for i := 0; i < b.N; {
			j := i
			var hours [len(coverageStates)]int
			for j < b.N && cells[j].state == cells[i].state && cells[j].partial == cells[i].partial {
				for s, h := range cells[j].hours {
					hours[s] += h
				}
				j++
			}
			c := cells[i]
			span := b.label(i)
			if j-1 > i {
				span += " to " + b.label(j-1)
			}
			var parts []string
			for s := len(hours) - 1; s >= 0; s-- {
				if hours[s] > 0 {
					parts = append(parts, fmt.Sprintf("%s %s", coverageStates[s].label, plural(hours[s], "hour")))
				}
			}
			label := coverageStates[c.state].label
			if c.partial {
				label += ", partly without data"
			}
			row.Runs = append(row.Runs, coverageRun{
				X: num(coverageLeft + cellW*float64(i)), Y: num(y + 1), W: num(cellW * float64(j-i)), H: num(coverageRowH - 2),
				State: c.state.String(), Partial: c.partial, Buckets: j - i,
				Title: fmt.Sprintf("%s %s, %s: %s", k[0], k[1], span, strings.Join(parts, ", ")),
				Span:  span, Label: label, Hours: strings.Join(parts, ", "),
			})
			counts[c.state.String()] += j - i
			i = j
		}
		m.Rows = append(m.Rows, row)
	}
	for _, s := range []CoverageState{CoverageValidated, CoverageDelivered, CoverageMissing, CoverageTampered, CoverageNoData} {
		m.Legend = append(m.Legend, coverageLegend{State: s.String(), Label: coverageStates[s].label, Buckets: counts[s.String()]})
	}
	return m
}
