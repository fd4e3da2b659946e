package verdict

import (
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/window"
)

var (
	t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	w  = window.Window{Since: t0, Until: t0.Add(7 * 24 * time.Hour)}
)

// covering is trail evidence of an account and region that covers the window w.
func covering(account, region string) Span {
	return Span{Kind: "trail", Account: account, Region: region, From: w.Since.Add(-time.Hour), Until: w.Until.Add(time.Minute)}
}

// compliantFacts are the facts of a proven COMPLIANT session-compliance: a policy, its profile
// mapped, every account in scope covered, nothing unverified or failed.
func compliantFacts() Facts {
	return Facts{Window: w, PolicyNeeded: true, HasPolicy: true, Accounts: []string{"222222222222"},
		Spans: []Span{covering("222222222222", "us-east-1"), covering("222222222222", "eu-west-1")}}
}

func codes(v Verdict) string {
	var c []string
	for _, r := range v.Reasons {
		c = append(c, r.Code)
	}
	return strings.Join(c, ",")
}

// TestNoFalseCompliant is every way the facts can leave Sentinel unable to know: each must be
// INCONCLUSIVE (never COMPLIANT), with the reason that says why.
func TestNoFalseCompliant(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(*Facts)
		want   string // reason codes
	}{
		{"no_policy", func(f *Facts) { f.HasPolicy = false }, ReasonNoPolicy},
		{"required_profile_maps_to_no_role", func(f *Facts) { f.Unmapped = []string{"prod"} }, ReasonProfileUnmapped},
		{"required_profile_shares_its_role", func(f *Facts) {
			f.Unmapped = []string{"prod"}
			f.SharedRoles = []SharedRole{{Profile: "prod", RoleARN: "arn:aws:iam::222222222222:role/ProdAdmin", AttributedTo: "break-glass"}}
		}, ReasonProfileUnmapped},
		{"no_evidence_at_all", func(f *Facts) { f.Spans = nil; f.Accounts = nil }, ReasonNoEvidence},
		{"window_holds_no_evidence", func(f *Facts) {
			f.Window = window.Window{Since: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2020, 2, 1, 0, 0, 0, 0, time.UTC)}
		}, ReasonNoEvidence},
		{"account_in_scope_has_no_evidence", func(f *Facts) { f.Accounts = append(f.Accounts, "333333333333") }, ReasonAccountNoEvidence},
		{"evidence_ends_before_the_window", func(f *Facts) { f.Spans[1].Until = w.Until.Add(-24 * time.Hour) }, ReasonEvidenceEnds},
		{"evidence_begins_after_the_window_starts", func(f *Facts) { f.Spans[0].From = w.Since.Add(2 * time.Hour) }, ReasonEvidenceStarts},
		{"sessions_could_not_be_checked", func(f *Facts) { f.Unverified = 2 }, ReasonUnverified},
		{"files_failed_to_ingest", func(f *Facts) { f.FailedFiles = []FailedFile{{Source: "s3://b/k", Error: "gzip: invalid header"}} }, ReasonFailedFiles},
		{"warehouse_from_an_older_sentinel", func(f *Facts) { f.Outdated = []string{"005_coverage"} }, ReasonOutdated},
		{"regions_of_the_trail_left_out", func(f *Facts) {
			f.LeftOut = []LeftOut{{Source: "s3://org-trail", Account: "222222222222", Region: "ap-south-1"}}
		}, ReasonRegionsLeftOut},
		{"s3_digests_unchecked_for_want_of_keys", func(f *Facts) { f.Integrity.SignaturesWithoutKeys = 3 }, ReasonNoSignatures},
		{"evidence_is_lookupevents_of_some_regions", func(f *Facts) {
			for i := range f.Spans {
				f.Spans[i].Kind = "api"
			}
		}, ReasonRegionsNotSynced},
		{"an_ingest_run_did_not_finish", func(f *Facts) {
			f.Unfinished = []UnfinishedRun{{Run: 4, StartedAt: t0, Status: "interrupted", Command: "--source s3://org-trail window " + w.String()}}
		}, ReasonIngestUnfinished},
		{"log_files_speak_past_the_digests_of_a_validated_region", func(f *Facts) {
			f.Integrity.Validated = [][2]string{{"222222222222", "us-east-1"}}
			f.Spans = append(f.Spans, Span{Kind: "digest", Account: "222222222222", Region: "us-east-1", From: w.Since, Until: w.Until.Add(-24 * time.Hour)})
		}, ReasonEvidenceEnds},
		{"validated_region_without_digests_in_the_window", func(f *Facts) { f.Integrity.Validated = [][2]string{{"222222222222", "eu-west-1"}} }, ReasonEvidenceEnds},
		{"several_at_once", func(f *Facts) { f.HasPolicy = false; f.Unverified = 1 }, ReasonNoPolicy + "," + ReasonUnverified},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := compliantFacts()
			tt.change(&f)
			v := Decide(f)
			if v.Result != Inconclusive || codes(v) != tt.want {
				t.Fatalf("%s [%s], want %s [%s]", v.Result, codes(v), Inconclusive, tt.want)
			}
			for _, r := range v.Reasons {
				if r.Message == "" || r.Action == "" {
					t.Fatalf("reason %s lacks what or what to do: %+v", r.Code, r)
				}
			}
		})
	}
}

// TestLookupEventsOfEveryRegionCoverAnAccount: LookupEvents of every region enabled by default
// is evidence enough for an account; a trail with any of them too.
func TestLookupEventsOfEveryRegionCoverAnAccount(t *testing.T) {
	f := compliantFacts()
	f.Spans = nil
	for _, r := range DefaultRegions {
		s := covering("222222222222", r)
		s.Kind = "api"
		f.Spans = append(f.Spans, s)
	}
	if v := Decide(f); v.Result != Compliant {
		t.Fatalf("every region synced: %s [%s]", v.Result, codes(v))
	}
	f.Spans = append(f.Spans[:3], covering("222222222222", "us-east-1"))
	if v := Decide(f); v.Result != Compliant {
		t.Fatalf("some regions synced, and the trail: %s [%s]", v.Result, codes(v))
	}
}

func TestDecide(t *testing.T) {
	t.Run("everything_known_is_compliant", func(t *testing.T) {
		if v := Decide(compliantFacts()); v.Result != Compliant || len(v.Reasons) != 0 {
			t.Fatalf("%+v", v)
		}
	})
	t.Run("a_proven_gap_wins_over_what_is_unknown", func(t *testing.T) {
		f := compliantFacts()
		f.Proven, f.Unverified = []string{"prod"}, 1
		if v := Decide(f); v.Result != GapsFound || codes(v) != ReasonUnverified {
			t.Fatalf("%s [%s]", v.Result, codes(v))
		}
	})
	t.Run("findings_of_what_happened_are_found_not_gaps", func(t *testing.T) {
		f := compliantFacts()
		f.PolicyNeeded, f.Proven = false, []string{"event-1"}
		if v := Decide(f); v.Result != Found {
			t.Fatalf("%s", v.Result)
		}
		f.Proven = nil
		if v := Decide(f); v.Result != Clean {
			t.Fatalf("%s", v.Result)
		}
	})
	t.Run("evidence_within_the_delivery_delay_covers_the_window", func(t *testing.T) {
		f := compliantFacts()
		f.Spans[0].From, f.Spans[0].Until = w.Since.Add(DeliveryDelay), w.Until.Add(-DeliveryDelay)
		if v := Decide(f); v.Result != Compliant {
			t.Fatalf("%s [%s]", v.Result, codes(v))
		}
		f.Spans[0].Until = w.Until.Add(-DeliveryDelay - time.Second)
		if v := Decide(f); v.Result != Inconclusive {
			t.Fatalf("a second past the delay: %s", v.Result)
		}
	})
	t.Run("a_validated_region_is_covered_by_its_digests_and_lookup_events", func(t *testing.T) {
		f := compliantFacts()
		f.Integrity.Validated = [][2]string{{"222222222222", "us-east-1"}}
		f.Spans = append(f.Spans, Span{Kind: "digest", Account: "222222222222", Region: "us-east-1", From: w.Since, Until: w.Until.Add(-24 * time.Hour)},
			Span{Kind: "api", Account: "222222222222", Region: "us-east-1", From: w.Until.Add(-30 * time.Hour), Until: w.Until})
		if v := Decide(f); v.Result != Compliant {
			t.Fatalf("%s [%s]", v.Result, codes(v))
		}
	})
	t.Run("spans_of_one_region_add_up", func(t *testing.T) {
		f := compliantFacts()
		f.Spans[0].Until = w.Since.Add(24 * time.Hour)
		f.Spans = append(f.Spans, Span{Kind: "api", Account: "222222222222", Region: "us-east-1", From: w.Since.Add(time.Hour), Until: w.Until})
		if v := Decide(f); v.Result != Compliant {
			t.Fatalf("%s [%s]", v.Result, codes(v))
		}
	})
	t.Run("regions_left_out_of_accounts_out_of_scope_do_not_count", func(t *testing.T) {
		f := compliantFacts()
		f.LeftOut = []LeftOut{{Source: "s3://org-trail", Account: "444444444444", Region: "ap-south-1"}}
		if v := Decide(f); v.Result != Compliant {
			t.Fatalf("%s [%s]", v.Result, codes(v))
		}
	})
	t.Run("accounts_out_of_scope_do_not_count", func(t *testing.T) {
		f := compliantFacts()
		f.Spans = append(f.Spans, Span{Kind: "trail", Account: "444444444444", Region: "us-east-1", From: w.Since.Add(48 * time.Hour), Until: w.Since.Add(49 * time.Hour)})
		if v := Decide(f); v.Result != Compliant {
			t.Fatalf("%s [%s]", v.Result, codes(v))
		}
		f.Accounts = nil
		if v := Decide(f); v.Result != Inconclusive || codes(v) != ReasonEvidenceStarts+","+ReasonEvidenceEnds {
			t.Fatalf("every account in scope: %s [%s]", v.Result, codes(v))
		}
	})
	t.Run("event_files_someone_handed_over_prove_no_span", func(t *testing.T) {
		f := compliantFacts()
		for i := range f.Spans {
			f.Spans[i].Kind = "file"
		}
		if v := Decide(f); v.Result != Inconclusive || codes(v) != ReasonAccountNoEvidence+","+ReasonNoEvidence {
			t.Fatalf("%s [%s]", v.Result, codes(v))
		}
	})
	t.Run("nothing_in_scope_needs_only_evidence_of_the_window", func(t *testing.T) {
		f := compliantFacts()
		f.Accounts = []string{}
		f.Spans = []Span{covering("444444444444", "us-east-1")}
		f.Spans[0].From = w.Since.Add(48 * time.Hour)
		if v := Decide(f); v.Result != Compliant {
			t.Fatalf("%s [%s]", v.Result, codes(v))
		}
		f.Spans = nil
		if v := Decide(f); v.Result != Inconclusive || codes(v) != ReasonNoEvidence {
			t.Fatalf("no evidence at all: %s [%s]", v.Result, codes(v))
		}
	})
	t.Run("reasons_say_when_the_evidence_ends", func(t *testing.T) {
		f := compliantFacts()
		f.Spans[1].Until = time.Date(2026, 11, 5, 13, 6, 3, 0, time.UTC)
		v := Decide(f)
		if !strings.Contains(v.Reasons[0].Message, "222222222222 eu-west-1 ends 2026-11-05T13:06:03Z") ||
			!strings.Contains(v.Reasons[0].Action, "sentinel ingest") || !strings.Contains(v.Reasons[0].Action, "2026-11-05T13:06:03Z") {
			t.Fatalf("%+v", v.Reasons[0])
		}
	})
}
