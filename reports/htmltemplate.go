package reports

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/policy"
	"github.com/sentinel-audit/sentinel/verdict"
)

// The page's template, stylesheet and script, embedded in the binary and inlined in the page.
// html/template escapes every value for its context: whatever CloudTrail records hold (user
// agents, role names, session names are attacker-controlled text) reaches the page as text.
var (
	//go:embed html/report.html.tmpl
	reportTemplateText string
	//go:embed html/report.css
	reportCSS string
	//go:embed html/report.js
	reportJS string

	reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
		"stamp":       func(t time.Time) string { return stamp(t) },
		"stampOrDash": stampOrDash,
		"required":    required,
		"dash":        dash,
		"roleName":    roleName,
		"join":        strings.Join,
		"bytes":       infoBytes,
		"title":       func(s string) string { return strings.ToUpper(s[:1]) + s[1:] },
		"rate":        func(pct float64) string { return percent(pct / 100) },
		"deref":       deref,
		"codeSpans":   codeSpans,
		"shortSource": shortSource,
		"effectMeans": effectMeans,
		"plural": func(n any, noun string) (string, error) {
			switch v := n.(type) {
			case int:
				return plural(v, noun), nil
			case int64:
				return plural64(v, noun), nil
			}
			return "", fmt.Errorf("plural: %T is not an integer", n)
		},
		"verdictClass": func(r verdict.Result) string { return strings.ToLower(strings.ReplaceAll(string(r), " ", "-")) },
		"verdictMark": func(r verdict.Result) string {
			switch r {
			case verdict.Compliant, verdict.Clean:
				return "✓"
			case verdict.GapsFound, verdict.Found:
				return "✗"
			}
			return "?"
		},
	}).Parse(reportTemplateText))

	// reportCSP allows the page its own inline style and script, by hash, and nothing else: no
	// request to any host, no other script, no form, no frame, no base URL.
	reportCSP = "default-src 'none'; style-src " + cspHash(reportCSS) + "; script-src " + cspHash(reportJS) +
		"; img-src 'none'; font-src 'none'; connect-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'"
)

// cspHash is the CSP source expression of an inline element's text.
func cspHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// codeSpans is text whose `quoted` spans are code, as verdict reasons, actions and headlines write
// commands: the text is escaped first, then each pair of backticks becomes a <code> element (a
// backtick without its pair stays as it is).
func codeSpans(s string) template.HTML {
	parts := strings.Split(s, "`")
	var b strings.Builder
	for i, part := range parts {
		text := template.HTMLEscapeString(part)
		switch {
		case i%2 == 0:
			b.WriteString(text)
		case i == len(parts)-1:
			b.WriteString("`" + text)
		default:
			b.WriteString("<code>" + text + "</code>")
		}
	}
	return template.HTML(b.String())
}

// shortSource is a URI shortened for a table cell: its scheme, bucket (or host) and last two
// names, "…" for those between.
func shortSource(uri string) string {
	scheme, rest, ok := strings.Cut(uri, "://")
	names := strings.Split(strings.Trim(rest, "/"), "/")
	if !ok || len(names) <= 3 {
		return uri
	}
	head := names[0] + "/"
	if strings.HasPrefix(rest, "/") {
		head = "/"
	}
	tail := strings.Join(names[len(names)-2:], "/")
	if strings.HasSuffix(rest, "/") {
		tail += "/"
	}
	return scheme + "://" + head + "…/" + tail
}

// effectMeans says what a policy effect required of an issuance.
func effectMeans(effect string) string {
	switch policy.Effect(effect) {
	case policy.EffectRequireServerSession:
		return "a tracked server session was required"
	case policy.EffectRequireServer:
		return "the credential server was required, a tracked session was not"
	case policy.EffectAllow:
		return "allowed in any mode, a tracked session was not required"
	case policy.EffectDeny:
		return "denied, no credentials were to be issued"
	}
	return effect
}

// deref is the value a pointer points to (bool or time).
func deref(v any) any {
	switch p := v.(type) {
	case *bool:
		return *p
	case *time.Time:
		return *p
	}
	return v
}

// htmlView is what the template renders: the page and the chart geometry it needs.
type htmlView struct {
	Page                                        *htmlPage
	CSP                                         string
	CSS                                         template.CSS
	JS                                          template.JS
	ChartWidth, ChartHeight                     int
	PlotLeft, PlotRight, PlotBottom, PlotMiddle string
}

func writeHTML(w io.Writer, p *htmlPage) error {
	plotH := float64(chartHeight - chartTop - chartBottom)
	return reportTemplate.Execute(w, htmlView{
		Page: p, CSP: reportCSP, CSS: template.CSS(reportCSS), JS: template.JS(reportJS),
		ChartWidth: chartWidth, ChartHeight: chartHeight,
		PlotLeft: num(chartLeft), PlotRight: num(chartWidth - chartRight), PlotBottom: num(chartHeight - chartBottom),
		PlotMiddle: num(chartTop + plotH/2),
	})
}
