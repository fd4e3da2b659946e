// Package profiles reads the profiles of the AWS shared config file and maps role ARNs back to the
// profile names people use, so audit reports speak in profiles rather than ARNs.
package profiles

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/ini.v1"
)

// Profile is one named profile of the AWS shared config file (or of Sentinel's config file).
type Profile struct {
	Name            string
	RoleARN         string
	SourceProfile   string
	Region          string
	RoleSessionName string
	DurationSeconds int
	// MFASerial is the profile's mfa_serial: the MFA device whose code assuming the role takes.
	MFASerial string
	Source    string // the file it came from
}

// DefaultAWSConfigPath is where the AWS SDKs look: $AWS_CONFIG_FILE or ~/.aws/config.
func DefaultAWSConfigPath() string {
	if p := os.Getenv("AWS_CONFIG_FILE"); p != "" {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".aws", "config")
}

// LoadAWSConfig reads the profiles of an AWS shared config file. A missing file yields no
// profiles when optional is set (the default location), and an error otherwise.
func LoadAWSConfig(path string, optional bool) ([]Profile, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if optional && errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read AWS config %s: %w", path, err)
	}
	f, err := ini.LoadSources(ini.LoadOptions{Insensitive: false, AllowPythonMultilineValues: true, SpaceBeforeInlineComment: true}, data)
	if err != nil {
		return nil, fmt.Errorf("parse AWS config %s: %w", path, err)
	}
	var out []Profile
	for _, sec := range f.Sections() {
		name := strings.TrimSpace(sec.Name())
		switch {
		case name == "default":
		case strings.HasPrefix(name, "profile "):
			name = strings.TrimSpace(strings.TrimPrefix(name, "profile "))
		default:
			continue // DEFAULT pseudo-section, sso-session, services, ...
		}
		p := Profile{
			Name:            name,
			RoleARN:         sec.Key("role_arn").String(),
			SourceProfile:   sec.Key("source_profile").String(),
			Region:          sec.Key("region").String(),
			RoleSessionName: sec.Key("role_session_name").String(),
			MFASerial:       sec.Key("mfa_serial").String(),
			Source:          path,
		}
		if d := sec.Key("duration_seconds").String(); d != "" {
			n, err := strconv.Atoi(d)
			if err != nil {
				return nil, fmt.Errorf("AWS config %s: profile %s: duration_seconds %q is not a number", path, name, d)
			}
			p.DurationSeconds = n
		}
		out = append(out, p)
	}
	return out, nil
}

// Ambiguity is a role ARN that more than one profile names.
type Ambiguity struct {
	RoleARN  string
	Profiles []string
	Chosen   string
}

// RoleMap maps role ARNs to profile names.
type RoleMap struct {
	Roles     map[string]string // role ARN -> profile
	Ambiguous []Ambiguity
}

// Named are the profiles of each role that several profiles name (Roles holds the one chosen).
func (m RoleMap) Named() map[string][]string {
	out := make(map[string][]string, len(m.Ambiguous))
	for _, a := range m.Ambiguous {
		out[a.RoleARN] = a.Profiles
	}
	return out
}

// NewRoleMap builds the map from profile lists in order of precedence: a role named by a profile
// of an earlier list is taken from that list alone. When one list names a role in several
// profiles, the first name in sorted order is used and the role is reported as ambiguous.
func NewRoleMap(lists ...[]Profile) RoleMap {
	m := RoleMap{Roles: map[string]string{}}
	decided := map[string]bool{}
	for _, list := range lists {
		byRole := map[string][]string{}
		for _, p := range list {
			if p.RoleARN == "" || decided[p.RoleARN] {
				continue
			}
			byRole[p.RoleARN] = append(byRole[p.RoleARN], p.Name)
		}
		for role, names := range byRole {
			sort.Strings(names)
			names = dedupe(names)
			m.Roles[role] = names[0]
			decided[role] = true
			if len(names) > 1 {
				m.Ambiguous = append(m.Ambiguous, Ambiguity{RoleARN: role, Profiles: names, Chosen: names[0]})
			}
		}
	}
	sort.Slice(m.Ambiguous, func(i, j int) bool { return m.Ambiguous[i].RoleARN < m.Ambiguous[j].RoleARN })
	return m
}

func dedupe(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}
