package integrity

import (
	"fmt"
	"strings"
	"time"
)

// DigestKey is what a digest's S3 key says:
// [PREFIX/]AWSLogs/[o-ID/]ACCOUNT/CloudTrail-Digest/REGION/YYYY/MM/DD/
// ACCOUNT_CloudTrail-Digest_REGION_TRAIL_HOMEREGION_YYYYMMDDTHHMMSSZ[_backfill].json.gz
type DigestKey struct {
	Prefix     string // the trail's S3 key prefix ("" when none), without the trailing "/"
	OrgID      string // the organization of an organization trail; "" otherwise
	Account    string // the account whose activity the digest covers
	Region     string // the region whose activity the digest covers
	Trail      string // the trail's name
	HomeRegion string // the region the trail was created in
	End        time.Time
	// Backfill: a backfill digest (_backfill), which CloudTrail delivers to list log files the
	// digest of their hour missed; backfill digests chain among themselves.
	Backfill bool
}

// LogFileKey is what a log file's S3 key says:
// [PREFIX/]AWSLogs/[o-ID/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/
// ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_UNIQUE.json.gz
type LogFileKey struct {
	Prefix    string
	OrgID     string
	Account   string
	Region    string
	Delivered time.Time // to the minute: CloudTrail names a file after its delivery
	Unique    string    // the 16 letters and digits that keep names apart
}

// backfillSuffix ends the name of a backfill digest, before .json.gz.
const backfillSuffix = "_backfill"

// IsBackfillKey reports whether key names a backfill digest.
func IsBackfillKey(key string) bool { return strings.HasSuffix(key, backfillSuffix+".json.gz") }

// Stream names the digests of one account, region and trail (its standard and backfill chains).
type Stream struct{ Prefix, OrgID, Account, Region, Trail, HomeRegion string }

// Stream is the chain the digest belongs to.
func (k DigestKey) Stream() Stream {
	return Stream{k.Prefix, k.OrgID, k.Account, k.Region, k.Trail, k.HomeRegion}
}

// ParseDigestKey reads a digest's S3 key. It is strict: the account and region of the folder
// and of the file name must agree, and the folder's date must be the end time's.
func ParseDigestKey(key string) (DigestKey, error) {
	p, err := splitKey(key, "CloudTrail-Digest")
	if err != nil {
		return DigestKey{}, fmt.Errorf("not a CloudTrail digest key: %q: %w", key, err)
	}
	k := DigestKey{Prefix: p.prefix, OrgID: p.org, Account: p.account, Region: p.region}
	bad := func(format string, args ...any) (DigestKey, error) {
		return DigestKey{}, fmt.Errorf("not a CloudTrail digest key: %q: %s", key, fmt.Sprintf(format, args...))
	}
	head := p.account + "_CloudTrail-Digest_" + p.region + "_"
	rest, ok := strings.CutPrefix(p.file, head)
	if !ok {
		return bad("the file name does not start with %s", head)
	}
	rest, ok = strings.CutSuffix(rest, ".json.gz")
	if !ok {
		return bad("the file name does not end with .json.gz")
	}
	rest, k.Backfill = strings.CutSuffix(rest, backfillSuffix)
	// TRAIL_HOMEREGION_STAMP: region names have no "_", so the last two "_" delimit them.
	i := strings.LastIndexByte(rest, '_')
	if i < 0 {
		return bad("no end time in the file name")
	}
	stamp := rest[i+1:]
	rest = rest[:i]
	j := strings.LastIndexByte(rest, '_')
	if j < 0 {
		return bad("no trail name and home region in the file name")
	}
	k.Trail, k.HomeRegion = rest[:j], rest[j+1:]
	if !validTrailName(k.Trail) {
		return bad("%q is not a trail name", k.Trail)
	}
	if !validRegion(k.HomeRegion) {
		return bad("%q is not a region", k.HomeRegion)
	}
	if k.End, err = parseStamp(stamp, "20060102T150405Z"); err != nil {
		return bad("%v", err)
	}
	if k.End.Format("2006/01/02") != p.date {
		return bad("the folder %s is not the date of the end time %s", p.date, stamp)
	}
	return k, nil
}

// ParseLogFileKey reads a log file's S3 key, as strictly as ParseDigestKey.
func ParseLogFileKey(key string) (LogFileKey, error) {
	p, err := splitKey(key, "CloudTrail")
	if err != nil {
		return LogFileKey{}, fmt.Errorf("not a CloudTrail log file key: %q: %w", key, err)
	}
	k := LogFileKey{Prefix: p.prefix, OrgID: p.org, Account: p.account, Region: p.region}
	bad := func(format string, args ...any) (LogFileKey, error) {
		return LogFileKey{}, fmt.Errorf("not a CloudTrail log file key: %q: %s", key, fmt.Sprintf(format, args...))
	}
	head := p.account + "_CloudTrail_" + p.region + "_"
	rest, ok := strings.CutPrefix(p.file, head)
	if !ok {
		return bad("the file name does not start with %s", head)
	}
	rest, ok = strings.CutSuffix(rest, ".json.gz")
	if !ok {
		return bad("the file name does not end with .json.gz")
	}
	stamp, unique, ok := strings.Cut(rest, "_")
	if !ok {
		return bad("no delivery time and unique part in the file name")
	}
	if k.Delivered, err = parseStamp(stamp, "20060102T1504Z"); err != nil {
		return bad("%v", err)
	}
	if len(unique) != 16 || !alnum(unique) {
		return bad("%q is not 16 letters and digits", unique)
	}
	k.Unique = unique
	if k.Delivered.Format("2006/01/02") != p.date {
		return bad("the folder %s is not the date of the delivery time %s", p.date, stamp)
	}
	return k, nil
}

// keyParts are the folders of a trail key.
type keyParts struct {
	prefix, org, account, region, date, file string
}

// splitKey takes a key apart from its end: FILE, DD, MM, YYYY, REGION, kind, ACCOUNT, then
// AWSLogs or o-ID and AWSLogs; what precedes AWSLogs is the prefix.
func splitKey(key, kind string) (keyParts, error) {
	segs := strings.Split(key, "/")
	n := len(segs)
	if n < 8 {
		return keyParts{}, fmt.Errorf("too few folders")
	}
	p := keyParts{file: segs[n-1], region: segs[n-5], account: segs[n-7]}
	y, m, d := segs[n-4], segs[n-3], segs[n-2]
	if len(y) != 4 || len(m) != 2 || len(d) != 2 || !digits(y+m+d) {
		return keyParts{}, fmt.Errorf("%s/%s/%s is not a date folder", y, m, d)
	}
	p.date = y + "/" + m + "/" + d
	if segs[n-6] != kind {
		return keyParts{}, fmt.Errorf("the folder %q is not %s", segs[n-6], kind)
	}
	if !validRegion(p.region) {
		return keyParts{}, fmt.Errorf("%q is not a region", p.region)
	}
	if len(p.account) != 12 || !digits(p.account) {
		return keyParts{}, fmt.Errorf("%q is not a 12-digit account id", p.account)
	}
	rest := segs[:n-7]
	if len(rest) > 0 && validOrgID(rest[len(rest)-1]) {
		p.org = rest[len(rest)-1]
		rest = rest[:len(rest)-1]
	}
	if len(rest) == 0 || rest[len(rest)-1] != "AWSLogs" {
		return keyParts{}, fmt.Errorf("no AWSLogs folder before the account")
	}
	p.prefix = strings.Join(rest[:len(rest)-1], "/")
	if len(rest) > 1 && p.prefix == "" || strings.Contains(p.prefix, "//") || strings.HasSuffix(p.prefix, "/") {
		return keyParts{}, fmt.Errorf("the prefix %q has an empty folder", p.prefix)
	}
	return p, nil
}

// parseStamp reads a file name's UTC time stamp in layout, which must round-trip.
func parseStamp(s, layout string) (time.Time, error) {
	t, err := time.Parse(layout, s)
	if err != nil || t.Format(layout) != s {
		return time.Time{}, fmt.Errorf("%q is not a time stamp like %s", s, layout)
	}
	return t, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func lowerOrDigit(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !lowerOrDigit(c) && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

// validRegion accepts region names: us-east-1, eu-central-2, us-gov-west-1, ap-southeast-4.
func validRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || len(parts[0]) != 2 {
		return false
	}
	for _, p := range parts[:len(parts)-1] {
		if p == "" {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < 'a' || p[i] > 'z' {
				return false
			}
		}
	}
	last := parts[len(parts)-1]
	return last != "" && len(last) <= 2 && digits(last)
}

// validOrgID accepts AWS Organizations ids: o- and 10 to 32 lowercase letters or digits.
func validOrgID(s string) bool {
	id, ok := strings.CutPrefix(s, "o-")
	if !ok || len(id) < 10 || len(id) > 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !lowerOrDigit(id[i]) {
			return false
		}
	}
	return true
}

// validTrailName accepts CloudTrail's trail names: 3 to 128 letters, digits, '.', '_' and '-',
// starting and ending with a letter or digit, with no two of '.', '_', '-' in a row.
func validTrailName(s string) bool {
	if len(s) < 3 || len(s) > 128 || !alnum(s[:1]) || !alnum(s[len(s)-1:]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if alnum(s[i : i+1]) {
			continue
		}
		if c != '.' && c != '_' && c != '-' {
			return false
		}
		if n := s[i+1]; n == '.' || n == '_' || n == '-' {
			return false
		}
	}
	return true
}

// TrailKey is the part of a path or S3 key that CloudTrail's layout names, from its AWSLogs/
// folder on ("" when it has none): the key of a local copy's file without the trail's prefix.
func TrailKey(path string) string {
	if strings.HasPrefix(path, "AWSLogs/") {
		return path
	}
	if i := strings.LastIndex(path, "/AWSLogs/"); i >= 0 {
		return path[i+1:]
	}
	return ""
}

// KeyPrefix is the trail's key prefix of a key, up to and with the "/" before AWSLogs/ ("" when
// there is none).
func KeyPrefix(key string) string {
	if i := strings.Index(key, "/AWSLogs/"); i >= 0 {
		return key[:i+1]
	}
	return ""
}
