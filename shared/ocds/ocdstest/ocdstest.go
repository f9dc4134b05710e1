// Package ocdstest builds, for tests, the schemas that Rengas's OCDS
// packages are checked against: the OCDS 1.1.5 core schemas with each
// declared extension applied as a JSON Merge Patch (RFC 7386), as OCDS
// tools do, made strict (every object refuses fields its schema does not
// define, so an undeclared field fails), and the versioned release schema
// derived from the extended release schema. The schema files are the
// testdata copies of the reference standards (shared/ocds/testdata).
package ocdstest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const base = "https://standard.open-contracting.org/schema/1__1__5/"

// Extensions are the extension folders applied, in order.
var Extensions = []string{"techniques", "lots", "organizationClassification", "pagination"}

// Dir is the testdata folder with the schemas.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}

func load(tb testing.TB, parts ...string) map[string]any {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(append([]string{Dir()}, parts...)...))
	if err != nil {
		tb.Fatal(err)
	}
	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		tb.Fatal(err)
	}
	return v
}

// MergePatch applies an RFC 7386 JSON Merge Patch.
func MergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
		} else {
			t[k] = MergePatch(t[k], v)
		}
	}
	return t
}

// strict makes every object schema with properties refuse other fields.
func strict(v any) {
	switch v := v.(type) {
	case map[string]any:
		if _, ok := v["properties"].(map[string]any); ok {
			if _, set := v["additionalProperties"]; !set {
				v["additionalProperties"] = false
			}
		}
		for _, x := range v {
			strict(x)
		}
	case []any:
		for _, x := range v {
			strict(x)
		}
	}
}

func clone(v any) any {
	b, _ := json.Marshal(v)
	var out any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	_ = dec.Decode(&out)
	return out
}

// Schemas are the compiled extended schemas.
type Schemas struct {
	ReleasePackage, RecordPackage, Release *jsonschema.Schema
}

// Build builds and compiles the extended, strict schemas.
func Build(tb testing.TB) Schemas {
	tb.Helper()
	release := any(load(tb, "ocds-1.1.5", "release-schema.json"))
	releasePkg := any(load(tb, "ocds-1.1.5", "release-package-schema.json"))
	recordPkg := any(load(tb, "ocds-1.1.5", "record-package-schema.json"))
	for _, ext := range Extensions {
		for name, target := range map[string]*any{"release-schema.json": &release, "release-package-schema.json": &releasePkg, "record-package-schema.json": &recordPkg} {
			path := filepath.Join(Dir(), "ocds-extensions", ext, name)
			if _, err := os.Stat(path); err != nil {
				continue
			}
			*target = MergePatch(*target, load(tb, "ocds-extensions", ext, name))
		}
	}
	for _, pkg := range []any{releasePkg, recordPkg} {
		// The Pagination extension patches the packages' required list to
		// [] (nothing required); draft 4 writes that by leaving it out.
		if m := pkg.(map[string]any); m["required"] != nil && len(m["required"].([]any)) == 0 {
			delete(m, "required")
		}
	}
	closeDangling(release.(map[string]any))
	versioned := Versioned(release)
	for _, s := range []any{release, releasePkg, recordPkg, versioned} {
		strict(s)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for name, doc := range map[string]any{"release-schema.json": release, "release-package-schema.json": releasePkg,
		"record-package-schema.json": recordPkg, "versioned-release-validation-schema.json": versioned} {
		if err := c.AddResource(base+name, doc); err != nil {
			tb.Fatal(err)
		}
	}
	var out Schemas
	var err error
	for name, dst := range map[string]**jsonschema.Schema{"release-package-schema.json": &out.ReleasePackage,
		"record-package-schema.json": &out.RecordPackage, "release-schema.json": &out.Release} {
		if *dst, err = c.Compile(base + name); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

// Validate validates a JSON document against a schema.
func Validate(s *jsonschema.Schema, raw []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}

// Versioned derives the versioned release schema from a release schema,
// following the OCDS merge rules: every field becomes the list of its
// values with the release that set each ({releaseID, releaseDate,
// releaseTag, value}); objects keep their structure; arrays of objects with
// an id (but whole-list-merge arrays) become arrays of versioned objects
// whose id is not versioned; the release's id, date and tag are left out
// and its ocid is not versioned.
func Versioned(release any) any {
	doc := clone(release).(map[string]any)
	doc["id"] = base + "versioned-release-validation-schema.json"
	defs := doc["definitions"].(map[string]any)
	orig := clone(defs).(map[string]any)
	for name, d := range orig {
		defs[name+"Versioned"] = versionObject(d, orig, false)
		defs[name+"VersionedID"] = versionObject(d, orig, true)
	}
	props := map[string]any{}
	for k, p := range doc["properties"].(map[string]any) {
		switch k {
		case "id", "date", "tag":
		case "ocid":
			props[k] = p
		default:
			props[k] = versionField(p, orig)
		}
	}
	doc["properties"] = props
	doc["required"] = []any{"ocid"}
	return doc
}

func refName(p map[string]any) string {
	r, _ := p["$ref"].(string)
	return strings.TrimPrefix(r, "#/definitions/")
}

func versionObject(d any, defs map[string]any, idPlain bool) any {
	m, ok := d.(map[string]any)
	if !ok {
		return d
	}
	props, ok := m["properties"].(map[string]any)
	if !ok {
		return m
	}
	out := map[string]any{}
	for k, v := range m {
		if k != "properties" && k != "required" {
			out[k] = v
		}
	}
	vp := map[string]any{}
	for k, p := range props {
		if idPlain && k == "id" {
			vp[k] = p
			continue
		}
		vp[k] = versionField(p, defs)
	}
	out["properties"] = vp
	if idPlain {
		out["required"] = []any{"id"}
	}
	return out
}

func history(value any) any {
	return map[string]any{"type": "array", "items": map[string]any{
		"type": "object",
		"properties": map[string]any{
			"releaseID":   map[string]any{"type": "string"},
			"releaseDate": map[string]any{"type": "string", "format": "date-time"},
			"releaseTag":  map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
			"value":       value,
		},
		"required": []any{"releaseID", "releaseDate", "releaseTag", "value"},
	}}
}

func versionField(p any, defs map[string]any) any {
	m, ok := p.(map[string]any)
	if !ok {
		return history(p)
	}
	if name := refName(m); name != "" {
		if d, ok := defs[name].(map[string]any); ok && d["properties"] != nil && isObject(d) {
			return map[string]any{"$ref": "#/definitions/" + name + "Versioned"}
		}
		return history(p)
	}
	if m["properties"] != nil && isObject(m) {
		return versionObject(m, defs, false)
	}
	if items, ok := m["items"].(map[string]any); ok && m["wholeListMerge"] != true {
		if name := refName(items); name != "" {
			if d, ok := defs[name].(map[string]any); ok {
				if dp, ok := d["properties"].(map[string]any); ok && dp["id"] != nil {
					return map[string]any{"type": "array", "items": map[string]any{"$ref": "#/definitions/" + name + "VersionedID"}}
				}
			}
		}
	}
	return history(p)
}

func isObject(m map[string]any) bool {
	switch t := m["type"].(type) {
	case string:
		return t == "object"
	case []any:
		for _, x := range t {
			if x == "object" {
				return true
			}
		}
	}
	return m["type"] == nil && m["properties"] != nil
}

// closeDangling defines every definition an extension refers to but no
// applied schema defines (the Lots extension's SubmissionTerms belongs to
// another extension) as accepting nothing: a release that used such a
// field fails, as it would in OCDS tools, which resolve references lazily.
func closeDangling(doc map[string]any) {
	defs := doc["definitions"].(map[string]any)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["$ref"].(string); ok && strings.HasPrefix(r, "#/definitions/") {
				name := strings.TrimPrefix(r, "#/definitions/")
				if _, ok := defs[name]; !ok {
					defs[name] = map[string]any{"description": "defined by an extension not declared", "not": map[string]any{}}
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
}
