package main

import (
	"fmt"
	"os"
	"time"

	"github.com/sentinel-audit/sentinel/config"
	"github.com/sentinel-audit/sentinel/profiles"
	"github.com/sentinel-audit/sentinel/reports"
	"github.com/sentinel-audit/sentinel/warehouse"
	"github.com/sentinel-audit/sentinel/window"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// loadConfig reads the config file: --config / SENTINEL_CONFIG must exist; the default may not.
// A config or policy file that others can write is warned about on stderr.
func loadConfig(c *cli.Context) (*config.Config, error) {
	path, optional := c.String("config"), false
	if path == "" {
		path, optional = config.DefaultPath(), true
	}
	cfg, err := config.Load(path, optional)
	if err != nil {
		return nil, err
	}
	warnWritable(c, "config file", path)
	warnWritable(c, "policy", firstSet(c.String("policy"), cfg.Defaults.Policy))
	return cfg, nil
}

func warnWritable(c *cli.Context, what, path string) {
	if w := config.OthersCanWrite(what, path); w != "" {
		fmt.Fprintln(c.App.ErrWriter, w)
	}
}

// warehouseDir applies the precedence --warehouse / SENTINEL_WAREHOUSE > config > default.
func warehouseDir(c *cli.Context, cfg *config.Config) (string, error) {
	if d := c.String("warehouse"); d != "" {
		return d, nil
	}
	if cfg.Defaults.Warehouse != "" {
		return cfg.Defaults.Warehouse, nil
	}
	return warehouse.DefaultDir()
}

// resolveWarehouse loads the config file and applies the warehouse precedence.
func resolveWarehouse(c *cli.Context) (string, error) {
	cfg, err := loadConfig(c)
	if err != nil {
		return "", err
	}
	return warehouseDir(c, cfg)
}

// showProgress is true when stderr is a terminal and --quiet was given neither to sentinel nor
// to the command.
func showProgress(c *cli.Context) bool {
	for _, ctx := range c.Lineage() {
		if ctx.Bool("quiet") {
			return false
		}
	}
	f, ok := c.App.ErrWriter.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// auditInput turns the audit flags into the report input.
func auditInput(c *cli.Context, cfg *config.Config, now time.Time) (reports.AuditInput, error) {
	in, err := baseInput(c, cfg)
	if err != nil {
		return in, err
	}
	until := c.String("until")
	if until == "" {
		until = now.UTC().Format(time.RFC3339Nano)
	}
	if in.Window, err = window.Parse(c.String("since"), until, now); err != nil {
		return in, err
	}
	if in.Window.Since.IsZero() {
		return in, fmt.Errorf("--since must not be empty")
	}
	in.Profile = c.String("profile")
	in.RequireIntegrity, in.RequireSignatures = c.Bool("require-integrity"), c.Bool("require-signatures")
	return in, nil
}

// baseInput resolves what every warehouse query needs: the warehouse, the policy, the profile map,
// the output format and the width its tables fit.
func baseInput(c *cli.Context, cfg *config.Config) (reports.AuditInput, error) {
	dir, err := warehouseDir(c, cfg)
	if err != nil {
		return reports.AuditInput{}, err
	}
	in := reports.AuditInput{
		Warehouse:   dir,
		PolicyPath:  firstSet(c.String("policy"), cfg.Defaults.Policy),
		Profiles:    cfg.RoleProfiles(),
		NotProfiles: cfg.NotProfiles,
		Width:       tableWidth(c),
	}
	in.AWSConfigPath, in.AWSConfigOptional = awsConfigPath(c, cfg)
	in.Format, err = outputFormat(c)
	return in, err
}

// awsConfigPath is the AWS shared config file to read profiles from: --aws-config, else the
// config file's defaults.aws_config, else the SDK's default location (which may be absent).
func awsConfigPath(c *cli.Context, cfg *config.Config) (path string, optional bool) {
	switch {
	case c.String("aws-config") != "":
		return c.String("aws-config"), false
	case cfg.Defaults.AWSConfig != "":
		return cfg.Defaults.AWSConfig, false
	default:
		return profiles.DefaultAWSConfigPath(), true
	}
}

func firstSet(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
