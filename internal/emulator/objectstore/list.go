package objectstore

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// listing is a bucket's keys in order with what a listing tells of each object, rebuilt from
// the backend after any change: ListObjectsV2 then costs what the answer holds, as S3's does,
// where gofakes3 walks the whole bucket for every page.
type listing struct {
	keys []listed
}

type listed struct {
	key      string
	size     int64
	etag     string
	modified time.Time
}

// keysOf is bucket's listing, rebuilt when the store changed since it was made.
func (s *Server) keysOf(bucket string) (*listing, error) {
	s.listMu.Lock()
	defer s.listMu.Unlock()
	if s.listings == nil || s.changed.Load() {
		s.listings = map[string]*listing{}
		s.changed.Store(false)
	}
	if l, ok := s.listings[bucket]; ok {
		return l, nil
	}
	all, err := s.backend.ListBucket(bucket, nil, gofakes3.ListBucketPage{})
	if err != nil {
		return nil, err
	}
	l := &listing{keys: make([]listed, 0, len(all.Contents))}
	for _, c := range all.Contents {
		l.keys = append(l.keys, listed{key: c.Key, size: c.Size, etag: c.ETag, modified: time.Time(c.LastModified.Time)})
	}
	sort.Slice(l.keys, func(i, j int) bool { return l.keys[i].key < l.keys[j].key })
	s.listings[bucket] = l
	return l, nil
}

// listV2Result is ListObjectsV2's answer.
type listV2Result struct {
	XMLName               xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	Delimiter             string         `xml:"Delimiter,omitempty"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
	ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	MaxKeys               int            `xml:"MaxKeys"`
	KeyCount              int            `xml:"KeyCount"`
	IsTruncated           bool           `xml:"IsTruncated"`
	Contents              []listContent  `xml:"Contents"`
	CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
}

type listContent struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	StorageClass string `xml:"StorageClass"`
}

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

// maxListKeys is the most keys and common prefixes one page holds, S3's default and maximum.
const maxListKeys = 1000

// listV2 answers ListObjectsV2 as S3 does: keys after start-after (or the continuation token)
// below prefix, those with the delimiter after the prefix rolled up into common prefixes, at
// most max-keys (1,000) entries a page.
func (s *Server) listV2(w http.ResponseWriter, bucket string, q url.Values) {
	l, err := s.keysOf(bucket)
	if err != nil {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>`))
		return
	}
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	res := listV2Result{Name: bucket, Prefix: prefix, Delimiter: delim, StartAfter: q.Get("start-after"),
		ContinuationToken: q.Get("continuation-token"), MaxKeys: maxListKeys}
	if n, err := strconv.Atoi(q.Get("max-keys")); err == nil && n >= 0 && n < maxListKeys {
		res.MaxKeys = n
	}
	after := res.StartAfter
	if res.ContinuationToken != "" {
		if tok, err := base64.URLEncoding.DecodeString(res.ContinuationToken); err == nil {
			after = string(tok)
		}
	}
	// The first key past after, and not before the prefix.
	i := sort.Search(len(l.keys), func(i int) bool { return l.keys[i].key > after && l.keys[i].key >= prefix })
	last := ""
	for i < len(l.keys) && strings.HasPrefix(l.keys[i].key, prefix) {
		if res.KeyCount == res.MaxKeys {
			res.IsTruncated = true
			res.NextContinuationToken = base64.URLEncoding.EncodeToString([]byte(last))
			break
		}
		k := l.keys[i]
		if d := strings.Index(k.key[len(prefix):], delim); delim != "" && d >= 0 {
			cp := k.key[:len(prefix)+d+len(delim)]
			res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{cp})
			res.KeyCount++
			// The next key not below the common prefix; a continuation starts past it too.
			i = sort.Search(len(l.keys), func(j int) bool { return l.keys[j].key >= cp && !strings.HasPrefix(l.keys[j].key, cp) })
			last = l.keys[i-1].key
			continue
		}
		res.Contents = append(res.Contents, listContent{Key: k.key, LastModified: k.modified.UTC().Format("2006-01-02T15:04:05.000Z"),
			ETag: k.etag, Size: k.size, StorageClass: "STANDARD"})
		res.KeyCount++
		last = k.key
		i++
	}
	out, err := xml.Marshal(res)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(out)
}
