package integrity

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// DigestDue is how long after the end of the newest digest a log file shows that later digests
// should be there: the next digest covers about an hour and is delivered soon after its end.
const DigestDue = 2 * time.Hour

// Region is what the store holds near the window for one account and region, for the rules that
// look across a trail's regions and accounts.
type Region struct {
	OrgID   string // the organization of an organization trail; "" otherwise
	Account string
	Region  string
	// Streams are its digest streams, one per trail (standard digests).
	Streams []RegionStream
	// LogFiles are the delivery times of its log files near the window.
	LogFiles []time.Time
	// Logged: its trail's log files speak for the window (their events span it).
	Logged bool
}

// RegionStream is one trail's digests of an account and region.
type RegionStream struct {
	Trail, HomeRegion string
	// Covered is what its readable digests vouch for in the window (Check's Result.Covered).
	Covered []Span
	// Newest is the end of the newest digest the store holds, in the window or out of it.
	Newest time.Time
}

// RegionResult is what CheckRegions says of one account and region.
type RegionResult struct {
	Account, Region string
	// Validated: the trail delivers digests for it (log file validation is on), so its coverage
	// is what its digests vouch for, whatever its log files hold. Not: its log files speak for
	// the window and its trail delivers no digests anywhere the store holds: validation is off.
	Validated bool
	Findings  []Finding
}

// CheckRegions applies the rules that span streams, given every account and region the store
// holds digests or log files of near the window (the accounts out of the caller's scope
// included: they show what the trail delivers). It returns a result for each account and region
// with digests or whose log files speak for the window, and for each home region missing, in
// order.
//
//   - An account and region whose newest digest ends before the window's end, DigestDue or more
//     before a log file was delivered, has its digests end there (DigestsEnd).
//   - A trail always logs its home region: the hours of the window the digests of its other
//     regions cover for an account (an hour or more), its home region's must cover too
//     (RegionMissing); after the home region's newest digest, only once another region's digests
//     go on DigestDue past it (its next digest may not be delivered yet).
//   - An account and region whose log files speak for the window but that has no digests at all
//     is validated and missing its digests (DigestsMissing) when its trail delivers digests
//     elsewhere: for an organization trail, of any account of the organization; else of another
//     region of the account. Otherwise validation is off for it.
func CheckRegions(window Span, regions []Region) []RegionResult {
	type key struct{ account, region string }
	out := map[key]*RegionResult{}
	result := func(account, region string) *RegionResult {
		r := out[key{account, region}]
		if r == nil {
			r = &RegionResult{Account: account, Region: region}
			out[key{account, region}] = r
		}
		return r
	}
	digested := map[string]bool{} // organizations and accounts with digests
	type trailKey struct{ account, trail, home string }
	others := map[trailKey][]Span{} // the coverage of a trail's regions other than its home
	homes := map[trailKey][]Span{}  // its home region's
	// The ends of the newest digests of a trail's other regions and of its home region.
	othersNewest, homeNewest := map[trailKey]time.Time{}, map[trailKey]time.Time{}
	for _, g := range regions {
		if len(g.Streams) == 0 {
			continue
		}
		digested["account "+g.Account] = true
		if g.OrgID != "" {
			digested["org "+g.OrgID] = true
		}
		r := result(g.Account, g.Region)
		r.Validated = true
		var newest time.Time
		for _, s := range g.Streams {
			newest = maxTime(newest, s.Newest)
			k := trailKey{g.Account, s.Trail, s.HomeRegion}
			if g.Region == s.HomeRegion {
				homes[k] = append(homes[k], s.Covered...)
				homeNewest[k] = maxTime(homeNewest[k], s.Newest)
			} else {
				others[k] = append(others[k], s.Covered...)
				othersNewest[k] = maxTime(othersNewest[k], s.Newest)
			}
		}
		var last time.Time
		for _, t := range g.LogFiles {
			last = maxTime(last, t)
		}
		if newest.Before(window.To) && !last.Before(newest.Add(DigestDue)) {
			span := Span{maxTime(newest, window.From), window.To}
			r.Findings = append(r.Findings, Finding{Kind: DigestsEnd, Span: span,
				Detail: fmt.Sprintf("The digests of %s %s end at %s, but its log files go on to %s: CloudTrail delivers a digest every hour, so the later ones were deleted, or log file validation was turned off.",
					g.Account, g.Region, newest.UTC().Format(TimeLayout), last.UTC().Format(TimeLayout))})
		}
	}
	for k, covered := range others {
		for _, gap := range uncovered(merge(covered), merge(homes[k])) {
			// After the home region's newest digest, its next may just not be delivered yet.
			late := !homeNewest[k].IsZero() && !gap.From.Before(homeNewest[k]) && othersNewest[k].Before(homeNewest[k].Add(DigestDue))
			if gap.To.Sub(gap.From) < time.Hour || late {
				continue
			}
			r := result(k.account, k.home)
			r.Validated = true
			r.Findings = append(r.Findings, Finding{Kind: RegionMissing, Span: gap,
				Detail: fmt.Sprintf("The trail %s's home region %s has no digests of account %s for %s, though its other regions have them: a trail always logs its home region.",
					k.trail, k.home, k.account, gap)})
		}
	}
	for _, g := range regions {
		if len(g.Streams) > 0 || !g.Logged {
			continue
		}
		r := result(g.Account, g.Region)
		if len(r.Findings) > 0 {
			continue // its home region's digests are missing
		}
		source := "account " + g.Account
		what := "the trail delivers digests for its other regions"
		if g.OrgID != "" {
			source = "org " + g.OrgID
			what = "the organization trail of " + g.OrgID + " delivers digests for its other accounts and regions"
		}
		if !digested[source] {
			continue
		}
		r.Validated = true
		r.Findings = append(r.Findings, Finding{Kind: DigestsMissing, Span: window,
			Detail: fmt.Sprintf("The log files of %s %s speak for the window, but it has no digests, while %s: log file validation is a setting of the trail, so its digests were deleted.", g.Account, g.Region, what)})
	}
	list := make([]RegionResult, 0, len(out))
	for _, r := range out {
		list = append(list, *r)
	}
	slices.SortFunc(list, func(a, b RegionResult) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region))
	})
	return list
}

// merge sorts spans and merges those that overlap or touch.
func merge(spans []Span) []Span {
	spans = slices.Clone(spans)
	slices.SortFunc(spans, func(a, b Span) int { return a.From.Compare(b.From) })
	var out []Span
	for _, s := range spans {
		if n := len(out); n > 0 && !s.From.After(out[n-1].To) {
			out[n-1].To = maxTime(out[n-1].To, s.To)
			continue
		}
		out = append(out, s)
	}
	return out
}

// uncovered is what of spans (merged) cover (merged) leaves out.
func uncovered(spans, cover []Span) []Span {
	var out []Span
	for _, s := range spans {
		from := s.From
		for _, c := range cover {
			if !c.To.After(from) || !c.From.Before(s.To) {
				continue
			}
			if c.From.After(from) {
				out = append(out, Span{from, c.From})
			}
			from = maxTime(from, c.To)
		}
		if from.Before(s.To) {
			out = append(out, Span{from, s.To})
		}
	}
	return out
}
