package reports

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/sentinel-audit/sentinel/ingest"
	"github.com/sentinel-audit/sentinel/internal/testenv"
	"github.com/sentinel-audit/sentinel/verdict"
	"github.com/sentinel-audit/sentinel/window"
)

var screenshot = flag.String("screenshot", "", "write a screenshot of the fixtures' HTML report to this PNG file (docs/report.png)")

const fixtures = "../testdata/fixtures"

var fixtureWindow = window.Window{Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC)}

// fixtureReport ingests the fixtures and writes their HTML report into a file, returning its path
// and the verdict.
func fixtureReport(t *testing.T) (string, verdict.Result) {
	t.Helper()
	ctx := context.Background()
	wh := filepath.Join(t.TempDir(), "wh")
	if _, err := ingest.Run(ctx, ingest.Options{Warehouse: wh, Sources: []string{fixtures + "/trail", fixtures + "/handoff"},
		SessionsFiles: []string{fixtures + "/sessions"}}); err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	res, err := HTMLReport(ctx, HTMLReportInput{
		AuditInput: AuditInput{Warehouse: wh, Window: fixtureWindow, PolicyPath: fixtures + "/policy.yaml", AWSConfigPath: fixtures + "/aws-config"},
		OutPath:    "report.html", Version: "test", GeneratedAt: time.Date(2026, 11, 8, 9, 0, 0, 0, time.UTC),
	}, &page, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, res.Result
}

// browser is a headless Debian Chromium with a fresh profile, every request the page makes
// recorded, and those to anything but the page itself failed before they leave.
type browser struct {
	ctx      context.Context
	mu       sync.Mutex
	requests []string // every URL the page asked for
	blocked  []string // those not the page
	logs     []string // console and browser log entries of level error or warning
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	exec := testenv.DebianChromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exec),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	return &browser{ctx: ctx}
}

// open loads a local file with request interception on, and waits until it has loaded.
func (b *browser) open(t *testing.T, path string) {
	t.Helper()
	page := (&url.URL{Scheme: "file", Path: path}).String()
	// The listener must not call the browser: it hands paused requests to a goroutine.
	paused := make(chan *fetch.EventRequestPaused, 64)
	go func() {
		for ev := range paused {
			if ev.Request.URL == page {
				chromedp.Call(b.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
			} else {
				chromedp.Call(b.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
			}
		}
	}()
	if err := chromedp.Do(b.ctx); err != nil { // the tab, so that no event of its start is missed
		t.Fatal(err)
	}
	err := chromedp.Listen(b.ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *fetch.EventRequestPaused:
			b.requests = append(b.requests, ev.Request.URL)
			if ev.Request.URL != page {
				b.blocked = append(b.blocked, ev.Request.URL)
			}
			paused <- ev
		case *network.EventRequestWillBeSent:
			if ev.Request.URL != page {
				b.blocked = append(b.blocked, ev.Request.URL)
			}
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError || ev.Entry.Level == cdplog.EntryLevelWarning {
				b.logs = append(b.logs, string(ev.Entry.Source)+": "+ev.Entry.Text)
			}
		case *runtime.EventExceptionThrown:
			b.logs = append(b.logs, "exception: "+ev.ExceptionDetails.Text)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []func() error{
		func() error { _, err := chromedp.Call(b.ctx, network.Enable, network.EnableParams{}); return err },
		func() error { _, err := chromedp.Call(b.ctx, cdplog.Enable, cdp.Empty{}); return err },
		func() error { _, err := chromedp.Call(b.ctx, runtime.Enable, cdp.Empty{}); return err },
		func() error {
			_, err := chromedp.Call(b.ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}})
			return err
		},
		func() error {
			return chromedp.Do(b.ctx, chromedp.Navigate(page), chromedp.WaitReady(chromedp.CSS("footer")))
		},
	} {
		if err := step(); err != nil {
			t.Fatalf("open %s: %v", page, err)
		}
	}
}

// seen is what the listener recorded so far: the requests, those blocked, the log entries.
func (b *browser) seen() (requests, blocked, logs []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.requests), slices.Clone(b.blocked), slices.Clone(b.logs)
}

// eval evaluates a JavaScript expression in the page into a T.
func eval[T any](t *testing.T, b *browser, js string) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func TestHTMLReportRendersTheFixturesInABrowser(t *testing.T) {
	b := newBrowser(t)
	path, result := fixtureReport(t)
	if result != verdict.GapsFound {
		t.Fatalf("verdict %s, want GAPS FOUND", result)
	}
	b.open(t, path)
	if *screenshot != "" {
		if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(1280, 2300)); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*screenshot, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("verdict_first", func(t *testing.T) {
		type verdictShown struct {
			Result  string   `json:"result"`
			First   string   `json:"first"`
			Reasons []string `json:"reasons"`
		}
		got := eval[verdictShown](t, b, `({result: document.getElementById("verdict-result").textContent,
			first: document.querySelector("main > section").id,
			reasons: [...document.querySelectorAll("#verdict li")].map(li => li.dataset.code)})`)
		if !strings.Contains(got.Result, "GAPS FOUND") || got.First != "verdict" {
			t.Errorf("verdict %q, first section %q", got.Result, got.First)
		}
		if !slices.Contains(got.Reasons, verdict.ReasonUnverified) {
			t.Errorf("reasons %v lack %s", got.Reasons, verdict.ReasonUnverified)
		}
	})

	t.Run("each_profiles_numbers_and_one_chart", func(t *testing.T) {
		type profile struct {
			Numbers map[string]string `json:"numbers"`
			Charts  int               `json:"charts"`
			Bars    int               `json:"bars"`
			Dots    int               `json:"dots"`
		}
		got := eval[map[string]profile](t, b, `Object.fromEntries([...document.querySelectorAll("article.profile")].map(a => [a.dataset.profile, {
			numbers: Object.fromEntries([...a.querySelectorAll("dd[data-field]")].map(d => [d.dataset.field, d.textContent])),
			charts: a.querySelectorAll("svg.chart").length,
			bars: a.querySelectorAll("svg.chart g.bucket").length,
			dots: a.querySelectorAll("svg.chart circle.dot").length}]))`)
		// testdata/fixtures/README.md; P5 is unverified (no snapshot within its hour).
		want := map[string]struct {
			numbers map[string]string
			days    int
		}{
			"prod":          {map[string]string{"issuances": "7", "tracked": "4", "untracked": "2", "orphaned": "0", "unverified": "1", "flagged": "1", "rate": "42.9%"}, 4},
			"prod-readonly": {map[string]string{"issuances": "2", "tracked": "2", "untracked": "0", "orphaned": "0", "unverified": "0", "flagged": "0", "rate": "100.0%"}, 2},
			"staging":       {map[string]string{"issuances": "4", "tracked": "1", "untracked": "3", "orphaned": "0", "unverified": "0", "flagged": "0", "rate": "25.0%"}, 3},
			"dev":           {map[string]string{"issuances": "3", "tracked": "0", "untracked": "3", "orphaned": "0", "unverified": "0", "flagged": "0", "rate": "0.0%"}, 3},
		}
		if len(got) != len(want) {
			t.Errorf("profiles %v, want %d", got, len(want))
		}
		for name, w := range want {
			g, ok := got[name]
			if !ok {
				t.Errorf("profile %s not shown", name)
				continue
			}
			for field, v := range w.numbers {
				if g.Numbers[field] != v {
					t.Errorf("%s %s = %q, want %q", name, field, g.Numbers[field], v)
				}
			}
			if g.Charts != 1 || g.Bars != w.days || g.Dots != w.days {
				t.Errorf("%s: %d charts with %d bars and %d rate points, want 1 chart with %d days", name, g.Charts, g.Bars, g.Dots, w.days)
			}
		}
	})

	t.Run("coverage_map", func(t *testing.T) {
		rows := eval[map[string][]string](t, b, `Object.fromEntries([...document.querySelectorAll("svg.coverage g.coverage-row")].map(g =>
			[g.dataset.account + " " + g.dataset.region, [...g.querySelectorAll("rect[data-state]")].map(r =>
				r.dataset.state + (r.nextElementSibling && r.nextElementSibling.classList.contains("partial") ? "~" : "") + "/" + r.dataset.buckets)]))`)
		// The policy's required profiles live in 222222222222, whose trail delivered a digest for
		// every hour of the week in both regions, each checking out (testdata/fixtures/README.md).
		want := map[string][]string{
			"222222222222 us-east-1": {"validated/7"},
			"222222222222 eu-west-1": {"validated/7"},
		}
		if len(rows) != len(want) {
			t.Errorf("coverage rows %v, want %v", rows, want)
		}
		for k, w := range want {
			if !slices.Equal(rows[k], w) {
				t.Errorf("coverage of %s: %v, want %v", k, rows[k], w)
			}
		}
		regions := eval[[][]string](t, b, `[...document.querySelectorAll("#integrity-regions tbody tr")].map(r => [...r.cells].map(c => c.textContent))`)
		if len(regions) != 2 {
			t.Fatalf("integrity per account and region: %v", regions)
		}
		for _, r := range regions {
			if r[0] != "222222222222" || r[2] == "0" || r[2] != r[3] || r[4] != r[5] {
				t.Errorf("integrity of %v: want every digest and log file valid", r)
			}
		}
	})

	t.Run("issuances_with_their_activity", func(t *testing.T) {
		got := eval[map[string][]string](t, b, `Object.fromEntries([...document.querySelectorAll("#issuance-table tbody tr")].map(r =>
			[r.dataset.eventId, [...r.cells].map(c => c.textContent)]))`)
		// 10 not tracked and P4, tracked but issued after its session's revocation.
		if len(got) != 11 {
			t.Errorf("%d issuances listed, want 11", len(got))
		}
		p6 := strings.Join(got["0541f627-e40e-4f0d-9d58-8cecda53acc5"], " | ")
		for _, want := range []string{"alice", "untracked_sentinel", "iam:CreateAccessKey", "iam:PutRolePolicy"} {
			if !strings.Contains(p6, want) {
				t.Errorf("P6 row %q lacks %q", p6, want)
			}
		}
		// P4 was tracked but is flagged: its session's 4 calls (ListBuckets, ListRoles, GetSecretValue,
		// GetObject; testdata/fixtures/README.md) are listed like those of the untracked ones.
		p4 := got["a4bbf650-e5bb-4a67-8dd7-4c5fa02d4ed7"]
		if len(p4) < 8 || !strings.Contains(p4[3], "issued_after_revocation") || p4[6] != "4" ||
			!strings.Contains(p4[7], "3 services") || !strings.Contains(p4[7], "secretsmanager:GetSecretValue") {
			t.Errorf("P4 row %q: want its flag, 4 calls over 3 services and its sensitive call", p4)
		}
		for id, cells := range got {
			if len(cells) < 8 || cells[6] == "-" || cells[7] == "-" {
				t.Errorf("issuance %s shows no activity: %q", id, cells)
			}
		}
	})

	t.Run("the_rule_that_decided_each_profile", func(t *testing.T) {
		got := eval[map[string][]string](t, b, `Object.fromEntries([...document.querySelectorAll("article.profile")].map(a =>
			[a.dataset.profile, [...a.querySelectorAll("ul.rules li")].map(li => li.dataset.rule + " " + li.dataset.effect + ": " + li.textContent)]))`)
		// testdata/fixtures/policy.yaml
		want := map[string]string{
			"prod":          "prod-tracked require_server_session: rule prod-tracked (require_server_session): a tracked server session was required (“production credentials must come from a tracked, revocable server session”); 7 issuances",
			"prod-readonly": "prod-tracked require_server_session: ",
			"staging":       "staging-server require_server: rule staging-server (require_server): the credential server was required, a tracked session was not (“staging credentials go through the credential server”); 4 issuances",
			"dev":           "dev-open allow: ",
		}
		for profile, w := range want {
			if rules := got[profile]; len(rules) != 1 || !strings.HasPrefix(rules[0], w) {
				t.Errorf("%s: rules %q, want one: %q", profile, rules, w)
			}
		}
		cells := eval[[]string](t, b, `[...document.querySelectorAll("#profile-table tbody tr")].map(r => r.dataset.profile + ": " + r.cells[1].textContent)`)
		if !slices.Contains(cells, "prod: yesprod-tracked (require_server_session)") || !slices.Contains(cells, "dev: nodev-open (allow)") {
			t.Errorf("the table's policy column: %q", cells)
		}
	})

	t.Run("commands_in_the_verdict_are_code", func(t *testing.T) {
		type shown struct {
			Text string   `json:"text"`
			Code []string `json:"code"`
		}
		got := eval[shown](t, b, `({text: document.getElementById("verdict").textContent,
			code: [...document.querySelectorAll("#verdict code")].map(c => c.textContent)})`)
		if strings.Contains(got.Text, "`") {
			t.Errorf("backticks in the verdict: %q", got.Text)
		}
		if !slices.Contains(got.Code, "sentinel audit untracked-sessions") || !slices.Contains(got.Code, "sentinel ingest --sessions-table TABLE") {
			t.Errorf("code in the verdict: %q", got.Code)
		}
	})

	t.Run("printing_unfolds_every_details_and_folds_them_back", func(t *testing.T) {
		type state struct {
			Open   int `json:"open"`
			Closed int `json:"closed"`
		}
		count := `({open: document.querySelectorAll("details[open]").length, closed: document.querySelectorAll("details:not([open])").length})`
		before := eval[state](t, b, `document.querySelector("details.sql").open = true, `+count)
		if before.Closed == 0 {
			t.Fatalf("no folded details to print: %+v", before)
		}
		printing := eval[state](t, b, `window.dispatchEvent(new Event("beforeprint")), `+count)
		after := eval[state](t, b, `window.dispatchEvent(new Event("afterprint")), `+count)
		if printing.Closed != 0 || printing.Open != before.Open+before.Closed {
			t.Errorf("while printing %+v, want all %d open", printing, before.Open+before.Closed)
		}
		if after != before || !eval[bool](t, b, `document.querySelector("details.sql").open`) {
			t.Errorf("after printing %+v, want %+v as before (the one opened by hand still open)", after, before)
		}
	})

	t.Run("tables_have_captions_charts_descriptions", func(t *testing.T) {
		type shown struct {
			Tables     int      `json:"tables"`
			Uncaptured []string `json:"uncaptioned"`
			SVGs       int      `json:"svgs"`
			Undescribe []string `json:"undescribed"`
		}
		got := eval[shown](t, b, `({tables: document.querySelectorAll("table").length,
			uncaptioned: [...document.querySelectorAll("table")].filter(t => !t.caption || !t.caption.textContent.trim()).map(t => t.id || t.tHead.textContent),
			svgs: document.querySelectorAll("svg[role=img]").length,
			undescribed: [...document.querySelectorAll("svg[role=img]")].filter(s => {
				const d = document.getElementById(s.getAttribute("aria-describedby") || "");
				return !d || d.tagName !== "desc" || d.parentNode !== s || !d.textContent.trim();
			}).map(s => s.getAttribute("class"))})`)
		if got.Tables < 10 || len(got.Uncaptured) > 0 {
			t.Errorf("of %d tables, these have no caption: %q", got.Tables, got.Uncaptured)
		}
		if got.SVGs != 5 || len(got.Undescribe) > 0 {
			t.Errorf("of %d charts and maps (want 5), these have no description: %q", got.SVGs, got.Undescribe)
		}
	})

	t.Run("chart_classes_differ_by_pattern_not_colour_alone", func(t *testing.T) {
		fills := eval[map[string]string](t, b, `Object.fromEntries(["tracked", "unverified", "orphaned", "untracked"].map(c =>
			[c, getComputedStyle(document.querySelector("ul.legend rect." + c)).fill]))`)
		seen := map[string]bool{}
		for class, fill := range fills {
			patterned := strings.HasPrefix(fill, "url(")
			if patterned == (class == "tracked") || seen[fill] {
				t.Errorf("%s is filled with %s: want tracked solid and every other class a pattern of its own (%v)", class, fill, fills)
			}
			seen[fill] = true
		}
		segments := eval[[]string](t, b, `[...document.querySelectorAll("svg.chart rect.untracked")].map(r => getComputedStyle(r).fill)`)
		if len(segments) == 0 || !strings.Contains(segments[0], "pat-untracked") {
			t.Errorf("untracked bar segments filled with %q", segments)
		}
	})

	t.Run("coverage_map_as_a_table", func(t *testing.T) {
		rows := eval[[][]string](t, b, `[...document.querySelectorAll("#coverage-table tbody tr")].map(r => [...r.cells].map(c => c.textContent))`)
		runs := eval[int](t, b, `document.querySelectorAll("svg.coverage rect[data-state]").length`)
		if len(rows) != runs || len(rows) != 2 {
			t.Fatalf("the map's table has %d rows, the map %d runs; want 2 of each: %q", len(rows), runs, rows)
		}
		for _, r := range rows {
			if r[0] != "222222222222" || r[2] != "2026-11-01 to 2026-11-07" || r[3] != "validated by digests" || r[4] != "validated by digests 168 hours" {
				t.Errorf("coverage row %q", r)
			}
		}
	})

	t.Run("every_ingest_run_and_where_the_ledger_read", func(t *testing.T) {
		runs := eval[[][]string](t, b, `[...document.querySelectorAll("#ingest-runs tbody tr")].map(r => [...r.cells].map(c => c.textContent))`)
		want := "sentinel ingest --source " + fixtures + "/trail --source " + fixtures + "/handoff --sessions-file " + fixtures + "/sessions"
		if len(runs) != 1 || runs[0][0] != "1" || runs[0][3] != "ok" || runs[0][4] != "1367" || runs[0][7] != "74" || runs[0][9] != "any time" || runs[0][10] != want {
			t.Errorf("ingest runs %q; want run 1, ok, 1367 files read, 74 events stored, any time, %q", runs, want)
		}
		sources := eval[[][]string](t, b, `[...document.querySelectorAll("#warehouse table")].filter(t => t.caption.textContent.startsWith("Ingest ledger"))
			.flatMap(t => [...t.tBodies[0].rows]).map(r => [r.cells[0].textContent, r.cells[1].textContent, r.cells[1].title])`)
		abs, err := filepath.Abs(fixtures)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sources {
			if s[0] == "snapshot" && (s[1] != "file:///…/fixtures/sessions/" || s[2] != "file://"+filepath.ToSlash(abs)+"/sessions/") {
				t.Errorf("ledger row %q: want the snapshots' folder, shortened, and all of it in its title", s)
			}
		}
		if len(sources) != 4 {
			t.Errorf("ledger rows %q", sources)
		}
	})

	t.Run("tables_sort_by_keyboard", func(t *testing.T) {
		if err := chromedp.Do(b.ctx, chromedp.Focus(chromedp.CSS(`#profile-table thead th:nth-child(10) button`)), chromedp.KeyEvent("\r")); err != nil {
			t.Fatal(err)
		}
		order := eval[[]string](t, b, `[...document.querySelectorAll("#profile-table tbody tr")].map(r => r.dataset.profile)`)
		if !slices.Equal(order, []string{"dev", "staging", "prod", "prod-readonly"}) {
			t.Errorf("by compliance rate, ascending: %v", order)
		}
	})

	t.Run("nothing_fetched_from_anywhere", func(t *testing.T) {
		// Copied under the lock, which the listener takes: holding it while the browser is asked
		// anything would stop the tab's event loop.
		requests, blocked, logs := b.seen()
		if len(requests) == 0 {
			t.Error("no request was intercepted, not even the page's: interception is not working")
		}
		if len(blocked) > 0 {
			t.Errorf("the page asked for %v", blocked)
		}
		if len(logs) > 0 {
			t.Errorf("the browser logged %v (a Content-Security-Policy violation, a script error?)", logs)
		}
		csp := eval[string](t, b, `document.querySelector('meta[http-equiv="Content-Security-Policy"]').content`)
		if !strings.HasPrefix(csp, "default-src 'none';") || strings.Contains(csp, "unsafe") {
			t.Errorf("Content-Security-Policy %q", csp)
		}
	})

}

func TestHostileTextFromTheEvidenceStaysTextInABrowser(t *testing.T) {
	b := newBrowser(t)
	var page bytes.Buffer
	if err := writeHTML(&page, hostilePage()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "hostile.html")
	if err := os.WriteFile(path, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	b.open(t, path)
	type dom struct {
		Pwned     bool     `json:"pwned"`
		Scripts   int      `json:"scripts"`
		Images    int      `json:"images"`
		Handlers  int      `json:"handlers"`
		UserAgent string   `json:"userAgent"`
		Labels    []string `json:"labels"`
	}
	got := eval[dom](t, b, `({pwned: window.pwned !== undefined, scripts: document.scripts.length, images: document.images.length,
		handlers: [...document.querySelectorAll("*")].filter(e => [...e.attributes].some(a => a.name.startsWith("on"))).length,
		userAgent: document.querySelector("#issuance-table tbody .ua").textContent,
		labels: [...document.querySelectorAll("svg.coverage g.coverage-row > text")].map(t => t.textContent)})`)
	if got.Pwned || got.Scripts != 1 || got.Images != 0 || got.Handlers != 0 {
		t.Fatalf("hostile text became markup: %+v", got)
	}
	if got.UserAgent != hostile || len(got.Labels) != 1 || got.Labels[0] != hostile+" "+hostile {
		t.Fatalf("hostile text is not shown as it is: user agent %q, coverage labels %q", got.UserAgent, got.Labels)
	}
}
