package objectstore

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sentinel-audit/sentinel/internal/emulator/loopback"
)

// PutFaults serves a Server with faults on uploads as well: object PUTs and the PUTs of multipart
// parts whose key matches fail as a Fault says (Status, Delay, Reset and Times apply; Truncate does
// not). The Server's own faults still apply to GETs. Serve the wrapper, not the Server.
type PutFaults struct {
	*Server
	mu     sync.Mutex
	faults []*Fault
	puts   atomic.Int64
}

// WithPutFaults wraps s.
func WithPutFaults(s *Server) *PutFaults { return &PutFaults{Server: s} }

// Start listens on a free loopback port; stop shuts the server down.
func (p *PutFaults) Start() (endpoint string, stop func(), err error) { return loopback.Serve(p) }

// InjectPut adds an upload fault.
func (p *PutFaults) InjectPut(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, &f)
}

// ClearPuts removes every upload fault.
func (p *PutFaults) ClearPuts() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = nil
}

// Puts counts the uploads (object and part PUTs) served, faulty ones included.
func (p *PutFaults) Puts() int64 { return p.puts.Load() }

func (p *PutFaults) putFault(key string) *Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.faults {
		if !strings.Contains(key, f.KeyContains) || f.Times < 0 {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				f.Times = -1
			}
		}
		c := *f
		return &c
	}
	return nil
}

// ServeHTTP applies upload faults to object PUTs and passes everything else to the Server.
func (p *PutFaults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)
	if r.Method != http.MethodPut || len(parts) < 2 || parts[1] == "" {
		p.Server.ServeHTTP(w, r)
		return
	}
	p.puts.Add(1)
	f := p.putFault(parts[1])
	if f == nil {
		p.Server.ServeHTTP(w, r)
		return
	}
	if f.Delay > 0 {
		time.Sleep(f.Delay)
	}
	switch {
	case f.Reset:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		w.WriteHeader(http.StatusInternalServerError)
	case f.Status != 0:
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>injected fault</Message><RequestId>fault</RequestId></Error>`, code(f.Status))
	default:
		p.Server.ServeHTTP(w, r)
	}
}
