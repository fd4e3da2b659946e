package policy

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // tests must not depend on the machine's zoneinfo
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// head starts a policy whose rules follow, indented by two spaces.
const head = "version: \"1\"\nrules:\n"

// problems parses src as p.yaml and returns each problem formatted.
func problems(t *testing.T, src string) []string {
	t.Helper()
	p, err := Parse("p.yaml", []byte(src))
	if err == nil {
		t.Fatalf("Parse succeeded, want problems; got %+v", p)
	}
	if p != nil {
		t.Errorf("Parse returned a policy alongside an error")
	}
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("error is %T (%v), want *LoadError", err, err)
	}
	out := make([]string, len(le.Problems))
	for i, pr := range le.Problems {
		out[i] = pr.Error()
	}
	if got, want := err.Error(), strings.Join(out, "\n"); got != want {
		t.Errorf("LoadError.Error() =\n%s\nwant problems joined by newlines:\n%s", got, want)
	}
	return out
}

func TestParseReportsProblemsWithPositions(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		// Top level.
		{"empty_file", "", []string{`p.yaml:1:1: policy file is empty; it needs version: "1" and rules`}},
		{"comments_only", "# nothing yet\n", []string{`p.yaml:1:1: policy file is empty; it needs version: "1" and rules`}},
		{"top_level_is_a_list", "- version: 1\n", []string{`p.yaml:1:1: policy must be a mapping with keys version and rules, got sequence`}},
		{"unknown_top_level_key", head + "  - {name: a, effect: allow}\nrulez: []\n",
			[]string{`p.yaml:4:1: unknown key "rulez" at top level (known: version, rules)`}},
		{"duplicate_top_level_key", head + "  - {name: a, effect: allow}\nversion: \"1\"\n",
			[]string{`p.yaml:4:1: duplicate key "version" at top level (first at line 1)`}},
		{"missing_version", "rules:\n  - {name: a, effect: allow}\n",
			[]string{`p.yaml:1:1: missing version at top level; add version: "1"`}},
		{"unsupported_version", "version: \"2\"\nrules:\n  - {name: a, effect: allow}\n",
			[]string{`p.yaml:1:10: unsupported version "2" (want "1")`}},
		{"float_version", "version: 1.0\nrules:\n  - {name: a, effect: allow}\n",
			[]string{`p.yaml:1:10: unsupported version "1.0" (want "1")`}},
		{"version_is_a_list", "version: [1]\nrules:\n  - {name: a, effect: allow}\n",
			[]string{`p.yaml:1:10: version must be "1", got sequence`}},
		{"missing_rules", "version: \"1\"\n",
			[]string{`p.yaml:1:1: missing rules at top level; a policy needs at least one rule`}},
		{"empty_rules_list", "version: \"1\"\nrules: []\n",
			[]string{`p.yaml:2:8: rules is empty; a policy needs at least one rule`}},
		{"null_rules", "version: \"1\"\nrules:\n",
			[]string{`p.yaml:2:1: rules is empty; a policy needs at least one rule`}},
		{"rules_is_a_mapping", "version: \"1\"\nrules:\n  a: {effect: allow}\n",
			[]string{`p.yaml:3:3: rules must be a list of rules, got mapping`}},
		{"second_document", head + "  - {name: a, effect: allow}\n---\nversion: \"1\"\n",
			[]string{`p.yaml:5:1: policy file holds more than one YAML document; put all rules in one`}},
		{"yaml_syntax_error", "version: \"1\"\nrules: [\n",
			[]string{`p.yaml:2: invalid YAML: did not find expected node content`}},
		{"tab_indentation", "version: \"1\"\n\trules: []\n",
			[]string{`p.yaml:2: invalid YAML: found character that cannot start any token`}},
		{"unknown_anchor", "version: \"1\"\nrules: *nope\n",
			[]string{`p.yaml: invalid YAML: unknown anchor 'nope' referenced`}},

		// Rules.
		{"rule_is_a_string", head + "  - allow\n",
			[]string{`p.yaml:3:5: rule #1 must be a mapping, got scalar "allow"`}},
		{"unknown_rule_key", head + "  - name: x\n    effect: allow\n    efect: deny\n",
			[]string{`p.yaml:5:5: unknown key "efect" in rule "x" (known: name, effect, conditions, session_table, reason)`}},
		{"misspelt_effect_key_also_misses_effect", head + "  - name: x\n    efect: allow\n",
			[]string{
				`p.yaml:3:5: missing effect in rule "x" (valid: allow, deny, require_server, require_server_session)`,
				`p.yaml:4:5: unknown key "efect" in rule "x" (known: name, effect, conditions, session_table, reason)`,
			}},
		{"duplicate_rule_key", head + "  - name: x\n    effect: allow\n    effect: deny\n",
			[]string{`p.yaml:5:5: duplicate key "effect" in rule "x" (first at line 4)`}},
		{"missing_name", head + "  - effect: allow\n",
			[]string{`p.yaml:3:5: missing name in rule #1`}},
		{"empty_name", head + "  - {name: a, effect: allow}\n  - {name: \"\", effect: allow}\n",
			[]string{`p.yaml:4:12: empty name in rule #2`}},
		{"null_name", head + "  - name:\n    effect: allow\n",
			[]string{`p.yaml:3:5: empty name in rule #1`}},
		{"name_is_a_list", head + "  - {name: [a], effect: allow}\n",
			[]string{`p.yaml:3:12: name in rule #1 must be a string, got sequence`}},
		{"duplicate_rule_name", head + "  - {name: a, effect: allow}\n  - {name: b, effect: allow}\n  - {name: a, effect: deny}\n",
			[]string{`p.yaml:5:12: duplicate rule name "a" (first at line 3)`}},
		{"missing_effect", head + "  - name: x\n    reason: r\n",
			[]string{`p.yaml:3:5: missing effect in rule "x" (valid: allow, deny, require_server, require_server_session)`}},
		{"unknown_effect", head + "  - name: x\n    effect: alow\n",
			[]string{`p.yaml:4:13: unknown effect "alow" in rule "x" (valid: allow, deny, require_server, require_server_session)`}},
		{"effects_are_case_sensitive", head + "  - name: x\n    effect: Allow\n",
			[]string{`p.yaml:4:13: unknown effect "Allow" in rule "x" (valid: allow, deny, require_server, require_server_session)`}},
		{"empty_effect", head + "  - name: x\n    effect: \"\"\n",
			[]string{`p.yaml:4:13: empty effect in rule "x" (valid: allow, deny, require_server, require_server_session)`}},
		{"session_table_is_a_mapping", head + "  - name: x\n    effect: allow\n    session_table: {name: t}\n",
			[]string{`p.yaml:5:20: session_table in rule "x" must be a string, got mapping`}},
		{"merge_key", head + "  - name: x\n    effect: allow\n    <<: {reason: r}\n",
			[]string{`p.yaml:5:5: merge key "<<" in rule "x" is not supported; write the keys out`}},

		// Conditions.
		{"conditions_is_a_list", head + "  - name: x\n    effect: allow\n    conditions: [prod]\n",
			[]string{`p.yaml:5:17: conditions in rule "x" must be a mapping, got sequence`}},
		{"unknown_condition_key", head + "  - name: x\n    effect: allow\n    conditions: {profile: prod}\n",
			[]string{`p.yaml:5:18: unknown key "profile" in conditions of rule "x" (known: profiles, users, time, mode)`}},
		{"condition_key_is_a_list", head + "  - name: x\n    effect: allow\n    conditions: {[a]: prod}\n",
			[]string{`p.yaml:5:18: key in conditions of rule "x" must be a string, got sequence`}},
		{"profiles_is_a_mapping", head + "  - name: x\n    effect: allow\n    conditions: {profiles: {prod: true}}\n",
			[]string{`p.yaml:5:28: profiles in rule "x" must be a string or a list of strings, got mapping`}},
		{"profiles_holds_a_list", head + "  - name: x\n    effect: allow\n    conditions: {profiles: [prod, [dev]]}\n",
			[]string{`p.yaml:5:35: profiles in rule "x" must contain only strings, got sequence`}},
		{"profiles_holds_null", head + "  - name: x\n    effect: allow\n    conditions: {profiles: [prod, ~]}\n",
			[]string{`p.yaml:5:35: profiles in rule "x" must contain only strings, got null`}},
		{"profiles_holds_an_empty_string", head + "  - name: x\n    effect: allow\n    conditions: {profiles: [prod, \"\"]}\n",
			[]string{`p.yaml:5:35: profiles in rule "x" has an empty value`}},
		{"profiles_is_an_empty_string", head + "  - name: x\n    effect: allow\n    conditions: {profiles: \"\"}\n",
			[]string{`p.yaml:5:28: profiles in rule "x" has an empty value`}},
		{"profiles_is_an_empty_list", head + "  - name: x\n    effect: allow\n    conditions: {profiles: []}\n",
			[]string{`p.yaml:5:28: profiles in rule "x" is empty; list at least one value or remove the key`}},
		{"profiles_is_null", head + "  - name: x\n    effect: allow\n    conditions:\n      profiles:\n",
			[]string{`p.yaml:6:7: profiles in rule "x" is empty; list at least one value or remove the key`}},
		{"users_is_a_mapping", head + "  - name: x\n    effect: allow\n    conditions: {users: {alice: 1}}\n",
			[]string{`p.yaml:5:25: users in rule "x" must be a string or a list of strings, got mapping`}},
		{"users_holds_an_empty_string", head + "  - name: x\n    effect: allow\n    conditions: {users: [\"\"]}\n",
			[]string{`p.yaml:5:26: users in rule "x" has an empty value`}},
		{"unknown_mode", head + "  - name: x\n    effect: allow\n    conditions: {mode: [server, gui]}\n",
			[]string{`p.yaml:5:33: unknown mode "gui" in rule "x" (valid: server, cli, credential_process)`}},
		{"unknown_mode_scalar", head + "  - name: x\n    effect: allow\n    conditions: {mode: CLI}\n",
			[]string{`p.yaml:5:24: unknown mode "CLI" in rule "x" (valid: server, cli, credential_process)`}},
		{"mode_is_a_mapping", head + "  - name: x\n    effect: allow\n    conditions: {mode: {server: 1}}\n",
			[]string{`p.yaml:5:24: mode in rule "x" must be a string or a list of strings, got mapping`}},

		// Time.
		{"time_is_a_string", head + "  - name: x\n    effect: allow\n    conditions: {time: weekdays}\n",
			[]string{`p.yaml:5:24: time in rule "x" must be a mapping with days, hours and timezone, got scalar "weekdays"`}},
		{"time_is_empty", head + "  - name: x\n    effect: allow\n    conditions: {time: {}}\n",
			[]string{`p.yaml:5:24: time in rule "x" is empty; give days and/or hours or remove the key`}},
		{"time_has_only_a_timezone", head + "  - name: x\n    effect: allow\n    conditions: {time: {timezone: UTC}}\n",
			[]string{`p.yaml:5:24: time in rule "x" needs days or hours`}},
		{"unknown_time_key", head + "  - name: x\n    effect: allow\n    conditions: {time: {days: [mon], zone: UTC}}\n",
			[]string{`p.yaml:5:38: unknown key "zone" in time of rule "x" (known: days, hours, timezone)`}},
		{"unknown_day", head + "  - name: x\n    effect: allow\n    conditions: {time: {days: [monday, funday]}}\n",
			[]string{`p.yaml:5:40: unknown day "funday" in rule "x" (valid: monday..sunday or mon..sun)`}},
		{"two_letter_day", head + "  - name: x\n    effect: allow\n    conditions: {time: {days: mo}}\n",
			[]string{`p.yaml:5:31: unknown day "mo" in rule "x" (valid: monday..sunday or mon..sun)`}},
		{"days_is_empty", head + "  - name: x\n    effect: allow\n    conditions: {time: {days: []}}\n",
			[]string{`p.yaml:5:31: days in rule "x" is empty; list at least one value or remove the key`}},
		{"days_is_a_mapping", head + "  - name: x\n    effect: allow\n    conditions: {time: {days: {mon: 1}}}\n",
			[]string{`p.yaml:5:31: days in rule "x" must be a string or a list of strings, got mapping`}},
		{"hours_is_a_string", head + "  - name: x\n    effect: allow\n    conditions: {time: {hours: \"09:00-17:00\"}}\n",
			[]string{`p.yaml:5:32: hours in rule "x" must be a mapping like {start: "09:00", end: "17:00"}, got scalar "09:00-17:00"`}},
		{"hours_is_null", head + "  - name: x\n    effect: allow\n    conditions:\n      time:\n        hours:\n",
			[]string{`p.yaml:7:9: hours in rule "x" needs start and end`}},
		{"hours_is_empty", head + "  - name: x\n    effect: allow\n    conditions: {time: {hours: {}}}\n",
			[]string{`p.yaml:5:32: hours in rule "x" needs start and end`}},
		{"unknown_hours_key", head + "  - name: x\n    effect: allow\n    conditions: {time: {hours: {begin: \"09:00\", end: \"17:00\"}}}\n",
			[]string{
				`p.yaml:5:32: hours in rule "x" has end but no start`,
				`p.yaml:5:33: unknown key "begin" in hours of rule "x" (known: start, end)`,
			}},
		{"start_without_end", head + "  - name: x\n    effect: allow\n    conditions: {time: {hours: {start: \"09:00\"}}}\n",
			[]string{`p.yaml:5:32: hours in rule "x" has start but no end`}},
		{"end_without_start", head + "  - name: x\n    effect: allow\n    conditions: {time: {hours: {end: \"17:00\"}}}\n",
			[]string{`p.yaml:5:32: hours in rule "x" has end but no start`}},
		{"single_digit_hour", head + "  - name: x\n    effect: allow\n    conditions: {time: {hours: {start: \"9:00\", end: \"17:00\"}}}\n",
			[]string{`p.yaml:5:40: invalid hours start "9:00" in rule "x" (want HH:MM, 24-hour, e.g. "09:00")`}},
		{"hour_25", head + "  - name: x\n    effect: allow\n    conditions: {time: {hours: {start: \"09:00\", end: \"25:00\"}}}\n",
			[]string{`p.yaml:5:54: invalid hours end "25:00" in rule "x" (want HH:MM, 24-hour, e.g. "09:00")`}},
		{"minute_60", head + "  - name: x\n    effect: allow\n    conditions: {time: {hours: {start: \"09:60\", end: \"17:00\"}}}\n",
			[]string{`p.yaml:5:40: invalid hours start "09:60" in rule "x" (want HH:MM, 24-hour, e.g. "09:00")`}},
		{"twelve_hour_clock", head + "  - name: x\n    effect: allow\n    conditions: {time: {hours: {start: 9am, end: 5pm}}}\n",
			[]string{
				`p.yaml:5:40: invalid hours start "9am" in rule "x" (want HH:MM, 24-hour, e.g. "09:00")`,
				`p.yaml:5:50: invalid hours end "5pm" in rule "x" (want HH:MM, 24-hour, e.g. "09:00")`,
			}},
		{"after_24_00", head + "  - name: x\n    effect: allow\n    conditions: {time: {hours: {start: \"09:00\", end: \"24:01\"}}}\n",
			[]string{`p.yaml:5:54: invalid hours end "24:01" in rule "x" (want HH:MM, 24-hour, e.g. "09:00")`}},
		{"start_at_24_00", head + "  - name: x\n    effect: allow\n    conditions: {time: {hours: {start: \"24:00\", end: \"06:00\"}}}\n",
			[]string{`p.yaml:5:40: hours start "24:00" in rule "x": 24:00 is only allowed as end`}},
		{"start_equals_end", head + "  - name: x\n    effect: allow\n    conditions: {time: {hours: {start: \"09:00\", end: \"09:00\"}}}\n",
			[]string{`p.yaml:5:32: hours in rule "x" start and end are both "09:00"; the window would be empty`}},
		{"unknown_timezone", head + "  - name: x\n    effect: allow\n    conditions: {time: {days: mon, timezone: Europe/Berlln}}\n",
			[]string{`p.yaml:5:46: unknown timezone "Europe/Berlln" in rule "x" (want an IANA name such as Europe/Berlin)`}},
		{"local_timezone", head + "  - name: x\n    effect: allow\n    conditions: {time: {days: mon, timezone: Local}}\n",
			[]string{`p.yaml:5:46: timezone "Local" in rule "x" depends on the machine; name an IANA zone such as Europe/Berlin`}},
		{"empty_timezone", head + "  - name: x\n    effect: allow\n    conditions: {time: {days: mon, timezone: \"\"}}\n",
			[]string{`p.yaml:5:46: empty timezone in rule "x"; remove the key for UTC or name an IANA zone such as Europe/Berlin`}},
		{"timezone_path_traversal", head + "  - name: x\n    effect: allow\n    conditions: {time: {days: mon, timezone: ../../etc/passwd}}\n",
			[]string{`p.yaml:5:46: unknown timezone "../../etc/passwd" in rule "x" (want an IANA name such as Europe/Berlin)`}},

		// Hostile shapes.
		{"self_referencing_alias", "a: &a [*a]\nversion: \"1\"\nrules: *a\n",
			[]string{
				`p.yaml:1:1: unknown key "a" at top level (known: version, rules)`,
				`p.yaml:1:8: rule #1 must be a mapping, got sequence`,
			}},
		{"long_values_are_shortened", head + "  - name: x\n    effect: " + strings.Repeat("a", 100) + "\n",
			[]string{`p.yaml:4:13: unknown effect "` + strings.Repeat("a", 64) + `..." in rule "x" (valid: allow, deny, require_server, require_server_session)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problems(t, tt.src)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestParseCollectsEveryProblem checks that one broken file reports all of
// its problems, in file order, not just the first.
func TestParseCollectsEveryProblem(t *testing.T) {
	const file = "testdata/problems.yaml"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse(file, data)
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("Parse error = %v, want *LoadError", err)
	}
	if len(le.Problems) < 10 {
		t.Errorf("got %d problems, want every problem in the file:\n%v", len(le.Problems), err)
	}
	golden(t, "testdata/problems.golden", err.Error()+"\n")
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./policy/ -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update to accept):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestParseAcceptsSchemaVariants(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		src  string
		want Rule
	}{
		{"version_as_yaml_int", "version: 1\nrules:\n  - {name: x, effect: allow}\n",
			Rule{Name: "x", Effect: EffectAllow, Line: 3, Column: 5}},
		{"no_conditions_matches_all", head + "  - name: x\n    effect: deny\n    reason: closed\n",
			Rule{Name: "x", Effect: EffectDeny, Reason: "closed", Line: 3, Column: 5}},
		{"null_conditions_is_no_conditions", head + "  - name: x\n    effect: deny\n    conditions:\n",
			Rule{Name: "x", Effect: EffectDeny, Line: 3, Column: 5}},
		{"scalar_lists", head + "  - name: x\n    effect: require_server_session\n    session_table: t1\n    conditions: {profiles: prod, users: alice, mode: server}\n",
			Rule{Name: "x", Effect: EffectRequireServerSession, SessionTable: "t1", Line: 3, Column: 5,
				Conditions: Conditions{Profiles: []string{"prod"}, Users: []string{"alice"}, Modes: []Mode{ModeServer}}}},
		{"days_are_case_insensitive_and_abbreviated", head + "  - name: x\n    effect: allow\n    conditions: {time: {days: [MON, Tuesday, wed, SUNDAY, mon]}}\n",
			Rule{Name: "x", Effect: EffectAllow, Line: 3, Column: 5,
				Conditions: Conditions{Time: &TimeWindow{Days: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Sunday}, Location: time.UTC}}}},
		{"hours_unquoted_and_24_00_end", head + "  - name: x\n    effect: allow\n    conditions: {time: {hours: {start: 00:00, end: 24:00}, timezone: Europe/Berlin}}\n",
			Rule{Name: "x", Effect: EffectAllow, Line: 3, Column: 5,
				Conditions: Conditions{Time: &TimeWindow{Start: 0, End: 24 * 60, HasHours: true, Location: berlin}}}},
		{"hours_crossing_midnight", head + "  - name: x\n    effect: allow\n    conditions: {time: {days: fri, hours: {start: \"22:00\", end: \"02:00\"}}}\n",
			Rule{Name: "x", Effect: EffectAllow, Line: 3, Column: 5,
				Conditions: Conditions{Time: &TimeWindow{Days: []time.Weekday{time.Friday}, Start: 22 * 60, End: 2 * 60, HasHours: true, Location: time.UTC}}}},
		{"anchored_conditions_reused", "version: \"1\"\nrules:\n  - name: a\n    effect: allow\n    conditions: &c {profiles: [dev]}\n  - name: x\n    effect: deny\n    conditions: *c\n",
			Rule{Name: "x", Effect: EffectDeny, Line: 6, Column: 5, Conditions: Conditions{Profiles: []string{"dev"}}}},
		{"trailing_document_separator", head + "  - {name: x, effect: allow}\n---\n",
			Rule{Name: "x", Effect: EffectAllow, Line: 3, Column: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("p.yaml", []byte(tt.src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if p.Path != "p.yaml" || p.Version != "1" {
				t.Errorf("Path, Version = %q, %q; want p.yaml, 1", p.Path, p.Version)
			}
			got := p.Rules[len(p.Rules)-1]
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("rule = %s\nwant   %s", dump(got), dump(tt.want))
			}
		})
	}
}

func dump(r Rule) string {
	s := fmt.Sprintf("%+v", r)
	if r.Conditions.Time != nil {
		s += fmt.Sprintf(" time=%+v", *r.Conditions.Time)
	}
	return s
}

func TestLoad(t *testing.T) {
	t.Run("reads_a_policy_file", func(t *testing.T) {
		p, err := Load("testdata/policy.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if p.Path != "testdata/policy.yaml" || len(p.Rules) != 6 {
			t.Errorf("Path %q with %d rules; want testdata/policy.yaml with 6", p.Path, len(p.Rules))
		}
	})
	t.Run("missing_file_is_wrapped", func(t *testing.T) {
		_, err := Load("testdata/no-such-policy.yaml")
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("error %v does not wrap os.ErrNotExist", err)
		}
		if want := "read policy testdata/no-such-policy.yaml: "; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error %q does not start with %q", err, want)
		}
	})
	t.Run("problems_name_the_file", func(t *testing.T) {
		_, err := Load("testdata/problems.yaml")
		var le *LoadError
		if !errors.As(err, &le) {
			t.Fatalf("error %v is not a *LoadError", err)
		}
		if !strings.HasPrefix(err.Error(), "testdata/problems.yaml:2:10: ") {
			t.Errorf("error does not start with the first problem's position:\n%v", err)
		}
	})
	t.Run("refuses_files_over_1_MiB", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "huge.yaml")
		big := head + "  - {name: x, effect: allow}\n" + strings.Repeat("# padding padding padding\n", 1<<16)
		if err := os.WriteFile(path, []byte(big), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		want := fmt.Sprintf("read policy %s: file is %d bytes, over the 1 MiB limit for policy files", path, len(big))
		if err == nil || err.Error() != want {
			t.Errorf("Load error = %v\nwant %s", err, want)
		}
	})
}

func TestParseRejectsHostileInput(t *testing.T) {
	t.Run("over_1_MiB", func(t *testing.T) {
		data := []byte(head + strings.Repeat("#", 1<<20))
		got := problems(t, string(data))
		want := fmt.Sprintf("p.yaml: policy is %d bytes, over the 1 MiB limit for policy files", len(data))
		if len(got) != 1 || got[0] != want {
			t.Errorf("problems %q, want [%q]", got, want)
		}
	})
	t.Run("deep_flow_nesting", func(t *testing.T) {
		src := head + "  - " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n"
		got := problems(t, src)
		if want := "p.yaml:3: invalid YAML: exceeded max depth of 10000"; len(got) != 1 || got[0] != want {
			t.Errorf("problems %q, want [%q]", got, want)
		}
	})
	t.Run("deep_nesting_within_yaml_limit", func(t *testing.T) {
		src := head + "  - name: x\n    effect: allow\n    conditions: {profiles: [" + strings.Repeat("[", 9000) + strings.Repeat("]", 9000) + "]}\n"
		got := problems(t, src)
		if want := `p.yaml:5:29: profiles in rule "x" must contain only strings, got sequence`; len(got) != 1 || got[0] != want {
			t.Errorf("problems %q, want [%q]", got, want)
		}
	})
	t.Run("billion_laughs", func(t *testing.T) {
		data, err := os.ReadFile("testdata/alias_bomb.yaml")
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		got := problems(t, string(data))
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Errorf("Parse took %v", elapsed)
		}
		if !slices.Contains(got, `p.yaml:9:8: rule #1 must be a mapping, got sequence`) {
			t.Errorf("problems do not reject the aliased rules:\n%s", strings.Join(got, "\n"))
		}
	})
	t.Run("quadratic_alias_expansion", func(t *testing.T) {
		// Each of n aliased rules names a list of n aliased profiles: a
		// small file that would expand to n*n values. yaml.v3 does not
		// expand aliases when decoding into a yaml.Node, so Parse bounds
		// the expansion itself.
		const n = 20000
		var b strings.Builder
		b.WriteString("p: &p prod\nr: &r\n  name: x\n  effect: allow\n  conditions:\n    profiles: [")
		b.WriteString(strings.TrimSuffix(strings.Repeat("*p,", n), ","))
		b.WriteString("]\nversion: \"1\"\nrules: [")
		b.WriteString(strings.TrimSuffix(strings.Repeat("*r,", n), ","))
		b.WriteString("]\n")
		start := time.Now()
		got := problems(t, b.String())
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Errorf("Parse took %v", elapsed)
		}
		if !strings.Contains(strings.Join(got, "\n"), "policy expands aliases too many times; write the rules out instead") {
			t.Errorf("problems do not report the alias expansion:\n%s", strings.Join(got[:min(len(got), 10)], "\n"))
		}
	})
}

func TestLoadErrorShowsAtMost50Problems(t *testing.T) {
	var b strings.Builder
	b.WriteString(head)
	for i := range 60 {
		fmt.Fprintf(&b, "  - {name: r%d, effect: nope}\n", i)
	}
	_, err := Parse("p.yaml", []byte(b.String()))
	var le *LoadError
	if !errors.As(err, &le) || len(le.Problems) != 60 {
		t.Fatalf("want 60 problems, got %v", err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 51 || lines[50] != "... and 10 more problems" {
		t.Errorf("Error() has %d lines ending %q; want 50 problems and a count of the rest", len(lines), lines[len(lines)-1])
	}
}

func TestProblemError(t *testing.T) {
	tests := []struct {
		name string
		p    Problem
		want string
	}{
		{"file_line_column", Problem{File: "p.yaml", Line: 3, Column: 7, Message: "m"}, "p.yaml:3:7: m"},
		{"no_column", Problem{File: "p.yaml", Line: 3, Message: "m"}, "p.yaml:3: m"},
		{"no_position", Problem{File: "p.yaml", Message: "m"}, "p.yaml: m"},
		{"no_file", Problem{Line: 3, Column: 7, Message: "m"}, "3:7: m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}
