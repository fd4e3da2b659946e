package integrity

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"
)

// DigestFile is a digest file as a caller found it in the store (S3 or a local copy).
type DigestFile struct {
	Object Object  // where it was found
	Digest *Digest // nil when it could not be read
	// Problem says why it could not be read (not gzip, not JSON, a *ParseError); nil when
	// Digest is set.
	Problem error
	// Hash is the SHA-256 of its inflated bytes: what its successor's link must name. Zero when
	// it could not be inflated.
	Hash Hash
	// Signature and SignatureAlgorithm are its S3 metadata x-amz-meta-signature (hex) and
	// x-amz-meta-signature-algorithm; "" when unknown, as for a local copy, which keeps no
	// metadata.
	Signature, SignatureAlgorithm string
	// Local says it was found in a local copy (aws s3 sync), which keeps no S3 metadata: without
	// a signature it is not checked. Found in S3, a digest without a signature is not as
	// CloudTrail delivered it: CloudTrail signs every digest (validate-logs fails it too).
	Local bool
	// Source is where the caller found it (an S3 URL or a path): it names the copies of a digest
	// the store holds more than once.
	Source string
	// SignatureVerified says the caller already verified Signature with VerifyDigest (ingest
	// does, once per digest): Check does not verify it again. A signature that did not verify is
	// left unverified, so that Check says why.
	SignatureVerified bool
}

// ReadDigestFile makes the DigestFile of a digest found at obj from its inflated bytes and the
// signature metadata ("" when unknown).
func ReadDigestFile(obj Object, inflated []byte, signature, algorithm string) DigestFile {
	f := DigestFile{Object: obj, Hash: HashOf(inflated), Signature: signature, SignatureAlgorithm: algorithm}
	f.Digest, f.Problem = ParseDigest(inflated)
	if f.Problem != nil {
		f.Digest = nil
	}
	return f
}

// End is the digest's end time: its digestEndTime, or the time its key names when unreadable.
func (f *DigestFile) End() time.Time {
	if f.Digest != nil {
		return f.Digest.EndTime
	}
	k, err := ParseDigestKey(f.Object.Key)
	if err != nil {
		return time.Time{}
	}
	return k.End
}

// Span is the hour the digest covers; only its end when it is unreadable.
func (f *DigestFile) Span() Span {
	if f.Digest != nil {
		return Span{f.Digest.StartTime, f.Digest.EndTime}
	}
	return Span{To: f.End()}
}

// Span is the half-open time range [From, To).
type Span struct{ From, To time.Time }

func (s Span) String() string {
	if s.From.IsZero() {
		return "until " + s.To.UTC().Format(TimeLayout)
	}
	return s.From.UTC().Format(TimeLayout) + " to " + s.To.UTC().Format(TimeLayout)
}

// ListingHorizon is how long after the window the digests that list its log files may end: a log
// file delivered at the window's end is listed by the digest of its hour. A digest ending later
// is context: it is checked and its link followed (it proves its predecessor), but the log files
// it lists are not, and a missing digest after the horizon is no finding (its gap, cut to the
// window, is).
const ListingHorizon = 2 * time.Hour

// Chain is what Check checks: the digests of one stream (one account, region and trail) and
// the log files of that account and region.
type Chain struct {
	// Window is the time asked about. Digests, links and log files wholly before it are context:
	// a link to a digest that ended before Window.From is not followed.
	Window Span
	// Digests are the stream's digest files, in any order. Give those whose hour overlaps the
	// window and those ending up to ListingHorizon after it, which list the files delivered at its
	// end, and the first after those, whose link proves the last of them. Copies
	// of one digest (one Object: an S3 trail and a local copy of it) count once; copies that
	// differ are a finding.
	Digests []DigestFile
	// LogFiles are the log files the store holds for the stream's account and region, with the
	// SHA-256 of their inflated bytes (zero when a file could not be read or inflated). A caller
	// that streams log files adds each hash as it finishes reading: no file is ever held.
	LogFiles map[Object]Hash
	// Backfill are the stream's backfill digests (…_backfill.json.gz), which CloudTrail delivers
	// to list log files its digests missed (late deliveries). They are their own chain, checked
	// as validate-logs does; the log files they list are listed.
	Backfill []DigestFile
	// Keys are CloudTrail's public keys for the digests' times (ListPublicKeys); nil when there
	// are none at hand, and then no signature is checked.
	Keys []PublicKey
}

// Result is what Check found.
type Result struct {
	// Findings are every problem, in time order (of the end of their Span). None means every digest and listed log file
	// checked out and the window holds no gap.
	Findings []Finding
	// Covered is the part of the window the readable digests vouch for, merged and in order.
	// What the window holds beyond it has no digest evidence at all: logging stopped, validation
	// was off, or the digests are not delivered yet (or were deleted: see the findings).
	Covered []Span
	// ValidDigests counts the digests with no chain_broken finding; ValidLogFiles the listed log
	// files that are present with the listed hash (the counts validate-logs prints).
	ValidDigests, ValidLogFiles int
}

// Kind is what an auditor must conclude from a finding.
type Kind int

const (
	// Missing: a log file a digest lists is not in the store. It was deleted after delivery (or
	// not copied); its events are lost to the audit.
	Missing Kind = iota + 1
	// Modified: a log file's inflated bytes do not have the hash its digest lists, or the file
	// cannot be read. It changed after delivery: its events cannot be trusted.
	Modified
	// ChainBroken: a digest cannot vouch for its hour (Reason says why). The log files of that
	// hour are unproven: a file deleted or added there would go unseen.
	ChainBroken
	// Gap: a span with no digest although the chain says logging ran (a later digest links back
	// across it). Digests were deleted; log files delivered then are unproven.
	Gap
	// LoggingOff: a span before a digest that starts a chain (its previous link is null):
	// CloudTrail logging or log file validation was off. Events of that span, if any, are
	// unproven, and the trail's owner must explain the span.
	LoggingOff
	// Unlisted: a log file that no digest lists although it was delivered before the newest valid
	// digest's end (Reason says whether a digest covered its delivery). CloudTrail lists every
	// file it delivers while validation is on: a file delivered then but unlisted was put there by
	// someone else.
	Unlisted
	// SignatureNotChecked: a digest whose signature could not be checked (Reason says why). Its
	// hashes and links were checked, but the digest itself could have been forged together with
	// the files it lists.
	SignatureNotChecked
	// The kinds CheckRegions finds, about an account and region seen against its trail's other
	// regions and accounts.
	//
	// DigestsEnd: the digests of an account and region end before the window does while its log
	// files go on: CloudTrail delivers a digest every hour, so the later ones were deleted (or
	// log file validation was turned off, which the trail's owner must explain).
	DigestsEnd
	// RegionMissing: a trail's home region has no digests of an account for hours its other
	// regions have them: a trail always logs its home region, so its folder was deleted.
	RegionMissing
	// DigestsMissing: an account and region with log files but no digests, while the trail
	// delivers digests for its other accounts or regions: log file validation is a setting of
	// the trail, so its digests were deleted.
	DigestsMissing
)

var kindNames = [...]string{Missing: "missing", Modified: "modified", ChainBroken: "chain_broken", Gap: "gap", LoggingOff: "logging_off", Unlisted: "unlisted", SignatureNotChecked: "signature_not_checked",
	DigestsEnd: "digests_end", RegionMissing: "region_missing", DigestsMissing: "digests_missing"}

func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Reason refines a ChainBroken, Unlisted or SignatureNotChecked finding.
type Reason int

const (
	NoReason Reason = iota
	// ChainBroken reasons.
	Absent            // a later digest links to it, but it is not in the store
	Unreadable        // it is not a gzip'd digest CloudTrail would write (Finding.Detail says why)
	BadSignature      // its signature does not verify with CloudTrail's key
	UnknownKey        // no public key has its fingerprint and was valid at its time
	Moved             // it is not at the location it names (digestS3Bucket/digestS3Object)
	NotLinked         // the later digest links past it, to an earlier one: it is not part of the chain
	DigestModified    // its bytes differ from the hash its successor lists
	SignatureReplaced // its signature differs from the one its successor lists
	BadLink           // its previous link names no digest key of its stream, or a later digest
	CopiesDiffer      // the store holds copies of it whose bytes differ
	// Unlisted reasons.
	WhileDigesting // delivered while a digest covered the hour
	NotDigesting   // delivered while no digest covered the hour
	// SignatureNotChecked reasons, NoSignature also a ChainBroken one.
	NoSignature // no x-amz-meta-signature: a local copy keeps no S3 metadata; in S3, it was removed
	NoKeys      // no public keys at hand
)

var reasonNames = [...]string{NoReason: "", Absent: "absent", Unreadable: "unreadable", BadSignature: "bad_signature", UnknownKey: "unknown_key", Moved: "moved", NotLinked: "not_linked", DigestModified: "digest_modified", SignatureReplaced: "signature_replaced", BadLink: "bad_link", CopiesDiffer: "copies_differ", WhileDigesting: "while_digesting", NotDigesting: "not_digesting", NoSignature: "no_signature", NoKeys: "no_keys"}

func (r Reason) String() string {
	if r >= 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// Finding is one problem Check found.
type Finding struct {
	Kind   Kind
	Reason Reason
	// Object is the file concerned: the log file (Missing, Modified, Unlisted) or the digest
	// (ChainBroken, SignatureNotChecked); zero for Gap and LoggingOff.
	Object Object
	// By is the digest that lists the log file or links to the digest; zero otherwise.
	By Object
	// Span is the time concerned: the digest's hour (for a log file, its digest's hour), the gap
	// or the logging-off span. Spans are cut to the window.
	Span   Span
	Detail string // one sentence for a person
}

// Check checks a chain of digests and the log files they list, the way validate-logs does, and
// also what a local copy allows (hashes and links without signatures) and what validate-logs
// does not report (unlisted log files, gaps, logging-off spans). It is a pure function of c.
func Check(c Chain) Result {
	ck := checker{c: c, listed: map[Object]bool{}}
	standard := ck.walk(c.Digests, nil)
	byObject := make(map[Object]*DigestFile, len(standard))
	for i := range standard {
		byObject[standard[i].Object] = &standard[i]
	}
	backfill := ck.walk(c.Backfill, byObject)
	broken := map[Object]bool{}
	for _, f := range ck.findings {
		if f.Kind == ChainBroken {
			broken[f.Object] = true
		}
	}
	// A log file delivered after the newest valid digest's end is not yet covered by a digest:
	// the one that will list it may not be delivered yet.
	var newest time.Time
	for _, f := range standard {
		if !broken[f.Object] && f.Digest != nil {
			newest = maxTime(newest, f.Digest.EndTime)
		}
	}
	for _, f := range slices.Concat(standard, backfill) {
		if !broken[f.Object] {
			ck.validDigests++
		}
	}
	ck.unlisted(newest)
	slices.SortStableFunc(ck.findings, func(a, b Finding) int {
		return cmp.Or(a.Span.To.Compare(b.Span.To), a.Span.From.Compare(b.Span.From), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Reason, b.Reason), cmp.Compare(a.Object.Key, b.Object.Key), cmp.Compare(a.By.Key, b.By.Key))
	})
	return Result{Findings: ck.findings, Covered: ck.covered(), ValidDigests: ck.validDigests, ValidLogFiles: ck.validLogFiles}
}

type checker struct {
	c                           Chain
	listed                      map[Object]bool
	spans                       []Span // of the readable digests of the standard chain
	findings                    []Finding
	validDigests, validLogFiles int
}

// chainWalk is one chain of a stream: its digests by end time.
type chainWalk struct {
	ck    *checker
	files []DigestFile
	index map[Object]int
	// backfill: the chain of backfill digests, which list the log files the standard digests of
	// their hours missed. Their chain starts and skips hours as CloudTrail needs it: that is no
	// logging-off span and no gap, and they add no coverage.
	backfill bool
	// standard are the digests of the standard chain, by object, for a backfill digest that
	// links to one of them (validate-logs follows a link wherever it leads).
	standard map[Object]*DigestFile
}

// walk checks one chain from the newest digest back, as validate-logs does: each digest leads
// to the one it links to; digests it skips are not in the chain. It returns the distinct digests.
// Given the standard chain's digests, it walks the backfill chain.
func (ck *checker) walk(digests []DigestFile, standard map[Object]*DigestFile) []DigestFile {
	files := ck.distinct(digests)
	slices.SortStableFunc(files, func(a, b DigestFile) int {
		return cmp.Or(a.End().Compare(b.End()), cmp.Compare(a.Object.Key, b.Object.Key))
	})
	w := chainWalk{ck: ck, files: files, index: make(map[Object]int, len(files)), backfill: standard != nil, standard: standard}
	for i, f := range files {
		w.index[f.Object] = i
	}
	for i := len(files) - 1; i >= 0; {
		i = w.digest(i)
	}
	return files
}

// distinct keeps one digest file per object. Of copies with the same bytes, the one whose
// signature can be checked is kept (found in S3, then verified); copies whose bytes differ are a
// chain_broken finding, since one of them changed after delivery, and the one kept is checked as
// any other.
func (ck *checker) distinct(in []DigestFile) []DigestFile {
	copies := map[Object][]DigestFile{}
	for _, f := range in {
		copies[f.Object] = append(copies[f.Object], f)
	}
	out := make([]DigestFile, 0, len(copies))
	for _, fs := range copies {
		slices.SortFunc(fs, func(a, b DigestFile) int {
			rank := func(f DigestFile) int {
				switch {
				case f.Local:
					return 2
				case !f.SignatureVerified:
					return 1
				}
				return 0
			}
			return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a.Source, b.Source), cmp.Compare(a.Hash.String(), b.Hash.String()))
		})
		kept := fs[0]
		out = append(out, kept)
		for _, f := range fs[1:] {
			if f.Hash != kept.Hash {
				ck.broken(&kept, CopiesDiffer, Object{}, "The copies of the digest %s differ: %s hashes to %s, %s to %s; one of them changed after delivery.",
					kept.Object, sourceOf(kept), kept.Hash, sourceOf(f), f.Hash)
			}
		}
	}
	return out
}

// sourceOf names where a digest file was found.
func sourceOf(f DigestFile) string {
	if f.Source != "" {
		return f.Source
	}
	return f.Object.String()
}

func (ck *checker) add(f Finding) {
	if f.Kind == Gap || f.Kind == LoggingOff {
		f.Span.From = maxTime(f.Span.From, ck.c.Window.From)
		f.Span.To = minTime(f.Span.To, ck.c.Window.To)
		if !f.Span.From.Before(f.Span.To) {
			return
		}
	}
	ck.findings = append(ck.findings, f)
}

func (ck *checker) broken(f *DigestFile, r Reason, by Object, format string, args ...any) {
	ck.add(Finding{Kind: ChainBroken, Reason: r, Object: f.Object, By: by, Span: f.Span(), Detail: fmt.Sprintf(format, args...)})
}

// digest checks files[i]: itself, its log files and its link to its predecessor. It returns the
// index of the digest to check next.
func (w *chainWalk) digest(i int) int {
	ck := w.ck
	f := &w.files[i]
	d := f.Digest
	if d == nil {
		ck.broken(f, Unreadable, Object{}, "The digest %s cannot be read: %v.", f.Object, f.Problem)
		return i - 1
	}
	if !w.backfill {
		ck.spans = append(ck.spans, Span{d.StartTime, d.EndTime})
	}
	if d.Object() != f.Object {
		ck.broken(f, Moved, Object{}, "The digest found at %s says CloudTrail delivered it to %s.", f.Object, d.Object())
	}
	ck.signature(f, w.backfill)
	context := d.EndTime.After(ck.c.Window.To.Add(ListingHorizon))
	for _, lf := range d.LogFiles {
		o := lf.Object()
		ck.listed[o] = true
		if context {
			continue
		}
		h, ok := ck.c.LogFiles[o]
		switch {
		case !ok:
			ck.add(Finding{Kind: Missing, Object: o, By: f.Object, Span: f.Span(), Detail: fmt.Sprintf("The log file %s, listed by the digest %s, is not in the store.", o, f.Object)})
		case h.IsZero():
			ck.add(Finding{Kind: Modified, Object: o, By: f.Object, Span: f.Span(), Detail: fmt.Sprintf("The log file %s cannot be read, so it cannot have the hash %s its digest lists.", o, lf.Hash)})
		case h != lf.Hash:
			ck.add(Finding{Kind: Modified, Object: o, By: f.Object, Span: f.Span(), Detail: fmt.Sprintf("The log file %s hashes to %s, not to %s as its digest lists.", o, h, lf.Hash)})
		default:
			ck.validLogFiles++
		}
	}
	return w.link(i)
}

// signature checks f's signature. A backfill digest is signed when CloudTrail made it, after its
// hour: with a key valid at any time from its end on.
func (ck *checker) signature(f *DigestFile, backfill bool) {
	notChecked := func(r Reason, why string) {
		ck.add(Finding{Kind: SignatureNotChecked, Reason: r, Object: f.Object, Span: f.Span(), Detail: fmt.Sprintf("The signature of the digest %s was not checked: %s.", f.Object, why)})
	}
	switch {
	case f.Signature == "" && f.Local:
		notChecked(NoSignature, "the copy has no signature metadata")
		return
	case f.Signature == "":
		ck.broken(f, NoSignature, Object{}, "The digest %s has no signature metadata (x-amz-meta-signature) in S3: CloudTrail signs every digest it delivers, so this one was replaced or copied without it.", f.Object)
		return
	case f.SignatureVerified:
		return
	case ck.c.Keys == nil:
		notChecked(NoKeys, "no public keys are at hand")
		return
	}
	signed := Span{f.Digest.EndTime, f.Digest.EndTime}
	if backfill {
		signed.To = time.Time{}
	}
	err := VerifyDigestSigned(ck.c.Keys, f.Digest, signed, f.Hash, f.Signature, f.SignatureAlgorithm)
	switch {
	case err == nil:
	case errors.Is(err, ErrNoKey):
		ck.broken(f, UnknownKey, Object{}, "The digest %s names a signing key CloudTrail does not list: %v.", f.Object, err)
	default:
		ck.broken(f, BadSignature, Object{}, "The signature of the digest %s does not verify: %v.", f.Object, err)
	}
}

// link checks the link of files[i] (readable) to its predecessor, and the time before it. It
// returns the index of the predecessor, or of the latest digest before files[i] when the link
// cannot be followed.
func (w *chainWalk) link(i int) int {
	ck := w.ck
	f := &w.files[i]
	d := f.Digest
	link := d.Previous
	if link == nil {
		if w.backfill {
			return i - 1
		}
		from := ck.c.Window.From
		if i > 0 {
			from = w.files[i-1].End()
		}
		ck.add(Finding{Kind: LoggingOff, Span: Span{from, d.StartTime}, Detail: fmt.Sprintf("The digest %s starts a chain: logging or log file validation was off before %s.", f.Object, d.StartTime.UTC().Format(TimeLayout))})
		return i - 1
	}
	if p, ok := w.standard[link.Object()]; ok {
		// A backfill digest linked to a digest of the standard chain, which that chain checks.
		ck.predecessor(f, p, link)
		return i - 1
	}
	if j, ok := w.index[link.Object()]; ok {
		if j >= i {
			ck.broken(f, BadLink, Object{}, "The digest %s links to %s, which does not end before it.", f.Object, link.Object())
			return i - 1
		}
		p := &w.files[j]
		ck.predecessor(f, p, link)
		w.notLinked(j+1, i, link)
		if p.End().Before(d.StartTime) && !w.backfill {
			ck.add(Finding{Kind: Gap, Span: Span{p.End(), d.StartTime}, Detail: fmt.Sprintf("No digest covers %s although %s links back to %s.", Span{p.End(), d.StartTime}, f.Object, p.Object)})
		}
		return j
	}
	lk, err := ParseDigestKey(link.S3Object)
	if err != nil {
		ck.broken(f, BadLink, Object{}, "The digest %s links to %s: %v.", f.Object, link.Object(), err)
		return i - 1
	}
	// The predecessor is not in the store. Digests after its end are not in the chain; the
	// latest one before is where the evidence resumes.
	j := i
	for j > 0 && w.files[j-1].End().After(lk.End) {
		j--
	}
	w.notLinked(j, i, link)
	if !lk.End.After(ck.c.Window.From) {
		return j - 1
	}
	if !lk.End.After(ck.c.Window.To.Add(ListingHorizon)) {
		ck.add(Finding{Kind: ChainBroken, Reason: Absent, Object: link.Object(), By: f.Object, Span: Span{To: lk.End}, Detail: fmt.Sprintf("The digest %s, to which %s links, is not in the store.", link.Object(), f.Object)})
	}
	if !w.backfill {
		from := ck.c.Window.From
		if j > 0 {
			from = w.files[j-1].End()
		}
		ck.add(Finding{Kind: Gap, Span: Span{from, d.StartTime}, Detail: fmt.Sprintf("No digest covers %s although %s links back across it.", Span{from, d.StartTime}, f.Object)})
	}
	return j - 1
}

// predecessor checks that p is what f's link says of it: its hash and its signature.
func (ck *checker) predecessor(f, p *DigestFile, link *Link) {
	if !p.Hash.IsZero() && p.Hash != link.Hash {
		ck.broken(p, DigestModified, f.Object, "The digest %s hashes to %s, not to %s as its successor %s lists.", p.Object, p.Hash, link.Hash, f.Object)
	}
	if p.Signature != "" && p.Signature != link.Signature {
		ck.broken(p, SignatureReplaced, f.Object, "The signature of the digest %s is not the one its successor %s lists.", p.Object, f.Object)
	}
}

// notLinked reports files[from:to]: digests between a digest and the predecessor it links to.
// They are not checked further, and the log files they list count as unlisted: a digest outside
// the chain vouches for nothing.
func (w *chainWalk) notLinked(from, to int, link *Link) {
	for k := from; k < to; k++ {
		n := &w.files[k]
		w.ck.broken(n, NotLinked, w.files[to].Object, "The digest %s is not in the chain: its successor %s links to %s.", n.Object, w.files[to].Object, link.Object())
	}
}

// unlisted reports the log files delivered in the window, before the newest valid digest's end,
// that no digest lists. One delivered later is not yet covered: the digest of its hour may not be
// delivered yet, and what it holds is outside the digests' coverage.
func (ck *checker) unlisted(newestValid time.Time) {
	for o := range ck.c.LogFiles {
		if ck.listed[o] {
			continue
		}
		k, err := ParseLogFileKey(o.Key)
		if err != nil {
			continue
		}
		minute := Span{k.Delivered, k.Delivered.Add(time.Minute)}
		if !minute.From.Before(ck.c.Window.To) || !minute.To.After(ck.c.Window.From) || !minute.From.Before(newestValid) {
			continue
		}
		f := Finding{Kind: Unlisted, Reason: NotDigesting, Object: o, Span: minute, Detail: fmt.Sprintf("The log file %s is listed by no digest; no digest covers its delivery, so CloudTrail never vouched for it.", o)}
		for _, s := range ck.spans {
			if s.From.Before(minute.To) && minute.From.Before(s.To) {
				f.Reason = WhileDigesting
				f.Detail = fmt.Sprintf("The log file %s is listed by no digest, though it was delivered while digests were written: it was added after delivery.", o)
				break
			}
		}
		ck.add(f)
	}
}

// covered merges the spans of the readable digests, cut to the window.
func (ck *checker) covered() []Span {
	spans := slices.Clone(ck.spans)
	slices.SortFunc(spans, func(a, b Span) int { return a.From.Compare(b.From) })
	var out []Span
	for _, s := range spans {
		s.From, s.To = maxTime(s.From, ck.c.Window.From), minTime(s.To, ck.c.Window.To)
		if !s.From.Before(s.To) {
			continue
		}
		if n := len(out); n > 0 && !s.From.After(out[n-1].To) {
			out[n-1].To = maxTime(out[n-1].To, s.To)
			continue
		}
		out = append(out, s)
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
