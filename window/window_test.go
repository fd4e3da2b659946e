package window

import (
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"30d", now.AddDate(0, 0, -30)},
		{"12h", now.Add(-12 * time.Hour)},
		{"90m", now.Add(-90 * time.Minute)},
		{"1h30m", now.Add(-90 * time.Minute)},
		{"0.5d", now.Add(-12 * time.Hour)},
		{"2026-01-31T00:00:00Z", time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)},
		{"2026-01-31T01:00:00+01:00", time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)},
		{"2026-01-31", time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTime(tt.in, now)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.want) {
				t.Fatalf("ParseTime(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseTimeRejects(t *testing.T) {
	for _, in := range []string{"", "yesterday", "-5d", "0d", "30x", "2026-13-01", "d", "-1h"} {
		if _, err := ParseTime(in, now); err == nil {
			t.Errorf("ParseTime(%q) accepted", in)
		}
	}
}

func TestParseWindow(t *testing.T) {
	w, err := Parse("7d", "", now)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Since.Equal(now.AddDate(0, 0, -7)) || !w.Until.IsZero() {
		t.Fatalf("got %+v", w)
	}
	if !w.Contains(now) || w.Contains(now.AddDate(0, 0, -8)) {
		t.Fatal("Contains is wrong")
	}
	if _, err := Parse("2026-02-01", "2026-01-01", now); err == nil || !strings.Contains(err.Error(), "is not before") {
		t.Fatalf("inverted window: %v", err)
	}
	if _, err := Parse("soon", "", now); err == nil || !strings.HasPrefix(err.Error(), "--since:") {
		t.Fatalf("bad since must name the flag: %v", err)
	}
	if got := (Window{}).String(); got != "the beginning to the end" {
		t.Fatalf("String = %q", got)
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"30d", "12h", "2026-01-31T00:00:00Z", "2026-01-31", "1.5d", "9999999d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s, now)
		if err == nil && got.IsZero() {
			t.Fatalf("ParseTime(%q) returned zero time without error", s)
		}
	})
}
