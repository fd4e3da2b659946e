package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// maxPolicySize is the largest policy file Load and Parse accept (1 MiB).
const maxPolicySize = 1 << 20

// maxProblemsShown caps how many problems LoadError.Error prints; all of them
// stay in LoadError.Problems.
const maxProblemsShown = 50

// Problem is one thing wrong with a policy file, with its position.
type Problem struct {
	// File is the policy file's path as given to Load or Parse.
	File string
	// Line and Column are 1-based; 0 means unknown.
	Line, Column int
	// Message says what is wrong, naming the offending key or value.
	Message string
}

// Error formats the problem as "FILE:LINE:COL: MESSAGE". Unknown parts are
// left out, as go/token does: "FILE:LINE: MESSAGE" without a column and
// "FILE: MESSAGE" without a line.
func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		if b.Len() > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strconv.Itoa(p.Line))
		if p.Column > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(p.Column))
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// LoadError reports every problem found in a policy file.
type LoadError struct {
	// Problems are sorted by position.
	Problems []Problem
}

// Error joins the problems with newlines. Past 50 problems it prints a count
// of the rest instead.
func (e *LoadError) Error() string {
	if len(e.Problems) == 0 {
		return "invalid policy"
	}
	lines := make([]string, 0, min(len(e.Problems), maxProblemsShown)+1)
	for i, p := range e.Problems {
		if i == maxProblemsShown {
			lines = append(lines, fmt.Sprintf("... and %d more problems", len(e.Problems)-i))
			break
		}
		lines = append(lines, p.Error())
	}
	return strings.Join(lines, "\n")
}

// Load reads the policy file at path and parses it. Files over 1 MiB are
// refused. Schema problems are returned as a *LoadError.
func Load(path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read policy %s: %w", path, err)
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Mode().IsRegular() && info.Size() > maxPolicySize {
		return nil, fmt.Errorf("read policy %s: file is %d bytes, over the 1 MiB limit for policy files", path, info.Size())
	}
	// The limit also holds for files that grow while being read and for
	// non-regular files such as pipes.
	data, err := io.ReadAll(io.LimitReader(f, maxPolicySize+1))
	if err != nil {
		return nil, fmt.Errorf("read policy %s: %w", path, err)
	}
	if len(data) > maxPolicySize {
		return nil, fmt.Errorf("read policy %s: file is over the 1 MiB limit for policy files", path)
	}
	return Parse(path, data)
}

// Parse parses and validates a policy held in data; file names it in
// problems. It returns a *LoadError listing every problem found.
func Parse(file string, data []byte) (*Policy, error) {
	d := &decoder{file: file}
	if len(data) > maxPolicySize {
		d.problems = append(d.problems, Problem{File: file, Message: fmt.Sprintf("policy is %d bytes, over the 1 MiB limit for policy files", len(data))})
		return nil, d.err()
	}
	root := d.parseYAML(data)
	if root == nil {
		return nil, d.err()
	}
	d.budget = 4*countNodes(root) + 10000
	p := d.policy(root)
	if err := d.err(); err != nil {
		return nil, err
	}
	p.Path = file
	return p, nil
}

// yamlLine matches the position prefix of yaml.v3 syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// parseYAML decodes data into a node tree holding exactly one document,
// recording a problem and returning nil when it cannot.
func (d *decoder) parseYAML(data []byte) (root *yaml.Node) {
	defer func() {
		// yaml.v3 turns its own failures into errors; anything else it
		// panics with is still a property of hostile input, not a reason to
		// crash the caller.
		if v := recover(); v != nil {
			d.problems = append(d.problems, Problem{File: d.file, Message: fmt.Sprintf("invalid YAML: parser failed: %v", v)})
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.problems = append(d.problems, Problem{File: d.file, Line: 1, Column: 1, Message: `policy file is empty; it needs version: "1" and rules`})
			return nil
		}
		d.yamlError(err)
		return nil
	}
	// A trailing "---" (an empty document) is harmless; any other document
	// after the first is a mistake.
	for {
		var extra yaml.Node
		err := dec.Decode(&extra)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			d.yamlError(err)
			return nil
		}
		if body := documentBody(&extra); body != nil && !(isNull(body) && body.Value == "") {
			d.addf(body, "policy file holds more than one YAML document; put all rules in one")
			return nil
		}
	}
	body := documentBody(&doc)
	if body == nil || (isNull(body) && body.Value == "") {
		d.problems = append(d.problems, Problem{File: d.file, Line: 1, Column: 1, Message: `policy file is empty; it needs version: "1" and rules`})
		return nil
	}
	return body
}

// documentBody returns the node a document holds, or nil if it holds none.
func documentBody(doc *yaml.Node) *yaml.Node {
	if doc.Kind != yaml.DocumentNode {
		return doc
	}
	if len(doc.Content) == 0 {
		return nil
	}
	return doc.Content[0]
}

func (d *decoder) yamlError(err error) {
	msg := err.Error()
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	d.problems = append(d.problems, Problem{File: d.file, Line: line, Message: "invalid YAML: " + msg})
}

// countNodes counts the nodes of a tree without following aliases.
func countNodes(root *yaml.Node) int {
	n := 0
	stack := []*yaml.Node{root}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n++
		stack = append(stack, top.Content...)
	}
	return n
}

// decoder turns a yaml.Node tree into a Policy, collecting problems.
type decoder struct {
	file     string
	problems []Problem
	// budget is how many more nodes may be visited. Aliases let a small
	// document name the same subtree many times; yaml.v3 does not expand
	// aliases when decoding into a yaml.Node, so the decoder bounds the
	// expansion itself.
	budget    int
	exhausted bool
	zones     map[string]*time.Location
}

func (d *decoder) addf(n *yaml.Node, format string, args ...any) {
	p := Problem{File: d.file, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	d.problems = append(d.problems, p)
}

// err returns the collected problems, sorted by position and deduplicated
// (an aliased node can be visited more than once), or nil if there are none.
func (d *decoder) err() error {
	if len(d.problems) == 0 {
		return nil
	}
	sort.SliceStable(d.problems, func(i, j int) bool {
		a, b := d.problems[i], d.problems[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	out := d.problems[:0]
	seen := map[Problem]bool{}
	for _, p := range d.problems {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return &LoadError{Problems: out}
}

// resolve follows aliases and charges the visit to the budget. It returns nil
// when the budget is spent; the caller then stops.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	if d.exhausted {
		return nil
	}
	d.budget--
	if d.budget < 0 {
		d.exhausted = true
		d.addf(n, "policy expands aliases too many times; write the rules out instead")
		return nil
	}
	for hops := 0; n.Kind == yaml.AliasNode; hops++ {
		if n.Alias == nil || hops > 16 {
			d.addf(n, "alias %s does not resolve", quote(n.Value))
			return nil
		}
		n = n.Alias
	}
	return n
}

// follow follows aliases without charging the budget, for a quick look at a
// key; it returns n itself if the chain does not end.
func follow(n *yaml.Node) *yaml.Node {
	m := n
	for hops := 0; m.Kind == yaml.AliasNode; hops++ {
		if m.Alias == nil || hops > 16 {
			return n
		}
		m = m.Alias
	}
	return m
}

// kindName names a node's kind for messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "sequence"
	case yaml.ScalarNode:
		if isNull(n) {
			return "null"
		}
		return "scalar " + quote(n.Value)
	case yaml.DocumentNode:
		return "document"
	case yaml.AliasNode:
		return "alias"
	}
	return "nothing"
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// quote quotes a value from the file for a message, shortening long ones.
func quote(s string) string {
	const maxRunes = 64
	if r := []rune(s); len(r) > maxRunes {
		s = string(r[:maxRunes]) + "..."
	}
	return strconv.Quote(s)
}

// entry is one key of a mapping: the key node and its (unresolved) value.
type entry struct{ key, value *yaml.Node }

// fields checks a mapping's keys against known and returns the known ones.
// Unknown, duplicate and non-string keys are problems; where completes a
// message such as `unknown key "x" in rule "y"`.
func (d *decoder) fields(m *yaml.Node, where string, known ...string) map[string]entry {
	out := make(map[string]entry, len(known))
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := d.resolve(m.Content[i])
		if k == nil {
			return out
		}
		if k.Kind != yaml.ScalarNode || isNull(k) {
			d.addf(k, "key %s must be a string, got %s", where, kindName(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			d.addf(k, "merge key %s %s is not supported; write the keys out", quote(k.Value), where)
			continue
		}
		if !slices.Contains(known, k.Value) {
			d.addf(k, "unknown key %s %s (known: %s)", quote(k.Value), where, strings.Join(known, ", "))
			continue
		}
		if first, dup := out[k.Value]; dup {
			d.addf(k, "duplicate key %s %s (first at line %d)", quote(k.Value), where, first.key.Line)
			continue
		}
		out[k.Value] = entry{key: k, value: m.Content[i+1]}
	}
	return out
}

// scalar returns a string-valued entry. A null value yields ("", true); a
// non-scalar is a problem and yields ok == false.
func (d *decoder) scalar(e entry, where string) (value string, ok bool) {
	v := d.resolve(e.value)
	if v == nil {
		return "", false
	}
	if v.Kind != yaml.ScalarNode {
		d.addf(v, "%s %s must be a string, got %s", e.key.Value, where, kindName(v))
		return "", false
	}
	if isNull(v) {
		return "", true
	}
	return v.Value, true
}

// at returns the node to report a problem with an entry's value at: the
// value itself, or the key when the value is null (a null left empty in the
// file has no useful position of its own).
func at(e entry, v *yaml.Node) *yaml.Node {
	if v == nil || isNull(v) {
		return e.key
	}
	return v
}

// stringList decodes a string or a list of strings. Empty lists, null and
// empty strings are problems: an empty condition would silently match all or
// nothing. The returned nodes parallel the values.
func (d *decoder) stringList(e entry, where string) ([]string, []*yaml.Node, bool) {
	name := e.key.Value
	v := d.resolve(e.value)
	if v == nil {
		return nil, nil, false
	}
	switch {
	case isNull(v) || (v.Kind == yaml.SequenceNode && len(v.Content) == 0):
		d.addf(at(e, v), "%s %s is empty; list at least one value or remove the key", name, where)
		return nil, nil, false
	case v.Kind == yaml.ScalarNode:
		if v.Value == "" {
			d.addf(v, "%s %s has an empty value", name, where)
			return nil, nil, false
		}
		return []string{v.Value}, []*yaml.Node{v}, true
	case v.Kind != yaml.SequenceNode:
		d.addf(v, "%s %s must be a string or a list of strings, got %s", name, where, kindName(v))
		return nil, nil, false
	}
	values := make([]string, 0, len(v.Content))
	nodes := make([]*yaml.Node, 0, len(v.Content))
	ok := true
	for _, item := range v.Content {
		n := d.resolve(item)
		if n == nil {
			return nil, nil, false
		}
		switch {
		case n.Kind != yaml.ScalarNode || isNull(n):
			d.addf(n, "%s %s must contain only strings, got %s", name, where, kindName(n))
			ok = false
		case n.Value == "":
			d.addf(n, "%s %s has an empty value", name, where)
			ok = false
		default:
			values = append(values, n.Value)
			nodes = append(nodes, n)
		}
	}
	return values, nodes, ok
}

// policy decodes the top-level mapping.
func (d *decoder) policy(root *yaml.Node) *Policy {
	root = d.resolve(root)
	if root == nil {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		d.addf(root, "policy must be a mapping with keys version and rules, got %s", kindName(root))
		return nil
	}
	p := &Policy{}
	f := d.fields(root, "at top level", "version", "rules")
	if e, ok := f["version"]; !ok {
		d.addf(root, `missing version at top level; add version: "1"`)
	} else if v := d.resolve(e.value); v != nil {
		switch tag := v.ShortTag(); {
		case v.Kind != yaml.ScalarNode:
			d.addf(v, `version must be "1", got %s`, kindName(v))
		case v.Value != "1" || (tag != "!!str" && tag != "!!int"):
			d.addf(at(e, v), `unsupported version %s (want "1")`, quote(v.Value))
		default:
			p.Version = "1"
		}
	}
	e, ok := f["rules"]
	if !ok {
		d.addf(root, "missing rules at top level; a policy needs at least one rule")
		return p
	}
	rules := d.resolve(e.value)
	switch {
	case rules == nil:
		return p
	case isNull(rules) || (rules.Kind == yaml.SequenceNode && len(rules.Content) == 0):
		d.addf(at(e, rules), "rules is empty; a policy needs at least one rule")
		return p
	case rules.Kind != yaml.SequenceNode:
		d.addf(rules, "rules must be a list of rules, got %s", kindName(rules))
		return p
	}
	names := map[string]*yaml.Node{}
	for i, item := range rules.Content {
		if d.exhausted {
			break
		}
		if r, ok := d.rule(item, i+1, names); ok {
			p.Rules = append(p.Rules, r)
		}
	}
	return p
}

var (
	ruleKeys       = []string{"name", "effect", "conditions", "session_table", "reason"}
	conditionsKeys = []string{"profiles", "users", "time", "mode"}
	timeKeys       = []string{"days", "hours", "timezone"}
	hoursKeys      = []string{"start", "end"}
)

// rule decodes the index-th (1-based) rule; names tracks rule names seen so far.
func (d *decoder) rule(item *yaml.Node, index int, names map[string]*yaml.Node) (Rule, bool) {
	n := d.resolve(item)
	if n == nil {
		return Rule{}, false
	}
	r := Rule{Line: item.Line, Column: item.Column}
	label := fmt.Sprintf("rule #%d", index)
	if n.Kind != yaml.MappingNode {
		d.addf(item, "%s must be a mapping, got %s", label, kindName(n))
		return r, false
	}
	problems := len(d.problems)

	// The name labels every other message about this rule, so read it first.
	nameEntry, hasName := entry{}, false
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := follow(n.Content[i]); k.Kind == yaml.ScalarNode && k.Value == "name" {
			nameEntry, hasName = entry{key: k, value: n.Content[i+1]}, true
			break
		}
	}
	if hasName {
		name, ok := d.scalar(nameEntry, "in "+label)
		v := nameEntry.value
		switch {
		case !ok:
		case name == "":
			d.addf(at(nameEntry, v), "empty name in %s", label)
		case names[name] != nil:
			d.addf(v, "duplicate rule name %s (first at line %d)", quote(name), names[name].Line)
			r.Name = name
		default:
			names[name] = v
			r.Name = name
		}
	}
	if r.Name != "" {
		label = "rule " + quote(r.Name)
	}
	in := "in " + label

	f := d.fields(n, in, ruleKeys...)
	if !hasName {
		d.addf(n, "missing name %s", in)
	}
	if e, ok := f["effect"]; !ok {
		d.addf(n, "missing effect %s (valid: %s)", in, validEffects())
	} else if s, ok := d.scalar(e, in); ok {
		switch effect := Effect(s); {
		case s == "":
			d.addf(at(e, e.value), "empty effect %s (valid: %s)", in, validEffects())
		case !effect.valid():
			d.addf(e.value, "unknown effect %s %s (valid: %s)", quote(s), in, validEffects())
		default:
			r.Effect = effect
		}
	}
	if e, ok := f["session_table"]; ok {
		r.SessionTable, _ = d.scalar(e, in)
	}
	if e, ok := f["reason"]; ok {
		r.Reason, _ = d.scalar(e, in)
	}
	if e, ok := f["conditions"]; ok {
		r.Conditions = d.conditions(e, label)
	}
	return r, len(d.problems) == problems
}

// conditions decodes a rule's conditions mapping; label names the rule.
func (d *decoder) conditions(e entry, label string) Conditions {
	var c Conditions
	v := d.resolve(e.value)
	switch {
	case v == nil, isNull(v):
		// "conditions:" with nothing after it: no conditions, like omitting it.
		return c
	case v.Kind != yaml.MappingNode:
		d.addf(v, "conditions in %s must be a mapping, got %s", label, kindName(v))
		return c
	}
	in := "in " + label
	f := d.fields(v, "in conditions of "+label, conditionsKeys...)
	if e, ok := f["profiles"]; ok {
		c.Profiles, _, _ = d.stringList(e, in)
	}
	if e, ok := f["users"]; ok {
		c.Users, _, _ = d.stringList(e, in)
	}
	if e, ok := f["mode"]; ok {
		values, nodes, _ := d.stringList(e, in)
		for i, s := range values {
			m, err := ParseMode(s)
			if err != nil {
				d.addf(nodes[i], "unknown mode %s %s (valid: %s)", quote(s), in, validModes())
				continue
			}
			c.Modes = append(c.Modes, m)
		}
	}
	if e, ok := f["time"]; ok {
		c.Time = d.timeWindow(e, label)
	}
	return c
}

// dayNames maps lower-case full and three-letter day names to weekdays.
var dayNames = func() map[string]time.Weekday {
	m := map[string]time.Weekday{}
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		full := strings.ToLower(wd.String())
		m[full] = wd
		m[full[:3]] = wd
	}
	return m
}()

// timeWindow decodes a rule's time condition; label names the rule.
func (d *decoder) timeWindow(e entry, label string) *TimeWindow {
	in := "in " + label
	v := d.resolve(e.value)
	switch {
	case v == nil:
		return nil
	case isNull(v) || (v.Kind == yaml.MappingNode && len(v.Content) == 0):
		d.addf(at(e, v), "time %s is empty; give days and/or hours or remove the key", in)
		return nil
	case v.Kind != yaml.MappingNode:
		d.addf(v, "time %s must be a mapping with days, hours and timezone, got %s", in, kindName(v))
		return nil
	}
	w := &TimeWindow{Location: time.UTC}
	f := d.fields(v, "in time of "+label, timeKeys...)
	_, hasDays := f["days"]
	_, hasHours := f["hours"]
	if !hasDays && !hasHours {
		d.addf(v, "time %s needs days or hours", in)
	}
	if e, ok := f["days"]; ok {
		values, nodes, _ := d.stringList(e, in)
		seen := map[time.Weekday]bool{}
		for i, s := range values {
			wd, ok := dayNames[strings.ToLower(s)]
			if !ok {
				d.addf(nodes[i], "unknown day %s %s (valid: monday..sunday or mon..sun)", quote(s), in)
				continue
			}
			if !seen[wd] {
				seen[wd] = true
				w.Days = append(w.Days, wd)
			}
		}
	}
	if e, ok := f["hours"]; ok {
		d.hours(e, w, label)
	}
	if e, ok := f["timezone"]; ok {
		if name, ok := d.scalar(e, in); ok {
			if loc := d.location(at(e, e.value), name, in); loc != nil {
				w.Location = loc
			}
		}
	}
	return w
}

// hours decodes a time condition's hours mapping into w.
func (d *decoder) hours(e entry, w *TimeWindow, label string) {
	in := "in " + label
	v := d.resolve(e.value)
	switch {
	case v == nil:
		return
	case isNull(v):
		d.addf(e.key, "hours %s needs start and end", in)
		return
	case v.Kind != yaml.MappingNode:
		d.addf(v, `hours %s must be a mapping like {start: "09:00", end: "17:00"}, got %s`, in, kindName(v))
		return
	}
	f := d.fields(v, "in hours of "+label, hoursKeys...)
	startEntry, hasStart := f["start"]
	endEntry, hasEnd := f["end"]
	switch {
	case !hasStart && !hasEnd:
		d.addf(v, "hours %s needs start and end", in)
		return
	case !hasEnd:
		d.addf(v, "hours %s has start but no end", in)
	case !hasStart:
		d.addf(v, "hours %s has end but no start", in)
	}
	start, startOK := -1, false
	if hasStart {
		start, startOK = d.clock(startEntry, in, false)
	}
	end, endOK := -1, false
	if hasEnd {
		end, endOK = d.clock(endEntry, in, true)
	}
	if !startOK || !endOK {
		return
	}
	if start == end {
		d.addf(v, "hours %s start and end are both %s; the window would be empty", in, quote(formatClock(start)))
		return
	}
	w.Start, w.End, w.HasHours = start, end, true
}

// clock parses an "HH:MM" entry into minutes since midnight. "24:00" is
// accepted only when isEnd.
func (d *decoder) clock(e entry, in string, isEnd bool) (int, bool) {
	s, ok := d.scalar(e, in)
	if !ok {
		return 0, false
	}
	key := e.key.Value
	pos := at(e, e.value)
	minutes, ok := parseClock(s)
	if !ok {
		d.addf(pos, "invalid hours %s %s %s (want HH:MM, 24-hour, e.g. \"09:00\")", key, quote(s), in)
		return 0, false
	}
	if minutes == 24*60 && !isEnd {
		d.addf(pos, "hours start %s %s: 24:00 is only allowed as end", quote(s), in)
		return 0, false
	}
	return minutes, true
}

// parseClock parses "HH:MM" (00:00 to 24:00) into minutes since midnight.
func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

// formatClock formats minutes since midnight as "HH:MM".
func formatClock(minutes int) string {
	return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60)
}

// location loads an IANA zone, caching per parse.
func (d *decoder) location(n *yaml.Node, name, in string) *time.Location {
	switch name {
	case "":
		d.addf(n, "empty timezone %s; remove the key for UTC or name an IANA zone such as Europe/Berlin", in)
		return nil
	case "Local":
		d.addf(n, `timezone "Local" %s depends on the machine; name an IANA zone such as Europe/Berlin`, in)
		return nil
	}
	if loc, ok := d.zones[name]; ok {
		if loc == nil {
			d.addf(n, "unknown timezone %s %s (want an IANA name such as Europe/Berlin)", quote(name), in)
		}
		return loc
	}
	if d.zones == nil {
		d.zones = map[string]*time.Location{}
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = nil
		d.addf(n, "unknown timezone %s %s (want an IANA name such as Europe/Berlin)", quote(name), in)
	}
	d.zones[name] = loc
	return loc
}
