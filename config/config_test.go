package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadResolvesRelativePaths(t *testing.T) {
	path := write(t, "defaults:\n  policy: policy.yaml\n  warehouse: /var/wh\n  session_table: sentinel-sessions\nprofiles:\n  - {name: prod, role_arn: 'arn:aws:iam::1:role/P'}\n")
	c, err := Load(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if c.Defaults.Policy != filepath.Join(filepath.Dir(path), "policy.yaml") || c.Defaults.Warehouse != "/var/wh" || c.Defaults.SessionTable != "sentinel-sessions" {
		t.Fatalf("defaults = %+v", c.Defaults)
	}
	if rp := c.RoleProfiles(); len(rp) != 1 || rp[0].Name != "prod" || rp[0].RoleARN != "arn:aws:iam::1:role/P" {
		t.Fatalf("profiles = %+v", rp)
	}
}

func TestLoadRejectsUnknownKeys(t *testing.T) {
	for name, tc := range map[string]struct{ body, want string }{
		"in_defaults": {"defaults:\n  region: us-east-1\n  polcy: x\n",
			`:3:3: unknown key "polcy" in defaults; did you mean "policy"? (the keys there: region, policy, warehouse, session_table, aws_config)`},
		"at_the_top_level": {"default:\n  region: us-east-1\n",
			`:1:1: unknown key "default" at the top level; did you mean "defaults"? (the keys there: defaults, profiles, not_profiles)`},
		"in_a_profile": {"profiles:\n  - {name: prod, arn: x}\n",
			`:2:18: unknown key "arn" in profiles[0] (the keys there: name, role_arn)`},
		"nothing_near": {"colour: blue\n", `:1:1: unknown key "colour" at the top level (the keys there: defaults, profiles, not_profiles)`},
	} {
		t.Run(name, func(t *testing.T) {
			path := write(t, tc.body)
			if _, err := Load(path, false); err == nil || err.Error() != "config "+path+tc.want {
				t.Fatalf("got  %v\nwant config %s%s", err, path, tc.want)
			}
		})
	}
}

func TestLoadNamesValuesOfTheWrongKind(t *testing.T) {
	for name, tc := range map[string]struct{ body, want string }{
		"defaults_as_a_list":       {"defaults: []\n", ":1:11: defaults must be a mapping (key: value), not a list"},
		"defaults_as_text":         {"defaults: us-east-1\n", ":1:11: defaults must be a mapping (key: value), not a single value"},
		"profiles_as_a_mapping":    {"profiles:\n  name: prod\n", ":2:3: profiles must be a list (- item), not a mapping"},
		"profile_as_text":          {"profiles:\n  - {name: prod, role_arn: x}\n  - prod\n", ":3:5: profiles[1] must be a mapping (key: value), not a single value"},
		"profile_as_a_list":        {"profiles:\n  - [prod, x]\n", ":2:5: profiles[0] must be a mapping (key: value), not a list"},
		"region_as_a_list":         {"defaults:\n  region: [us-east-1]\n", ":2:11: defaults.region must be a single value, not a list"},
		"not_profiles_item_as_map": {"not_profiles:\n  - {arn: x}\n", ":2:5: not_profiles[0] must be a single value, not a mapping"},
		"top_level_as_a_list":      {"- defaults\n", ":1:1: the top level must be a mapping (key: value), not a list"},
		"through_an_alias":         {"not_profiles: &list [a]\ndefaults: *list\n", ":2:11: defaults must be a mapping (key: value), not a list"},
	} {
		t.Run(name, func(t *testing.T) {
			path := write(t, tc.body)
			if _, err := Load(path, false); err == nil || err.Error() != "config "+path+tc.want {
				t.Fatalf("got  %v\nwant config %s%s", err, path, tc.want)
			}
		})
	}
	t.Run("empty_values_are_fine", func(t *testing.T) {
		if _, err := Load(write(t, "defaults:\nprofiles: ~\nnot_profiles: []\n"), false); err != nil {
			t.Fatal(err)
		}
	})
}

func TestLoadProfileNeedsRole(t *testing.T) {
	path := write(t, "profiles:\n  - name: prod\n")
	if _, err := Load(path, false); err == nil || !strings.Contains(err.Error(), "profiles[0] needs both name and role_arn") {
		t.Fatalf("got %v", err)
	}
}

func TestLoadMissingAndEmpty(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.yaml")
	if _, err := Load(missing, true); err != nil {
		t.Fatalf("optional missing: %v", err)
	}
	if _, err := Load(missing, false); err == nil {
		t.Fatal("explicit missing config must fail")
	}
	if _, err := Load(write(t, ""), false); err != nil {
		t.Fatalf("empty config: %v", err)
	}
}

func TestOthersCanWrite(t *testing.T) {
	path := write(t, "defaults: {}\n")
	if w := OthersCanWrite("policy", path); w != "" {
		t.Fatalf("0600 file: %q", w)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	if w := OthersCanWrite("policy", path); !strings.Contains(w, "policy "+path+" is writable by others (mode 0666)") {
		t.Fatalf("0666 file: %q", w)
	}
	if w := OthersCanWrite("policy", filepath.Join(t.TempDir(), "missing")); w != "" {
		t.Fatalf("missing file: %q", w)
	}
}
