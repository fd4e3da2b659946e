// Package cloudtrail is a test-only emulator of the CloudTrail API. It speaks the real AWS JSON
// 1.1 wire protocol, so the project's tests point the unmodified aws-sdk-go-v2 CloudTrail client
// at it (BaseEndpoint or AWS_ENDPOINT_URL_CLOUDTRAIL), and the AWS CLI with --endpoint-url, the
// way users point clients at LocalStack.
//
// LookupEvents serves CloudTrail records added with AddRecords or loaded from a local copy of
// trail archives with LoadArchiveDir. It mimics what matters to a LookupEvents consumer: events
// newest first, time and lookup-attribute filters, 1..50 results per page, opaque next tokens
// that are bound to the query, the 90-day history limit, and the 2 requests per second per
// account and region throttle, answered with ThrottlingException.
//
// For log file integrity validation (what `aws cloudtrail validate-logs` calls) it also answers
// ListPublicKeys (Options.PublicKeys: rotating keys with validity ranges), DescribeTrails and
// GetTrail (Options.Trails), and Organizations' DescribeOrganization (Options.OrganizationID),
// which validate-logs asks for an organization trail.
//
// Request signatures are not verified; the SigV4 Authorization header is only read for the
// region in its credential scope.
package cloudtrail

import (
	"crypto/rand"
	"net/http"
	"sync"
	"time"

	"github.com/sentinel-audit/sentinel/internal/emulator/loopback"
)

// Defaults applied by New to zero-valued Options fields.
const (
	DefaultRegion            = "us-east-1"
	DefaultRequestsPerSecond = 2
	DefaultBurst             = 2
	// HistoryLimit is how far before Options.Now events are still served.
	HistoryLimit = 90 * 24 * time.Hour
	// Account is the account every request is attributed to when throttling.
	Account = "123456789012"
)

// Options configures a Server. The zero value gives AWS's behaviour.
type Options struct {
	// Region is used for requests whose Authorization header names no region,
	// and for archive records without awsRegion. Default us-east-1.
	Region string
	// RequestsPerSecond is the sustained LookupEvents rate per account and
	// region. Default 2 (the AWS quota); a negative value disables throttling.
	// Throttling always runs on the wall clock, never on Now, because the
	// clients it slows down wait in real time.
	RequestsPerSecond float64
	// Burst is the token bucket size. Default 2.
	Burst int
	// Now is the emulated present; events older than HistoryLimit before it
	// are not served. Default time.Now.
	Now func() time.Time
	// PublicKeys are the digest signing keys ListPublicKeys serves (in every region).
	PublicKeys []PublicKey
	// Trails are the trails DescribeTrails and GetTrail describe.
	Trails []Trail
	// OrganizationID is the organization DescribeOrganization describes; "" answers that the
	// account is in no organization.
	OrganizationID string
}

// Stats counts what the server has done since it was created.
type Stats struct {
	// Requests counts every HTTP request, including throttled and failed ones.
	Requests int64
	// Throttled counts requests answered with ThrottlingException.
	Throttled int64
	// EventsServed counts events returned across all pages.
	EventsServed int64
	// Regions breaks the counters down by the region of the request.
	Regions map[string]RegionStats
}

// RegionStats holds the Stats counters of one region.
type RegionStats struct {
	Requests     int64
	Throttled    int64
	EventsServed int64
}

// Server is an in-memory CloudTrail event history. It is safe for concurrent
// use; records may be added while clients page through results.
type Server struct {
	opts Options
	// tokenSalt binds next tokens to this server instance.
	tokenSalt [16]byte
	wallClock func() time.Time

	mu      sync.Mutex
	regions map[string]*regionLog
	seq     int64

	throttleMu sync.Mutex
	buckets    map[bucketKey]*tokenBucket

	statsMu sync.Mutex
	stats   Stats
}

// New returns a Server with opts, defaults filled in.
func New(opts Options) *Server {
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if opts.RequestsPerSecond == 0 {
		opts.RequestsPerSecond = DefaultRequestsPerSecond
	}
	if opts.Burst <= 0 {
		opts.Burst = DefaultBurst
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		opts:      opts,
		wallClock: time.Now,
		regions:   make(map[string]*regionLog),
		buckets:   make(map[bucketKey]*tokenBucket),
		stats:     Stats{Regions: make(map[string]RegionStats)},
	}
	_, _ = rand.Read(s.tokenSalt[:]) // crypto/rand.Read never fails
	return s
}

// Handler returns the HTTP handler that serves the CloudTrail JSON 1.1 API.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Start serves Handler on a new listener on 127.0.0.1 with a free port. It
// returns the endpoint URL ("http://127.0.0.1:PORT") and a stop function that
// shuts the listener down, giving in-flight requests up to a second to finish.
func (s *Server) Start() (endpoint string, stop func(), err error) {
	return loopback.Serve(s.Handler())
}

// Stats returns a snapshot of the request counters.
func (s *Server) Stats() Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	out := s.stats
	out.Regions = make(map[string]RegionStats, len(s.stats.Regions))
	for region, rs := range s.stats.Regions {
		out.Regions[region] = rs
	}
	return out
}

// count adds to the global and per-region counters.
func (s *Server) count(region string, requests, throttled, served int64) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	s.stats.Requests += requests
	s.stats.Throttled += throttled
	s.stats.EventsServed += served
	rs := s.stats.Regions[region]
	rs.Requests += requests
	rs.Throttled += throttled
	rs.EventsServed += served
	s.stats.Regions[region] = rs
}
