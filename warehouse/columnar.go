package warehouse

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/delta"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// columnWriter writes the Parquet files of a flat row type (EventRow, IssuanceRow) column by
// column, straight from the rows' fields: a string is copied once, into its page; a dictionary
// column compares each value with the one before it before it hashes it (a trail file is one
// account and region, so most columns repeat row after row). It writes these files instead of
// parquet-go's GenericWriter, whose row shredding copies byte arrays up to four times and hashes
// every dictionary value (~2 µs of ingest CPU per event; docs/performance.md). The files are the
// ones parquet-go writes: its schema (taken from a file it writes, so the lake's files and the
// schema files agree), its encodings for the same struct tags, DataPageV2 pages with CRCs,
// libzstd-compressed.
type columnWriter[T any] struct {
	out    fileOut
	layout *fileLayout
	*columnSet
	groups []format.RowGroup
	rows   int // rows of the row group being collected
	total  int64
}

// columnSet is a file's columns and the buffers its pages are encoded in. Sets are reused from
// file to file (fileLayout.idle): a run writes a file per partition per checkpoint, and a fresh
// set per file (its page buffers, growing to a page and a row group of compressed pages each)
// would be over half of what ingest allocates, for the collector and the kernel to pay for.
type columnSet struct {
	cols    []*column
	scratch pageScratch
}

// pageBytes is how many bytes of values a column collects before they become a page. 1 MiB: zstd
// sees much of the repetitive JSON at once, for a lake ~11 % smaller than with 256 KiB pages, and
// faster; 4 MiB pages are 2 % smaller still for 80 MB more memory (docs/performance.md).
const pageBytes = 1 << 20

// maxGroupRows is the most rows a row group takes; the batch writes row groups out at
// rowGroupRows, this bounds a caller that does not.
const maxGroupRows = 2 * rowGroupRows

// lengthsRoom is the room kept in front of a DELTA_LENGTH_BYTE_ARRAY page's values for its
// encoded lengths, so that the values need not be copied again to join them.
const lengthsRoom = 32 << 10

// fileLayout is what a row type's files share: the footer's schema and column orders, and how
// each field is stored.
type fileLayout struct {
	version int32
	schema  []format.SchemaElement
	orders  []format.ColumnOrder
	fields  []fieldLayout
	idle    idleSets
}

// fieldLayout is how one struct field is stored.
type fieldLayout struct {
	name     string
	kind     fieldKind
	offset   uintptr
	typ      format.Type
	encoding format.Encoding
	optional bool
	stats    bool // min/max statistics (statisticsKept)
}

type fieldKind uint8

const (
	kindString    fieldKind = iota // string: a required BYTE_ARRAY
	kindOptString                  // *string: an optional BYTE_ARRAY
	kindTime                       // time.Time: a required INT64 timestamp in microseconds
	kindOptBool                    // *bool: an optional BOOLEAN
	kindInt32                      // int32: a required INT32
	kindInt64                      // int64: a required INT64
)

var (
	eventLayout    = sync.OnceValues(layoutOf[EventRow])
	issuanceLayout = sync.OnceValues(layoutOf[IssuanceRow])
)

// layoutOf derives T's layout: the schema as parquet-go writes it for T, and for each field the
// encoding parquet-go gives its tags (dict: RLE_DICTIONARY; delta: DELTA_BINARY_PACKED; other
// strings DELTA_LENGTH_BYTE_ARRAY; other numbers and booleans PLAIN).
func layoutOf[T any]() (*fileLayout, error) {
	var buf bytes.Buffer
	if err := parquet.NewGenericWriter[T](&buf, parquet.Compression(lakeCodec)).Close(); err != nil {
		return nil, fmt.Errorf("lay out %T files: %w", *new(T), err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		return nil, fmt.Errorf("lay out %T files: %w", *new(T), err)
	}
	md := f.Metadata()
	l := &fileLayout{version: md.Version, schema: md.Schema, orders: md.ColumnOrders}
	rt := reflect.TypeFor[T]()
	if len(md.Schema) != rt.NumField()+1 {
		return nil, fmt.Errorf("lay out %s files: %d columns for %d fields", rt, len(md.Schema)-1, rt.NumField())
	}
	for i := range rt.NumField() {
		sf := rt.Field(i)
		tag := strings.Split(sf.Tag.Get("parquet"), ",")
		el := md.Schema[i+1]
		fl := fieldLayout{name: tag[0], offset: sf.Offset, typ: el.Type.V, stats: statisticsKept[tag[0]],
			optional: el.RepetitionType.V == format.Optional}
		if el.Name != fl.name {
			return nil, fmt.Errorf("lay out %s files: field %s is column %q, parquet-go wrote %q", rt, sf.Name, fl.name, el.Name)
		}
		has := func(opt string) bool { return strings.Contains(","+strings.Join(tag[1:], ",")+",", ","+opt+",") }
		switch sf.Type {
		case reflect.TypeFor[string](), reflect.TypeFor[*string]():
			fl.kind, fl.encoding = kindString, format.DeltaLengthByteArray
			if sf.Type.Kind() == reflect.Pointer {
				fl.kind = kindOptString
			}
			if has("dict") {
				fl.encoding = format.RLEDictionary
			}
		case reflect.TypeFor[time.Time]():
			fl.kind, fl.encoding = kindTime, format.Plain
		case reflect.TypeFor[*bool]():
			fl.kind, fl.encoding = kindOptBool, format.Plain
		case reflect.TypeFor[int32]():
			fl.kind, fl.encoding = kindInt32, format.Plain
		case reflect.TypeFor[int64]():
			fl.kind, fl.encoding = kindInt64, format.Plain
		default:
			return nil, fmt.Errorf("lay out %s files: field %s has type %s, which the column writer does not store", rt, sf.Name, sf.Type)
		}
		if (fl.kind == kindTime || fl.kind == kindInt64) && has("delta") {
			fl.encoding = format.DeltaBinaryPacked
		}
		if fl.optional != (fl.kind == kindOptString || fl.kind == kindOptBool) {
			return nil, fmt.Errorf("lay out %s files: field %s: parquet-go's repetition does not match the Go type", rt, sf.Name)
		}
		l.fields = append(l.fields, fl)
	}
	return l, nil
}

// newColumnWriter starts a file of rows laid out by l on w, which is at the start of the file.
func newColumnWriter[T any](w io.Writer, l *fileLayout) (*columnWriter[T], error) {
	cw := &columnWriter[T]{out: fileOut{w: w}, layout: l, columnSet: l.idle.take()}
	if cw.columnSet == nil {
		cw.columnSet = &columnSet{}
		for i := range l.fields {
			c := &column{fieldLayout: &l.fields[i]}
			if c.encoding == format.DeltaLengthByteArray {
				c.data = make([]byte, lengthsRoom)
			}
			if c.encoding == format.RLEDictionary {
				c.index = map[string]int32{}
			}
			cw.cols = append(cw.cols, c)
		}
	}
	if err := cw.out.write([]byte("PAR1")); err != nil {
		return nil, err
	}
	return cw, nil
}

// Write adds rows to the file: every value is copied, so rows may change once it returns.
func (cw *columnWriter[T]) Write(rows []T) (int, error) {
	for done := 0; done < len(rows); {
		n := min(len(rows)-done, maxGroupRows-cw.rows)
		part := rows[done : done+n]
		base, size := unsafe.Pointer(unsafe.SliceData(part)), unsafe.Sizeof(part[0])
		for _, c := range cw.cols {
			if err := c.add(base, size, n, &cw.scratch); err != nil {
				return done, fmt.Errorf("column %s: %w", c.name, err)
			}
		}
		cw.rows += n
		done += n
		if cw.rows == maxGroupRows {
			if err := cw.Flush(); err != nil {
				return done, err
			}
		}
	}
	return len(rows), nil
}

// Flush writes the rows collected so far out as a row group.
func (cw *columnWriter[T]) Flush() error {
	if cw.rows == 0 {
		return nil
	}
	g := format.RowGroup{NumRows: int64(cw.rows), FileOffset: cw.out.offset, Ordinal: int16(len(cw.groups))}
	for _, c := range cw.cols {
		if err := c.cutPage(&cw.scratch); err != nil {
			return fmt.Errorf("column %s: %w", c.name, err)
		}
		cc, err := c.writeChunk(&cw.out, &cw.scratch)
		if err != nil {
			return fmt.Errorf("column %s: %w", c.name, err)
		}
		g.Columns = append(g.Columns, cc)
		g.TotalByteSize += cc.MetaData.TotalUncompressedSize
		g.TotalCompressedSize += cc.MetaData.TotalCompressedSize
	}
	cw.groups = append(cw.groups, g)
	cw.total += int64(cw.rows)
	cw.rows = 0
	return nil
}

// Close writes the last row group and the footer. It does not close the underlying writer.
func (cw *columnWriter[T]) Close() error {
	if err := cw.Flush(); err != nil {
		return err
	}
	footer, err := thrift.Marshal(new(thrift.CompactProtocol), &format.FileMetaData{
		Version: cw.layout.version, Schema: cw.layout.schema, NumRows: cw.total, RowGroups: cw.groups,
		CreatedBy: "sentinel lake writer (parquet-go 0.32 encodings)", ColumnOrders: cw.layout.orders})
	if err != nil {
		return fmt.Errorf("encode the footer: %w", err)
	}
	footer = binary.LittleEndian.AppendUint32(footer, uint32(len(footer)))
	if err := cw.out.write(append(footer, "PAR1"...)); err != nil {
		return err
	}
	cw.layout.idle.put(cw.columnSet) // written out: every column is empty again
	cw.columnSet = nil
	return nil
}

// idleSets keeps the column sets of finished files for the next files.
type idleSets struct {
	sync.Mutex
	sets []*columnSet
}

// maxIdleSets is how many sets idleSets keeps: the files a batch writes at once
// (maxOpenPartitions) finish together at a checkpoint.
const maxIdleSets = maxOpenPartitions

func (is *idleSets) take() *columnSet {
	is.Lock()
	defer is.Unlock()
	if len(is.sets) == 0 {
		return nil
	}
	set := is.sets[len(is.sets)-1]
	is.sets = is.sets[:len(is.sets)-1]
	return set
}

func (is *idleSets) put(set *columnSet) {
	is.Lock()
	defer is.Unlock()
	if len(is.sets) < maxIdleSets {
		is.sets = append(is.sets, set)
	}
}

// column collects one field's values: the page being filled, then the row group's pages.
type column struct {
	*fieldLayout

	// the page being filled
	n     int     // values, nulls included
	nulls int     // nulls
	def   []byte  // definition levels (optional columns)
	idx   []int32 // dictionary indexes of the values
	lens  []int32 // lengths of the byte arrays, which follow lengthsRoom in data
	data  []byte  // byte arrays, PLAIN int32s, or PLAIN booleans (bits)
	ints  []int64 // int64s and timestamps
	bits  int     // booleans in data
	pmin  int64   // the page's least and greatest value (stats columns)
	pmax  int64

	// the row group's dictionary (RLE_DICTIONARY columns)
	index   map[string]int32 // value -> index
	entries []string         // index -> value
	dict    []byte           // the values, PLAIN-encoded
	last    string           // the dictionary's copy of the value looked up last
	lastIdx int32
	hasLast bool

	// the row group's column chunk
	pages        []byte // data pages, headers included
	dataPages    int32
	values       int64
	chunkNulls   int64
	uncompressed int64
	hasBounds    bool
	min, max     int64
}

// add appends field c of n rows, the first at base, each size bytes apart. Only byte arrays can
// fill a page within a row group (maxGroupRows of the others' at most 8 bytes are half a page), so
// only they are checked for a full page as they go.
func (c *column) add(base unsafe.Pointer, size uintptr, n int, s *pageScratch) error {
	field := func(i int) unsafe.Pointer { return unsafe.Add(base, uintptr(i)*size+c.offset) }
	str := func(i int) *string {
		if c.kind == kindOptString {
			return *(**string)(field(i))
		}
		return (*string)(field(i))
	}
	switch {
	case c.encoding == format.RLEDictionary:
		for i := range n {
			if v := str(i); c.present(v != nil) {
				c.idx = append(c.idx, c.lookup(*v))
			}
		}
	case c.encoding == format.DeltaLengthByteArray:
		for i := range n {
			if v := str(i); c.present(v != nil) {
				c.lens = append(c.lens, int32(len(*v)))
				c.data = append(c.data, *v...)
				if len(c.data)-lengthsRoom+4*len(c.lens) >= pageBytes {
					if err := c.cutPage(s); err != nil {
						return err
					}
				}
			}
		}
	case c.kind == kindTime:
		for i := range n {
			c.addInt((*time.Time)(field(i)).UnixMicro())
		}
	case c.kind == kindInt64:
		for i := range n {
			c.addInt(*(*int64)(field(i)))
		}
	case c.kind == kindInt32:
		for i := range n {
			c.data = binary.LittleEndian.AppendUint32(c.data, uint32(*(*int32)(field(i))))
		}
		c.n += n
	case c.kind == kindOptBool:
		for i := range n {
			v := *(**bool)(field(i))
			if !c.present(v != nil) {
				continue
			}
			if c.bits%8 == 0 {
				c.data = append(c.data, 0)
			}
			if *v {
				c.data[len(c.data)-1] |= 1 << (c.bits % 8)
			}
			c.bits++
		}
	}
	return nil
}

// present counts a value, a null unless ok, and reports ok.
func (c *column) present(ok bool) bool {
	c.n++
	if !c.optional {
		return true
	}
	if !ok {
		c.nulls++
		c.def = append(c.def, 0)
		return false
	}
	c.def = append(c.def, 1)
	return true
}

func (c *column) addInt(v int64) {
	c.n++
	c.ints = append(c.ints, v)
	if c.stats {
		if len(c.ints) == 1 || v < c.pmin {
			c.pmin = v
		}
		if len(c.ints) == 1 || v > c.pmax {
			c.pmax = v
		}
	}
}

// lookup is the dictionary index of v, added when new. A trail file is one account and region,
// so most columns repeat row after row: v is compared with the value before it first. What
// lookup remembers is the dictionary's copy, never v: the rows' memory is reused once they are
// written.
func (c *column) lookup(v string) int32 {
	if c.hasLast && v == c.last {
		return c.lastIdx
	}
	i, ok := c.index[v]
	if !ok {
		i = int32(len(c.entries))
		c.entries = append(c.entries, strings.Clone(v))
		c.index[c.entries[i]] = i
		c.dict = binary.LittleEndian.AppendUint32(c.dict, uint32(len(v)))
		c.dict = append(c.dict, v...)
	}
	c.last, c.lastIdx, c.hasLast = c.entries[i], i, true
	return i
}

// pageScratch is the buffers pages are encoded in.
type pageScratch struct {
	levels, values, packed []byte
}

// cutPage encodes, compresses and appends the page being filled to the column chunk.
func (c *column) cutPage(s *pageScratch) error {
	if c.n == 0 {
		return nil
	}
	var err error
	s.levels = s.levels[:0]
	if c.optional {
		if s.levels, err = (&rle.Encoding{BitWidth: 1}).EncodeLevels(s.levels, c.def); err != nil {
			return fmt.Errorf("encode definition levels: %w", err)
		}
	}
	var values []byte
	switch {
	case c.encoding == format.RLEDictionary:
		if s.values, err = new(rle.DictionaryEncoding).EncodeInt32(s.values, c.idx); err != nil {
			return fmt.Errorf("encode dictionary indexes: %w", err)
		}
		values = s.values
	case c.encoding == format.DeltaLengthByteArray:
		if s.values, err = new(delta.BinaryPackedEncoding).EncodeInt32(s.values, c.lens); err != nil {
			return fmt.Errorf("encode byte array lengths: %w", err)
		}
		if len(s.values) <= lengthsRoom {
			start := lengthsRoom - len(s.values)
			copy(c.data[start:], s.values)
			values = c.data[start:]
		} else {
			s.values = append(s.values, c.data[lengthsRoom:]...)
			values = s.values
		}
	case c.encoding == format.DeltaBinaryPacked:
		if s.values, err = new(delta.BinaryPackedEncoding).EncodeInt64(s.values, c.ints); err != nil {
			return fmt.Errorf("encode integers: %w", err)
		}
		values = s.values
	case c.kind == kindTime || c.kind == kindInt64:
		s.values = s.values[:0]
		for _, v := range c.ints {
			s.values = binary.LittleEndian.AppendUint64(s.values, uint64(v))
		}
		values = s.values
	default:
		values = c.data
	}
	var stats format.Statistics
	if c.optional {
		stats.NullCount = int64(c.nulls)
	}
	if c.stats && len(c.ints) > 0 {
		stats.Min = binary.LittleEndian.AppendUint64(nil, uint64(c.pmin))
		stats.Max = binary.LittleEndian.AppendUint64(nil, uint64(c.pmax))
		stats.MinValue, stats.MaxValue = stats.Min, stats.Max
		if !c.hasBounds || c.pmin < c.min {
			c.min = c.pmin
		}
		if !c.hasBounds || c.pmax > c.max {
			c.max = c.pmax
		}
		c.hasBounds = true
	}
	if s.packed, err = lakeCodec.Encode(s.packed, values); err != nil {
		return fmt.Errorf("compress a page: %w", err)
	}
	header := format.PageHeader{
		Type:                 format.DataPageV2,
		UncompressedPageSize: int32(len(s.levels) + len(values)),
		CompressedPageSize:   int32(len(s.levels) + len(s.packed)),
		CRC:                  int32(crc32.Update(crc32.ChecksumIEEE(s.levels), crc32.IEEETable, s.packed)),
		DataPageHeaderV2: thrift.New(format.DataPageHeaderV2{
			NumValues: int32(c.n), NumNulls: int32(c.nulls), NumRows: int32(c.n), Encoding: c.encoding,
			DefinitionLevelsByteLength: int32(len(s.levels)), IsCompressed: thrift.New(true), Statistics: stats}),
	}
	h, err := thrift.Marshal(new(thrift.CompactProtocol), &header)
	if err != nil {
		return fmt.Errorf("encode a page header: %w", err)
	}
	c.pages = append(append(append(c.pages, h...), s.levels...), s.packed...)
	c.uncompressed += int64(len(h)) + int64(header.UncompressedPageSize)
	c.dataPages++
	c.values += int64(c.n)
	c.chunkNulls += int64(c.nulls)
	c.n, c.nulls, c.bits = 0, 0, 0
	c.def, c.idx, c.ints = c.def[:0], c.idx[:0], c.ints[:0]
	c.lens = c.lens[:0]
	if c.encoding == format.DeltaLengthByteArray {
		c.data = c.data[:lengthsRoom]
	} else {
		c.data = c.data[:0]
	}
	return nil
}

// writeChunk writes the row group's column chunk to out (its dictionary page, then its data
// pages) and returns its metadata; the column starts the next row group empty.
func (c *column) writeChunk(out *fileOut, s *pageScratch) (format.ColumnChunk, error) {
	m := format.ColumnMetaData{Type: c.typ, PathInSchema: []string{c.name}, Codec: format.Zstd,
		NumValues: c.values, TotalUncompressedSize: c.uncompressed, Statistics: format.Statistics{NullCount: c.chunkNulls}}
	start := out.offset
	if c.encoding == format.RLEDictionary {
		var err error
		if s.packed, err = lakeCodec.Encode(s.packed, c.dict); err != nil {
			return format.ColumnChunk{}, fmt.Errorf("compress the dictionary page: %w", err)
		}
		h, err := thrift.Marshal(new(thrift.CompactProtocol), &format.PageHeader{
			Type: format.DictionaryPage, UncompressedPageSize: int32(len(c.dict)), CompressedPageSize: int32(len(s.packed)),
			CRC:                  int32(crc32.ChecksumIEEE(s.packed)),
			DictionaryPageHeader: thrift.New(format.DictionaryPageHeader{NumValues: int32(len(c.entries)), Encoding: format.Plain}),
		})
		if err != nil {
			return format.ColumnChunk{}, fmt.Errorf("encode the dictionary page header: %w", err)
		}
		m.DictionaryPageOffset = start
		m.TotalUncompressedSize += int64(len(h) + len(c.dict))
		if err := out.write(h); err != nil {
			return format.ColumnChunk{}, err
		}
		if err := out.write(s.packed); err != nil {
			return format.ColumnChunk{}, err
		}
		m.EncodingStats = append(m.EncodingStats, format.PageEncodingStats{PageType: format.DictionaryPage, Encoding: format.Plain, Count: 1})
		m.Encoding = append(m.Encoding, format.Plain)
	}
	if c.optional {
		m.Encoding = append(m.Encoding, format.RLE) // the definition levels
	}
	m.Encoding = append(m.Encoding, c.encoding)
	slices.Sort(m.Encoding)
	m.Encoding = slices.Compact(m.Encoding)
	m.EncodingStats = append(m.EncodingStats, format.PageEncodingStats{PageType: format.DataPageV2, Encoding: c.encoding, Count: c.dataPages})
	m.DataPageOffset = out.offset
	if err := out.write(c.pages); err != nil {
		return format.ColumnChunk{}, err
	}
	m.TotalCompressedSize = out.offset - start
	if c.hasBounds {
		m.Statistics.MinValue = binary.LittleEndian.AppendUint64(nil, uint64(c.min))
		m.Statistics.MaxValue = binary.LittleEndian.AppendUint64(nil, uint64(c.max))
	}
	c.pages, c.dataPages, c.values, c.chunkNulls, c.uncompressed, c.hasBounds = c.pages[:0], 0, 0, 0, 0, false
	if c.index != nil {
		clear(c.index)
		clear(c.entries)
		c.entries, c.dict, c.hasLast = c.entries[:0], c.dict[:0], false
	}
	return format.ColumnChunk{FileOffset: start, MetaData: m}, nil
}

// fileOut is where a file is written, and how far.
type fileOut struct {
	w      io.Writer
	offset int64
}

func (o *fileOut) write(b []byte) error {
	n, err := o.w.Write(b)
	o.offset += int64(n)
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}
