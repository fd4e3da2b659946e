package policy

import (
	"reflect"
	"testing"
	"time"
)

func mustParse(t testing.TB, src string) *Policy {
	t.Helper()
	p, err := Parse("p.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p
}

func utc(t testing.TB, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// monday is a plain weekday used where the time does not matter.
const monday = "2026-11-02T12:00:00Z"

func TestEvaluate(t *testing.T) {
	p := mustParse(t, `version: "1"
rules:
  - name: deny-interns
    effect: deny
    conditions: {users: [intern]}
    reason: interns never get credentials
  - name: prod-tracked
    effect: require_server_session
    conditions:
      profiles: [prod]
      mode: [server, credential_process]
    session_table: prod-sessions
    reason: prod access must be revocable
  - name: prod-cli
    effect: require_server
    conditions: {profiles: prod, mode: cli}
  - name: alice-anything
    effect: allow
    conditions: {users: [alice, bob]}
  - name: dev-open
    effect: allow
    conditions: {profiles: [dev]}
`)
	tests := []struct {
		name string
		req  Request
		want Decision
	}{
		{"first_match_wins_over_later_rules", Request{Profile: "prod", User: "intern", Mode: ModeServer},
			Decision{Effect: EffectDeny, Rule: "deny-interns", Reason: "interns never get credentials", Matched: true}},
		{"profile_and_mode_match", Request{Profile: "prod", User: "alice", Mode: ModeServer},
			Decision{Effect: EffectRequireServerSession, Rule: "prod-tracked", Reason: "prod access must be revocable", SessionTable: "prod-sessions", Matched: true}},
		{"mode_not_listed_falls_through", Request{Profile: "prod", User: "alice", Mode: ModeCLI},
			Decision{Effect: EffectRequireServer, Rule: "prod-cli", Matched: true}},
		{"unknown_mode_matches_a_mode_condition", Request{Profile: "prod", User: "alice"},
			Decision{Effect: EffectRequireServerSession, Rule: "prod-tracked", Reason: "prod access must be revocable", SessionTable: "prod-sessions", Matched: true}},
		{"user_condition", Request{Profile: "staging", User: "bob", Mode: ModeCLI},
			Decision{Effect: EffectAllow, Rule: "alice-anything", Matched: true}},
		{"profile_condition", Request{Profile: "dev", User: "carol"},
			Decision{Effect: EffectAllow, Rule: "dev-open", Matched: true}},
		{"profiles_match_exactly", Request{Profile: "Dev", User: "carol"},
			Decision{Effect: EffectDeny, Reason: "no rule matched: default deny"}},
		{"no_match_is_default_deny", Request{Profile: "staging", User: "carol", Mode: ModeServer},
			Decision{Effect: EffectDeny, Reason: "no rule matched: default deny"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.At = utc(t, monday)
			if got := p.Evaluate(tt.req); got != tt.want {
				t.Errorf("Evaluate = %+v\nwant       %+v", got, tt.want)
			}
			if got := p.Explain(tt.req).Decision; got != tt.want {
				t.Errorf("Explain.Decision = %+v\nwant               %+v", got, tt.want)
			}
		})
	}
}

func TestEvaluateWithoutRules(t *testing.T) {
	want := Decision{Effect: EffectDeny, Reason: "no rule matched: default deny"}
	for name, p := range map[string]*Policy{"nil_policy": nil, "empty_policy": {}} {
		t.Run(name, func(t *testing.T) {
			if got := p.Evaluate(Request{Profile: "prod"}); got != want {
				t.Errorf("Evaluate = %+v, want %+v", got, want)
			}
			if got := p.Explain(Request{Profile: "prod"}); got.Decision != want || len(got.Trace) != 0 {
				t.Errorf("Explain = %+v, want %+v with no trace", got, want)
			}
		})
	}
}

// TestEvaluateTime checks time windows against instants given in UTC, so the
// zone conversion (including DST) is part of what is tested.
func TestEvaluateTime(t *testing.T) {
	tests := []struct {
		name   string
		window string // the time condition, in YAML flow style
		at     string // RFC 3339
		want   bool
	}{
		// Days.
		{"day_listed", `{days: [monday]}`, "2026-11-02T00:00:00Z", true},
		{"day_not_listed", `{days: [tuesday]}`, "2026-11-02T23:59:59Z", false},
		{"day_is_read_in_the_zone", `{days: [monday], timezone: Asia/Tokyo}`, "2026-11-01T20:00:00Z", true},
		{"day_in_the_zone_not_utc", `{days: [sunday], timezone: Asia/Tokyo}`, "2026-11-01T20:00:00Z", false},

		// Hours: start inclusive, end exclusive.
		{"before_start", `{hours: {start: "09:00", end: "17:00"}}`, "2026-11-02T08:59:59Z", false},
		{"at_start", `{hours: {start: "09:00", end: "17:00"}}`, "2026-11-02T09:00:00Z", true},
		{"last_second", `{hours: {start: "09:00", end: "17:00"}}`, "2026-11-02T16:59:59Z", true},
		{"at_end", `{hours: {start: "09:00", end: "17:00"}}`, "2026-11-02T17:00:00Z", false},
		{"end_24_00_covers_the_last_minute", `{hours: {start: "20:00", end: "24:00"}}`, "2026-11-02T23:59:59Z", true},
		{"end_24_00_stops_at_midnight", `{hours: {start: "20:00", end: "24:00"}}`, "2026-11-03T00:00:00Z", false},
		{"days_and_hours_both_apply", `{days: [tue], hours: {start: "09:00", end: "17:00"}}`, "2026-11-02T10:00:00Z", false},
		{"hours_in_the_zone", `{hours: {start: "09:00", end: "17:00"}, timezone: Europe/Berlin}`, "2026-11-02T08:00:00Z", true},
		{"hours_in_the_zone_not_utc", `{hours: {start: "09:00", end: "17:00"}, timezone: Europe/Berlin}`, "2026-11-02T16:30:00Z", false},

		// Crossing midnight: the day is the day the window started.
		{"crossing_midnight_before_midnight", `{days: [friday], hours: {start: "22:00", end: "02:00"}}`, "2026-03-06T23:30:00Z", true},
		{"crossing_midnight_after_midnight", `{days: [friday], hours: {start: "22:00", end: "02:00"}}`, "2026-03-07T01:00:00Z", true},
		{"crossing_midnight_early_on_the_listed_day", `{days: [friday], hours: {start: "22:00", end: "02:00"}}`, "2026-03-06T01:00:00Z", false},
		{"crossing_midnight_late_on_the_next_day", `{days: [friday], hours: {start: "22:00", end: "02:00"}}`, "2026-03-07T22:30:00Z", false},
		{"crossing_midnight_at_start", `{days: [friday], hours: {start: "22:00", end: "02:00"}}`, "2026-03-06T22:00:00Z", true},
		{"crossing_midnight_at_end", `{days: [friday], hours: {start: "22:00", end: "02:00"}}`, "2026-03-07T02:00:00Z", false},
		{"crossing_midnight_midday", `{days: [friday], hours: {start: "22:00", end: "02:00"}}`, "2026-03-06T12:00:00Z", false},
		{"crossing_midnight_every_day", `{hours: {start: "22:00", end: "02:00"}}`, "2026-03-04T01:59:00Z", true},
		{"crossing_midnight_sunday_into_monday", `{days: [sun], hours: {start: "22:00", end: "02:00"}}`, "2026-03-09T01:00:00Z", true},

		// Europe/Berlin springs forward on 2026-03-29 at 02:00 CET (01:00Z) to 03:00 CEST.
		{"spring_forward_day_before_in_cet", `{hours: {start: "09:00", end: "17:00"}, timezone: Europe/Berlin}`, "2026-03-28T08:00:00Z", true},
		{"spring_forward_same_utc_hour_is_10_cest", `{hours: {start: "09:00", end: "10:00"}, timezone: Europe/Berlin}`, "2026-03-29T08:00:00Z", false},
		{"spring_forward_09_00_cest", `{hours: {start: "09:00", end: "10:00"}, timezone: Europe/Berlin}`, "2026-03-29T07:00:00Z", true},
		{"spring_forward_gap_hour_never_matches_before", `{hours: {start: "02:00", end: "03:00"}, timezone: Europe/Berlin}`, "2026-03-29T00:59:59Z", false},
		{"spring_forward_gap_hour_never_matches_after", `{hours: {start: "02:00", end: "03:00"}, timezone: Europe/Berlin}`, "2026-03-29T01:00:00Z", false},
		{"spring_forward_window_spanning_the_gap_cet_side", `{days: [sun], hours: {start: "01:00", end: "04:00"}, timezone: Europe/Berlin}`, "2026-03-29T00:30:00Z", true},
		{"spring_forward_window_spanning_the_gap_cest_side", `{days: [sun], hours: {start: "01:00", end: "04:00"}, timezone: Europe/Berlin}`, "2026-03-29T01:30:00Z", true},
		{"spring_forward_window_spanning_the_gap_end", `{days: [sun], hours: {start: "01:00", end: "04:00"}, timezone: Europe/Berlin}`, "2026-03-29T02:00:00Z", false},
		{"spring_forward_crossing_midnight_night", `{days: [sat], hours: {start: "22:00", end: "04:00"}, timezone: Europe/Berlin}`, "2026-03-29T01:30:00Z", true},
		{"spring_forward_crossing_midnight_end", `{days: [sat], hours: {start: "22:00", end: "04:00"}, timezone: Europe/Berlin}`, "2026-03-29T02:00:00Z", false},

		// Europe/Berlin falls back on 2026-10-25 at 03:00 CEST (01:00Z) to 02:00 CET: 02:30 happens twice.
		{"fall_back_first_02_30_cest", `{days: [sun], hours: {start: "02:00", end: "03:00"}, timezone: Europe/Berlin}`, "2026-10-25T00:30:00Z", true},
		{"fall_back_second_02_30_cet", `{days: [sun], hours: {start: "02:00", end: "03:00"}, timezone: Europe/Berlin}`, "2026-10-25T01:30:00Z", true},
		{"fall_back_03_00_cet", `{days: [sun], hours: {start: "02:00", end: "03:00"}, timezone: Europe/Berlin}`, "2026-10-25T02:00:00Z", false},
		{"fall_back_01_59_cest", `{days: [sun], hours: {start: "02:00", end: "03:00"}, timezone: Europe/Berlin}`, "2026-10-24T23:59:00Z", false},
		{"fall_back_business_hours_in_cet", `{hours: {start: "09:00", end: "17:00"}, timezone: Europe/Berlin}`, "2026-10-25T16:30:00Z", false},
		{"fall_back_business_hours_day_before_in_cest", `{hours: {start: "09:00", end: "17:00"}, timezone: Europe/Berlin}`, "2026-10-24T14:30:00Z", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, "version: \"1\"\nrules:\n  - name: window\n    effect: allow\n    conditions: {time: "+tt.window+"}\n")
			got := p.Evaluate(Request{Profile: "any", At: utc(t, tt.at)})
			if got.Matched != tt.want {
				ex := p.Explain(Request{Profile: "any", At: utc(t, tt.at)})
				t.Errorf("window %s at %s: matched %v, want %v (%s)", tt.window, tt.at, got.Matched, tt.want, ex.Trace[0].Mismatch)
			}
		})
	}
}

func TestEvaluateHandBuiltPolicy(t *testing.T) {
	// A Policy built in code rather than parsed may leave Location nil: UTC.
	p := &Policy{Rules: []Rule{{
		Name:       "night",
		Effect:     EffectAllow,
		Conditions: Conditions{Time: &TimeWindow{Start: 22 * 60, End: 6 * 60, HasHours: true}},
	}}}
	if got := p.Evaluate(Request{At: utc(t, "2026-11-02T05:59:00Z")}); !got.Matched {
		t.Errorf("05:59 UTC should be inside 22:00-06:00 UTC: %+v", got)
	}
	if got := p.Evaluate(Request{At: utc(t, "2026-11-02T06:00:00+01:00")}); !got.Matched {
		t.Errorf("05:00 UTC should be inside 22:00-06:00 UTC: %+v", got)
	}
	if got := p.Evaluate(Request{At: utc(t, "2026-11-02T06:00:00Z")}); got.Matched {
		t.Errorf("06:00 UTC should be outside 22:00-06:00 UTC: %+v", got)
	}
}

func TestExplain(t *testing.T) {
	p := mustParse(t, `version: "1"
rules:
  - name: deny-interns
    effect: deny
    conditions: {users: [intern]}
  - name: prod-hours
    effect: require_server_session
    conditions:
      profiles: [prod]
      time: {days: [monday, friday], hours: {start: "09:00", end: "17:00"}, timezone: Europe/Berlin}
      mode: [server]
  - name: night-batch
    effect: allow
    conditions:
      users: [ci]
      time: {hours: {start: "22:00", end: "24:00"}}
  - name: dev
    effect: allow
    conditions: {profiles: [dev, sandbox]}
`)
	tests := []struct {
		name string
		req  Request
		want Explanation
	}{
		{
			name: "every_rule_traced_until_default_deny",
			req:  Request{Profile: "prod", User: "alice", At: utc(t, "2026-11-02T07:00:00Z"), Mode: ModeCLI},
			want: Explanation{
				Decision: Decision{Effect: EffectDeny, Reason: "no rule matched: default deny"},
				Trace: []RuleTrace{
					{Rule: "deny-interns", Mismatch: `user "alice" not in [intern]`},
					{Rule: "prod-hours", Mismatch: `time 2026-11-02T08:00:00+01:00 (Monday 08:00 Europe/Berlin) outside monday,friday 09:00-17:00; mode "cli" not in [server]`},
					{Rule: "night-batch", Mismatch: `user "alice" not in [ci]; time 2026-11-02T07:00:00Z (Monday 07:00 UTC) outside 22:00-24:00`},
					{Rule: "dev", Mismatch: `profile "prod" not in [dev, sandbox]`},
				},
			},
		},
		{
			name: "trace_stops_at_the_first_match",
			req:  Request{Profile: "prod", User: "alice", At: utc(t, "2026-11-02T09:00:00Z"), Mode: ModeServer},
			want: Explanation{
				Decision: Decision{Effect: EffectRequireServerSession, Rule: "prod-hours", Matched: true},
				Trace: []RuleTrace{
					{Rule: "deny-interns", Mismatch: `user "alice" not in [intern]`},
					{Rule: "prod-hours", Matched: true},
				},
			},
		},
		{
			name: "first_rule_matches",
			req:  Request{Profile: "dev", User: "intern", At: utc(t, monday)},
			want: Explanation{
				Decision: Decision{Effect: EffectDeny, Rule: "deny-interns", Matched: true},
				Trace:    []RuleTrace{{Rule: "deny-interns", Matched: true}},
			},
		},
		{
			name: "empty_request_fields_are_quoted",
			req:  Request{At: utc(t, "2026-11-06T16:00:00Z"), Mode: ModeServer},
			want: Explanation{
				Decision: Decision{Effect: EffectDeny, Reason: "no rule matched: default deny"},
				Trace: []RuleTrace{
					{Rule: "deny-interns", Mismatch: `user "" not in [intern]`},
					{Rule: "prod-hours", Mismatch: `profile "" not in [prod]; time 2026-11-06T17:00:00+01:00 (Friday 17:00 Europe/Berlin) outside monday,friday 09:00-17:00`},
					{Rule: "night-batch", Mismatch: `user "" not in [ci]; time 2026-11-06T16:00:00Z (Friday 16:00 UTC) outside 22:00-24:00`},
					{Rule: "dev", Mismatch: `profile "" not in [dev, sandbox]`},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.Explain(tt.req)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Explain =\n%+v\nwant\n%+v", got, tt.want)
			}
			if d := p.Evaluate(tt.req); d != got.Decision {
				t.Errorf("Evaluate = %+v, Explain.Decision = %+v", d, got.Decision)
			}
		})
	}
}

func TestSessionProfiles(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"sorted_and_deduplicated", `version: "1"
rules:
  - {name: a, effect: require_server_session, conditions: {profiles: [prod, billing]}}
  - {name: b, effect: require_server, conditions: {profiles: [staging]}}
  - {name: c, effect: require_server_session, conditions: {profiles: prod, users: [bob]}}
  - {name: d, effect: allow, conditions: {profiles: [dev]}}
  - {name: e, effect: require_server_session, conditions: {profiles: [audit, billing]}}
`, []string{"audit", "billing", "prod"}},
		{"rules_without_profiles_list_none", `version: "1"
rules:
  - {name: a, effect: require_server_session}
  - {name: b, effect: deny, conditions: {profiles: [prod]}}
`, nil},
		{"sample_policy", "", []string{"batch", "prod", "prod-admin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p *Policy
			if tt.src == "" {
				var err error
				if p, err = Load("testdata/policy.yaml"); err != nil {
					t.Fatal(err)
				}
			} else {
				p = mustParse(t, tt.src)
			}
			if got := p.SessionProfiles(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SessionProfiles = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSamplePolicy walks testdata/policy.yaml through a working week.
func TestSamplePolicy(t *testing.T) {
	p, err := Load("testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  Request
		rule string
	}{
		{"intern_denied_first", Request{Profile: "dev", User: "intern", At: utc(t, monday)}, "break-glass-deny"},
		{"prod_in_business_hours", Request{Profile: "prod", User: "alice", At: utc(t, monday), Mode: ModeCLI}, "prod-tracked"},
		{"prod_at_night_denied", Request{Profile: "prod", User: "alice", At: utc(t, "2026-11-02T20:00:00Z")}, "prod-after-hours"},
		{"staging_needs_server", Request{Profile: "staging", User: "alice", At: utc(t, monday)}, "staging-via-server"},
		{"batch_friday_night_new_york", Request{Profile: "batch", User: "ci-bot", At: utc(t, "2026-11-07T05:30:00Z")}, "nightly-batch"},
		{"batch_saturday_night_new_york", Request{Profile: "batch", User: "ci-bot", At: utc(t, "2026-11-08T05:30:00Z")}, ""},
		{"dev_open", Request{Profile: "sandbox", User: "bob", At: utc(t, monday)}, "dev-open"},
		{"unknown_profile", Request{Profile: "legacy", User: "bob", At: utc(t, monday)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Evaluate(tt.req); got.Rule != tt.rule || got.Matched != (tt.rule != "") {
				t.Errorf("Evaluate = %+v, want rule %q", got, tt.rule)
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	tests := []struct {
		in      string
		want    Mode
		wantErr string
	}{
		{"server", ModeServer, ""},
		{"cli", ModeCLI, ""},
		{"credential_process", ModeCredentialProcess, ""},
		{"CLI", "", `unknown mode "CLI" (valid: server, cli, credential_process)`},
		{"", "", `unknown mode "" (valid: server, cli, credential_process)`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMode(tt.in)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if got != tt.want || gotErr != tt.wantErr {
				t.Errorf("ParseMode(%q) = %q, %q; want %q, %q", tt.in, got, gotErr, tt.want, tt.wantErr)
			}
		})
	}
}

func TestEffectRequiresServer(t *testing.T) {
	tests := map[Effect]bool{
		EffectAllow:                false,
		EffectDeny:                 false,
		EffectRequireServer:        true,
		EffectRequireServerSession: true,
		Effect("bogus"):            false,
	}
	for e, want := range tests {
		if got := e.RequiresServer(); got != want {
			t.Errorf("%q.RequiresServer() = %v, want %v", e, got, want)
		}
	}
}
