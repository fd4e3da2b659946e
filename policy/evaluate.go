package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// defaultDenyReason is the Decision reason when no rule matched.
const defaultDenyReason = "no rule matched: default deny"

// Evaluate decides r: the first rule whose conditions all match wins; when
// none matches the request is denied with Matched false.
func (p *Policy) Evaluate(r Request) Decision {
	if p != nil {
		for i := range p.Rules {
			rule := &p.Rules[i]
			if ok, _ := rule.Conditions.check(r, false); ok {
				return rule.decision()
			}
		}
	}
	return defaultDeny()
}

// Explain decides r like Evaluate and also records, for every rule evaluated
// up to and including the first match, whether it matched and why not.
func (p *Policy) Explain(r Request) Explanation {
	var ex Explanation
	if p != nil {
		for i := range p.Rules {
			rule := &p.Rules[i]
			ok, why := rule.Conditions.check(r, true)
			ex.Trace = append(ex.Trace, RuleTrace{Rule: rule.Name, Matched: ok, Mismatch: strings.Join(why, "; ")})
			if ok {
				ex.Decision = rule.decision()
				return ex
			}
		}
	}
	ex.Decision = defaultDeny()
	return ex
}

func defaultDeny() Decision {
	return Decision{Effect: EffectDeny, Reason: defaultDenyReason}
}

func (rule *Rule) decision() Decision {
	return Decision{
		Effect:       rule.Effect,
		Rule:         rule.Name,
		Reason:       rule.Reason,
		SessionTable: rule.SessionTable,
		Matched:      true,
	}
}

// check reports whether every condition matches r. With explain it checks all
// conditions and describes each mismatch; without, it stops at the first.
func (c *Conditions) check(r Request, explain bool) (bool, []string) {
	var why []string
	if len(c.Profiles) > 0 && !slices.Contains(c.Profiles, r.Profile) {
		if !explain {
			return false, nil
		}
		why = append(why, fmt.Sprintf("profile %s not in %s", quote(r.Profile), list(c.Profiles)))
	}
	if len(c.Users) > 0 && !slices.Contains(c.Users, r.User) {
		if !explain {
			return false, nil
		}
		why = append(why, fmt.Sprintf("user %s not in %s", quote(r.User), list(c.Users)))
	}
	if w := c.Time; w != nil && !w.contains(r.At) {
		if !explain {
			return false, nil
		}
		loc := w.location()
		t := r.At.In(loc)
		why = append(why, fmt.Sprintf("time %s (%s %s) outside %s", t.Format(time.RFC3339), t.Format("Monday 15:04"), loc, w.describe()))
	}
	if len(c.Modes) > 0 && r.Mode != "" && !slices.Contains(c.Modes, r.Mode) {
		if !explain {
			return false, nil
		}
		why = append(why, fmt.Sprintf("mode %s not in %s", quote(string(r.Mode)), list(c.Modes)))
	}
	return len(why) == 0, why
}

// list formats condition values for a mismatch message: [a, b].
func list[S ~string](values []S) string {
	return "[" + joinStrings(values) + "]"
}

func (w *TimeWindow) location() *time.Location {
	if w.Location == nil {
		return time.UTC
	}
	return w.Location
}

// contains reports whether at falls in the window, reading the wall clock in
// the window's zone (so DST shifts move the window with local time).
func (w *TimeWindow) contains(at time.Time) bool {
	t := at.In(w.location())
	day := t.Weekday()
	if !w.HasHours {
		return w.onDay(day)
	}
	minute := t.Hour()*60 + t.Minute()
	switch {
	case w.Start < w.End:
		return minute >= w.Start && minute < w.End && w.onDay(day)
	case minute >= w.Start:
		// Crosses midnight and started today.
		return w.onDay(day)
	case minute < w.End:
		// Crosses midnight and started yesterday: the day condition names the
		// day the window opened.
		return w.onDay((day + 6) % 7)
	}
	return false
}

func (w *TimeWindow) onDay(day time.Weekday) bool {
	if len(w.Days) == 0 {
		return true
	}
	for _, d := range w.Days {
		if d == day {
			return true
		}
	}
	return false
}

// describe formats the window for a mismatch message, e.g.
// "monday,friday 09:00-17:00".
func (w *TimeWindow) describe() string {
	var parts []string
	if len(w.Days) > 0 {
		days := make([]string, len(w.Days))
		for i, d := range w.Days {
			days[i] = strings.ToLower(d.String())
		}
		parts = append(parts, strings.Join(days, ","))
	}
	if w.HasHours {
		parts = append(parts, formatClock(w.Start)+"-"+formatClock(w.End))
	}
	if len(parts) == 0 {
		return "every day"
	}
	return strings.Join(parts, " ")
}

// Timed reports whether any rule has a time condition. Without one, Evaluate decides requests
// that differ only in At alike.
func (p *Policy) Timed() bool {
	if p == nil {
		return false
	}
	for i := range p.Rules {
		if p.Rules[i].Conditions.Time != nil {
			return true
		}
	}
	return false
}

// TimeClass says what the rules' time conditions make of t: one byte per rule with a time
// condition, in rule order, '1' when t is in its window and '0' when not ("" without time
// conditions). Evaluate reads At only through those conditions, so requests that differ only in
// At are decided alike when their times have the same class: a caller deciding many requests can
// decide one per class.
func (p *Policy) TimeClass(t time.Time) string {
	if p == nil {
		return ""
	}
	var b []byte
	for i := range p.Rules {
		if w := p.Rules[i].Conditions.Time; w != nil {
			if w.contains(t) {
				b = append(b, '1')
			} else {
				b = append(b, '0')
			}
		}
	}
	return string(b)
}

// MinuteSteady reports whether every instant of the minute that begins at t, a whole UTC minute,
// has t's TimeClass. Time conditions read the wall clock of their zone to the minute, so that
// holds unless a zone's offset at t is not a whole number of minutes (local mean time, before
// standard time) or the zone changes its offset within the minute.
func (p *Policy) MinuteSteady(t time.Time) bool {
	if t.Unix()%60 != 0 || t.Nanosecond() != 0 {
		return false
	}
	if p == nil {
		return true
	}
	for i := range p.Rules {
		w := p.Rules[i].Conditions.Time
		if w == nil {
			continue
		}
		local := t.In(w.location())
		_, offset := local.Zone()
		_, end := local.ZoneBounds()
		if offset%60 != 0 || !end.IsZero() && end.Before(t.Add(time.Minute)) {
			return false
		}
	}
	return true
}
