package reports

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/queries"
	"github.com/sentinel-audit/sentinel/verdict"
)

// IntegrityInput is the input of `sentinel audit integrity`.
type IntegrityInput struct {
	AuditInput
	Accounts, Regions []string // only these (empty = all)
}

// IntegrityReport is the JSON form of audit integrity: per account and region what log file
// validation proved over the window, and every finding.
type IntegrityReport struct {
	StartTime time.Time      `json:"start_time"`
	EndTime   time.Time      `json:"end_time"`
	Result    verdict.Result `json:"result"` // CLEAN, FOUND or INCONCLUSIVE
	// Reasons say why the result is INCONCLUSIVE (none otherwise).
	Reasons  []string            `json:"reasons"`
	Accounts []IntegrityAccount  `json:"accounts"`
	Listed   []IntegrityFindings `json:"findings"`
}

// IntegrityAccount is one account and region.
type IntegrityAccount struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	// Status: validated (every digest and listed file checks out), findings, not_validated (log
	// files but no digests: validation is off), signatures_not_checked (hashes and links check
	// out, signatures could not be: a local copy, or digests from S3 without CloudTrail's public
	// keys), not_covered (its trail delivers digests, none of the window's hours).
	Status       string  `json:"status"`
	HoursCovered float64 `json:"hours_covered"`
	IntegrityCounts
}

// IntegrityFindings is one finding, named by the file concerned.
type IntegrityFindings struct {
	Account string    `json:"account"`
	Region  string    `json:"region"`
	Kind    string    `json:"kind"`
	Reason  string    `json:"reason"`
	Object  string    `json:"object"`
	By      string    `json:"by"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Detail  string    `json:"detail"`
}

// Integrity answers: are the CloudTrail logs of the window whole and unchanged? Per account and
// region, it checks the digests' chain, signatures (S3) and the hashes of the log files they list,
// and names each file that is missing, modified or unlisted, each broken link and each gap. It
// returns FOUND when there is any finding; else INCONCLUSIVE when it cannot know (no log or
// digest file in the window, a trail with log file validation off, an account and region whose
// trail delivers digests but none of the window's, or with RequireSignatures a signature it could
// not check), with the reasons; else CLEAN.
func Integrity(ctx context.Context, in IntegrityInput, out, diag io.Writer) (verdict.Result, error) {
	format, err := ParseFormat(in.Format)
	if err != nil {
		return "", err
	}
	out = fitTo(out, in.Width)
	// The logs' integrity attributes nothing to profiles: the issuances are not computed, and
	// no profile ambiguity is worth a warning.
	a, err := openAuditWith(ctx, in.AuditInput, diag, false)
	if err != nil {
		return "", err
	}
	defer a.Close()
	var accounts []string
	if len(in.Accounts) > 0 {
		accounts = in.Accounts
	}
	checked, err := queries.CheckIntegrity(ctx, a.reader.DB(), in.Window, accounts)
	if err != nil {
		return "", err
	}
	rep := integrityReport(in, checked)
	switch format {
	case FormatJSON:
		err = writeJSON(out, rep)
	case FormatCSV:
		err = writeIntegrityCSV(out, rep)
	default:
		err = writeIntegrityTable(out, rep)
	}
	return rep.Result, err
}

func integrityReport(in IntegrityInput, checked queries.Integrity) IntegrityReport {
	wanted := func(account, region string) bool {
		return (len(in.Accounts) == 0 || slices.Contains(in.Accounts, account)) && (len(in.Regions) == 0 || slices.Contains(in.Regions, region))
	}
	rep := IntegrityReport{StartTime: in.Window.Since.UTC(), EndTime: in.Window.Until.UTC(), Result: verdict.Clean,
		Reasons: []string{}, Accounts: []IntegrityAccount{}, Listed: []IntegrityFindings{}}
	for _, r := range checked.Regions {
		if !wanted(r.Account, r.Region) {
			continue
		}
		acct := IntegrityAccount{Account: r.Account, Region: r.Region, IntegrityCounts: countsOf(r)}
		for _, c := range r.Covered {
			acct.HoursCovered += c.To.Sub(c.From).Hours()
		}
		switch {
		case len(r.Counts) > 0:
			acct.Status = "findings"
		case r.NotValidated:
			acct.Status = "not_validated"
		case r.SignaturesNotChecked > 0 || r.SignaturesWithoutKeys > 0:
			acct.Status = "signatures_not_checked"
		case r.Digests == 0:
			acct.Status = "not_covered"
		default:
			acct.Status = "validated"
		}
		rep.Accounts = append(rep.Accounts, acct)
	}
	sort.Slice(rep.Accounts, func(i, j int) bool {
		a, b := rep.Accounts[i], rep.Accounts[j]
		return a.Account < b.Account || a.Account == b.Account && a.Region < b.Region
	})
	for _, f := range checked.Findings {
		if wanted(f.Account, f.Region) {
			rep.Listed = append(rep.Listed, IntegrityFindings(f))
		}
	}
	var notValidated, notCovered, unsigned, keyless []string
	digests, withoutKeys := 0, 0
	for _, acct := range rep.Accounts {
		ar := acct.Account + " " + acct.Region
		switch {
		case acct.Status == "findings":
			rep.Result = verdict.Found
		case acct.Status == "not_validated":
			notValidated = append(notValidated, ar)
		case acct.Status == "not_covered":
			notCovered = append(notCovered, ar)
		}
		if acct.SignaturesNotChecked > 0 {
			unsigned = append(unsigned, fmt.Sprintf("%s (%d)", ar, acct.SignaturesNotChecked))
			digests += acct.SignaturesNotChecked
		}
		if acct.SignaturesWithoutKeys > 0 {
			keyless = append(keyless, fmt.Sprintf("%s (%d)", ar, acct.SignaturesWithoutKeys))
			withoutKeys += acct.SignaturesWithoutKeys
		}
	}
	if len(rep.Accounts) == 0 {
		rep.Reasons = append(rep.Reasons, "no CloudTrail log or digest files in this window: ingest the trail for that time, or audit a window the warehouse holds")
	}
	if len(notValidated) > 0 {
		rep.Reasons = append(rep.Reasons, fmt.Sprintf("log file validation is off for %s: its trail delivered log files but no digest files, so they cannot be verified",
			strings.Join(notValidated, ", ")))
	}
	if len(notCovered) > 0 {
		rep.Reasons = append(rep.Reasons, fmt.Sprintf("the trail delivers digest files for %s, but none for the window's hours", strings.Join(notCovered, ", ")))
	}
	if withoutKeys > 0 {
		rep.Reasons = append(rep.Reasons, fmt.Sprintf("the signatures of %s read from S3 were not checked: no CloudTrail public key was at hand (ListPublicKeys failed at ingest; run `sentinel ingest` again with cloudtrail:ListPublicKeys allowed): %s",
			plural(withoutKeys, "digest file"), strings.Join(keyless, ", ")))
	}
	if in.RequireSignatures && digests > 0 {
		rep.Reasons = append(rep.Reasons, fmt.Sprintf("the signatures of %s were not checked (a local copy keeps no S3 metadata; ingest the trail from S3): %s",
			plural(digests, "digest file"), strings.Join(unsigned, ", ")))
	}
	if rep.Result != verdict.Found && len(rep.Reasons) > 0 {
		rep.Result = verdict.Inconclusive
	}
	return rep
}

func writeIntegrityTable(out io.Writer, rep IntegrityReport) error {
	fmt.Fprintln(out, "Log File Integrity")
	fmt.Fprintf(out, "Time Window: %s to %s\n\n", rep.StartTime.Format(time.RFC3339), rep.EndTime.Format(time.RFC3339))
	if len(rep.Accounts) == 0 {
		fmt.Fprintln(out, "No CloudTrail log or digest files in this window.")
	} else {
		t := newTable("Account", "Region", "Status", "Hours Covered", "Digests Valid", "Log Files Valid", "Missing", "Modified", "Unlisted", "Chain Broken", "Gaps", "Logging Off")
		rightAligned(t, 4, 5, 6, 7, 8, 9, 10, 11, 12)
		for _, a := range rep.Accounts {
			t.AppendRow([]any{a.Account, a.Region, strings.ReplaceAll(a.Status, "_", " "), fmt.Sprintf("%.0f", a.HoursCovered),
				fmt.Sprintf("%d/%d", a.ValidDigests, a.Digests), fmt.Sprintf("%d/%d", a.ValidLogFiles, a.LogFiles),
				a.Findings["missing"], a.Findings["modified"], a.Findings["unlisted"], a.Findings["chain_broken"], a.Findings["gap"], a.Findings["logging_off"]})
		}
		render(out, t)
	}
	if len(rep.Listed) > 0 {
		fmt.Fprintln(out, "\nFindings")
		t := newTable("Account", "Region", "Kind", "Time", "File", "Detail")
		for _, f := range rep.Listed {
			kind := f.Kind
			if f.Reason != "" {
				kind += " (" + strings.ReplaceAll(f.Reason, "_", " ") + ")"
			}
			t.AppendRow([]any{f.Account, f.Region, strings.ReplaceAll(kind, "_", " "), spanText(f.From, f.To), dash(f.Object), f.Detail})
		}
		render(out, t)
	}
	fmt.Fprintln(out)
	switch rep.Result {
	case verdict.Found:
		fmt.Fprintf(out, "Result: %s — %s; the logs of the window are not proven whole\n", rep.Result, plural(len(rep.Listed), "finding"))
	case verdict.Inconclusive:
		fmt.Fprintf(out, "Result: %s — the logs of the window cannot be proven whole:\n", rep.Result)
		for _, r := range rep.Reasons {
			fmt.Fprintf(out, "  - %s\n", r)
		}
	default:
		fmt.Fprintf(out, "Result: %s — every digest and every log file it lists checks out\n", rep.Result)
	}
	if rep.Result == verdict.Found {
		for _, r := range rep.Reasons {
			fmt.Fprintf(out, "Also unknown: %s\n", r)
		}
	}
	return nil
}

func spanText(from, to time.Time) string {
	if from.IsZero() {
		return "until " + stamp(to)
	}
	return stamp(from) + " .. " + stamp(to)
}

func writeIntegrityCSV(out io.Writer, rep IntegrityReport) error {
	w := csv.NewWriter(out)
	w.Write([]string{"account", "region", "kind", "reason", "object", "by", "from", "to", "detail"})
	for _, f := range rep.Listed {
		w.Write([]string{f.Account, f.Region, f.Kind, f.Reason, f.Object, f.By, stampOrEmpty(f.From), stampOrEmpty(f.To), f.Detail})
	}
	w.Flush()
	return w.Error()
}
