package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/agnivade/levenshtein"
	"github.com/urfave/cli/v2"
)

// Usage errors (an unknown command or flag, a flag without its value) are short messages on
// stderr with a "did you mean" when a name is near one that exists, and exit 2; the help text is
// shown only when asked for (--help, or a command group without its subcommand), on stdout.

// withUsageErrors makes every command of app report usage errors that way and leave out the
// "help" subcommand urfave adds to each.
func withUsageErrors(app *cli.App) *cli.App {
	app.OnUsageError = usageError
	app.Action = groupAction
	var walk func([]*cli.Command)
	walk = func(cmds []*cli.Command) {
		for _, c := range cmds {
			c.OnUsageError = usageError
			c.HideHelpCommand = true
			if c.Action == nil && len(c.Subcommands) > 0 {
				c.Action = groupAction
			}
			walk(c.Subcommands)
		}
	}
	walk(app.Commands)
	return app
}

// usageError turns a flag parsing error into a short message naming the command and, for an
// unknown flag, the flag it may have meant.
func usageError(c *cli.Context, err error, _ bool) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		msg = "unknown flag " + dashed(name)
		switch near := suggest(name, flagNames(c.Command.Flags)); {
		case c.Command.HelpName != c.App.HelpName && isGlobalFlag(c.App, name):
			msg += fmt.Sprintf(": it is a global flag, give it before the command (%s %s ... %s)", c.App.HelpName, dashed(name), strings.TrimPrefix(c.Command.HelpName, c.App.HelpName+" "))
		case near != "":
			msg += "; did you mean " + dashed(near) + "?"
		}
	} else {
		msg = strings.Replace(msg, " -", " --", 1)
	}
	return fmt.Errorf("%s (see %s --help)", msg, c.Command.HelpName)
}

// groupAction is the action of the application and of commands that only group subcommands:
// without arguments it shows the help; `help [COMMAND]` too; anything else is an unknown command.
func groupAction(c *cli.Context) error {
	root := c.Command.HelpName == c.App.HelpName
	switch {
	case c.NArg() == 0 && root:
		return cli.ShowAppHelp(c)
	case c.NArg() == 0:
		return cli.ShowSubcommandHelp(c)
	case root && c.Args().First() == "help" && c.NArg() > 1:
		name := c.Args().Get(1)
		if c.App.Command(name) == nil {
			return unknownCommand(c, name)
		}
		return cli.ShowCommandHelp(c, name)
	case root && c.Args().First() == "help":
		return cli.ShowAppHelp(c)
	}
	return unknownCommand(c, c.Args().First())
}

// unknownCommand is the usage error of a command (or subcommand of c) that is not there, with
// the name it may have meant.
func unknownCommand(c *cli.Context, name string) error {
	root := c.Command.HelpName == c.App.HelpName
	var names []string
	for _, sub := range c.Command.Subcommands {
		names = append(names, sub.Names()...)
	}
	msg := fmt.Sprintf("unknown command %q", name)
	if !root {
		msg = fmt.Sprintf("%s: unknown subcommand %q", strings.TrimPrefix(c.Command.HelpName, c.App.HelpName+" "), name)
	}
	if s := suggest(name, names); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return fmt.Errorf("%s (see %s --help)", msg, c.Command.HelpName)
}

// dashed is a flag's name as typed: -q, --quiet.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

func isGlobalFlag(app *cli.App, name string) bool { return slices.Contains(flagNames(app.Flags), name) }

func flagNames(flags []cli.Flag) []string {
	var names []string
	for _, f := range flags {
		names = append(names, f.Names()...)
	}
	return names
}

// suggest is the candidate nearest to typed when it is near enough to be a slip of the fingers
// (an edit distance of at most a third of typed's length, and at least 2; 1 for 3 letters or
// fewer), or the only candidate that typed begins; "" otherwise. A single letter is near only
// itself in the other case (-Q for -q): one edit turns any letter into any other, so -x is no
// slip for -h.
func suggest(typed string, candidates []string) string {
	limit := max(2, len(typed)/3)
	if len(typed) <= 3 {
		limit = 1
	}
	best, bestDistance := "", limit+1
	var prefixed []string
	for _, c := range candidates {
		if len(typed) == 1 || len(c) == 1 {
			if strings.EqualFold(typed, c) {
				return c
			}
			continue
		}
		if d := levenshtein.ComputeDistance(typed, c); d < bestDistance {
			best, bestDistance = c, d
		}
		if len(typed) >= 3 && strings.HasPrefix(c, typed) {
			prefixed = append(prefixed, c)
		}
	}
	if best == "" && len(prefixed) == 1 {
		return prefixed[0]
	}
	return best
}
