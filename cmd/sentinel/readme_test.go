package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestREADMETour runs the README's tour as printed, in bash from the repository root with the
// built binary first on PATH (its `make build` line is the one left out), and checks what the
// tour says: each command exits as the comment before it says ("(exit N"), and prints every
// line given after it as "#> " ("..." ends a line's part that must appear).
func TestREADMETour(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)## A tour\n.*?```sh\n(.*?)```").FindSubmatch(readme)
	if block == nil {
		t.Fatal("README has no tour")
	}
	type command struct {
		line string
		exit int
		want []string
	}
	var cmds []*command
	var script strings.Builder
	fmt.Fprintf(&script, "export PATH=%q:\"$PATH\"\n", filepath.Dir(binary))
	exitOf := regexp.MustCompile(`\(exit (\d)`)
	exit := -1
	for _, line := range strings.Split(string(block[1]), "\n") {
		switch {
		case strings.HasPrefix(line, "make "):
		case strings.HasPrefix(line, "#> "):
			c := cmds[len(cmds)-1]
			c.want = append(c.want, strings.TrimSuffix(line[len("#> "):], "..."))
		case strings.HasPrefix(line, "#"):
			if m := exitOf.FindStringSubmatch(line); m != nil {
				exit, _ = strconv.Atoi(m[1])
			}
		case strings.HasPrefix(line, "sentinel "):
			if exit < 0 {
				t.Fatalf("the tour does not say how %q exits", line)
			}
			cmds = append(cmds, &command{line: line, exit: exit})
			n := len(cmds) - 1
			fmt.Fprintf(&script, "%s >\"$OUT/%d\" 2>&1; echo $? >\"$OUT/%d.exit\"\n", line, n, n)
		default:
			script.WriteString(line + "\n")
		}
	}
	out := t.TempDir()
	cmd := exec.Command("bash", "-c", script.String())
	cmd.Dir = repoRoot(t)
	home := t.TempDir()
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "OUT=" + out, "TMPDIR=" + t.TempDir(),
		"AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the tour's script failed: %v\n%s", err, stderr.String())
	}
	for i, c := range cmds {
		printed, err := os.ReadFile(filepath.Join(out, strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		code, err := os.ReadFile(filepath.Join(out, strconv.Itoa(i)+".exit"))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := strconv.Atoi(strings.TrimSpace(string(code))); got != c.exit {
			t.Errorf("%s\nexits %d, the tour says %d:\n%s", c.line, got, c.exit, printed)
		}
		for _, w := range c.want {
			if !strings.Contains(string(printed), w) {
				t.Errorf("%s\ndoes not print %q:\n%s", c.line, w, printed)
			}
		}
	}
	if len(cmds) < 10 {
		t.Fatalf("the tour has %d commands", len(cmds))
	}
}
