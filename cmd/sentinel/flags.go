package main

import (
	"github.com/urfave/cli/v2"
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
		&cli.StringFlag{Name: "aws-config", Usage: "AWS shared config file mapping role ARNs to profile names", DefaultText: "$AWS_CONFIG_FILE or ~/.aws/config"},
	}
}

// formatFlag is --format; usage names the formats the command writes.
func formatFlag(value, usage string) cli.Flag {
	return &cli.StringFlag{Name: "format", Value: value, Usage: "output format: " + usage}
}

// awsFlags say how to reach AWS; what is what the credentials are for.
func awsFlags(what, endpointUsage string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "aws-profile", Usage: "AWS profile for " + what, EnvVars: []string{"AWS_PROFILE"}},
		&cli.StringFlag{Name: "region", Usage: "AWS region (default: AWS_REGION, the profile's, then defaults.region)"},
		&cli.StringFlag{Name: "endpoint-url", Usage: endpointUsage},
	}
}

// flagSet joins flag sets into one command's flags.
func flagSet(sets ...[]cli.Flag) []cli.Flag {
	var out []cli.Flag
	for _, s := range sets {
		out = append(out, s...)
	}
	return out
}
