package main

import (
	"fmt"
	"os"
	"time"

	"github.com/sentinel-audit/sentinel/enforce"
	"github.com/sentinel-audit/sentinel/policy"
	"github.com/sentinel-audit/sentinel/reports"
	"github.com/sentinel-audit/sentinel/window"
	"github.com/urfave/cli/v2"
)

func policyCommand() *cli.Command {
	return &cli.Command{
		Name:  "policy",
		Usage: "check and explain policy files",
		Subcommands: []*cli.Command{
			{
				Name:        "validate",
				Usage:       "check a policy file; prints every problem with file:line:column",
				ArgsUsage:   "FILE",
				Description: "Exit status: 0 valid, 2 invalid.",
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return fmt.Errorf("policy validate takes one FILE (got %d arguments)", c.NArg())
					}
					return reports.PolicyValidate(c.Args().First(), c.App.Writer, c.App.ErrWriter)
				},
			},
			{
				Name:  "explain",
				Usage: "show which rule decides a request, and why earlier rules did not match",
				Flags: append([]cli.Flag{
					&cli.StringFlag{Name: "policy", Usage: "policy file (default: defaults.policy of the config file)"},
					&cli.StringFlag{Name: "profile", Usage: "profile requested (required)"},
					&cli.StringFlag{Name: "user", Usage: "requesting user"},
					&cli.StringFlag{Name: "at", Usage: "time of the request, RFC 3339 (default: now)"},
					&cli.StringFlag{Name: "mode", Usage: "server, cli or credential_process (default: any)"},
				}, formatFlags(reports.FormatTable, "table or json")...),
				Action: func(c *cli.Context) error {
					in, err := policyExplainInput(c, time.Now())
					if err != nil {
						return err
					}
					return reports.PolicyExplain(in, c.App.Writer)
				},
			},
		},
	}
}

func policyExplainInput(c *cli.Context, now time.Time) (reports.PolicyExplainInput, error) {
	cfg, err := loadConfig(c)
	if err != nil {
		return reports.PolicyExplainInput{}, err
	}
	if c.String("profile") == "" {
		return reports.PolicyExplainInput{}, fmt.Errorf("--profile is required: the profile whose request to explain")
	}
	path := firstSet(c.String("policy"), cfg.Defaults.Policy)
	if path == "" {
		return reports.PolicyExplainInput{}, fmt.Errorf("no policy: pass --policy FILE or set defaults.policy in the config file")
	}
	at := now
	if s := c.String("at"); s != "" {
		if at, err = window.ParseTime(s, now); err != nil {
			return reports.PolicyExplainInput{}, fmt.Errorf("--at: %w", err)
		}
	}
	var mode policy.Mode
	if s := c.String("mode"); s != "" {
		if mode, err = policy.ParseMode(s); err != nil {
			return reports.PolicyExplainInput{}, fmt.Errorf("--mode: %w", err)
		}
	}
	in := reports.PolicyExplainInput{
		PolicyPath: path,
		Request:    policy.Request{Profile: c.String("profile"), User: c.String("user"), At: at, Mode: mode},
		Tables:     enforce.TableChoices{Env: os.Getenv(sessionTableEnv), Config: cfg.Defaults.SessionTable},
	}
	if p := c.String("config"); p != "" {
		in.Invocation.Global = []string{"--config", p}
	}
	if c.IsSet("policy") {
		in.Invocation.Flags = []string{"--policy", path}
	}
	in.Format, err = outputFormat(c)
	return in, err
}
