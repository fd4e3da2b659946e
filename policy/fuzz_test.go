package policy

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// FuzzParse checks that Parse never panics, that every failure is a
// *LoadError naming the file, and that a policy that parses evaluates
// without panicking and explains the same decision it evaluates.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, seed := range []string{
		"",
		"version: 1\nrules: [{name: a, effect: allow}]\n",
		"version: 1\nrules: [{name: a, effect: deny, conditions: {time: {days: sat, hours: {start: \"23:00\", end: \"01:00\"}, timezone: Europe/Berlin}}}]\n",
		"version: 1\nrules: [&r {name: a, effect: allow, conditions: &c {users: [u], mode: cli}}, {name: b, effect: allow, conditions: *c}, *r]\n",
		"a: &a [*a]\nversion: 1\nrules: *a\n",
		"version: 1\nrules:\n  - name: x\n    effect: require_server_session\n    session_table: t\n    conditions: {profiles: [p]}\n---\n",
	} {
		f.Add([]byte(seed))
	}
	times := []time.Time{
		{},
		time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC),
		time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC),
		time.Date(2026, 11, 6, 23, 0, 0, 0, time.UTC),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) || len(le.Problems) == 0 {
				t.Fatalf("Parse error %T %v, want a *LoadError with problems", err, err)
			}
			for _, pr := range le.Problems {
				if pr.File != "fuzz.yaml" || pr.Line < 0 || pr.Column < 0 || pr.Message == "" {
					t.Fatalf("malformed problem %+v", pr)
				}
			}
			_ = err.Error()
			return
		}
		if p == nil || len(p.Rules) == 0 {
			t.Fatalf("Parse returned %+v without error", p)
		}
		profiles := []string{"", "prod"}
		users := []string{"", "alice"}
		for _, r := range p.Rules {
			profiles = append(profiles, r.Conditions.Profiles...)
			users = append(users, r.Conditions.Users...)
		}
		for _, profile := range profiles[:min(len(profiles), 8)] {
			for _, user := range users[:min(len(users), 4)] {
				for _, at := range times {
					for _, mode := range []Mode{"", ModeServer, ModeCLI} {
						r := Request{Profile: profile, User: user, At: at, Mode: mode}
						d := p.Evaluate(r)
						ex := p.Explain(r)
						if !reflect.DeepEqual(d, ex.Decision) {
							t.Fatalf("Evaluate %+v != Explain %+v", d, ex.Decision)
						}
						if d.Matched && (len(ex.Trace) == 0 || !ex.Trace[len(ex.Trace)-1].Matched || ex.Trace[len(ex.Trace)-1].Rule != d.Rule) {
							t.Fatalf("trace %+v does not end at matched rule %q", ex.Trace, d.Rule)
						}
					}
				}
			}
		}
		_ = p.SessionProfiles()
	})
}
