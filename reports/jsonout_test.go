package reports

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestWriteJSONIsTheEncodersOutput: the streamed lists are byte for byte what json.Encoder with
// a two-space indent writes, for every shape of value the reports print.
func TestWriteJSONIsTheEncodersOutput(t *testing.T) {
	type item struct {
		A string   `json:"a"`
		B []string `json:"b"`
		C *bool    `json:"c"`
	}
	type withList struct {
		Name  string `json:"name"`
		Items []item `json:"items"`
	}
	type listNotLast struct {
		Items []item `json:"items"`
		Name  string `json:"name"`
	}
	type unexported struct {
		Name  string
		items []item
	}
	yes := true
	items := []item{{A: "x<&>\u2028", B: []string{"1", "2"}, C: &yes}, {A: "y"}, {B: []string{}}}
	for name, v := range map[string]any{
		"struct with a list":   withList{Name: "n", Items: items},
		"pointer to it":        &withList{Name: "n", Items: items},
		"empty list":           withList{Name: "n", Items: []item{}},
		"nil list":             withList{Name: "n"},
		"list not last":        listNotLast{Items: items, Name: "n"},
		"unexported last":      unexported{Name: "n", items: items},
		"top-level list":       items,
		"empty top-level list": []item{},
		"nil top-level list":   []item(nil),
		"scalar":               42,
		"map":                  map[string]int{"b": 2, "a": 1},
		"report":               benchUntrackedN(3),
	} {
		var want, got bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		if err := writeJSON(&got, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.String() != want.String() {
			t.Errorf("%s:\n got %s\nwant %s", name, got.String(), want.String())
		}
	}
}

func FuzzAppendIndented(f *testing.F) {
	for _, seed := range []string{`{"a":[1,{"b":"x\"y\\"},[],{}],"c":"\\\\"}`, `[]`, `"s"`, `{"k":{"l":[null,true,-1.5e3]}}`, `{"u":"é\u2028"}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var compact bytes.Buffer
		if json.Compact(&compact, data) != nil {
			return
		}
		var want bytes.Buffer
		if err := json.Indent(&want, compact.Bytes(), "    ", "  "); err != nil {
			t.Fatal(err)
		}
		if got := appendIndented(nil, compact.Bytes(), "    "); string(got) != want.String() {
			t.Fatalf("appendIndented(%s):\n got %s\nwant %s", compact.Bytes(), got, want.String())
		}
	})
}
