// Package objectstore is an S3-compatible server for tests: gofakes3 in memory on loopback, with
// faults that can be injected per object (HTTP errors, slow or truncated bodies, dropped
// connections, S3's SlowDown) so tests can prove what ingest does when S3 misbehaves, a latency
// added to every request (a remote bucket's round trip), requests counted by kind with the most
// object reads in flight at once, ListObjectsV2 as S3 answers it (prefix, delimiter, start-after,
// continuation, 1,000 entries a page, at the cost of the page), and user metadata (x-amz-meta-*)
// kept with objects and returned by GET and HEAD, as CloudTrail's digest signatures are.
package objectstore

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/sentinel-audit/sentinel/internal/emulator/loopback"
)

// Fault is what happens to matching requests for objects.
type Fault struct {
	Method      string        // GET (the default) or PUT (object uploads and multipart parts)
	KeyContains string        // the object key contains this ("" = every object)
	Status      int           // answer with this HTTP status (0 = do not)
	Delay       time.Duration // wait this long first
	Truncate    bool          // GET: send only half of the body, then close the connection
	Reset       bool          // close the connection without answering
	Times       int           // apply this many times (0 = always)
}

// Server is an in-memory S3 on 127.0.0.1.
type Server struct {
	backend *s3mem.Backend
	handler http.Handler
	mu      sync.Mutex
	faults  []*Fault
	getKeys []string // the keys of the object reads served, in order
	gets    atomic.Int64
	heads   atomic.Int64
	puts    atomic.Int64
	lists   atomic.Int64
	latency atomic.Int64 // nanoseconds
	// Object reads being served, and the most at once.
	getsInFlight, peakGets atomic.Int64
	// The buckets' keys in order for ListObjectsV2, dropped when anything changes.
	listMu   sync.Mutex
	listings map[string]*listing
	changed  atomic.Bool
}

// New makes an empty store.
func New() *Server {
	b := s3mem.New()
	return &Server{backend: b, handler: gofakes3.New(b).Server()}
}

// Start listens on a free loopback port; stop shuts the server down.
func (s *Server) Start() (endpoint string, stop func(), err error) { return loopback.Serve(s) }

// CreateBucket makes a bucket.
func (s *Server) CreateBucket(name string) error {
	s.changed.Store(true)
	return s.backend.CreateBucket(name)
}

// Put stores an object.
func (s *Server) Put(bucket, key string, data []byte) error {
	return s.PutWithMetadata(bucket, key, data, nil)
}

// PutWithMetadata stores an object with user metadata: each name (without x-amz-meta-, such as
// "signature") and value is returned by GET and HEAD as the header x-amz-meta-NAME, the way S3
// returns metadata given at upload.
func (s *Server) PutWithMetadata(bucket, key string, data []byte, metadata map[string]string) error {
	meta := map[string]string{"Last-Modified": time.Now().UTC().Format(http.TimeFormat)}
	for name, v := range metadata {
		meta[http.CanonicalHeaderKey("X-Amz-Meta-"+name)] = v
	}
	s.changed.Store(true)
	_, err := s.backend.PutObject(bucket, key, meta, bytes.NewReader(data), int64(len(data)), nil)
	return err
}

// Delete removes an object, as a user deleting it from the bucket would.
func (s *Server) Delete(bucket, key string) error {
	s.changed.Store(true)
	_, err := s.backend.DeleteObject(bucket, key)
	return err
}

// SetLatency makes every request wait d before it is served (0, the default, for none): a
// remote S3's round trip.
func (s *Server) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

// Inject adds a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// Clear removes every fault.
func (s *Server) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Gets, Heads, Puts and Lists count the object reads, object HEADs, uploads (object and part
// PUTs) and listings served, faulty ones included.
func (s *Server) Gets() int64 { return s.gets.Load() }

// GetsOf counts the object reads served whose key contains substr.
func (s *Server) GetsOf(substr string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, k := range s.getKeys {
		if strings.Contains(k, substr) {
			n++
		}
	}
	return n
}

// PeakGets is the most object reads that were in flight at once.
func (s *Server) PeakGets() int64 { return s.peakGets.Load() }

// ResetCounts sets the request counts and the peak back to zero, to measure one run of several.
func (s *Server) ResetCounts() {
	s.gets.Store(0)
	s.heads.Store(0)
	s.puts.Store(0)
	s.lists.Store(0)
	s.peakGets.Store(0)
	s.mu.Lock()
	s.getKeys = nil
	s.mu.Unlock()
}

func (s *Server) Heads() int64 { return s.heads.Load() }
func (s *Server) Puts() int64  { return s.puts.Load() }
func (s *Server) Lists() int64 { return s.lists.Load() }

func (s *Server) fault(method, key string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		m := f.Method
		if m == "" {
			m = http.MethodGet
		}
		if m != method || !strings.Contains(key, f.KeyContains) {
			continue
		}
		if f.Times < 0 {
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

// ServeHTTP applies the latency to every request and faults to object GETs and PUTs, and passes
// everything to gofakes3.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)
	object := len(parts) == 2 && parts[1] != ""
	if r.Method == http.MethodGet && object {
		raise(&s.peakGets, s.getsInFlight.Add(1))
		defer s.getsInFlight.Add(-1)
	}
	if d := time.Duration(s.latency.Load()); d > 0 {
		time.Sleep(d)
	}
	raw := w // for hijacking the connection
	meta := &lowercaseMetadata{ResponseWriter: raw}
	defer meta.lowercase() // for answers without a body or status written (HEAD)
	w = meta
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.changed.Store(true)
	}
	switch {
	case r.Method == http.MethodHead && object:
		s.heads.Add(1)
		s.handler.ServeHTTP(w, r)
		return
	case r.Method == http.MethodGet && object:
		s.gets.Add(1)
		s.mu.Lock()
		s.getKeys = append(s.getKeys, parts[1])
		s.mu.Unlock()
	case r.Method == http.MethodPut && object:
		s.puts.Add(1)
	case r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2":
		s.lists.Add(1)
		s.listV2(w, parts[0], r.URL.Query())
		return
	default:
		if r.Method == http.MethodGet {
			s.lists.Add(1)
		}
		s.handler.ServeHTTP(w, r)
		return
	}
	f := s.fault(r.Method, parts[1])
	if f == nil {
		s.handler.ServeHTTP(w, r)
		return
	}
	if f.Delay > 0 {
		time.Sleep(f.Delay)
	}
	switch {
	case f.Reset:
		if hj, ok := raw.(http.Hijacker); ok {
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
	case f.Truncate && r.Method == http.MethodGet:
		rec := &recorder{header: http.Header{}}
		s.handler.ServeHTTP(rec, r)
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(cmp.Or(rec.status, http.StatusOK))
		w.Write(rec.body.Bytes()[:rec.body.Len()/2])
		if hj, ok := raw.(http.Hijacker); ok {
			if conn, buf, err := hj.Hijack(); err == nil {
				buf.Flush()
				conn.Close()
			}
		}
	default:
		s.handler.ServeHTTP(w, r)
	}
}

// raise sets peak to n when n is more.
func raise(peak *atomic.Int64, n int64) {
	for p := peak.Load(); n > p; p = peak.Load() {
		if peak.CompareAndSwap(p, n) {
			return
		}
	}
}

func code(status int) string {
	switch status {
	case http.StatusForbidden:
		return "AccessDenied"
	case http.StatusServiceUnavailable:
		return "SlowDown"
	case http.StatusNotFound:
		return "NoSuchKey"
	default:
		return "InternalError"
	}
}

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }

// lowercaseMetadata sends user metadata headers as S3 does, in lowercase (x-amz-meta-signature):
// gofakes3 sets them through http.Header.Set, which capitalizes them, and clients that keep the
// case of the name after the prefix (botocore, so the AWS CLI) would then miss "signature".
type lowercaseMetadata struct {
	http.ResponseWriter
	wrote bool
}

func (m *lowercaseMetadata) WriteHeader(status int) {
	m.lowercase()
	m.ResponseWriter.WriteHeader(status)
}

// lowercase renames the metadata headers, once: before the headers are sent.
func (m *lowercaseMetadata) lowercase() {
	if m.wrote {
		return
	}
	m.wrote = true
	h := m.ResponseWriter.Header()
	for k, v := range h {
		if strings.HasPrefix(k, "X-Amz-Meta-") {
			delete(h, k)
			h[strings.ToLower(k)] = v
		}
	}
}

func (m *lowercaseMetadata) Write(b []byte) (int, error) {
	if !m.wrote {
		m.WriteHeader(http.StatusOK)
	}
	return m.ResponseWriter.Write(b)
}
