package reports

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// NewProgressBar is a progress bar drawn on errOut.
func NewProgressBar(errOut io.Writer) *ProgressBar { return &ProgressBar{errOut: errOut} }

// ProgressBar shows an ingest's files, bytes, events and rate on a terminal (ingest.Progress).
type ProgressBar struct {
	errOut io.Writer
	bar    *progressbar.ProgressBar
	files  int
	total  int
	events int64
}

// Planned starts the bar for the objects and bytes a run will read.
func (p *ProgressBar) Planned(objects int, bytes int64) {
	p.total = objects
	p.bar = progressbar.NewOptions64(bytes,
		progressbar.OptionSetWriter(p.errOut),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionSetDescription(p.describe()),
		progressbar.OptionClearOnFinish(),
	)
}

// Advance counts objects, bytes and events read.
func (p *ProgressBar) Advance(objects int, bytes, events int64) {
	if p.bar == nil {
		return
	}
	p.files += objects
	p.events += events
	p.bar.Describe(p.describe())
	_ = p.bar.Add64(bytes)
}

func (p *ProgressBar) describe() string {
	return fmt.Sprintf("files %d/%d, events %d", p.files, p.total, p.events)
}

// Finish completes the bar and clears it; a nil bar does nothing.
func (p *ProgressBar) Finish() {
	if p != nil && p.bar != nil {
		_ = p.bar.Finish()
	}
}
