package main

import (
	"fmt"
	"sort"
	"time"
)

// ---- quirks, copies, corrections, deliveries ----

func version(v string) func(obj) obj {
	return func(r obj) obj {
		r = r.set("eventVersion", v)
		if v < "1.08" { // tlsDetails arrived with 1.08
			r = r.del("tlsDetails")
		}
		return r
	}
}

func (g *gen) applyQuirks() {
	for _, q := range quirks {
		e := g.byKey[q.label]
		if e == nil {
			fail(fmt.Errorf("quirk for unknown record %s", q.label))
		}
		e.rec = q.apply(e.rec)
	}
}

func (g *gen) addCopiesAndCorrections() {
	for _, is := range issuances {
		if is.copyTo == "" {
			continue
		}
		orig := g.byKey[is.label]
		label := is.label + "x"
		rec := orig.rec.clone().set("eventID", uuid4("event", label)).set("recipientAccountId", is.copyTo)
		g.add(&event{label: label, rec: rec, acct: is.copyTo, region: orig.region, at: orig.at, sinks: sinks("trail")})
	}
	labels := make([]string, 0, len(lateCorrections))
	for l := range lateCorrections {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for _, label := range labels {
		orig := g.byKey[lateCorrections[label]]
		rec := orig.rec.clone().set("eventID", uuid4("event", label)).
			after("eventCategory", "addendum", obj{
				{"reason", "DELIVERY_DELAY"},
				{"originalRequestID", orig.rec.str("requestID")},
				{"originalEventID", orig.rec.str("eventID")},
			})
		g.add(&event{label: label, rec: rec, acct: orig.acct, region: orig.region, at: orig.at, sinks: sinks("trail")})
	}
}

func (g *gen) setDeliveries() {
	for _, e := range g.events {
		if !e.sinks["trail"] {
			if deliveries[e.label] != nil {
				fail(fmt.Errorf("%s: delivery override but not in the trail", e.label))
			}
			continue
		}
		ds := deliveries[e.label]
		if ds == nil {
			e.deliver = []time.Time{e.at.Add(6 * time.Minute)}
			continue
		}
		for _, d := range ds {
			t := ts(d)
			if t.Before(e.at.Add(time.Minute)) {
				fail(fmt.Errorf("%s: delivered before it happened", e.label))
			}
			e.deliver = append(e.deliver, t)
		}
	}
}
