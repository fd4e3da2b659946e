// Package window parses the --since/--until values of every Sentinel command into a time window.
package window

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Window is a half-open time range [Since, Until). A zero Since or Until means unbounded.
type Window struct {
	Since time.Time
	Until time.Time
}

// Contains reports whether t lies inside the window.
func (w Window) Contains(t time.Time) bool {
	if !w.Since.IsZero() && t.Before(w.Since) {
		return false
	}
	return w.Until.IsZero() || t.Before(w.Until)
}

// Bounded reports whether both ends are set.
func (w Window) Bounded() bool { return !w.Since.IsZero() && !w.Until.IsZero() }

// String renders the window as "SINCE to UNTIL" with "beginning"/"now"-style words for open ends.
func (w Window) String() string {
	return fmtEnd(w.Since, "the beginning") + " to " + fmtEnd(w.Until, "the end")
}

func fmtEnd(t time.Time, open string) string {
	if t.IsZero() {
		return open
	}
	return t.UTC().Format(time.RFC3339)
}

// Parse builds a window from the flag values since and until, relative to now. Either may be empty
// (unbounded). It fails when since is not before until.
func Parse(since, until string, now time.Time) (Window, error) {
	var w Window
	var err error
	if since != "" {
		if w.Since, err = ParseTime(since, now); err != nil {
			return Window{}, fmt.Errorf("--since: %w", err)
		}
	}
	if until != "" {
		if w.Until, err = ParseTime(until, now); err != nil {
			return Window{}, fmt.Errorf("--until: %w", err)
		}
	}
	if !w.Since.IsZero() && !w.Until.IsZero() && !w.Since.Before(w.Until) {
		return Window{}, fmt.Errorf("--since %s is not before --until %s", w.Since.Format(time.RFC3339), w.Until.Format(time.RFC3339))
	}
	return w, nil
}

// ParseTime reads an absolute time (RFC 3339, or a date YYYY-MM-DD meaning its UTC midnight) or a
// duration back from now: a positive number followed by d (days), h, m or s, e.g. 30d, 12h, 90m,
// or a Go duration such as 1h30m.
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("empty time")
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	d, err := ParseDuration(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2026-01-31T00:00:00Z), a date (2026-01-31) nor a duration (30d, 12h, 90m)", s)
	}
	return now.Add(-d).UTC(), nil
}

// ParseDuration reads a positive duration written as Nd (days) or any Go duration (12h, 90m, 1h30m).
func ParseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || n <= 0 || n > 100*365 {
			return 0, fmt.Errorf("bad day count %q", s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("duration %q is not positive", s)
	}
	return d, nil
}
