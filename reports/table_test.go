package reports

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"
)

func TestTablesFitTheTerminal(t *testing.T) {
	const id = "7f0c1a52-9e0b-4f55-8a43-0c7a1b2d9e11"
	const agent = "aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off command/sts.assume-role"
	const user = "arn:aws:sts::111111111111:assumed-role/GitHubActions/oidc-subject"
	table := func() *textTable {
		t := newTable("Time", "User", "Event ID", "Calls", "User Agent", "Reason")
		rightAligned(t, 4)
		t.AppendRow([]any{"2026-11-04T10:00:00Z", user, id, 12, agent, "no SourceIdentity on the AssumeRole"})
		t.AppendRow([]any{"2026-11-04T11:00:00Z", "alice", id[:8], 3, "-", "-"})
		return t
	}
	widest := func(s string) int {
		n := 0
		for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
			n = max(n, runewidth.StringWidth(l))
		}
		return n
	}
	for name, tc := range map[string]struct {
		width    int
		fits     bool // every line within width
		whole    []string
		clipped  []string
		ellipses bool
	}{
		"no_limit_keeps_every_cell_whole": {width: 0, whole: []string{id, agent, user, "no SourceIdentity on the AssumeRole"}},
		"wide_enough_changes_nothing":     {width: 400, fits: true, whole: []string{id, agent, user}},
		// Free text gives up width first, the widest first: the user agent, then the reason.
		"free_text_shrinks_first": {width: 200, fits: true, whole: []string{id, user, "2026-11-04T10:00:00Z"}, clipped: []string{agent}, ellipses: true},
		// Then names: the user; times, ids and numbers stay whole.
		"then_names": {width: 110, fits: true, whole: []string{id, "2026-11-04T10:00:00Z", "alice"}, clipped: []string{agent, user}, ellipses: true},
		// Narrower than ids and times allow: as narrow as it gets, still wider than the terminal.
		"never_below_ids_and_times": {width: 40, whole: []string{id, "2026-11-04T10:00:00Z", "USER AGENT", "REASON"}, clipped: []string{agent, user}, ellipses: true},
	} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			render(fitTo(&out, tc.width), table())
			s := out.String()
			if tc.fits && widest(s) > tc.width {
				t.Errorf("%d columns wide, want at most %d:\n%s", widest(s), tc.width, s)
			}
			for _, w := range tc.whole {
				if !strings.Contains(s, w) {
					t.Errorf("%q is not whole:\n%s", w, s)
				}
			}
			for _, c := range tc.clipped {
				if strings.Contains(s, c) {
					t.Errorf("%q is whole, want it shortened:\n%s", c, s)
				}
			}
			if strings.Contains(s, "…") != tc.ellipses {
				t.Errorf("ellipsis shown: %v, want %v:\n%s", strings.Contains(s, "…"), tc.ellipses, s)
			}
		})
	}
}
