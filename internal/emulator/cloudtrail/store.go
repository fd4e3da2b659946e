package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// event is one stored CloudTrail record with the fields LookupEvents exposes.
type event struct {
	seq         int64 // insertion order; breaks ties between equal times
	id          string
	time        time.Time
	name        string
	source      string
	readOnly    string // "true", "false" or "" as LookupEvents reports it
	accessKeyID string
	username    string
	resources   []resource
	raw         string // the whole record, compact JSON
	awsRegion   string // the record's own region, used when loading archives
}

type resource struct {
	Type string `json:"ResourceType,omitempty"`
	Name string `json:"ResourceName,omitempty"`
}

// regionLog is the event history of one region.
type regionLog struct {
	events []*event // newest first once sorted
	byID   map[string]struct{}
	dirty  bool
}

// before reports whether a sorts before b: newer first, then later insertion.
func (a *event) before(b *event) bool {
	if !a.time.Equal(b.time) {
		return a.time.After(b.time)
	}
	return a.seq > b.seq
}

func (l *regionLog) sortIfDirty() {
	if !l.dirty {
		return
	}
	slices.SortFunc(l.events, func(a, b *event) int {
		switch {
		case a.before(b):
			return -1
		case b.before(a):
			return 1
		}
		return 0
	})
	l.dirty = false
}

// AddRecords stores raw CloudTrail records (JSON objects, as found in
// {"Records":[...]} archives) in region's event history. A record whose
// eventID is already stored in that region is a duplicate delivery and is
// skipped. It fails, storing nothing, if a record is not a JSON object with a
// string eventID and an RFC 3339 eventTime.
func (s *Server) AddRecords(region string, records ...[]byte) error {
	if region == "" {
		region = s.opts.Region
	}
	events := make([]*event, 0, len(records))
	for i, rec := range records {
		ev, err := parseRecord(rec)
		if err != nil {
			return fmt.Errorf("add record %d: %w", i, err)
		}
		events = append(events, ev)
	}
	s.store(region, events)
	return nil
}

// store adds events to region's log and returns how many were new.
func (s *Server) store(region string, events []*event) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.regions[region]
	if l == nil {
		l = &regionLog{byID: make(map[string]struct{})}
		s.regions[region] = l
	}
	added := 0
	for _, ev := range events {
		if _, dup := l.byID[ev.id]; dup {
			continue
		}
		s.seq++
		ev.seq = s.seq
		l.byID[ev.id] = struct{}{}
		l.events = append(l.events, ev)
		l.dirty = true
		added++
	}
	return added
}

// LoadArchiveDir walks dir for CloudTrail log files (*.json.gz and *.json,
// each {"Records":[...]}), as laid out in a trail's S3 bucket or a local copy
// of it, and stores every record in the history of its awsRegion (records
// without one go to Options.Region). Files under CloudTrail-Digest and
// CloudTrail-Insight folders are skipped. It returns the number of records
// stored; duplicate deliveries of an eventID already stored are not counted.
func (s *Server) LoadArchiveDir(dir string) (int, error) {
	loaded := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "CloudTrail-Digest" || name == "CloudTrail-Insight" {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if !strings.HasSuffix(name, ".json.gz") && !strings.HasSuffix(name, ".json") {
			return nil
		}
		if strings.Contains(name, "CloudTrail-Digest") || strings.Contains(name, "CloudTrail-Insight") {
			return nil
		}
		n, err := s.loadArchiveFile(path)
		if err != nil {
			return fmt.Errorf("load %s: %w", path, err)
		}
		loaded += n
		return nil
	})
	if err != nil {
		return loaded, fmt.Errorf("load archive dir %s: %w", dir, err)
	}
	return loaded, nil
}

func (s *Server) loadArchiveFile(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return 0, err
		}
		defer zr.Close()
		r = zr
	}
	var file struct {
		Records []json.RawMessage `json:"Records"`
	}
	if err := json.NewDecoder(r).Decode(&file); err != nil {
		return 0, fmt.Errorf("decode {\"Records\":[...]}: %w", err)
	}
	byRegion := make(map[string][]*event)
	var regions []string
	for i, rec := range file.Records {
		ev, err := parseRecord(rec)
		if err != nil {
			return 0, fmt.Errorf("record %d: %w", i, err)
		}
		region := ev.awsRegion
		if region == "" {
			region = s.opts.Region
		}
		if _, seen := byRegion[region]; !seen {
			regions = append(regions, region)
		}
		byRegion[region] = append(byRegion[region], ev)
	}
	n := 0
	for _, region := range regions {
		n += s.store(region, byRegion[region])
	}
	return n, nil
}

// parseRecord extracts the LookupEvents fields from a raw record. It is
// lenient about everything except eventID and eventTime: CloudTrail fields
// may be missing, null or of an unexpected type in any event version.
func parseRecord(rec []byte) (*event, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(rec, &top); err != nil || top == nil {
		return nil, errors.New("not a JSON object")
	}
	id := str(top["eventID"])
	if id == "" {
		return nil, errors.New("no eventID")
	}
	ts := str(top["eventTime"])
	if ts == "" {
		return nil, fmt.Errorf("event %s: no eventTime", id)
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return nil, fmt.Errorf("event %s: eventTime %q is not RFC 3339", id, ts)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, rec); err != nil {
		return nil, fmt.Errorf("event %s: %w", id, err)
	}
	ev := &event{
		id:        id,
		time:      t.UTC(),
		name:      str(top["eventName"]),
		source:    str(top["eventSource"]),
		raw:       compact.String(),
		awsRegion: str(top["awsRegion"]),
	}
	switch ro := strings.TrimSpace(string(top["readOnly"])); ro {
	case "true", `"true"`:
		ev.readOnly = "true"
	case "false", `"false"`:
		ev.readOnly = "false"
	}
	var who map[string]json.RawMessage
	if json.Unmarshal(top["userIdentity"], &who) == nil && who != nil {
		ev.accessKeyID = str(who["accessKeyId"])
		ev.username = username(who)
	}
	var resources []map[string]json.RawMessage
	if json.Unmarshal(top["resources"], &resources) == nil {
		for _, r := range resources {
			name := str(r["ARN"])
			if name == "" {
				name = str(r["arn"])
			}
			typ := str(r["type"])
			if name != "" || typ != "" {
				ev.resources = append(ev.resources, resource{Type: typ, Name: name})
			}
		}
	}
	return ev, nil
}

// username is what LookupEvents reports as Username: the IAM user name, the
// session name of an assumed role, "root" for the root user, otherwise the
// last part of the principal's ARN.
func username(who map[string]json.RawMessage) string {
	if name := str(who["userName"]); name != "" {
		return name
	}
	if str(who["type"]) == "Root" {
		return "root"
	}
	arn := str(who["arn"])
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return ""
}

// str returns raw as a string if it is a JSON string, else "".
func str(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}
