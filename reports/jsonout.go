package reports

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
)

// writeJSON writes v as indented JSON, exactly as a json.Encoder with a two-space indent would.
// A list — v itself, or the last field of a struct v — is written one element at a time: a report
// of hundreds of thousands of rows is never built and indented whole (that takes seconds).
func writeJSON(out io.Writer, v any) error {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	// prefix + the elements + suffix is the document.
	var prefix, suffix []byte
	var list reflect.Value
	indent := "  "
	switch {
	case rv.Kind() == reflect.Slice && !rv.IsNil():
		prefix, suffix, list = []byte("["), []byte("]"), rv
	case rv.Kind() == reflect.Struct && rv.NumField() > 0:
		n := rv.NumField() - 1
		last := rv.Field(n)
		if last.Kind() != reflect.Slice || last.IsNil() || !rv.Type().Field(n).IsExported() {
			break
		}
		// The struct with an empty list ends in `[]\n}`: the elements go between the brackets.
		shell := reflect.New(rv.Type()).Elem()
		shell.Set(rv)
		shell.Field(n).Set(reflect.MakeSlice(last.Type(), 0, 0))
		b, err := json.MarshalIndent(shell.Interface(), "", "  ")
		if err != nil {
			return fmt.Errorf("write JSON: %w", err)
		}
		if end := len(b) - len("]\n}"); bytes.HasSuffix(b, []byte("[]\n}")) {
			prefix, suffix, list, indent = b[:end], b[end:], last, "    "
		}
	}
	if !list.IsValid() {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	w := bufio.NewWriterSize(out, 1<<16)
	w.Write(prefix)
	var buf []byte
	for i := range list.Len() {
		b, err := json.Marshal(list.Index(i).Interface())
		if err != nil {
			return fmt.Errorf("write JSON: %w", err)
		}
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString("\n" + indent)
		buf = appendIndented(buf[:0], b, indent)
		w.Write(buf)
	}
	if list.Len() > 0 {
		w.WriteString("\n" + indent[2:])
	}
	w.Write(suffix)
	w.WriteByte('\n')
	return w.Flush()
}

// appendIndented appends compact JSON (json.Marshal's output: no whitespace outside strings)
// indented as json.Indent(dst, b, prefix, "  ") would, many times faster: it jumps over strings.
func appendIndented(dst, b []byte, prefix string) []byte {
	depth := 0
	newline := func() {
		dst = append(dst, '\n')
		dst = append(dst, prefix...)
		for range depth {
			dst = append(dst, "  "...)
		}
	}
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			end := i + 1
			for {
				k := bytes.IndexByte(b[end:], '"')
				if k < 0 {
					return append(dst, b[i:]...)
				}
				end += k + 1
				escapes := 0
				for p := end - 2; p > i && b[p] == '\\'; p-- {
					escapes++
				}
				if escapes%2 == 0 {
					break
				}
			}
			dst = append(dst, b[i:end]...)
			i = end - 1
		case '{', '[':
			dst = append(dst, c)
			if i+1 < len(b) && (b[i+1] == '}' || b[i+1] == ']') {
				dst = append(dst, b[i+1])
				i++
				continue
			}
			depth++
			newline()
		case '}', ']':
			depth--
			newline()
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			newline()
		case ':':
			dst = append(dst, ':', ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
