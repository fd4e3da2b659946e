package ingest

import "bytes"

// recordsArray finds the records of a CloudTrail archive file — exactly one JSON object with a
// "Records" array — without building a tree of the whole file: it returns the bytes of each array
// element, so records are parsed one at a time and keep their original bytes as raw. It reports
// false for anything else (other shapes, a duplicate "Records" key, a truncated or malformed
// container), which the general splitter then handles and diagnoses. Element contents are not
// validated here; each is parsed on its own.
func recordsArray(b []byte) ([][]byte, bool) { return recordsArrayWith(b, skipValue) }

// recordsArrayWith is recordsArray with element finding the end of the array element at b[i]
// (skipValue, or a scanner that reads the record on the way).
func recordsArrayWith(b []byte, element func(b []byte, i int) (int, bool)) ([][]byte, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	var records [][]byte
	found := false
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil, false
	}
	for {
		key, at, ok := memberKey(b, i)
		if !ok {
			return nil, false
		}
		i = at
		if string(key) == "Records" {
			if found || i >= len(b) || b[i] != '[' {
				return nil, false
			}
			found = true
			if records, i, ok = arrayElements(b, i, element); !ok {
				return nil, false
			}
		} else if i, ok = skipValue(b, i); !ok {
			return nil, false
		}
		var closed bool
		if i, closed, ok = next(b, i, '}'); !ok {
			return nil, false
		}
		if closed {
			break
		}
	}
	if skipSpace(b, i) != len(b) || !found {
		return nil, false
	}
	return records, true
}

// arrayElements splits the array starting at b[i] == '[' into its elements, each ending where
// element says.
func arrayElements(b []byte, i int, element func(b []byte, i int) (int, bool)) ([][]byte, int, bool) {
	var out [][]byte
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return out, i + 1, true
	}
	for {
		end, ok := element(b, i)
		if !ok {
			return nil, 0, false
		}
		out = append(out, b[i:end])
		var closed bool
		if i, closed, ok = next(b, end, ']'); !ok {
			return nil, 0, false
		}
		if closed {
			return out, i, true
		}
	}
}

// memberKey reads an object member's key at b[i] and the colon after it: the key's bytes (as
// written) and where its value starts.
func memberKey(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	end, ok := skipString(b, i)
	if !ok {
		return nil, 0, false
	}
	j := skipSpace(b, end)
	if j >= len(b) || b[j] != ':' {
		return nil, 0, false
	}
	return b[i+1 : end-1], skipSpace(b, j+1), true
}

// next reads what follows a member or element of an object or array ending in close, from b[i]:
// the close (closed, i past it) or a comma (i at what comes after it).
func next(b []byte, i int, close byte) (int, bool, bool) {
	i = skipSpace(b, i)
	if i >= len(b) {
		return 0, false, false
	}
	switch b[i] {
	case close:
		return i + 1, true, true
	case ',':
		return skipSpace(b, i+1), false, true
	}
	return 0, false, false
}

// skipValue returns the index just past the JSON value starting at b[i].
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, ok := skipString(b, j)
				if !ok {
					return 0, false
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return 0, false
	default:
		j := i
		for j < len(b) && !isDelimiter(b[j]) {
			j++
		}
		return j, j > i
	}
}

// skipString returns the index just past the string starting at b[i] == '"'. Most of a
// record's bytes are in strings, so it jumps from quote to quote (IndexByte is vectorized): a
// quote ends the string unless an odd number of backslashes precede it.
func skipString(b []byte, i int) (int, bool) {
	for j := i + 1; ; {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, false
		}
		q := j + k
		escapes := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			escapes++
		}
		if escapes%2 == 0 {
			return q + 1, true
		}
		j = q + 1
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

func isDelimiter(c byte) bool {
	return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t'
}
