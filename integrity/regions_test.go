package integrity_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/integrity"
)

func TestCheckRegions(t *testing.T) {
	stream := func(trail, home string, newest int, covered ...[2]int) integrity.RegionStream {
		s := integrity.RegionStream{Trail: trail, HomeRegion: home, Newest: hour(newest)}
		for _, c := range covered {
			s.Covered = append(s.Covered, window(c[0], c[1]))
		}
		return s
	}
	logs := func(at ...time.Time) []time.Time { return at }
	full := stream("org-trail", "us-east-1", 6, [2]int{0, 6})
	tests := []struct {
		name    string
		regions []integrity.Region
		// per account and region: "validated" or "not_validated", then its findings
		want []string
	}{
		{
			name: "whole_trail_is_validated",
			regions: []integrity.Region{
				{OrgID: org, Account: "111111111111", Region: "us-east-1", Streams: []integrity.RegionStream{full}},
				{OrgID: org, Account: "111111111111", Region: "eu-west-1", Streams: []integrity.RegionStream{full}, LogFiles: logs(hour(2))},
			},
			want: []string{"111111111111 eu-west-1 validated", "111111111111 us-east-1 validated"},
		},
		{
			name: "digests_that_end_while_log_files_go_on_end_there",
			regions: []integrity.Region{
				{Account: account, Region: region, Streams: []integrity.RegionStream{stream(trail, region, 3, [2]int{0, 3})}, LogFiles: logs(hour(1), hour(5))},
			},
			want: []string{account + " " + region + " validated digests_end h3..h6"},
		},
		{
			name: "log_files_of_the_hour_after_the_newest_digest_are_not_yet_due",
			regions: []integrity.Region{
				{Account: account, Region: region, Streams: []integrity.RegionStream{stream(trail, region, 5, [2]int{0, 5})}, LogFiles: logs(hour(6).Add(50 * time.Minute))},
			},
			want: []string{account + " " + region + " validated"},
		},
		{
			name: "home_region_without_digests_is_missing",
			regions: []integrity.Region{
				{OrgID: org, Account: account, Region: "eu-west-1", Streams: []integrity.RegionStream{full}},
			},
			want: []string{account + " eu-west-1 validated", account + " us-east-1 validated region_missing h0..h6"},
		},
		{
			name: "home_region_missing_hours_its_other_regions_have",
			regions: []integrity.Region{
				{OrgID: org, Account: account, Region: "eu-west-1", Streams: []integrity.RegionStream{full}},
				{OrgID: org, Account: account, Region: "us-east-1", Streams: []integrity.RegionStream{stream("org-trail", "us-east-1", 6, [2]int{0, 2}, [2]int{4, 6})}},
			},
			want: []string{account + " eu-west-1 validated", account + " us-east-1 validated region_missing h2..h4"},
		},
		{
			name: "home_region_whose_newest_digest_is_not_delivered_yet",
			regions: []integrity.Region{
				{OrgID: org, Account: account, Region: "eu-west-1", Streams: []integrity.RegionStream{full}},
				{OrgID: org, Account: account, Region: "us-east-1", Streams: []integrity.RegionStream{stream("org-trail", "us-east-1", 5, [2]int{0, 5})}},
			},
			want: []string{account + " eu-west-1 validated", account + " us-east-1 validated"},
		},
		{
			name: "home_region_whose_digests_stop_while_its_other_regions_go_on",
			regions: []integrity.Region{
				{OrgID: org, Account: account, Region: "eu-west-1", Streams: []integrity.RegionStream{stream("org-trail", "us-east-1", 8, [2]int{0, 6})}},
				{OrgID: org, Account: account, Region: "us-east-1", Streams: []integrity.RegionStream{stream("org-trail", "us-east-1", 4, [2]int{0, 4})}},
			},
			want: []string{account + " eu-west-1 validated", account + " us-east-1 validated region_missing h4..h6"},
		},
		{
			name: "regions_whose_digest_hours_are_offset_by_minutes_agree",
			regions: []integrity.Region{
				{OrgID: org, Account: account, Region: "eu-west-1", Streams: []integrity.RegionStream{{Trail: "org-trail", HomeRegion: "us-east-1", Newest: hour(6), Covered: []integrity.Span{{From: hour(1).Add(-20 * time.Minute), To: hour(6)}}}}},
				{OrgID: org, Account: account, Region: "us-east-1", Streams: []integrity.RegionStream{stream("org-trail", "us-east-1", 6, [2]int{1, 6})}},
			},
			want: []string{account + " eu-west-1 validated", account + " us-east-1 validated"},
		},
		{
			name: "account_of_an_organization_trail_without_digests_is_missing_them",
			regions: []integrity.Region{
				{OrgID: org, Account: "111111111111", Region: "us-east-1", Streams: []integrity.RegionStream{full}},
				{OrgID: org, Account: account, Region: "us-east-1", LogFiles: logs(hour(8)), Logged: true},
			},
			want: []string{"111111111111 us-east-1 validated", account + " us-east-1 validated digests_missing h0..h6"},
		},
		{
			name: "trail_without_digests_is_not_validated",
			regions: []integrity.Region{
				{OrgID: org, Account: "111111111111", Region: "us-east-1", LogFiles: logs(hour(1)), Logged: true},
				{OrgID: org, Account: account, Region: "us-east-1", LogFiles: logs(hour(2)), Logged: true},
				{OrgID: org, Account: account, Region: "eu-west-1", LogFiles: logs(hour(-3))},
			},
			want: []string{"111111111111 us-east-1 not_validated", account + " us-east-1 not_validated"},
		},
		{
			name: "account_trail_speaks_for_its_own_regions_only",
			regions: []integrity.Region{
				{Account: "111111111111", Region: "us-east-1", Streams: []integrity.RegionStream{stream("main", "us-east-1", 6, [2]int{0, 6})}},
				{Account: "111111111111", Region: "eu-west-1", Logged: true},
				{Account: account, Region: "us-east-1", LogFiles: logs(hour(2)), Logged: true},
			},
			want: []string{"111111111111 eu-west-1 validated digests_missing h0..h6", "111111111111 us-east-1 validated", account + " us-east-1 not_validated"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range integrity.CheckRegions(window(0, 6), tc.regions) {
				s := fmt.Sprintf("%s %s %s", r.Account, r.Region, map[bool]string{true: "validated", false: "not_validated"}[r.Validated])
				for _, f := range r.Findings {
					s += fmt.Sprintf(" %s %s..%s", f.Kind, at(f.Span.From), at(f.Span.To))
					if f.Detail == "" {
						t.Errorf("%s has no detail", f.Kind)
					}
				}
				got = append(got, s)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
