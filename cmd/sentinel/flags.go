package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/sentinel-audit/sentinel/reports"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// The flag sets commands share: each command's flags are made of these plus its own, and its
// input function reads them (windowFrom, policyMapFrom, loadAWS).

// windowFlags are --since and --until; since is the default start ("" = none).
func windowFlags(since string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "since", Value: since, Usage: "start of the window: a duration back from now (30d, 12h, 90m) or an RFC 3339 time / date"},
		&cli.StringFlag{Name: "until", Usage: "end of the window (exclusive): duration back from now or RFC 3339 time (default: now)"},
	}
}

// policyMapFlags are the policy that annotates issuances and the AWS config file that maps role
// ARNs to profiles.
func policyMapFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "policy", Usage: "policy file to annotate issuances with (default: defaults.policy of the config file)"},
		&cli.StringFlag{Name: "aws-config", Usage: "AWS shared config file mapping role ARNs to profile names", DefaultText: awsConfigDefault},
	}
}

// awsConfigDefault is the AWS shared config file without --aws-config (settings.go's awsConfigPath).
const awsConfigDefault = "defaults.aws_config of the config file, else $AWS_CONFIG_FILE, else ~/.aws/config"

// formatFlags are --format (usage names the formats the command writes) and --json, the
// upstream Sentinel's spelling of --format json.
func formatFlags(value, usage string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "format", Value: value, Usage: "output format: " + usage},
		&cli.BoolFlag{Name: "json", Usage: "the same as --format json"},
	}
}

// outputFormat is --format, or json with --json.
func outputFormat(c *cli.Context) (string, error) {
	format := c.String("format")
	if !c.Bool("json") {
		return format, nil
	}
	if c.IsSet("format") && format != reports.FormatJSON {
		return "", fmt.Errorf("--json and --format %s disagree: give one of them", format)
	}
	return reports.FormatJSON, nil
}

// wideFlag is --wide: tables keep every cell whole on a terminal too.
func wideFlag() cli.Flag {
	return &cli.BoolFlag{Name: "wide", Usage: "on a terminal, show table cells whole instead of fitting the table to its width (they are whole in a pipe or file, and in JSON and CSV)"}
}

// tableWidth is the width tables must fit: when stdout is a terminal and --wide was not given,
// the terminal's, else $COLUMNS when the terminal does not tell (a size of 0 under `script`),
// else 80; 0 (no limit: every cell whole) otherwise, as gh does.
func tableWidth(c *cli.Context) int {
	f, ok := c.App.Writer.(*os.File)
	if c.Bool("wide") || !ok || !term.IsTerminal(int(f.Fd())) {
		return 0
	}
	if width, _, err := term.GetSize(int(f.Fd())); err == nil && width > 0 {
		return width
	}
	if width, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && width > 0 {
		return width
	}
	return 80
}

// awsFlags say how to reach AWS: profileUsage says what the --aws-profile credentials are for
// and what they are without it. AWS_PROFILE is the SDK's to read (as every other AWS_ variable),
// not the flag's: a command that calls AWS only when asked (audit) must not take the variable
// for a request.
func awsFlags(profileUsage, endpointUsage string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "aws-profile", Usage: "AWS profile for " + profileUsage},
		&cli.StringFlag{Name: "region", Usage: "AWS region", DefaultText: "$AWS_REGION, else the profile's region, else defaults.region"},
		&cli.StringFlag{Name: "endpoint-url", Usage: endpointUsage},
	}
}

// sdkCredentials is what credentials are without --aws-profile.
const sdkCredentials = "(default: $AWS_PROFILE, else the SDK's default credential chain)"

// flagSet joins flag sets into one command's flags.
func flagSet(sets ...[]cli.Flag) []cli.Flag {
	var out []cli.Flag
	for _, s := range sets {
		out = append(out, s...)
	}
	return out
}
