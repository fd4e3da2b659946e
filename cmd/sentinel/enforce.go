package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/sentinel-audit/sentinel/config"
	"github.com/sentinel-audit/sentinel/enforce"
	"github.com/sentinel-audit/sentinel/reports"
	"github.com/sentinel-audit/sentinel/window"
	"github.com/urfave/cli/v2"
)

// sessionTableEnv names the session table in server mode (below --session-table).
const sessionTableEnv = "SENTINEL_SESSION_TABLE"

// carriedFlags are the flags a denial's suggested command repeats when the user gave them.
// --mfa-token never: a code works once, and is never shown.
var carriedFlags = []string{"policy", "aws-config", "aws-profile", "region", "endpoint-url", "server-duration", "server-port", "mfa-session-duration"}

func issueFlags() []cli.Flag {
	return flagSet([]cli.Flag{
		&cli.StringFlag{Name: "profile", Usage: "AWS profile whose role_arn is assumed (required)"},
		&cli.StringFlag{Name: "policy", Usage: "policy file (default: defaults.policy of the config file)"},
		&cli.StringFlag{Name: "aws-config", Usage: "AWS shared config file holding the profile", DefaultText: awsConfigDefault},
		&cli.StringFlag{Name: "mfa-token", Usage: "current code of the profile's MFA device (mfa_serial)", DefaultText: "asked at the terminal"},
	}, awsFlags("the credentials that assume the role of --profile (default: its source_profile, else $AWS_PROFILE, else the SDK's default credential chain)",
		"endpoint of STS and DynamoDB (else AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL)"))
}

func tableFlags() []cli.Flag {
	return flagSet([]cli.Flag{
		&cli.StringFlag{Name: "session-table", Aliases: []string{"table"}, Usage: "DynamoDB session table", DefaultText: "$SENTINEL_SESSION_TABLE, else defaults.session_table of the config file"},
	}, awsFlags("the session table "+sdkCredentials,
		"endpoint of DynamoDB and STS (else AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL)"))
}

func execCommand() *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "run a command with credentials for a profile, as the policy allows",
		ArgsUsage: "-- COMMAND [ARGS...]",
		Description: "Without --server the command gets the credentials in its environment (mode cli). With --server it\n" +
			"gets AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN of a credential server on\n" +
			"127.0.0.1 (mode server) that re-checks the policy and the session record on every request.\n" +
			"The session table is the policy rule's session_table, else --session-table, else SENTINEL_SESSION_TABLE,\n" +
			"else defaults.session_table of the config file; with one, server sessions are tracked and revocable.\n" +
			"For a profile with mfa_serial the code comes from --mfa-token, else the terminal; the server asks once\n" +
			"and issues with an MFA session (sts:GetSessionToken) for --mfa-session-duration.\n\n" +
			"Exit status: the command's, 1 when the policy denies (nothing is issued), 2 on error.",
		Flags: append(issueFlags(),
			&cli.BoolFlag{Name: "server", Usage: "serve credentials through the local credential server"},
			&cli.StringFlag{Name: "session-table", Usage: "DynamoDB session table for server sessions"},
			&cli.BoolFlag{Name: "no-session-tracking", Usage: "serve without a session record (refused where the policy requires one)"},
			&cli.DurationFlag{Name: "server-duration", Value: enforce.DefaultServerDuration, Usage: "with --server: lifetime of each issuance the credential server serves (15m to 12h; 1h at most when the base credentials are a role session, e.g. SSO)"},
			&cli.IntFlag{Name: "server-port", Usage: "with --server: credential server port on 127.0.0.1", DefaultText: "a free port"},
			&cli.DurationFlag{Name: "mfa-session-duration", Value: enforce.DefaultMFASessionDuration, Usage: "with --server and a profile with mfa_serial: lifetime of the server's MFA session, from one code (15m to 36h)"},
		),
		Action: func(c *cli.Context) error {
			in, err := execInput(c)
			if err != nil {
				return err
			}
			signals := make(chan os.Signal, 4)
			signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
			defer signal.Stop(signals)
			in.Stdin, in.Stdout, in.Stderr, in.Signals = os.Stdin, c.App.Writer, c.App.ErrWriter, signals
			code, err := enforce.Exec(c.Context, in, enforce.SystemEnv())
			if err != nil {
				return denied(err)
			}
			if code != 0 {
				return childExit(code)
			}
			return nil
		},
	}
}

// execInput is the input of `sentinel exec` from its flags, the environment and the config file
// (its terminal and signals apart).
func execInput(c *cli.Context) (enforce.ExecInput, error) {
	cfg, err := loadConfig(c)
	if err != nil {
		return enforce.ExecInput{}, err
	}
	in := enforce.ExecInput{
		ProfileInput:      profileInput(c, cfg, c.String("session-table")),
		Server:            c.Bool("server"),
		NoSessionTracking: c.Bool("no-session-tracking"),
		ServerPort:        c.Int("server-port"),
		Command:           c.Args().Slice(),
		Environ:           os.Environ(),
	}
	// Unset, the durations are exec's defaults; given, exec checks that they apply.
	if c.IsSet("server-duration") {
		in.ServerDuration = c.Duration("server-duration")
	}
	if c.IsSet("mfa-session-duration") {
		in.MFASessionDuration = c.Duration("mfa-session-duration")
	}
	return in, nil
}

func credentialsCommand() *cli.Command {
	return &cli.Command{
		Name:  "credentials",
		Usage: "print one-shot credentials for a profile in the credential_process format",
		Description: "For credential_process = sentinel credentials --profile P in the AWS config file (mode\n" +
			"credential_process). Such credentials cannot carry a tracked session.\n\n" +
			"Exit status: 0 issued, 1 when the policy denies (nothing is issued), 2 on error.",
		Flags: issueFlags(),
		Action: func(c *cli.Context) error {
			in, err := credentialsInput(c)
			if err != nil {
				return err
			}
			return denied(enforce.CredentialProcess(c.Context, in, c.App.Writer, enforce.SystemEnv()))
		},
	}
}

// credentialsInput is the input of `sentinel credentials` from its flags, the environment and
// the config file.
func credentialsInput(c *cli.Context) (enforce.CredentialProcessInput, error) {
	cfg, err := loadConfig(c)
	if err != nil {
		return enforce.CredentialProcessInput{}, err
	}
	return enforce.CredentialProcessInput{ProfileInput: profileInput(c, cfg, "")}, nil
}

func serverSessionsCommand() *cli.Command {
	return &cli.Command{
		Name:  "server-sessions",
		Usage: "list the server sessions of the session table",
		Flags: flagSet(tableFlags(), []cli.Flag{
			&cli.StringFlag{Name: "status", Usage: "only sessions in this status: active, revoked or expired"},
			&cli.StringFlag{Name: "profile", Usage: "only sessions of this profile"},
			&cli.StringFlag{Name: "since", Value: "30d", Usage: "only sessions started since: a duration back from now (30d, 12h) or an RFC 3339 time / date"},
			wideFlag(),
		}, formatFlags(reports.FormatTable, "table, json or csv")),
		Action: func(c *cli.Context) error {
			in, err := serverSessionsInput(c, time.Now())
			if err != nil {
				return err
			}
			in.Env = enforce.SystemEnv()
			return reports.ServerSessions(c.Context, in, c.App.Writer)
		},
	}
}

// serverSessionsInput is the input of `sentinel server-sessions` from its flags, the environment
// and the config file (the AWS clients apart).
func serverSessionsInput(c *cli.Context, now time.Time) (reports.ServerSessionsInput, error) {
	cfg, err := loadConfig(c)
	if err != nil {
		return reports.ServerSessionsInput{}, err
	}
	in := reports.ServerSessionsInput{
		ListSessionsInput: enforce.ListSessionsInput{TableInput: tableInput(c.String, cfg)},
		Width:             tableWidth(c),
	}
	if in.Format, err = outputFormat(c); err != nil {
		return in, err
	}
	if s := c.String("status"); s != "" {
		if in.Filter.Status, err = enforce.ParseStatus(s); err != nil {
			return in, fmt.Errorf("--status: %w", err)
		}
	}
	in.Filter.Profile = c.String("profile")
	if s := c.String("since"); s != "" {
		if in.Filter.Since, err = window.ParseTime(s, now); err != nil {
			return in, fmt.Errorf("--since: %w", err)
		}
	}
	return in, nil
}

func serverRevokeCommand() *cli.Command {
	return &cli.Command{
		Name:      "server-revoke",
		Usage:     "revoke a server session: its next credential request is denied",
		ArgsUsage: "ID --reason TEXT",
		Flags: append(tableFlags(),
			&cli.StringFlag{Name: "reason", Usage: "why the session is revoked (recorded as revoked_reason; required)"},
		),
		Action: func(c *cli.Context) error {
			in, err := revokeInput(c)
			if err != nil {
				return err
			}
			return enforce.Revoke(c.Context, in, c.App.Writer, enforce.SystemEnv())
		},
	}
}

// revokeInput is the input of `sentinel server-revoke` from its argument, flags (before or after
// the argument), the environment and the config file.
func revokeInput(c *cli.Context) (enforce.RevokeInput, error) {
	args, flag, err := interspersed(c)
	if err != nil {
		return enforce.RevokeInput{}, err
	}
	if len(args) != 1 {
		return enforce.RevokeInput{}, fmt.Errorf("server-revoke takes one session ID (got %d arguments)", len(args))
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return enforce.RevokeInput{}, err
	}
	return enforce.RevokeInput{TableInput: tableInput(flag, cfg), ID: args[0], Reason: flag("reason")}, nil
}

// interspersed reads the command's string flags wherever they stand among its arguments
// (`server-revoke ID --reason TEXT`): urfave/cli v2 stops parsing flags at the first argument.
// It returns the arguments and a lookup of the flags' values.
func interspersed(c *cli.Context) ([]string, func(string) string, error) {
	set := flag.NewFlagSet(c.Command.Name, flag.ContinueOnError)
	set.SetOutput(io.Discard)
	primary := map[string]string{} // an alias's flag
	for _, f := range c.Command.Flags {
		for _, name := range f.Names() {
			set.String(name, "", "")
			primary[name] = f.Names()[0]
		}
	}
	var args []string
	for rest := c.Args().Slice(); len(rest) > 0; {
		if err := set.Parse(rest); err != nil {
			return nil, nil, usageError(c, err, true)
		}
		rest = set.Args()
		if len(rest) > 0 {
			args, rest = append(args, rest[0]), rest[1:]
		}
	}
	later := map[string]string{}
	set.Visit(func(f *flag.Flag) { later[primary[f.Name]] = f.Value.String() })
	return args, func(name string) string {
		if v, ok := later[name]; ok {
			return v
		}
		return c.String(name)
	}, nil
}

// profileInput resolves the settings of exec and credentials: flags > environment > config file.
func profileInput(c *cli.Context, cfg *config.Config, tableFlag string) enforce.ProfileInput {
	in := enforce.ProfileInput{
		Profile:       c.String("profile"),
		AWSProfile:    c.String("aws-profile"),
		PolicyPath:    firstSet(c.String("policy"), cfg.Defaults.Policy),
		Region:        firstSet(c.String("region"), os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION")),
		DefaultRegion: cfg.Defaults.Region,
		EndpointURL:   c.String("endpoint-url"),
		MFAToken:      c.String("mfa-token"),
		Tables:        enforce.TableChoices{Flag: tableFlag, Env: os.Getenv(sessionTableEnv), Config: cfg.Defaults.SessionTable},
	}
	in.AWSConfigPath, in.AWSConfigOptional = awsConfigPath(c, cfg)
	if p := c.String("config"); p != "" {
		in.Invocation.Global = []string{"--config", p}
	}
	for _, name := range carriedFlags {
		if c.IsSet(name) {
			in.Invocation.Flags = append(in.Invocation.Flags, "--"+name, flagValue(c, name))
		}
	}
	return in
}

// flagValue is a flag's value as it would be typed again.
func flagValue(c *cli.Context, name string) string {
	switch name {
	case "server-duration", "mfa-session-duration":
		return c.Duration(name).String()
	case "server-port":
		return strconv.Itoa(c.Int(name))
	}
	return c.String(name)
}

// tableInput resolves the session table of server-sessions and server-revoke from their flags:
// --session-table > SENTINEL_SESSION_TABLE > defaults.session_table.
func tableInput(flag func(string) string, cfg *config.Config) enforce.TableInput {
	return enforce.TableInput{
		Table:         firstSet(flag("session-table"), os.Getenv(sessionTableEnv), cfg.Defaults.SessionTable),
		AWSProfile:    flag("aws-profile"),
		Region:        firstSet(flag("region"), os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION")),
		DefaultRegion: cfg.Defaults.Region,
		EndpointURL:   flag("endpoint-url"),
	}
}

// denied maps a policy refusal to exit status 1 with its message; other errors pass through.
func denied(err error) error {
	var d *enforce.Denial
	if errors.As(err, &d) {
		return findings{msg: d.Error()}
	}
	return err
}
