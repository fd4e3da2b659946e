package integrity_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/integrity"
	"github.com/sentinel-audit/sentinel/internal/testkeys"
)

// label names an object the way the tests do: digest(h) is the digest of hour h, log(h) the log
// file of hour h.
func label(o integrity.Object) string {
	if o == (integrity.Object{}) {
		return ""
	}
	for h := -48; h < 48; h++ {
		if o.Key == digestKey(hour(h+1)) {
			return fmt.Sprintf("digest(%d)", h)
		}
		if o.Key == backfillKey(hour(h+1)) {
			return fmt.Sprintf("backfill(%d)", h)
		}
		if lo, _ := logFile(h); o == lo {
			return fmt.Sprintf("log(%d)", h)
		}
	}
	return o.Key
}

// at names a time as an hour offset from t0 ("h3", or "h3+10m").
func at(t time.Time) string {
	d := t.Sub(t0)
	s := fmt.Sprintf("h%d", int(d/time.Hour))
	if m := d % time.Hour; m != 0 {
		s += "+" + m.String()
	}
	return s
}

// describe writes a finding as the tests expect it: "kind[/reason] object [by digest] [span]".
// The span is written for gaps and logging-off spans only.
func describe(f integrity.Finding) string {
	s := f.Kind.String()
	if f.Reason != integrity.NoReason {
		s += "/" + f.Reason.String()
	}
	if o := label(f.Object); o != "" {
		s += " " + o
	}
	if by := label(f.By); by != "" {
		s += " by " + by
	}
	if f.Kind == integrity.Gap || f.Kind == integrity.LoggingOff {
		s += " " + at(f.Span.From) + ".." + at(f.Span.To)
	}
	return s
}

func window(from, to int) integrity.Span { return integrity.Span{From: hour(from), To: hour(to)} }

func TestChain(t *testing.T) {
	full := trailSpec{hours: 6, logsIn: []int{0, 2, 3, 5}}
	tests := []struct {
		name   string
		spec   trailSpec
		window integrity.Span
		change func(b *built)           // what happened in the bucket
		input  func(c *integrity.Chain) // what the caller could read
		want   []string
		// valid digests and log files, as validate-logs would count them
		validDigests, validLogs int
		covered                 []string
	}{
		{
			name: "intact_chain_has_no_findings", spec: full, window: window(0, 6),
			validDigests: 6, validLogs: 4, covered: []string{"h0..h6"},
		},
		{
			name: "hours_without_log_files_still_have_digests", spec: trailSpec{hours: 3}, window: window(0, 3),
			validDigests: 3, covered: []string{"h0..h3"},
		},
		{
			name: "deleted_log_file_is_missing", spec: full, window: window(0, 6),
			change: func(b *built) { o, _ := logFile(2); delete(b.logs, o) },
			want:   []string{"missing log(2) by digest(2)"}, validDigests: 6, validLogs: 3, covered: []string{"h0..h6"},
		},
		{
			name: "rewritten_log_file_is_modified", spec: full, window: window(0, 6),
			change: func(b *built) {
				o, body := logFile(3)
				b.logs[o] = []byte(strings.Replace(string(body), "event-3", "event-X", 1))
			},
			want: []string{"modified log(3) by digest(3)"}, validDigests: 6, validLogs: 3, covered: []string{"h0..h6"},
		},
		{
			name: "unreadable_log_file_is_modified", spec: full, window: window(0, 6),
			input: func(c *integrity.Chain) { o, _ := logFile(5); c.LogFiles[o] = integrity.Hash{} },
			want:  []string{"modified log(5) by digest(5)"}, validDigests: 6, validLogs: 3, covered: []string{"h0..h6"},
		},
		{
			name: "log_file_added_while_digesting_is_unlisted", spec: full, window: window(0, 6),
			change: func(b *built) { o, body := logFile(1); b.logs[o] = body },
			want:   []string{"unlisted/while_digesting log(1)"}, validDigests: 6, validLogs: 4, covered: []string{"h0..h6"},
		},
		{
			name: "log_file_delivered_while_logging_was_off_is_unlisted_not_digesting", spec: trailSpec{hours: 6, off: []int{2, 3}}, window: window(0, 6),
			change: func(b *built) { o, body := logFile(2); b.logs[o] = body },
			want:   []string{"unlisted/not_digesting log(2)", "logging_off h2..h4"}, validDigests: 4, covered: []string{"h0..h2", "h4..h6"},
		},
		{
			name: "log_files_delivered_outside_the_window_are_not_unlisted", spec: full, window: window(2, 4),
			change:       func(b *built) { o, body := logFile(4); b.logs[o] = body },
			validDigests: 6, validLogs: 4, covered: []string{"h2..h4"},
		},
		{
			name: "deleted_digest_breaks_the_chain_and_leaves_a_gap", spec: full, window: window(0, 6),
			change: func(b *built) { b.removeDigest(2) },
			// The deleted hour's log file is now listed by no digest: nobody vouches for it.
			want:         []string{"unlisted/not_digesting log(2)", "chain_broken/absent digest(2) by digest(3)", "gap h2..h3"},
			validDigests: 5, validLogs: 3, covered: []string{"h0..h2", "h3..h6"},
		},
		{
			name: "digests_deleted_in_a_row_leave_one_gap", spec: full, window: window(0, 6),
			change: func(b *built) { b.removeDigest(2); b.removeDigest(3) },
			want:   []string{"unlisted/not_digesting log(2)", "unlisted/not_digesting log(3)", "chain_broken/absent digest(3) by digest(4)", "gap h2..h4"},
			// digest(3) is reported; digest(2) is unseen until digest(3) is back.
			validDigests: 4, validLogs: 2, covered: []string{"h0..h2", "h4..h6"},
		},
		{
			// Its log file is not yet covered, as on a live trail before the hour's digest is
			// delivered: the hour is outside the coverage, not a finding.
			name: "newest_digest_deleted_leaves_the_end_uncovered", spec: full, window: window(0, 6),
			change:       func(b *built) { b.removeDigest(5) },
			validDigests: 5, validLogs: 3, covered: []string{"h0..h5"},
		},
		{
			name: "log_file_delivered_after_the_newest_digest_is_not_yet_unlisted", spec: trailSpec{hours: 3, logsIn: []int{1}}, window: window(0, 4),
			change:       func(b *built) { o, body := logFile(3); b.logs[o] = body },
			validDigests: 3, validLogs: 1, covered: []string{"h0..h3"},
		},
		{
			name: "log_file_delivered_before_the_newest_valid_digest_is_unlisted", spec: trailSpec{hours: 4}, window: window(0, 4),
			change: func(b *built) { o, body := logFile(2); b.logs[o] = body },
			want:   []string{"unlisted/while_digesting log(2)"}, validDigests: 4, covered: []string{"h0..h4"},
		},
		{
			name: "rewritten_digest_fails_its_signature_and_its_successors_hash", spec: full, window: window(0, 6),
			change: func(b *built) {
				d := b.digest(2)
				d.body = []byte(strings.Replace(string(d.body), `"awsAccountId":"222222222222"`, `"awsAccountId":"222222222222","note":"edited"`, 1))
			},
			want:         []string{"chain_broken/bad_signature digest(2)", "chain_broken/digest_modified digest(2) by digest(3)"},
			validDigests: 5, validLogs: 4, covered: []string{"h0..h6"},
		},
		{
			name: "digest_listing_a_forged_hash_fails_its_signature", spec: full, window: window(0, 6),
			change: func(b *built) {
				o, body := logFile(3)
				forged := []byte(strings.Replace(string(body), "event-3", "event-X", 1))
				b.logs[o] = forged
				d := b.digest(3)
				d.body = []byte(strings.Replace(string(d.body), integrity.HashOf(body).String(), integrity.HashOf(forged).String(), 1))
			},
			want:         []string{"chain_broken/bad_signature digest(3)", "chain_broken/digest_modified digest(3) by digest(4)"},
			validDigests: 5, validLogs: 4, covered: []string{"h0..h6"},
		},
		{
			name: "unreadable_digest_breaks_the_chain", spec: full, window: window(0, 6),
			change: func(b *built) { b.digest(2).body = []byte("{not json") },
			// The replaced bytes hash to something else: its successor's link proves it.
			want:         []string{"unlisted/not_digesting log(2)", "chain_broken/unreadable digest(2)", "chain_broken/digest_modified digest(2) by digest(3)"},
			validDigests: 5, validLogs: 3, covered: []string{"h0..h2", "h3..h6"},
		},
		{
			name: "digest_signed_with_a_foreign_key_names_an_unknown_key", spec: trailSpec{hours: 4, logsIn: []int{1}, signer: func(h int) testkeys.Key {
				if h == 1 {
					return testkeys.Foreign
				}
				return testkeys.Primary
			}}, window: window(0, 4),
			want:         []string{"chain_broken/unknown_key digest(1)"},
			validDigests: 3, validLogs: 1, covered: []string{"h0..h4"},
		},
		{
			name: "digest_signed_with_a_foreign_key_under_cloudtrails_fingerprint_has_a_bad_signature", spec: full, window: window(0, 6),
			change: func(b *built) {
				// The digest still names CloudTrail's key.
				d := b.digest(4)
				d.signature = sign(testkeys.Foreign, d, b.digest(3))
			},
			want:         []string{"chain_broken/bad_signature digest(4)", "chain_broken/signature_replaced digest(4) by digest(5)"},
			validDigests: 5, validLogs: 4, covered: []string{"h0..h6"},
		},
		{
			name: "signature_metadata_replaced_fails_and_differs_from_the_successors_link", spec: full, window: window(0, 6),
			change:       func(b *built) { b.digest(1).signature = b.digest(0).signature },
			want:         []string{"chain_broken/bad_signature digest(1)", "chain_broken/signature_replaced digest(1) by digest(2)"},
			validDigests: 5, validLogs: 4, covered: []string{"h0..h6"},
		},
		{
			name: "digest_moved_elsewhere_is_moved_and_its_successors_link_finds_it_absent", spec: full, window: window(0, 6),
			change: func(b *built) {
				d := b.digest(2)
				d.obj.Key = strings.Replace(d.obj.Key, "T030000Z", "T030001Z", 1)
			},
			// It still ends where the absent one would: no gap, and the chain goes on through it.
			want: []string{
				"chain_broken/absent digest(2) by digest(3)",
				"chain_broken/moved " + strings.Replace(digestKey(hour(3)), "T030000Z", "T030001Z", 1),
			},
			validDigests: 5, validLogs: 4, covered: []string{"h0..h6"},
		},
		{
			name: "extra_digest_between_linked_digests_is_not_linked", spec: full, window: window(0, 6),
			change: func(b *built) {
				extra := *b.digest(2)
				extra.obj.Key = strings.Replace(extra.obj.Key, "T030000Z", "T033000Z", 1)
				b.digests = append(b.digests, &extra)
			},
			// Skipped by the chain, it is checked no further: what it lists counts for nothing.
			want:         []string{"chain_broken/not_linked " + strings.Replace(digestKey(hour(3)), "T030000Z", "T033000Z", 1) + " by digest(3)"},
			validDigests: 6, validLogs: 4, covered: []string{"h0..h6"},
		},
		{
			name: "chain_restart_after_logging_off_is_a_logging_off_span", spec: trailSpec{hours: 6, logsIn: []int{0, 5}, off: []int{2, 3}}, window: window(0, 6),
			want:         []string{"logging_off h2..h4"},
			validDigests: 4, validLogs: 2, covered: []string{"h0..h2", "h4..h6"},
		},
		{
			name: "chain_starting_inside_the_window_is_logging_off_from_the_window_start", spec: trailSpec{hours: 6, off: []int{0, 1}}, window: window(0, 6),
			want:         []string{"logging_off h0..h2"},
			validDigests: 4, covered: []string{"h2..h6"},
		},
		{
			name: "chain_starting_at_the_window_start_is_not_logging_off", spec: full, window: window(0, 6),
			validDigests: 6, validLogs: 4, covered: []string{"h0..h6"},
		},
		{
			name: "link_to_a_digest_before_the_window_is_not_followed", spec: full, window: window(3, 6),
			input: func(c *integrity.Chain) {
				c.Digests = slices.DeleteFunc(c.Digests, func(f integrity.DigestFile) bool { return f.Digest.EndTime.Before(hour(3)) })
			},
			validDigests: 4, validLogs: 3, covered: []string{"h3..h6"},
		},
		{
			name: "local_copy_signatures_are_not_checked", spec: trailSpec{hours: 2, logsIn: []int{1}}, window: window(0, 2),
			input: func(c *integrity.Chain) {
				for i := range c.Digests {
					c.Digests[i].Signature, c.Digests[i].SignatureAlgorithm, c.Digests[i].Local = "", "", true
				}
			},
			want:         []string{"signature_not_checked/no_signature digest(0)", "signature_not_checked/no_signature digest(1)"},
			validDigests: 2, validLogs: 1, covered: []string{"h0..h2"},
		},
		{
			name: "local_copy_still_proves_a_rewritten_digest", spec: trailSpec{hours: 3}, window: window(0, 3),
			change: func(b *built) { b.digest(1).body = append(b.digest(1).body, ' ') },
			input: func(c *integrity.Chain) {
				for i := range c.Digests {
					c.Digests[i].Signature, c.Digests[i].Local = "", true
				}
			},
			want: []string{
				"signature_not_checked/no_signature digest(0)",
				"chain_broken/digest_modified digest(1) by digest(2)", "signature_not_checked/no_signature digest(1)",
				"signature_not_checked/no_signature digest(2)",
			},
			validDigests: 2, covered: []string{"h0..h3"},
		},
		{
			name: "digest_without_signature_metadata_in_s3_breaks_the_chain", spec: trailSpec{hours: 3, logsIn: []int{1}}, window: window(0, 3),
			input: func(c *integrity.Chain) { c.Digests[1].Signature, c.Digests[1].SignatureAlgorithm = "", "" },
			want:  []string{"chain_broken/no_signature digest(1)"}, validDigests: 2, validLogs: 1, covered: []string{"h0..h3"},
		},
		{
			name: "backfill_digest_lists_a_log_file_its_hours_digest_missed", spec: full, window: window(0, 6),
			change:       func(b *built) { b.addBackfill(1, []int{1}, nil) },
			validDigests: 7, validLogs: 5, covered: []string{"h0..h6"},
		},
		{
			name: "backfill_chain_skips_hours_without_a_gap", spec: full, window: window(0, 6),
			change: func(b *built) {
				first := b.addBackfill(1, []int{1}, nil)
				b.addBackfill(4, []int{4}, first)
			},
			validDigests: 8, validLogs: 6, covered: []string{"h0..h6"},
		},
		{
			name: "backfill_digest_linked_to_a_digest_of_the_standard_chain", spec: full, window: window(0, 6),
			change:       func(b *built) { b.addBackfill(1, []int{1}, b.digest(0)) },
			validDigests: 7, validLogs: 5, covered: []string{"h0..h6"},
		},
		{
			name: "deleted_backfill_digest_is_absent_and_its_log_file_unlisted", spec: full, window: window(0, 6),
			change: func(b *built) {
				first := b.addBackfill(1, []int{1}, nil)
				b.addBackfill(4, []int{4}, first)
				b.backfills = b.backfills[1:]
			},
			want:         []string{"unlisted/while_digesting log(1)", "chain_broken/absent backfill(1) by backfill(4)"},
			validDigests: 7, validLogs: 5, covered: []string{"h0..h6"},
		},
		{
			name: "rewritten_backfill_digest_fails_its_signature", spec: full, window: window(0, 6),
			change: func(b *built) {
				d := b.addBackfill(1, []int{1}, nil)
				d.body = []byte(strings.Replace(string(d.body), `"awsAccountId":"222222222222"`, `"awsAccountId":"222222222222","note":"edited"`, 1))
			},
			want:         []string{"chain_broken/bad_signature backfill(1)"},
			validDigests: 6, validLogs: 5, covered: []string{"h0..h6"},
		},
		{
			// Given as the audit gives it: the digests up to ListingHorizon after the window and
			// the first after those, whose link shows the ones before it deleted.
			name: "digests_deleted_at_the_windows_end_leave_a_gap_their_successor_shows", spec: trailSpec{hours: 10, logsIn: []int{0, 2, 8}}, window: window(0, 4),
			change: func(b *built) {
				for h := 3; h <= 6; h++ {
					b.removeDigest(h)
				}
				o, _ := logFile(8)
				delete(b.logs, o)
			},
			// The missing digests end after the horizon: the gap is the finding; the log files
			// digest(8) lists are not checked.
			want:         []string{"gap h3..h4"},
			validDigests: 6, validLogs: 2, covered: []string{"h0..h3"},
		},
		{
			name: "copies_of_the_digests_count_once", spec: full, window: window(0, 6),
			input: func(c *integrity.Chain) {
				for _, f := range c.Digests {
					f.Signature, f.Local, f.Source = "", true, "/copy/"+f.Object.Key
					c.Digests = append(c.Digests, f)
				}
			},
			validDigests: 6, validLogs: 4, covered: []string{"h0..h6"},
		},
		{
			name: "copies_of_a_digest_that_differ_break_the_chain", spec: full, window: window(0, 6),
			input: func(c *integrity.Chain) {
				f := c.Digests[2]
				f.Hash, f.Signature, f.Local, f.Source = integrity.HashOf([]byte("another")), "", true, "/copy/"+f.Object.Key
				c.Digests = append(c.Digests, f)
			},
			want: []string{"chain_broken/copies_differ digest(2)"}, validDigests: 5, validLogs: 4, covered: []string{"h0..h6"},
		},
		{
			name: "without_public_keys_signatures_are_not_checked", spec: trailSpec{hours: 1}, window: window(0, 1),
			input:        func(c *integrity.Chain) { c.Keys = nil },
			want:         []string{"signature_not_checked/no_keys digest(0)"},
			validDigests: 1, covered: []string{"h0..h1"},
		},
		{
			name: "signatures_verified_before_need_no_keys", spec: trailSpec{hours: 2, logsIn: []int{1}}, window: window(0, 2),
			input: func(c *integrity.Chain) {
				c.Keys = nil
				for i := range c.Digests {
					c.Digests[i].SignatureVerified = true
				}
			},
			validDigests: 2, validLogs: 1, covered: []string{"h0..h2"},
		},
		{
			name: "rotated_key_verifies_the_digests_after_rotation", spec: trailSpec{hours: 4, logsIn: []int{3}, signer: func(h int) testkeys.Key {
				if h >= 2 {
					return testkeys.Rotated
				}
				return testkeys.Primary
			}}, window: window(0, 4),
			input:        func(c *integrity.Chain) { c.Keys = rotation(hour(2).Add(30 * time.Minute)) },
			validDigests: 4, validLogs: 1, covered: []string{"h0..h4"},
		},
		{
			name: "digest_signed_with_a_retired_key_names_an_unknown_key", spec: trailSpec{hours: 4}, window: window(0, 4),
			input:        func(c *integrity.Chain) { c.Keys = rotation(hour(2).Add(30 * time.Minute)) },
			want:         []string{"chain_broken/unknown_key digest(2)", "chain_broken/unknown_key digest(3)"},
			validDigests: 2, covered: []string{"h0..h4"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := build(tc.spec)
			if tc.change != nil {
				tc.change(b)
			}
			c := b.chain(tc.window)
			if tc.input != nil {
				tc.input(&c)
			}
			res := integrity.Check(c)
			var got []string
			for _, f := range res.Findings {
				got = append(got, describe(f))
				if f.Detail == "" {
					t.Errorf("%s has no detail", describe(f))
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings:\n got %q\nwant %q", got, tc.want)
			}
			if res.ValidDigests != tc.validDigests || res.ValidLogFiles != tc.validLogs {
				t.Errorf("valid digests %d, log files %d; want %d, %d", res.ValidDigests, res.ValidLogFiles, tc.validDigests, tc.validLogs)
			}
			var covered []string
			for _, s := range res.Covered {
				covered = append(covered, at(s.From)+".."+at(s.To))
			}
			if !slices.Equal(covered, tc.covered) {
				t.Errorf("covered %q, want %q", covered, tc.covered)
			}
		})
	}
}

// rotation is a ListPublicKeys answer in which Primary was valid until at, and Rotated after.
func rotation(at time.Time) []integrity.PublicKey {
	p, r := testkeys.Primary, testkeys.Rotated
	return []integrity.PublicKey{
		{Fingerprint: p.Fingerprint(), Value: p.PublicDER(), ValidityStart: p.ValidityStart, ValidityEnd: at},
		{Fingerprint: r.Fingerprint(), Value: r.PublicDER(), ValidityStart: at, ValidityEnd: r.ValidityEnd},
	}
}

func TestCheckIsDeterministicWhateverTheInputOrder(t *testing.T) {
	b := build(trailSpec{hours: 6, logsIn: []int{1, 2, 4}})
	b.removeDigest(3)
	o, body := logFile(0)
	b.logs[o] = body
	c := b.chain(window(0, 6))
	want := integrity.Check(c)
	slices.Reverse(c.Digests)
	if got := integrity.Check(c); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("reversed input:\n got %v\nwant %v", got, want)
	}
}
