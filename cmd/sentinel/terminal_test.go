package main

import (
	"bytes"
	"io"
	"os/exec"
	"path/filepath"
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

// TestTablesFitTheTerminal: on a terminal a report's tables fit its width, long free text and
// names cut with an ellipsis, ids and times whole; --wide, a pipe, JSON and CSV keep every cell
// whole.
func TestTablesFitTheTerminal(t *testing.T) {
	wh := ingestFixtures(t)
	report := []string{"--warehouse", wh, "--config", fixtures + "/sentinel.yaml", "audit", "untracked-sessions", "--since", since, "--until", until}
	const width = 230
	// The rows of the issuances tables: the lines holding an event id.
	rows := func(screen string) []string {
		var out []string
		for _, l := range strings.Split(screen, "\n") {
			if strings.Contains(l, "0732a074-bcbb-48ae-850f-d365fee37fb7") || strings.Contains(l, "9871eae2-1e1b-436f-83dc-130e01765043") {
				out = append(out, l)
			}
		}
		return out
	}
	widest := func(lines []string) int {
		n := 0
		for _, l := range lines {
			n = max(n, runewidth.StringWidth(l))
		}
		return n
	}

	screen, code := onTerminal(t, nil, width, report...)
	fitted := rows(screen)
	if code != 1 || len(fitted) != 2 || widest(fitted) > width || !strings.Contains(strings.Join(fitted, "\n"), "…") {
		t.Fatalf("exit %d; on a %d-column terminal the rows are %d wide, want them to fit, shortened with …:\n%s", code, width, widest(fitted), screen)
	}
	for _, whole := range []string{"2026-11-05T13:02:33Z", "2026-11-05T20:15:00Z", "no_source_identity", "222222222222"} {
		if !strings.Contains(screen, whole) {
			t.Errorf("%q is not whole on the terminal:\n%s", whole, screen)
		}
	}

	screen, _ = onTerminal(t, nil, width, append(report, "--wide")...)
	if wide := rows(screen); widest(wide) <= width || strings.Contains(strings.Join(wide, "\n"), "…") {
		t.Errorf("--wide on a terminal: rows %d wide, want every cell whole:\n%s", widest(wide), screen)
	}
	piped := sentinel(t, nil, report...).mustExit(t, 1)
	if whole := rows(piped.stdout); widest(whole) <= width || strings.Contains(strings.Join(whole, "\n"), "…") || widest(whole) != widest(rows(screen)) {
		t.Errorf("into a pipe: rows %d wide, want every cell whole:\n%s", widest(whole), piped.stdout)
	}
	for _, format := range []string{"json", "csv"} {
		screen, _ = onTerminal(t, nil, width, append(report, "--format", format)...)
		if !strings.Contains(screen, "aws-cli/2.31.4") || strings.Contains(screen, "…") {
			t.Errorf("--format %s on a terminal cuts cells:\n%s", format, screen)
		}
	}
}
