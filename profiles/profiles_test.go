package profiles

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const sample = `[default]
region = us-east-1

[profile prod]
role_arn = arn:aws:iam::222222222222:role/ProdAdmin
source_profile = identity
region = eu-west-1
duration_seconds = 3600
role_session_name = alice
mfa_serial = arn:aws:iam::111111111111:mfa/alice

[profile dev]
role_arn = arn:aws:iam::444444444444:role/DevAdmin

[profile sandbox]
role_arn = arn:aws:iam::444444444444:role/DevAdmin

[sso-session corp]
sso_region = us-east-1
`

func TestLoadAWSConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(sample), 0o600); err != nil {
		t.Fatal(err)
	}
	ps, err := LoadAWSConfig(path, false)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	if want := []string{"default", "prod", "dev", "sandbox"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("profiles = %v, want %v", names, want)
	}
	prod := ps[1]
	want := Profile{Name: "prod", RoleARN: "arn:aws:iam::222222222222:role/ProdAdmin", SourceProfile: "identity",
		Region: "eu-west-1", RoleSessionName: "alice", DurationSeconds: 3600, MFASerial: "arn:aws:iam::111111111111:mfa/alice", Source: path}
	if prod != want {
		t.Fatalf("prod = %+v, want %+v", prod, want)
	}
}

func TestLoadAWSConfigMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	if ps, err := LoadAWSConfig(missing, true); err != nil || ps != nil {
		t.Fatalf("optional missing file: %v %v", ps, err)
	}
	if _, err := LoadAWSConfig(missing, false); err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("explicit missing file must fail naming it: %v", err)
	}
}

func TestLoadAWSConfigBadDuration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	os.WriteFile(path, []byte("[profile x]\nduration_seconds = soon\n"), 0o600)
	if _, err := LoadAWSConfig(path, false); err == nil || !strings.Contains(err.Error(), `profile x: duration_seconds "soon"`) {
		t.Fatalf("got %v", err)
	}
}

func TestRoleMap(t *testing.T) {
	aws := []Profile{
		{Name: "sandbox", RoleARN: "arn:dev"},
		{Name: "dev", RoleARN: "arn:dev"},
		{Name: "prod", RoleARN: "arn:prod"},
		{Name: "staging", RoleARN: "arn:staging"},
	}
	sentinel := []Profile{{Name: "production", RoleARN: "arn:prod"}}
	m := NewRoleMap(sentinel, aws)
	want := map[string]string{"arn:dev": "dev", "arn:prod": "production", "arn:staging": "staging"}
	if !reflect.DeepEqual(m.Roles, want) {
		t.Fatalf("roles = %v, want %v", m.Roles, want)
	}
	if want := []Ambiguity{{RoleARN: "arn:dev", Profiles: []string{"dev", "sandbox"}, Chosen: "dev"}}; !reflect.DeepEqual(m.Ambiguous, want) {
		t.Fatalf("ambiguous = %+v, want %+v", m.Ambiguous, want)
	}
}
