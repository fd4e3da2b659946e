package warehouse

import (
	"fmt"
	"sync"

	"github.com/DataDog/zstd"
	"github.com/parquet-go/parquet-go/format"
)

// lakeZstdLevel is the zstd level of lake pages. On trail records in 1 MiB pages, libzstd's level 1
// compresses better than level 3 (11.3x vs 11.1x) and faster (1.06 vs 0.87 GB/s on one core);
// levels 5+ gain 7-13 % for a quarter of the speed (docs/performance.md).
const lakeZstdLevel = 1

// lakeCodec compresses lake pages with libzstd (the reference C implementation, through cgo):
// on trail records it is 2.5x faster than parquet-go's own zstd codec (klauspost/compress, 0.43
// GB/s to 8.6x) at a better ratio (docs/performance.md). The files stay standard Parquet with
// ZSTD pages.
var lakeCodec = &zstdCodec{level: lakeZstdLevel}

// zstdCodec implements parquet-go's compress.Codec with libzstd. Contexts are pooled: each
// holds libzstd's working memory, which is costly to allocate per page.
type zstdCodec struct {
	level int
	ctxs  sync.Pool
}

func (c *zstdCodec) String() string { return "ZSTD" }

func (c *zstdCodec) CompressionCodec() format.CompressionCodec { return format.Zstd }

func (c *zstdCodec) ctx() zstd.Ctx {
	if x, ok := c.ctxs.Get().(zstd.Ctx); ok {
		return x
	}
	return zstd.NewCtx()
}

// Encode compresses src into dst (grown when too small).
func (c *zstdCodec) Encode(dst, src []byte) ([]byte, error) {
	x := c.ctx()
	defer c.ctxs.Put(x)
	out, err := x.CompressLevel(dst[:cap(dst)], src, c.level)
	if err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	return out, nil
}

// Decode decompresses src into dst (grown when too small).
func (c *zstdCodec) Decode(dst, src []byte) ([]byte, error) {
	if len(src) == 0 {
		return dst[:0], nil
	}
	x := c.ctx()
	defer c.ctxs.Put(x)
	out, err := x.Decompress(dst[:cap(dst)], src)
	if err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	return out, nil
}
