// Package verdict decides what an auditor signs: COMPLIANT only when every profile the policy
// requires was provably compliant over a window the evidence covers; GAPS FOUND when a gap is
// proven, whatever else is unknown; INCONCLUSIVE, with every reason and what to do about it,
// when no gap is proven but Sentinel cannot know. It is pure: the facts come from the warehouse
// (queries), the rendering is reports'.
package verdict

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/window"
)

// Result is the verdict's headline.
type Result string

// The results. A verdict on what a policy requires (session-compliance) is COMPLIANT, GAPS FOUND
// or INCONCLUSIVE; one on what happened (untracked-sessions, activity) is CLEAN, FOUND or
// INCONCLUSIVE.
const (
	Compliant    Result = "COMPLIANT"
	GapsFound    Result = "GAPS FOUND"
	Clean        Result = "CLEAN"
	Found        Result = "FOUND"
	Inconclusive Result = "INCONCLUSIVE"
)

// DeliveryDelay is how long after an event CloudTrail may still deliver it (typically about 5
// minutes, not guaranteed; LookupEvents shows events with a similar delay): evidence that ends
// less than this before the window's end, or starts less than this after its start, covers it.
const DeliveryDelay = 15 * time.Minute

// Reason codes (stable: JSON and CSV carry them).
const (
	ReasonNoPolicy          = "no_policy"
	ReasonProfileUnmapped   = "profile_unmapped"
	ReasonNoEvidence        = "no_evidence"
	ReasonAccountNoEvidence = "account_without_evidence"
	ReasonEvidenceStarts    = "evidence_starts_after_window_start"
	ReasonEvidenceEnds      = "evidence_ends_before_window_end"
	ReasonFailedFiles       = "files_failed"
	ReasonUnverified        = "sessions_unverified"
	ReasonOutdated          = "warehouse_outdated"
	ReasonIntegrity         = "integrity_findings"
	ReasonNotValidated      = "integrity_not_verified"
	ReasonNoSignatures      = "signatures_not_checked"
	ReasonRegionsLeftOut    = "regions_left_out"
	ReasonIngestUnfinished  = "ingest_unfinished"
	ReasonRegionsNotSynced  = "regions_not_synced"
)

// DefaultRegions are the AWS regions enabled in every account (the others are opt-in). STS
// answers in each, and logs an AssumeRole made through a regional endpoint
// (sts.REGION.amazonaws.com) in that region's CloudTrail only.
var DefaultRegions = []string{"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
	"ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1", "us-east-1", "us-east-2",
	"us-west-1", "us-west-2"}

// Reason is one thing Sentinel cannot know, and what to do about it.
type Reason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Action  string `json:"action"`
}

// Verdict is the result and, for INCONCLUSIVE, why; GAPS FOUND keeps the reasons too (what else
// is unknown).
type Verdict struct {
	Result  Result   `json:"result"`
	Reasons []Reason `json:"reasons"`
}

// Span is the evidence one kind of source gives for an account and region: events from From to
// Until (trail and other event files: the oldest and newest event read; LookupEvents: the range
// synced).
type Span struct {
	Kind       string    `json:"kind"` // trail | file | api | digest
	Account    string    `json:"account"`
	Region     string    `json:"region"`
	From       time.Time `json:"from"`
	Until      time.Time `json:"until"`
	LastIngest time.Time `json:"last_ingest"`
}

// Complete reports whether the span's source delivers everything of its account and region, so
// that its span is evidence the verdict can rest on: a trail's log files, LookupEvents, digests.
// Other event files (kind file: saved LookupEvents output, exports someone made) hold the events
// someone chose; they are shown, but prove no span complete.
func (s Span) Complete() bool { return s.Kind != "file" }

// FailedFile is a source object whose events could not all be read.
type FailedFile struct {
	Source string `json:"source"`
	Error  string `json:"error"`
}

// Facts are what the verdict is decided on.
type Facts struct {
	Window window.Window
	// PolicyNeeded: the verdict is about what a policy requires (session-compliance); without one
	// (HasPolicy false) nothing can be judged.
	PolicyNeeded, HasPolicy bool
	// Proven are the findings that stand whatever else is unknown (session-compliance: the
	// profiles with a gap; untracked-sessions: the issuances proven not tracked).
	Proven []string
	// Unmapped are the profiles in scope that the policy (or a session record) names but no role
	// ARN maps to: issuances of their roles cannot be attributed to them.
	Unmapped []string
	// SharedRoles are the roles of unmapped profiles that other profiles name too: their
	// issuances are attributed to the other profile.
	SharedRoles []SharedRole
	// Accounts are the accounts the verdict depends on (those of the roles of the profiles in
	// scope); nil means every account the warehouse has evidence for.
	Accounts []string
	Spans    []Span
	// Unverified counts the issuances in scope whose session could not be checked: no snapshot
	// of the session table was taken while their record must have existed.
	Unverified  int64
	FailedFiles []FailedFile
	// Outdated are the catalog migrations the warehouse lacks (written by an older Sentinel):
	// what they add, such as the coverage of event files, reads as empty.
	Outdated []string
	// Integrity is what checking the CloudTrail digests of the accounts in scope found.
	Integrity Integrity
	// LeftOut are the trail folders (account and region) that the last listing of a trail found
	// but ingest left out (--regions): their events, issuances through that region's STS endpoint
	// among them, are not in the warehouse.
	LeftOut []LeftOut
	// Unfinished are the ingest runs over the window that did not finish: what they had yet to
	// read is not in the warehouse, and no evidence span shows where it is missing.
	Unfinished []UnfinishedRun
}

// UnfinishedRun is an ingest run over the window that did not finish, whose unread part no
// later run has read.
type UnfinishedRun struct {
	Run       int64     `json:"run"`
	StartedAt time.Time `json:"started_at"`
	Status    string    `json:"status"`  // interrupted | failed | running (or killed)
	Command   string    `json:"command"` // the command that runs it again
}

// SharedRole is a role an unmapped profile names, whose issuances go to another profile that
// names it too.
type SharedRole struct {
	Profile, RoleARN, AttributedTo string
}

// InScope reports whether the verdict depends on account (Accounts nil: on every account).
func (f Facts) InScope(account string) bool {
	return f.Accounts == nil || slices.Contains(f.Accounts, account)
}

// LeftOut is a region of an account whose trail folder ingest found and did not read.
type LeftOut struct {
	Source  string `json:"source"` // the trail, s3://BUCKET[/PREFIX]
	Account string `json:"account"`
	Region  string `json:"region"`
}

// Integrity is what log file validation says about the window, for the accounts in scope.
type Integrity struct {
	// Findings count the problems by kind (missing, modified, chain_broken, gap, logging_off,
	// unlisted, extra_gzip_data); Examples name a few of them.
	Findings map[string]int
	Examples []string
	// NotValidated are the accounts and regions ("ACCOUNT REGION") whose trail log files speak
	// for the window but whose trail delivers no digests: log file validation is off for it.
	NotValidated []string
	// Validated are the accounts and regions ({account, region}) whose trail delivers digests (log
	// file validation is on): their trail's evidence is what the digests vouch for, so the spans of
	// their log files' events count for nothing beyond it.
	Validated [][2]string
	// SignaturesNotChecked counts the digests whose signature could not be checked (a local copy
	// keeps no S3 metadata).
	SignaturesNotChecked int
	// SignaturesWithoutKeys counts the digests read from S3 whose signature could not be checked
	// for want of CloudTrail's public keys: always a reason, as S3 has the signatures.
	SignaturesWithoutKeys int
	// RequireIntegrity makes NotValidated, RequireSignatures SignaturesNotChecked, reasons.
	RequireIntegrity, RequireSignatures bool
}

// Decide weighs the facts.
func Decide(f Facts) Verdict {
	var reasons []Reason
	if len(f.Outdated) > 0 {
		reasons = append(reasons, Reason{ReasonOutdated,
			fmt.Sprintf("the warehouse was written by an older Sentinel and lacks what this one records (%s), so its evidence reads as incomplete", strings.Join(f.Outdated, ", ")),
			"run `sentinel ingest` with your usual sources, or `sentinel warehouse compact`, once: it upgrades the warehouse from its lake"})
	}
	if f.PolicyNeeded && !f.HasPolicy {
		reasons = append(reasons, Reason{ReasonNoPolicy,
			"no policy was given, so nothing is required and no compliance can be judged",
			"pass --policy FILE, or set defaults.policy in the Sentinel config file"})
	}
	for _, p := range f.Unmapped {
		if i := slices.IndexFunc(f.SharedRoles, func(s SharedRole) bool { return s.Profile == p }); i >= 0 {
			s := f.SharedRoles[i]
			reasons = append(reasons, Reason{ReasonProfileUnmapped,
				fmt.Sprintf("profile %s must be tracked, but its role %s is also named by profile %s, to which its issuances are attributed: a gap of %s could not be seen", p, s.RoleARN, s.AttributedTo, p),
				fmt.Sprintf("give the role to one profile: map it under profiles: in the Sentinel config file ({name: %s, role_arn: %s}, which wins over the AWS config), or remove role_arn from [profile %s]", p, s.RoleARN, s.AttributedTo)})
			continue
		}
		reasons = append(reasons, Reason{ReasonProfileUnmapped,
			fmt.Sprintf("profile %s must be tracked, but no role ARN maps to it: its role's issuances are reported under the role's name, so a gap of %s could not be seen", p, p),
			fmt.Sprintf("map it: a [profile %s] section with role_arn in the AWS config file (--aws-config, or defaults.aws_config), or an entry {name: %s, role_arn: ...} under profiles: in the Sentinel config file", p, p)})
	}
	reasons = append(reasons, coverageReasons(f)...)
	reasons = append(reasons, leftOutReasons(f)...)
	reasons = append(reasons, apiOnlyReasons(f)...)
	reasons = append(reasons, integrityReasons(f)...)
	reasons = append(reasons, unfinishedReasons(f)...)
	if n := len(f.FailedFiles); n > 0 {
		names := make([]string, 0, 3)
		for _, ff := range f.FailedFiles[:min(n, 3)] {
			names = append(names, ff.Source)
		}
		more := ""
		if n > 3 {
			more = fmt.Sprintf(" and %d more", n-3)
		}
		reasons = append(reasons, Reason{ReasonFailedFiles,
			fmt.Sprintf("%s of the window's evidence could not be read, so events may be missing: %s%s", plural(n, "file"), strings.Join(names, ", "), more),
			"see `sentinel sql \"SELECT source, error FROM ingest_files WHERE status = 'failed'\"`, fix or replace the files, and run `sentinel ingest` again (it re-reads failed files)"})
	}
	if f.Unverified > 0 {
		reasons = append(reasons, Reason{ReasonUnverified,
			fmt.Sprintf("%s named a server session that no snapshot of the session table holds, but no snapshot was taken within an hour after the issuance, while the session's record must have existed: whether it was tracked cannot be known",
				plural(int(f.Unverified), "issuance")),
			"snapshot the session table at least hourly (`sentinel ingest --sessions-table TABLE` on a schedule), or ingest DynamoDB exports of the table taken at those times (--sessions-file)"})
	}
	clean, found := Clean, Found
	if f.PolicyNeeded {
		clean, found = Compliant, GapsFound
	}
	v := Verdict{Result: clean, Reasons: reasons}
	switch {
	case len(f.Proven) > 0:
		v.Result = found
	case len(reasons) > 0:
		v.Result = Inconclusive
	}
	if v.Reasons == nil {
		v.Reasons = []Reason{}
	}
	return v
}

// integrityReasons are what log file validation could not prove.
func integrityReasons(f Facts) []Reason {
	var reasons []Reason
	in := f.Integrity
	if len(in.Findings) > 0 {
		kinds := make([]string, 0, len(in.Findings))
		total := 0
		for k, n := range in.Findings {
			kinds = append(kinds, fmt.Sprintf("%d %s", n, strings.ReplaceAll(k, "_", " ")))
			total += n
		}
		sort.Strings(kinds)
		reasons = append(reasons, Reason{ReasonIntegrity,
			fmt.Sprintf("the CloudTrail logs of the window do not check out against their digests (%s; e.g. %s): events may be missing or altered", strings.Join(kinds, ", "), strings.Join(in.Examples, "; ")),
			fmt.Sprintf("`sentinel audit integrity --since %s --until %s` names every file; restore the missing or altered files from a copy you trust and ingest them, or have the trail's owner explain each finding", stamp(f.Window.Since), stamp(f.Window.Until))})
	}
	if in.RequireIntegrity && len(in.NotValidated) > 0 {
		reasons = append(reasons, Reason{ReasonNotValidated,
			fmt.Sprintf("log file integrity is not verified for %s: its trail delivered log files but no digest files (log file validation is off)", strings.Join(in.NotValidated, ", ")),
			"turn on log file validation for the trail (`aws cloudtrail update-trail --enable-log-file-validation`) and ingest its CloudTrail-Digest folders; until then, drop --require-integrity to judge without it"})
	}
	if in.SignaturesWithoutKeys > 0 {
		reasons = append(reasons, Reason{ReasonNoSignatures,
			fmt.Sprintf("the signatures of %s read from S3 were not checked: no CloudTrail public key was at hand (ListPublicKeys failed when they were ingested), so a digest could have been forged with the files it lists", plural(in.SignaturesWithoutKeys, "digest file")),
			"let the credentials ingest runs with call cloudtrail:ListPublicKeys in the trail's regions, and run `sentinel ingest` again: it fetches the keys of those digests' days, and the audits check them"})
	}
	if in.RequireSignatures && in.SignaturesNotChecked > 0 {
		reasons = append(reasons, Reason{ReasonNoSignatures,
			fmt.Sprintf("the signatures of %s were not checked: a local copy keeps no S3 metadata, so a digest could have been forged with the files it lists", plural(in.SignaturesNotChecked, "digest file")),
			"ingest the trail from S3 (`sentinel ingest --source s3://BUCKET`), where the signatures are, or drop --require-signatures"})
	}
	return reasons
}

// leftOutReasons name the regions of accounts in scope whose trail ingest left out.
func leftOutReasons(f Facts) []Reason {
	var names, sources []string
	for _, l := range f.LeftOut {
		if !f.InScope(l.Account) {
			continue
		}
		names = append(names, l.Account+" "+l.Region)
		if !slices.Contains(sources, l.Source) {
			sources = append(sources, l.Source)
		}
	}
	if len(names) == 0 {
		return nil
	}
	shown := strings.Join(names[:min(len(names), 5)], ", ")
	if len(names) > 5 {
		shown += fmt.Sprintf(" and %d more", len(names)-5)
	}
	return []Reason{{ReasonRegionsLeftOut,
		fmt.Sprintf("the trail holds CloudTrail of %s that ingest left out (--regions): events there, AssumeRole calls made through a regional STS endpoint among them, are not in the warehouse (%s)",
			plural(len(names), "account and region"), shown),
		fmt.Sprintf("ingest them too: `sentinel ingest --source %s` without --regions, or with --regions naming them", strings.Join(sources, " --source "))}}
}

// unfinishedReasons name the ingest runs that did not finish.
func unfinishedReasons(f Facts) []Reason {
	var reasons []Reason
	for _, r := range f.Unfinished {
		state := "was interrupted"
		switch r.Status {
		case "failed":
			state = "failed"
		case "running":
			state = "is still running, or was killed"
		}
		reasons = append(reasons, Reason{ReasonIngestUnfinished,
			fmt.Sprintf("ingest run %d (started %s: %s) %s before it read all it had listed: what it had yet to read is not in the warehouse, and the evidence spans do not show where events are missing (files are read many at a time, so holes can lie inside a span)",
				r.Run, stamp(r.StartedAt), r.Command, state),
			fmt.Sprintf("run it again to its end, `%s` (it reads only what is not in the warehouse yet; `sentinel warehouse info` shows the runs), then audit again", r.Command)})
	}
	return reasons
}

// apiOnlyReasons name the accounts in scope whose only evidence is LookupEvents of some of the
// regions every account has: an issuance through another region's STS endpoint is in none of it
// (a trail, multi-region, holds every region).
func apiOnlyReasons(f Facts) []Reason {
	regions := map[string][]string{}
	trail := map[string]bool{}
	for _, s := range f.Spans {
		switch {
		case !f.InScope(s.Account) || !s.Complete():
		case s.Kind == "api":
			if !slices.Contains(regions[s.Account], s.Region) {
				regions[s.Account] = append(regions[s.Account], s.Region)
			}
		default:
			trail[s.Account] = true
		}
	}
	var reasons []Reason
	for _, account := range slices.Sorted(maps.Keys(regions)) {
		var missing []string
		for _, r := range DefaultRegions {
			if !slices.Contains(regions[account], r) {
				missing = append(missing, r)
			}
		}
		if trail[account] || len(missing) == 0 {
			continue
		}
		synced := slices.Sorted(slices.Values(regions[account]))
		reasons = append(reasons, Reason{ReasonRegionsNotSynced,
			fmt.Sprintf("the evidence of account %s is LookupEvents of %s only: an AssumeRole made through another region's STS endpoint (sts.REGION.amazonaws.com) is logged in that region alone (%s not synced)",
				account, strings.Join(synced, ", "), plural(len(missing), "region")),
			fmt.Sprintf("ingest the account's trail, which holds every region (`sentinel ingest --source s3://BUCKET`), or sync LookupEvents of every region (`--regions %s`)", strings.Join(DefaultRegions, ","))})
	}
	return reasons
}

// regionSpan is the hull of an account and region's spans.
type regionSpan struct {
	account, region string
	from, until     time.Time
}

// coverageReasons says where the evidence of the accounts in scope does not cover the window. An
// account and region with log file validation on is covered where its digests (and LookupEvents)
// are: a trail's log files could have been deleted where its digests are missing, so their
// events' span proves nothing there; without any such span, its evidence ends before the window.
func coverageReasons(f Facts) []Reason {
	w := f.Window
	hulls := map[[2]string]*regionSpan{}
	withEvidence := map[string]bool{}
	validated := map[[2]string]bool{}
	for _, ar := range f.Integrity.Validated {
		validated[ar] = true
	}
	for _, s := range f.Spans {
		if !f.InScope(s.Account) || !s.Complete() {
			continue
		}
		if s.Kind == "trail" && validated[[2]string{s.Account, s.Region}] {
			withEvidence[s.Account] = true
			continue
		}
		withEvidence[s.Account] = true
		k := [2]string{s.Account, s.Region}
		h := hulls[k]
		if h == nil {
			hulls[k] = &regionSpan{s.Account, s.Region, s.From, s.Until}
			continue
		}
		if s.From.Before(h.from) {
			h.from = s.From
		}
		if s.Until.After(h.until) {
			h.until = s.Until
		}
	}
	var reasons []Reason
	for _, a := range f.Accounts {
		if !withEvidence[a] {
			reasons = append(reasons, Reason{ReasonAccountNoEvidence,
				fmt.Sprintf("the warehouse holds no CloudTrail evidence for account %s, where roles in scope live", a),
				fmt.Sprintf("ingest its trail (`sentinel ingest --source s3://BUCKET --accounts %s`, or a local copy) or its LookupEvents (`--source api` with credentials in that account)", a)})
		}
	}
	for k := range validated {
		if hulls[k] == nil && f.InScope(k[0]) {
			hulls[k] = &regionSpan{k[0], k[1], w.Since, w.Since}
		}
	}
	spans := make([]*regionSpan, 0, len(hulls))
	for _, h := range hulls {
		spans = append(spans, h)
	}
	// Whatever the scope, a window the warehouse holds no evidence for at all proves nothing.
	overlaps := false
	for _, s := range f.Spans {
		if s.Complete() && s.From.Before(w.Until) && !s.Until.Add(DeliveryDelay).Before(w.Since) {
			overlaps = true
		}
	}
	if !overlaps {
		return append(reasons, Reason{ReasonNoEvidence,
			fmt.Sprintf("the warehouse holds no evidence for the window %s", w),
			"ingest the trail or LookupEvents for that time (`sentinel ingest --since " + w.Since.UTC().Format(time.RFC3339) + " ...`), or choose a window the warehouse holds (`sentinel warehouse info`)"})
	}
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].account != spans[j].account {
			return spans[i].account < spans[j].account
		}
		return spans[i].region < spans[j].region
	})
	var late, early []*regionSpan
	for _, s := range spans {
		if s.from.After(w.Since.Add(DeliveryDelay)) {
			late = append(late, s)
		}
		if w.Until.After(s.until.Add(DeliveryDelay)) {
			early = append(early, s)
		}
	}
	if len(late) > 0 {
		latest := late[0].from
		for _, s := range late {
			if s.from.After(latest) {
				latest = s.from
			}
		}
		reasons = append(reasons, Reason{ReasonEvidenceStarts,
			fmt.Sprintf("the window starts at %s, before the evidence of %s begins (%s)", stamp(w.Since), plural(len(late), "account and region"), describe(late, true)),
			fmt.Sprintf("ingest from before the window's start (`sentinel ingest --since %s ...`), or start the window at %s (--since)", stamp(w.Since.Add(-24*time.Hour)), stamp(latest))})
	}
	if len(early) > 0 {
		earliest := early[0].until
		for _, s := range early {
			if s.until.Before(earliest) {
				earliest = s.until
			}
		}
		reasons = append(reasons, Reason{ReasonEvidenceEnds,
			fmt.Sprintf("the window ends at %s, but the evidence of %s ends earlier (%s): events after that are not in the warehouse", stamp(w.Until), plural(len(early), "account and region"), describe(early, false)),
			fmt.Sprintf("run `sentinel ingest` to bring the rest (an idle region has no newer events: CloudTrail digests prove its idle hours), or end the window at %s (--until)", stamp(earliest))})
	}
	return reasons
}

// describe names up to five account-regions with where their evidence begins (or ends).
func describe(spans []*regionSpan, from bool) string {
	parts := make([]string, 0, 5)
	for _, s := range spans[:min(len(spans), 5)] {
		t, word := s.until, "ends"
		if from {
			t, word = s.from, "begins"
		}
		parts = append(parts, fmt.Sprintf("%s %s %s %s", s.account, s.region, word, stamp(t)))
	}
	if len(spans) > 5 {
		parts = append(parts, fmt.Sprintf("%d more in the Evidence", len(spans)-5))
	}
	return strings.Join(parts, "; ")
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// plural is "1 file", "2 files"; "account and region" becomes "accounts and regions".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if noun == "account and region" {
		return fmt.Sprintf("%d accounts and regions", n)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
