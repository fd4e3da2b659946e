// Package config reads Sentinel's own config file (~/.sentinel/config.yaml, --config or
// SENTINEL_CONFIG): defaults for flags and extra profile-to-role mappings.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/agnivade/levenshtein"
	"github.com/bmatcuk/doublestar/v4"
	"github.com/sentinel-audit/sentinel/profiles"
	"gopkg.in/yaml.v3"
)

// Config is the content of the config file.
type Config struct {
	Path     string    `yaml:"-"`
	Defaults Defaults  `yaml:"defaults"`
	Profiles []Profile `yaml:"profiles"`
	// NotProfiles are role ARN patterns (glob: * within a path segment, ** across) of roles that
	// are deliberately no profile: the audits count them apart from the roles not mapped to one.
	NotProfiles []string `yaml:"not_profiles"`
}

// Defaults fill in flags the user did not give.
type Defaults struct {
	Region       string `yaml:"region"`
	Policy       string `yaml:"policy"`
	Warehouse    string `yaml:"warehouse"`
	SessionTable string `yaml:"session_table"`
	AWSConfig    string `yaml:"aws_config"`
}

// Profile maps a profile name to the role it assumes, for roles not in the AWS config file or
// to override the name used there.
type Profile struct {
	Name    string `yaml:"name"`
	RoleARN string `yaml:"role_arn"`
}

// DefaultPath is ~/.sentinel/config.yaml.
func DefaultPath() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".sentinel", "config.yaml")
}

// Load reads the config file at path. A missing file is an empty config when optional is set
// (the default location) and an error otherwise. Relative paths inside are taken relative to the
// config file's directory.
func Load(path string, optional bool) (*Config, error) {
	c := &Config{Path: path}
	if path == "" {
		return c, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if optional && errors.Is(err, fs.ErrNotExist) {
			return c, nil
		}
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	if err := checkKeys(path, data); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c.Path = path
	for i, p := range c.Profiles {
		if p.Name == "" || p.RoleARN == "" {
			return nil, fmt.Errorf("config %s: profiles[%d] needs both name and role_arn", path, i)
		}
	}
	for i, pattern := range c.NotProfiles {
		if !doublestar.ValidatePattern(pattern) {
			return nil, fmt.Errorf("config %s: not_profiles[%d] %q is not a valid pattern (glob: * within a path segment, ** across, [abc], {a,b})", path, i, pattern)
		}
	}
	base := filepath.Dir(path)
	for _, p := range []*string{&c.Defaults.Policy, &c.Defaults.Warehouse, &c.Defaults.AWSConfig} {
		*p = resolve(base, *p)
	}
	return c, nil
}

// checkKeys finds a key the config file cannot have, and says where it is, what it may have
// meant and which keys there are; and a value of the wrong kind (a list where a mapping belongs),
// and says what belongs there. Syntax errors are left to the decoder.
func checkKeys(path string, data []byte) error {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	return checkNode(path, doc.Content[0], reflect.TypeFor[Config](), "")
}

func checkNode(path string, n *yaml.Node, t reflect.Type, where string) error {
	at := n // where an alias is used, not where its value is
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if err := checkKind(path, at, n.Kind, n.Tag, t, where); err != nil {
		return err
	}
	switch {
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			if err := checkNode(path, item, t.Elem(), fmt.Sprintf("%s[%d]", where, i)); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		var names []string
		fields := map[string]reflect.Type{}
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name != "" && name != "-" {
				names = append(names, name)
				fields[name] = f.Type
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i]
			ft, ok := fields[key.Value]
			if !ok {
				in := "at the top level"
				if where != "" {
					in = "in " + where
				}
				msg := fmt.Sprintf("config %s:%d:%d: unknown key %q %s", path, key.Line, key.Column, key.Value, in)
				if near := nearest(key.Value, names); near != "" {
					msg += fmt.Sprintf("; did you mean %q?", near)
				}
				return fmt.Errorf("%s (the keys there: %s)", msg, strings.Join(names, ", "))
			}
			sub := key.Value
			if where != "" {
				sub = where + "." + key.Value
			}
			if err := checkNode(path, n.Content[i+1], ft, sub); err != nil {
				return err
			}
		}
	}
	return nil
}

// kinds are the YAML values a config file's fields take, in words.
var kinds = map[yaml.Kind]struct{ want, got string }{
	yaml.MappingNode:  {"a mapping (key: value)", "a mapping"},
	yaml.SequenceNode: {"a list (- item)", "a list"},
	yaml.ScalarNode:   {"a single value", "a single value"},
}

// checkKind refuses a value (of kind and tag, at node at) of another kind than t's field takes;
// an empty value (null) is fine.
func checkKind(path string, at *yaml.Node, kind yaml.Kind, tag string, t reflect.Type, where string) error {
	var want yaml.Kind
	switch t.Kind() {
	case reflect.Struct:
		want = yaml.MappingNode
	case reflect.Slice:
		want = yaml.SequenceNode
	case reflect.String:
		want = yaml.ScalarNode
	default:
		return nil
	}
	if kind == want || kind == yaml.ScalarNode && tag == "!!null" {
		return nil
	}
	what := where
	if what == "" {
		what = "the top level"
	}
	return fmt.Errorf("config %s:%d:%d: %s must be %s, not %s", path, at.Line, at.Column, what, kinds[want].want, kinds[kind].got)
}

// nearest is the name nearest to key when it is near enough to be a typo (two edits, or a third
// of its letters), else "".
func nearest(key string, names []string) string {
	best, limit := "", max(2, len(key)/3)
	for _, n := range names {
		if d := levenshtein.ComputeDistance(key, n); d <= limit {
			best, limit = n, d-1
		}
	}
	return best
}

func resolve(base, p string) string {
	if p == "" {
		return ""
	}
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[2:])
		}
	}
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// RoleProfiles returns the config file's profiles in the form the role map takes.
func (c *Config) RoleProfiles() []profiles.Profile {
	out := make([]profiles.Profile, 0, len(c.Profiles))
	for _, p := range c.Profiles {
		out = append(out, profiles.Profile{Name: p.Name, RoleARN: p.RoleARN, Source: c.Path})
	}
	return out
}

// OthersCanWrite returns a warning when path is a file that users other than its owner can write:
// whoever can change a policy or config file can change what Sentinel allows or reports.
func OthersCanWrite(what, path string) string {
	if path == "" {
		return ""
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm()&0o022 == 0 {
		return ""
	}
	return fmt.Sprintf("warning: %s %s is writable by others (mode %04o): whoever can change it changes what Sentinel allows and reports; chmod go-w %s",
		what, path, info.Mode().Perm(), path)
}
