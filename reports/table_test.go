package reports

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-runewidth"
	"github.com/sentinel-audit/sentinel/enforce"
)

// lines are the rendered lines of a table.
func lines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }

// widest is the display width of the widest line of s.
func widest(s string) int {
	n := 0
	for _, l := range lines(s) {
		n = max(n, runewidth.StringWidth(l))
	}
	return n
}

// TestTablesFitTheTerminal: on a terminal of the given width a table fits it (see fit): free text
// gives up width first, then names and ids, then headers wider than their cells, then the gaps
// and times; numbers are never cut.
func TestTablesFitTheTerminal(t *testing.T) {
	const (
		at       = "2026-11-04T10:00:00Z"
		id       = "7f0c1a52-9e0b-4f55-8a43-0c7a1b2d9e11"
		agent    = "aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off command/sts.assume-role"
		user     = "arn:aws:sts::111111111111:assumed-role/GitHubActions/oidc-subject"
		reason   = "no SourceIdentity on the AssumeRole"
		requests = "12345"
	)
	table := func() *textTable {
		t := newTable("Time", "User", "Event ID", "Requests", "User Agent", "Reason")
		rightAligned(t, 4)
		t.AppendRow([]any{at, user, id, requests, agent, reason})
		t.AppendRow([]any{"2026-11-04T11:00:00Z", "alice", id[:8], 3, "-", "-"})
		return t
	}
	fitted := func(width int) string {
		var out bytes.Buffer
		render(fitTo(&out, width), table())
		return out.String()
	}
	for name, tc := range map[string]struct {
		width   int
		fits    bool     // every line within width
		whole   []string // cells shown whole
		clipped []string // cells cut with an ellipsis
		shown   []string // what is left of cut cells and headers
	}{
		"no_limit_keeps_every_cell_whole": {width: 0, whole: []string{at, id, agent, user, reason, requests}},
		"wide_enough_changes_nothing":     {width: 400, fits: true, whole: []string{at, id, agent, user, reason, requests}},
		// Free text gives up width first, the widest first.
		"200_free_text_first": {width: 200, fits: true, whole: []string{at, id, user, requests}, clipped: []string{agent, reason},
			shown: []string{"aws-cli/2.15.0 Python/3.11.6 L…", "no SourceIdentity on the Assu…"}},
		// Then names and ids with it, the widest first; an ARN keeps its end; times, numbers and
		// headers stay whole.
		"120_then_names_and_ids": {width: 120, fits: true, whole: []string{at, requests, "alice", "REQUESTS", "USER AGENT"}, clipped: []string{agent, user, id, reason},
			shown: []string{"…tHubActions/oidc-subject", "7f0c1a52-9e0b-4f55-8a43-…", "aws-cli/2.15.0…", "no SourceIdenti…"}},
		// Then headers wider than their cells, down to the numbers; then names again.
		"80_then_headers": {width: 80, fits: true, whole: []string{at, requests, "alice"}, clipped: []string{agent, user, id, reason},
			shown: []string{"REQU…", "…idc-subject", "7f0c1a52-9…", "aws-cli/2.…", "no SourceI…"}},
		"60_names_at_the_least": {width: 60, fits: true, whole: []string{at, requests, "alice"}, clipped: []string{agent, user, id, reason},
			shown: []string{"EVENT…", "…ubject", "7f0c1…", "aws-c…", "no So…"}},
		// Then one space between columns, and times too.
		"40_then_gaps_and_times": {width: 40, fits: true, whole: []string{requests}, clipped: []string{at, agent, user, id, reason},
			shown: []string{"2026-11-0… …ject 7f0c… 12345 aws-… no S…"}},
		// Narrower than the least widths: as narrow as it gets, the numbers whole.
		"30_no_narrower_than_the_least": {width: 30, whole: []string{requests}, clipped: []string{at, agent, user, id, reason},
			shown: []string{"2026… …ject 7f0c… 12345 aws-… no S…"}},
	} {
		t.Run(name, func(t *testing.T) {
			s := fitted(tc.width)
			if got := widest(s); tc.fits && got > tc.width {
				t.Errorf("%d columns wide, want at most %d:\n%s", got, tc.width, s)
			}
			for _, w := range tc.whole {
				if !strings.Contains(s, w) {
					t.Errorf("%q is not whole:\n%s", w, s)
				}
			}
			for _, c := range tc.clipped {
				if strings.Contains(s, c) {
					t.Errorf("%q is whole, want it cut:\n%s", c, s)
				}
			}
			for _, c := range tc.shown {
				if !strings.Contains(s, c) {
					t.Errorf("%q is not shown:\n%s", c, s)
				}
			}
			if want := len(tc.clipped) > 0; strings.Contains(s, "…") != want {
				t.Errorf("ellipsis shown: %v, want %v:\n%s", !want, want, s)
			}
		})
	}
	t.Run("as_wide_as_the_terminal", func(t *testing.T) {
		natural := widest(fitted(0))
		for width := 40; width < natural; width++ {
			// One less when the last column is cut after a space, which the cut leaves out.
			if s := fitted(width); widest(s) != width && widest(s) != width-1 {
				t.Fatalf("on %d columns the table is %d wide, want %d:\n%s", width, widest(s), width, s)
			}
		}
	})
}

// TestFittingMeasuresDisplayWidth: wide characters (CJK, emoji) take two columns; a cut never
// splits one, and the columns stay aligned.
func TestFittingMeasuresDisplayWidth(t *testing.T) {
	const (
		user   = "山田太郎のとても長い利用者名です"
		reason = "🔑🔑🔑 キーが見つかりません: no SourceIdentity on the request"
	)
	for _, width := range []int{40, 60, 80} {
		tbl := newTable("Time", "User", "Reason")
		tbl.AppendRow([]any{"2026-11-04T10:00:00Z", user, reason})
		tbl.AppendRow([]any{"2026-11-04T11:00:00Z", "alice", "-"})
		var out bytes.Buffer
		render(fitTo(&out, width), tbl)
		s := out.String()
		if got := widest(s); got > width {
			t.Errorf("on %d columns: %d wide:\n%s", width, got, s)
		}
		// The third column starts at the same display column on every line.
		ls := lines(s)
		starts := []int{strings.Index(ls[0], "REASON"), strings.Index(ls[1], "🔑"), strings.LastIndex(ls[2], "-")}
		for i, start := range starts {
			if start < 0 || runewidth.StringWidth(ls[i][:start]) != runewidth.StringWidth(ls[0][:starts[0]]) {
				t.Errorf("on %d columns the reasons do not line up:\n%s", width, s)
				break
			}
		}
		if !strings.Contains(s, "…") {
			t.Errorf("on %d columns nothing is cut:\n%s", width, s)
		}
	}
	if got := ellipsis(user, 6); got != "山田…" {
		t.Errorf("ellipsis(%q, 6) = %q, want 山田… (a third wide character would not fit)", user, got)
	}
	if got := ellipsis("🔑🔑🔑 x", 4); got != "🔑…" {
		t.Errorf("ellipsis of emoji = %q, want 🔑…", got)
	}
	if got := ellipsis("arn:aws:iam::1:role/山田", 7); got != "…e/山田" {
		t.Errorf("ellipsis of an ARN = %q, want …e/山田", got)
	}
}

// TestServerSessionsFitTheTerminal: the server-sessions table fits 80 and 120 columns, its times
// and statuses whole at 120 while ids, names and reasons are cut.
func TestServerSessionsFitTheTerminal(t *testing.T) {
	started := time.Date(2026, 11, 4, 10, 0, 0, 0, time.UTC)
	sessions := []enforce.Session{
		{ID: "b7a6c5d4e3f21098", Status: enforce.StatusRevoked, Profile: "prod-readonly", User: "arn:aws:iam::111111111111:user/alice",
			StartedAt: started, LastAccessAt: started.Add(time.Hour), ExpiresAt: started.Add(12 * time.Hour), RequestCount: 1234,
			RevokedBy: "arn:aws:iam::111111111111:user/security-oncall", RevokedReason: "credentials pasted into a public channel; rotate"},
		{ID: "deadbeefcafe0042", Status: enforce.StatusActive, Profile: "dev", User: "bob", StartedAt: started, ExpiresAt: started.Add(time.Hour)},
	}
	for _, width := range []int{80, 120} {
		var out bytes.Buffer
		if err := writeSessionsTable(fitTo(&out, width), "sentinel-sessions", sessions); err != nil {
			t.Fatal(err)
		}
		s := out.String()
		if got := widest(s); got > width || !strings.Contains(s, "…") || !strings.Contains(s, "1234") {
			t.Errorf("on %d columns: %d wide, want it to fit, cut with …, the counts whole:\n%s", width, got, s)
		}
		if width == 120 && (!strings.Contains(s, "2026-11-04T22:00:00Z") || !strings.Contains(s, "revoked")) {
			t.Errorf("on %d columns the times or statuses are cut:\n%s", width, s)
		}
	}
}
