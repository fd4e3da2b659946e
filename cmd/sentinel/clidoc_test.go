package main

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// command is one command of the CLI: its path below sentinel ("" for sentinel itself, whose
// flags are the global ones), its flags and subcommands.
type command struct {
	path  string
	flags []cli.Flag
	subs  []*cli.Command
}

// commands walks the CLI: sentinel itself, then every command and subcommand.
func commands() []command {
	app := newApp(io.Discard, io.Discard)
	out := []command{{flags: app.Flags, subs: app.Commands}}
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			path := strings.TrimSpace(prefix + " " + c.Name)
			out = append(out, command{path: path, flags: c.Flags, subs: c.Subcommands})
			walk(path, c.Subcommands)
		}
	}
	walk("", app.Commands)
	return out
}

// builtIn are the flags urfave/cli adds to every command.
var builtIn = []string{"help", "h", "version", "v", "generate-bash-completion"}

// TestFlagUsagesHaveNoBackquotes: urfave/cli takes a backquoted word in a flag's usage for the
// placeholder of its value (`--report sentinel audit report` in the help of a bool flag).
func TestFlagUsagesHaveNoBackquotes(t *testing.T) {
	for _, c := range commands() {
		for _, f := range c.flags {
			if d, ok := f.(cli.DocGenerationFlag); ok && strings.Contains(d.GetUsage(), "`") {
				t.Errorf("sentinel %s --%s: usage %q has a backquote, which --help shows as the flag's placeholder", c.path, f.Names()[0], d.GetUsage())
			}
		}
	}
}

// TestAWSConfigHelpNamesTheConfigDefault: without --aws-config, the Sentinel config file's
// defaults.aws_config comes first (awsConfigPath), and --help says so.
func TestAWSConfigHelpNamesTheConfigDefault(t *testing.T) {
	n := 0
	for _, c := range commands() {
		for _, f := range c.flags {
			if s, ok := f.(*cli.StringFlag); ok && s.Name == "aws-config" {
				n++
				if !strings.HasPrefix(s.DefaultText, "defaults.aws_config of the config file, else $AWS_CONFIG_FILE") {
					t.Errorf("sentinel %s --aws-config: default %q", c.path, s.DefaultText)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no command has --aws-config")
	}
}

// docFlag is a flag as docs/cli.md's synopses write it: --name, -n, [--name=false].
var docFlag = regexp.MustCompile(`(?:^|[\s\[|(])--?([a-zA-Z][a-zA-Z0-9-]*)`)

// auditFlagsMacro is how docs/cli.md defines, then uses, the flags the audit commands share.
const auditFlagsMacro = "[audit flags]"

// synopses reads the flags of every synopsis in docs/cli.md's code blocks: a line that begins
// with "sentinel COMMAND..." and the indented lines after it, by command path.
func synopses(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot(t), "docs", "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var texts []string // each synopsis, its lines joined
	macro, inFence, current := "", false, -1
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```"):
			inFence, current = !inFence, -1
		case !inFence:
		case strings.HasPrefix(line, "sentinel ") || strings.HasPrefix(line, auditFlagsMacro+" ="):
			texts, current = append(texts, line), len(texts)
		case current >= 0 && strings.HasPrefix(line, " "):
			texts[current] += " " + line
		default:
			current = -1
		}
	}
	for i, text := range texts {
		if def, ok := strings.CutPrefix(text, auditFlagsMacro+" ="); ok {
			macro, texts = def, slices.Delete(texts, i, i+1)
			break
		}
	}
	if macro == "" {
		t.Fatalf("docs/cli.md does not define %s", auditFlagsMacro)
	}
	subs := map[string][]string{} // the subcommands of each command path
	for _, c := range commands() {
		for _, s := range c.subs {
			subs[c.path] = append(subs[c.path], s.Name)
		}
	}
	out := map[string][]string{}
	for _, text := range texts {
		words := strings.Fields(strings.ReplaceAll(text, auditFlagsMacro, macro))
		path, i := "", 1
		for ; i < len(words) && slices.Contains(subs[path], words[i]); i++ {
			path = strings.TrimSpace(path + " " + words[i])
		}
		for _, m := range docFlag.FindAllStringSubmatch(strings.Join(words[i:], " "), -1) {
			out[path] = append(out[path], m[1])
		}
		if _, ok := out[path]; !ok {
			out[path] = nil
		}
	}
	return out
}

// TestCLIDocSynopsesMatchTheFlags: the synopsis of every command in docs/cli.md gives every flag
// the command takes, and none it does not.
func TestCLIDocSynopsesMatchTheFlags(t *testing.T) {
	doc := synopses(t)
	for _, c := range commands() {
		if len(c.flags) == 0 && len(c.subs) > 0 {
			continue // a group: its subcommands have the synopses
		}
		documented, ok := doc[c.path]
		if !ok {
			t.Errorf("docs/cli.md has no synopsis of sentinel %s", c.path)
			continue
		}
		var names []string
		for _, f := range c.flags {
			if slices.Contains(builtIn, f.Names()[0]) {
				continue
			}
			names = append(names, f.Names()...)
			if !slices.ContainsFunc(f.Names(), func(n string) bool { return slices.Contains(documented, n) }) {
				t.Errorf("docs/cli.md: the synopsis of sentinel %s lacks --%s", c.path, f.Names()[0])
			}
		}
		for _, n := range documented {
			if !slices.Contains(names, n) {
				t.Errorf("docs/cli.md: the synopsis of sentinel %s gives --%s, which it does not take", c.path, n)
			}
		}
	}
}
