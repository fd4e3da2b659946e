package policy

import (
	"math/rand/v2"
	"testing"
	"time"
)

// timedPolicy has time conditions in zones with whole-hour, half-hour and 45-minute offsets, DST
// and local mean times of seconds (Monrovia until 1972, Amsterdam until 1937), windows opening
// and closing at odd minutes, and conditions on profile, user and mode as well.
const timedPolicy = `version: "1"
rules:
  - {name: berlin, effect: require_server_session, conditions: {profiles: [prod], time: {days: [mon, fri], hours: {start: "09:17", end: "17:03"}, timezone: Europe/Berlin}}}
  - {name: monrovia, effect: deny, conditions: {users: [alice], time: {hours: {start: "22:01", end: "02:59"}, timezone: Africa/Monrovia}}}
  - {name: amsterdam, effect: require_server, conditions: {time: {days: [sun], timezone: Europe/Amsterdam}}}
  - {name: kathmandu, effect: allow, conditions: {mode: [cli], time: {hours: {start: "00:00", end: "12:01"}, timezone: Asia/Kathmandu}}}
  - {name: lord-howe, effect: require_server_session, conditions: {profiles: [dev], time: {hours: {start: "01:59", end: "02:31"}, timezone: Australia/Lord_Howe}}}
  - {name: utc, effect: allow, conditions: {time: {days: [wed]}}}
`

// testMinutes are whole UTC minutes to check: random ones from 1890 to 2040 and those around every
// offset change of the policy's zones in that span.
func testMinutes(t *testing.T, zones []string) []time.Time {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	from, to := time.Date(1890, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	var out []time.Time
	for range 3000 {
		out = append(out, from.Add(time.Duration(r.Int64N(int64(to.Sub(from)/time.Minute)))*time.Minute))
	}
	for _, z := range zones {
		loc, err := time.LoadLocation(z)
		if err != nil {
			t.Fatal(err)
		}
		for at := from.In(loc); at.Before(to); {
			_, end := at.ZoneBounds()
			if end.IsZero() {
				break
			}
			m := end.UTC().Truncate(time.Minute)
			out = append(out, m.Add(-time.Minute), m, m.Add(time.Minute))
			at = end
		}
	}
	return out
}

func TestMinuteSteadyMinutesHaveOneTimeClass(t *testing.T) {
	p := mustParse(t, timedPolicy)
	var steady, unsteady int
	for _, m := range testMinutes(t, []string{"Europe/Berlin", "Africa/Monrovia", "Europe/Amsterdam", "Asia/Kathmandu", "Australia/Lord_Howe"}) {
		if !p.MinuteSteady(m) {
			unsteady++
			continue
		}
		steady++
		want := p.TimeClass(m)
		for _, d := range []time.Duration{time.Microsecond, time.Second, 29*time.Second + 500*time.Millisecond, 59 * time.Second, time.Minute - time.Microsecond} {
			if got := p.TimeClass(m.Add(d)); got != want {
				t.Fatalf("minute %s is steady, but %s has time class %s and its start %s", m, m.Add(d).Format(time.RFC3339Nano), got, want)
			}
		}
	}
	if steady == 0 || unsteady == 0 {
		t.Fatalf("%d steady and %d unsteady minutes: the test must see both", steady, unsteady)
	}
}

func TestMinuteSteady(t *testing.T) {
	p := mustParse(t, timedPolicy)
	tests := []struct {
		name string
		at   string
		want bool
	}{
		{"ordinary_minute", "2026-11-02T09:17:00Z", true},
		{"berlin_springs_forward_at_the_minute", "2026-03-29T01:00:00Z", true},
		{"minute_before_berlin_springs_forward", "2026-03-29T00:59:00Z", true},
		{"lord_howe_half_hour_dst", "2026-04-04T15:00:00Z", true},
		{"monrovia_local_mean_time", "1960-06-01T12:00:00Z", false},
		{"amsterdam_local_mean_time", "1930-06-01T12:00:00Z", false},
		{"not_a_whole_minute", "2026-11-02T09:17:01Z", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.MinuteSteady(utc(t, tt.at)); got != tt.want {
				t.Errorf("MinuteSteady(%s) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
	// Monrovia was at -0:44:30 then: its window opens at 22:01 local, 22:45:30 UTC, in mid-minute.
	opens := utc(t, "1960-06-01T22:45:00Z")
	if p.TimeClass(opens) == p.TimeClass(opens.Add(30*time.Second)) || p.MinuteSteady(opens) {
		t.Errorf("the minute Monrovia's window opens in has two time classes (%s, %s) and must not be steady",
			p.TimeClass(opens), p.TimeClass(opens.Add(30*time.Second)))
	}
	untimed := mustParse(t, "version: \"1\"\nrules:\n  - {name: a, effect: allow, conditions: {profiles: [prod]}}\n")
	if !untimed.MinuteSteady(utc(t, "1960-06-01T12:00:00Z")) || untimed.Timed() || untimed.TimeClass(utc(t, monday)) != "" {
		t.Error("a policy without time conditions has one time class at every instant")
	}
	if !p.Timed() || len(p.TimeClass(utc(t, monday))) != 6 {
		t.Errorf("timed policy: Timed %v, TimeClass %q", p.Timed(), p.TimeClass(utc(t, monday)))
	}
}

func TestSameTimeClassSameDecision(t *testing.T) {
	p := mustParse(t, timedPolicy)
	minutes := testMinutes(t, nil)
	byClass := map[string]time.Time{}
	r := rand.New(rand.NewPCG(3, 4))
	for i, m := range minutes {
		at := m.Add(time.Duration(r.Int64N(int64(time.Minute))))
		class := p.TimeClass(at)
		first, ok := byClass[class]
		if !ok {
			byClass[class] = at
			continue
		}
		for _, profile := range []string{"prod", "dev", "other"} {
			for _, user := range []string{"alice", "bob", ""} {
				for _, mode := range []Mode{"", ModeCLI, ModeServer} {
					req := Request{Profile: profile, User: user, Mode: mode, At: at}
					got := p.Evaluate(req)
					req.At = first
					if want := p.Evaluate(req); got != want {
						t.Fatalf("minute %d: %s and %s share time class %s, but %+v is decided %+v at the first and %+v at the second", i, first, at, class, req, want, got)
					}
				}
			}
		}
	}
	if len(byClass) < 4 {
		t.Fatalf("only %d time classes seen", len(byClass))
	}
}
