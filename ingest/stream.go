package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// objectStream is an object opened for reading as a stream: inflated when it is gzip (detected
// by its magic bytes, whatever the name; concatenated members read as one stream, see
// gzipMembers), without a leading byte order mark, and failing past maxObjectBytes.
type objectStream struct {
	io.Reader
	body io.Closer
	gz   *gzipMembers
	read int64
}

// openStream opens o as an objectStream; the caller closes it.
func openStream(ctx context.Context, o object) (*objectStream, error) {
	body, err := o.open(ctx)
	if err != nil {
		return nil, err
	}
	s := &objectStream{body: body}
	br := bufio.NewReaderSize(body, 64<<10)
	if head, _ := br.Peek(len(gzipMagic)); isGzip(head) {
		if s.gz, err = newGzipMembers(br); err != nil {
			body.Close()
			return nil, fmt.Errorf("gzip: %w", err)
		}
		br = bufio.NewReaderSize(s.gz, 64<<10)
	}
	if head, _ := br.Peek(len(bom)); string(head) == bom {
		br.Discard(len(bom))
	}
	s.Reader = br
	return s, nil
}

func (s *objectStream) Read(p []byte) (int, error) {
	n, err := s.Reader.Read(p)
	s.read += int64(n)
	if s.read > maxObjectBytes {
		return n, errTooLarge(maxObjectBytes)
	}
	if err != nil && err != io.EOF {
		if s.gz != nil {
			return n, fmt.Errorf("gzip: %w", err)
		}
		return n, fmt.Errorf("read: %w", err)
	}
	return n, err
}

// gzipMembers inflates concatenated gzip members one at a time, as inflateGo does: anything after
// the last member that is not a whole member is an error (klauspost's multistream mode takes a
// truncated header there for the end of the stream).
type gzipMembers struct {
	in   *bufio.Reader
	read *countingReader // what in has read of the object
	zr   *gzip.Reader
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func newGzipMembers(r io.Reader) (*gzipMembers, error) {
	c := &countingReader{r: r}
	g := &gzipMembers{in: bufio.NewReaderSize(c, 64<<10), read: c}
	zr, err := gzip.NewReader(g.in)
	if err != nil {
		return nil, err
	}
	zr.Multistream(false)
	g.zr = zr
	return g, nil
}

func (g *gzipMembers) Read(p []byte) (int, error) {
	for {
		n, err := g.zr.Read(p)
		if n > 0 || !errors.Is(err, io.EOF) {
			if errors.Is(err, io.EOF) {
				err = nil // the end of a member: the next call looks for another
			}
			return n, err
		}
		if _, err := g.in.Peek(1); err != nil {
			return 0, err // io.EOF: that was the last member
		}
		at := g.read.n - int64(g.in.Buffered())
		if err := g.zr.Reset(g.in); err != nil {
			return 0, fmt.Errorf("member at byte %d: %w", at, err)
		}
		g.zr.Multistream(false)
	}
}

func (s *objectStream) Close() error {
	if s.gz != nil {
		s.gz.zr.Close()
	}
	return s.body.Close()
}

// valueStream cuts JSON values out of a stream one at a time: the top-level values, and instead
// of a top-level array, its elements. Memory follows the largest value, not the input.
type valueStream struct {
	r          io.Reader
	buf        []byte // buf[start:end] is read and not yet handed out
	start, end int
	eof        bool
	inArray    bool
	afterValue bool // in an array: an element was handed out and no comma has followed yet
}

// streamChunk is the least a read asks for.
const streamChunk = 256 << 10

// fill reads more input after buf[start:end]; it reports false at the end of the input.
func (s *valueStream) fill() (bool, error) {
	if s.eof {
		return false, nil
	}
	if len(s.buf)-s.end < streamChunk {
		s.end = copy(s.buf, s.buf[s.start:s.end])
		s.start = 0
		if len(s.buf)-s.end < streamChunk {
			s.buf = append(s.buf[:s.end], make([]byte, max(len(s.buf), streamChunk))...)
			s.buf = s.buf[:cap(s.buf)]
		}
	}
	n, err := s.r.Read(s.buf[s.end:])
	s.end += n
	if errors.Is(err, io.EOF) {
		s.eof = true
		return n > 0, nil
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

// next returns the next value, valid until the following call, or io.EOF after the last. A value
// that does not end is returned as it is, for the parser to say what is wrong with it.
func (s *valueStream) next() ([]byte, error) {
	for {
		s.start = skipSpace(s.buf[:s.end], s.start)
		if s.start == s.end {
			more, err := s.fill()
			if err != nil {
				return nil, err
			}
			if more {
				continue
			}
			if s.inArray {
				return nil, errors.New("unexpected end of input in an array")
			}
			return nil, io.EOF
		}
		c := s.buf[s.start]
		switch {
		case s.inArray && c == ']':
			s.start++
			s.inArray = false
			continue
		case s.inArray && s.afterValue:
			if c != ',' {
				return nil, fmt.Errorf("expected ',' or ']' in an array, found %q", c)
			}
			s.start++
			s.afterValue = false
			continue
		case !s.inArray && c == '[':
			s.start++
			s.inArray, s.afterValue = true, false
			continue
		}
		end, ok := skipValue(s.buf[:s.end], s.start)
		if (!ok || end == s.end) && !s.eof {
			// The value may go on in input not read yet.
			if _, err := s.fill(); err != nil {
				return nil, err
			}
			continue
		}
		if !ok {
			end = s.end
		}
		v := s.buf[s.start:end]
		s.start = end
		s.afterValue = s.inArray
		return v, nil
	}
}
