package ingest

import (
	"strings"

	"github.com/sentinel-audit/sentinel/warehouse"
)

// coverageKind is the kind of coverage a trail object's events give: trail for files in a
// trail's log file layout, file for any other event file.
func coverageKind(o object) string {
	if o.date.IsZero() {
		return warehouse.CoverageFile
	}
	return warehouse.CoverageTrail
}

// coverageOf is what a file's rows speak for, per account and region: their oldest and newest
// event. Rows that name no account or region say nothing. The names are copied: the rows' strings
// may be views of a file's text, which is reused once the rows are written.
func coverageOf(rows []warehouse.EventRow, kind string) []warehouse.Coverage {
	var out []warehouse.Coverage
	cur := -1
	for i := range rows {
		r := &rows[i]
		if r.RecipientAccountID == nil || r.AWSRegion == nil {
			continue
		}
		account, region := *r.RecipientAccountID, *r.AWSRegion
		if cur < 0 || out[cur].Account != account || out[cur].Region != region {
			cur = -1
			for j := range out {
				if out[j].Account == account && out[j].Region == region {
					cur = j
					break
				}
			}
			if cur < 0 {
				out = append(out, warehouse.Coverage{Kind: kind, Account: strings.Clone(account), Region: strings.Clone(region),
					Oldest: r.EventTime, Newest: r.EventTime})
				cur = len(out) - 1
			}
		}
		c := &out[cur]
		if r.EventTime.Before(c.Oldest) {
			c.Oldest = r.EventTime
		}
		if r.EventTime.After(c.Newest) {
			c.Newest = r.EventTime
		}
	}
	return out
}
