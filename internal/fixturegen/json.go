package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// ---------------------------------------------------------------------------------------------
// Ordered JSON: records keep CloudTrail's key order and may repeat a key in another case.
// ---------------------------------------------------------------------------------------------

type kv struct {
	k string
	v any
}

type obj []kv

func (o obj) get(k string) (any, bool) {
	for _, p := range o {
		if p.k == k {
			return p.v, true
		}
	}
	return nil, false
}

func (o obj) str(k string) string {
	v, _ := o.get(k)
	s, _ := v.(string)
	return s
}

func (o obj) obj(k string) obj {
	v, _ := o.get(k)
	x, _ := v.(obj)
	return x
}

func (o obj) set(k string, v any) obj {
	out := o.clone()
	for i := range out {
		if out[i].k == k {
			out[i].v = v
			return out
		}
	}
	return append(out, kv{k, v})
}

func (o obj) del(k string) obj {
	var out obj
	for _, p := range o {
		if p.k != k {
			out = append(out, p)
		}
	}
	return out
}

// after inserts k: v right after key at (or at the end when at is absent).
func (o obj) after(at, k string, v any) obj {
	var out obj
	done := false
	for _, p := range o {
		out = append(out, p)
		if p.k == at && !done {
			out = append(out, kv{k, v})
			done = true
		}
	}
	if !done {
		out = append(out, kv{k, v})
	}
	return out
}

func (o obj) clone() obj { return append(obj(nil), o...) }

func compact(v any) []byte {
	var b bytes.Buffer
	enc(&b, v)
	return b.Bytes()
}

func indent(v any, ind string) []byte {
	var b bytes.Buffer
	must(json.Indent(&b, compact(v), "", ind))
	b.WriteByte('\n')
	return b.Bytes()
}

func enc(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case obj:
		b.WriteByte('{')
		for i, p := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			encString(b, p.k)
			b.WriteByte(':')
			enc(b, p.v)
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			enc(b, e)
		}
		b.WriteByte(']')
	case string:
		encString(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
	default:
		fail(fmt.Errorf("cannot encode %T", v))
	}
}

func encString(b *bytes.Buffer, s string) {
	var sb bytes.Buffer
	e := json.NewEncoder(&sb)
	e.SetEscapeHTML(false)
	must(e.Encode(s))
	b.Write(bytes.TrimSuffix(sb.Bytes(), []byte("\n")))
}
