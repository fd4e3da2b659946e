//go:build !libdeflate

package ingest

// inflate is inflateGo in a build without libdeflate (see inflate.go).
func inflate(dst, src []byte, limit int) ([]byte, int, error) { return inflateGo(dst, src, limit) }

// Inflater names the gzip inflate this build has (sentinel --version shows it).
const Inflater = "klauspost/compress"
