package main

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/mattn/go-runewidth"
)

// onTerminal runs sentinel with a pseudo-terminal of cols columns as its controlling terminal,
// stdin, stdout and stderr, and returns what the terminal showed (without the carriage returns
// the terminal adds) and the exit code.
func onTerminal(t *testing.T, env []string, cols int, args ...string) (string, int) {
	t.Helper()
	master, tty := openPTY(t)
	defer master.Close()
	size := struct{ rows, cols, x, y uint16 }{50, uint16(cols), 0, 0}
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, tty.Fd(), syscall.TIOCSWINSZ, uintptr(unsafe.Pointer(&size))); errno != 0 {
		t.Fatalf("set the terminal's size: %v", errno)
	}
	cmd := sentinelCommand(t, env, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	var screen bytes.Buffer
	done := make(chan struct{})
	go func() {
		io.Copy(&screen, master) // ends with EIO once the process and its terminal are gone
		close(done)
	}()
	err := cmd.Wait()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	<-done
	return strings.ReplaceAll(screen.String(), "\r\n", "\n"), cmd.ProcessState.ExitCode()
}

// TestQuietSilencesTheProgressBar: on a terminal ingest draws a progress bar; -q before or after
// the command leaves it out.
func TestQuietSilencesTheProgressBar(t *testing.T) {
	for name, tc := range map[string]struct {
		global, command []string
		bar             bool
	}{
		"bar_on_a_terminal":     {bar: true},
		"global_quiet":          {global: []string{"-q"}},
		"global_quiet_long":     {global: []string{"--quiet"}},
		"quiet_of_the_command":  {command: []string{"-q"}},
		"quiet_of_both_is_fine": {global: []string{"-q"}, command: []string{"--quiet"}},
	} {
		t.Run(name, func(t *testing.T) {
			args := append(append(append([]string{"--warehouse", filepath.Join(t.TempDir(), "wh")}, tc.global...), "ingest", "--source", fixtures+"/handoff"), tc.command...)
			screen, code := onTerminal(t, nil, 120, args...)
			if code != 0 || !strings.Contains(screen, "ingest: 4 files read") {
				t.Fatalf("exit %d:\n%s", code, screen)
			}
			if bar := strings.Contains(screen, "files 1/"); bar != tc.bar {
				t.Fatalf("progress bar shown: %v, want %v:\n%q", bar, tc.bar, screen)
			}
		})
	}
}

// The lines of the fixture reports' tables, headers and rows, whole or cut: of the issuances, of
// the Evidence block (indented), of the profiles and of the roles not mapped to one.
var (
	auditTables     = regexp.MustCompile(`^(TIME |2026-|  ACCOUNT |  \d{12} |PROFILE |(dev|prod|prod-readonly|staging) |ROLE |arn:|…)`)
	activityTables  = regexp.MustCompile(`^(ISSUED|2026-|  ACCOUNT |  \d{12} )`)
	integrityTables = regexp.MustCompile(`^(ACCOUNT |\d{8})`)
	infoTables      = regexp.MustCompile(`^(DATA|KIND |even|sess|issu|trail |snap|digest |insi)`)
	sqlTable        = regexp.MustCompile(`^(event_time|2026-)`)
)

// tableLines are the lines of screen that table matches.
func tableLines(table *regexp.Regexp, screen string) []string {
	var out []string
	for _, l := range strings.Split(screen, "\n") {
		if table.MatchString(l) {
			out = append(out, l)
		}
	}
	return out
}

// widest is the display width of the widest line.
func widest(lines []string) int {
	n := 0
	for _, l := range lines {
		n = max(n, runewidth.StringWidth(l))
	}
	return n
}

// TestTablesFitTheTerminal: on a terminal a report's tables fit its width, long free text and
// names cut with an ellipsis, times, account ids and numbers whole as long as they can be; --wide,
// a pipe, JSON and CSV keep every cell whole.
func TestTablesFitTheTerminal(t *testing.T) {
	wh := ingestFixtures(t)
	report := func(audit string) []string {
		return []string{"--warehouse", wh, "--config", fixtures + "/sentinel.yaml", "audit", audit, "--since", since, "--until", until}
	}
	untracked, compliance := report("untracked-sessions"), report("session-compliance")
	info := []string{"--warehouse", wh, "warehouse", "info"}
	sql := []string{"--warehouse", wh, "sql", "SELECT event_time, role_arn, source_identity, user_agent, class, reason FROM issuances ORDER BY event_time"}
	for _, tc := range []struct {
		name  string
		args  []string
		table *regexp.Regexp
		width int
		whole []string // cells shown whole
	}{
		{"untracked", untracked, auditTables, 80, []string{"444444444444 eu-west-1", "222222222222 us-east-1"}},
		{"untracked", untracked, auditTables, 120, []string{"2026-11-05T13:02:33Z", "222222222222", "198.51.100.99", "2026-11-05T10:22:50Z"}},
		{"untracked", untracked, auditTables, 230, []string{"2026-11-05T13:02:33Z", "2026-11-05T20:15:00Z", "no_source_identity", "222222222222"}},
		{"compliance", compliance, auditTables, 80, []string{"prod-readonly", "42.9% ⚠", "222222222222 us-east-1", "444444444444"}},
		{"compliance", compliance, auditTables, 120, []string{"prod-readonly", "2026-11-02T10:05:12Z", "2026-11-05T13:06:03Z", "POLICY REQUIRED"}},
		{"activity", report("activity"), activityTables, 80, []string{"alice"}},
		{"integrity", report("integrity"), integrityTables, 80, []string{"168/168", "eu-west-1"}},
		{"info", info, infoTables, 80, []string{"1344", "snapshot", "2026-11-02 .. 2026-11-06"}},
		{"sql", sql, sqlTable, 80, []string{"unverified", "…e/ProdAdmin"}},
	} {
		t.Run(fmt.Sprintf("%s_%d", tc.name, tc.width), func(t *testing.T) {
			screen, code := onTerminal(t, nil, tc.width, tc.args...)
			wide := tableLines(tc.table, sentinel(t, nil, tc.args...).mustExit(t, code).stdout)
			fitted := tableLines(tc.table, screen)
			if len(fitted) == 0 || len(fitted) != len(wide) {
				t.Fatalf("exit %d; %d table lines on the terminal, %d into a pipe:\n%s", code, len(fitted), len(wide), strings.Join(fitted, "\n"))
			}
			if widest(fitted) > tc.width || !strings.Contains(screen, "…") {
				t.Errorf("on a %d-column terminal the tables are %d wide, want them to fit, cut with …:\n%s", tc.width, widest(fitted), screen)
			}
			for _, whole := range tc.whole {
				if !strings.Contains(screen, whole) {
					t.Errorf("%q is not whole on the terminal:\n%s", whole, screen)
				}
			}
		})
	}

	t.Run("wide_pipe_json_csv_keep_cells_whole", func(t *testing.T) {
		const width = 120
		screen, _ := onTerminal(t, nil, width, append(untracked, "--wide")...)
		wide := tableLines(auditTables, screen)
		if widest(wide) <= width || strings.Contains(strings.Join(wide, "\n"), "…") {
			t.Errorf("--wide on a terminal: tables %d wide, want every cell whole:\n%s", widest(wide), screen)
		}
		piped := sentinel(t, nil, untracked...).mustExit(t, 1)
		if whole := tableLines(auditTables, piped.stdout); widest(whole) != widest(wide) || strings.Contains(strings.Join(whole, "\n"), "…") {
			t.Errorf("into a pipe: tables %d wide, want every cell whole:\n%s", widest(whole), piped.stdout)
		}
		for _, format := range []string{"json", "csv"} {
			screen, _ = onTerminal(t, nil, width, append(untracked, "--format", format)...)
			if !strings.Contains(screen, "aws-cli/2.31.4") || strings.Contains(screen, "…") {
				t.Errorf("--format %s on a terminal cuts cells:\n%s", format, screen)
			}
		}
	})

	// A terminal that does not tell its width (0 columns, as under script without stty): the
	// tables fit $COLUMNS, else 80 columns.
	t.Run("terminal_of_unknown_width", func(t *testing.T) {
		for _, tc := range []struct {
			env   []string
			width int
		}{{nil, 80}, {[]string{"COLUMNS=100"}, 100}, {[]string{"COLUMNS=wide"}, 80}} {
			screen, _ := onTerminal(t, tc.env, 0, untracked...)
			if got := widest(tableLines(auditTables, screen)); got > tc.width || got < tc.width-1 {
				t.Errorf("with %v: tables %d wide, want %d:\n%s", tc.env, got, tc.width, screen)
			}
		}
	})
}
