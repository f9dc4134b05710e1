package ocds

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// The OCDS merge rules (1.1 "Merging"), for the records:
//   - releases are merged in date order;
//   - objects merge field by field, recursively;
//   - an array of objects that all have an id merges by id (an object
//     with a new id is appended, one with a known id merged into it),
//     except the whole-list-merge arrays, which are replaced;
//   - any other array, and any other value, replaces what was there;
//   - null removes the field;
//   - the release's own id, date and tag are not merged.
//
// The compiled release is the result, with tag ["compiled"], the date of
// the last release and the id <ocid>-<date>. The versioned release keeps,
// for every field, the list of its values with the release that set each
// ({releaseID, releaseDate, releaseTag, value}), a new entry only when the
// value changed; arrays merged by id are arrays of versioned objects whose
// id is not versioned.

// wholeListMerge names the arrays of objects with ids that OCDS merges as
// a whole (wholeListMerge in the schemas used).
var wholeListMerge = map[string]bool{"additionalIdentifiers": true, "additionalClassifications": true, "classifications": true}

var omitWhenMerged = map[string]bool{"id": true, "date": true, "tag": true}

func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// identified reports whether an array merges by id: every element an
// object with an id.
func identified(name string, arr []any) bool {
	if wholeListMerge[name] || len(arr) == 0 {
		return false
	}
	for _, e := range arr {
		m, ok := e.(map[string]any)
		if !ok || m["id"] == nil {
			return false
		}
	}
	return true
}

func idOf(v any) string { return fmt.Sprint(v.(map[string]any)["id"]) }

func mergeInto(dst map[string]any, src map[string]any, top bool) {
	for k, v := range src {
		if top && omitWhenMerged[k] {
			continue
		}
		switch v := v.(type) {
		case nil:
			delete(dst, k)
		case map[string]any:
			cur, ok := dst[k].(map[string]any)
			if !ok {
				cur = map[string]any{}
			}
			mergeInto(cur, v, false)
			dst[k] = cur
		case []any:
			if !identified(k, v) {
				dst[k] = v
				continue
			}
			cur, _ := dst[k].([]any)
			for _, e := range v {
				id := idOf(e)
				i := slices.IndexFunc(cur, func(x any) bool { m, ok := x.(map[string]any); return ok && fmt.Sprint(m["id"]) == id })
				if i < 0 {
					cur = append(cur, map[string]any{})
					i = len(cur) - 1
				}
				obj := cur[i].(map[string]any)
				mergeInto(obj, e.(map[string]any), false)
			}
			dst[k] = cur
		default:
			dst[k] = v
		}
	}
}

// Compile merges releases (oldest first) into the compiled release.
func Compile(releases []json.RawMessage) (map[string]any, error) {
	out := map[string]any{}
	var last map[string]any
	for _, raw := range releases {
		v, err := decodeJSON(raw)
		if err != nil {
			return nil, err
		}
		r, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("ocds: a release is not an object")
		}
		mergeInto(out, r, true)
		last = r
	}
	if last == nil {
		return nil, ErrNoReleases
	}
	out["tag"] = []any{"compiled"}
	out["date"] = last["date"]
	out["id"] = fmt.Sprint(out["ocid"]) + "-" + fmt.Sprint(last["date"])
	return out, nil
}

type origin struct {
	id, date string
	tag      any
}

// version appends value to a versioned field's history unless it is the
// value already last recorded.
func version(hist any, o origin, value any) []any {
	h, _ := hist.([]any)
	if n := len(h); n > 0 {
		prev := h[n-1].(map[string]any)["value"]
		if equalJSON(prev, value) {
			return h
		}
	}
	return append(h, map[string]any{"releaseID": o.id, "releaseDate": o.date, "releaseTag": o.tag, "value": value})
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func versionInto(dst map[string]any, src map[string]any, o origin, top bool, inArray bool) {
	for k, v := range src {
		if top && omitWhenMerged[k] {
			continue
		}
		if (top && k == "ocid") || (inArray && k == "id") {
			dst[k] = v // identifies; not versioned
			continue
		}
		switch v := v.(type) {
		case map[string]any:
			cur, ok := dst[k].(map[string]any)
			if !ok {
				cur = map[string]any{}
			}
			versionInto(cur, v, o, false, false)
			dst[k] = cur
		case []any:
			if !identified(k, v) {
				dst[k] = version(dst[k], o, v)
				continue
			}
			cur, _ := dst[k].([]any)
			for _, e := range v {
				id := idOf(e)
				i := slices.IndexFunc(cur, func(x any) bool { m, ok := x.(map[string]any); return ok && fmt.Sprint(m["id"]) == id })
				if i < 0 {
					cur = append(cur, map[string]any{})
					i = len(cur) - 1
				}
				versionInto(cur[i].(map[string]any), e.(map[string]any), o, false, true)
			}
			dst[k] = cur
		default:
			dst[k] = version(dst[k], o, v)
		}
	}
}

// Versioned merges releases (oldest first) into the versioned release.
func Versioned(releases []json.RawMessage) (map[string]any, error) {
	out := map[string]any{}
	for _, raw := range releases {
		v, err := decodeJSON(raw)
		if err != nil {
			return nil, err
		}
		r, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("ocds: a release is not an object")
		}
		versionInto(out, r, origin{id: fmt.Sprint(r["id"]), date: fmt.Sprint(r["date"]), tag: r["tag"]}, true, false)
	}
	if len(out) == 0 {
		return nil, ErrNoReleases
	}
	return out, nil
}

// Record is one contracting process's record: all its releases, the
// compiled release and the versioned release.
type Record struct {
	OCID             string         `json:"ocid"`
	Releases         []Release      `json:"releases"`
	CompiledRelease  Release        `json:"compiledRelease"`
	VersionedRelease map[string]any `json:"versionedRelease"`
}

// RecordPackage is an OCDS record package of one process.
type RecordPackage struct {
	URI               string    `json:"uri"`
	Version           string    `json:"version"`
	Extensions        []string  `json:"extensions"`
	PublishedDate     string    `json:"publishedDate"`
	Publisher         Publisher `json:"publisher"`
	License           string    `json:"license"`
	PublicationPolicy string    `json:"publicationPolicy"`
	Packages          []string  `json:"packages"`
	Records           []Record  `json:"records"`
}

// AssembleRecord writes the record package of one process from its
// stored releases (oldest first), embedding each release exactly as
// stored. releasePackage is the URI of the process's release package.
func AssembleRecord(m Meta, ocid, releasePackage string, releases []json.RawMessage) ([]byte, error) {
	if len(releases) == 0 {
		return nil, ErrNoReleases
	}
	compiled, err := Compile(releases)
	if err != nil {
		return nil, err
	}
	versioned, err := Versioned(releases)
	if err != nil {
		return nil, err
	}
	type record struct {
		OCID             string            `json:"ocid"`
		Releases         []json.RawMessage `json:"releases"`
		CompiledRelease  map[string]any    `json:"compiledRelease"`
		VersionedRelease map[string]any    `json:"versionedRelease"`
	}
	p := struct {
		URI               string    `json:"uri"`
		Version           string    `json:"version"`
		Extensions        []string  `json:"extensions"`
		PublishedDate     string    `json:"publishedDate"`
		Publisher         Publisher `json:"publisher"`
		License           string    `json:"license"`
		PublicationPolicy string    `json:"publicationPolicy"`
		Packages          []string  `json:"packages"`
		Records           []record  `json:"records"`
	}{m.URI, "1.1", Extensions, m.PublishedDate, m.publisher(), License, m.Policy, []string{releasePackage},
		[]record{{ocid, releases, compiled, versioned}}}
	return json.Marshal(p)
}
