package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/rengas/rengas/shared/procurement"
)

// Contract is the embedded OpenAPI document, loaded and routed: the one
// statement of what the API accepts, which the edge enforces on every
// request before its handler runs.
type Contract struct {
	// Doc is the loaded document.
	Doc *openapi3.T
	// Router finds the operation of a request by its method and URL.
	Router routers.Router
	// ops are the operations by route ("METHOD /path"), for the edge,
	// which knows its route already.
	ops map[string]*routers.Route
}

// LoadContract returns the embedded document, loaded, validated and routed
// once.
var LoadContract = sync.OnceValues(func() (*Contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPIDocument)
	if err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	// The legacy router validates the document as it builds.
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	c := &Contract{Doc: doc, Router: router, ops: map[string]*routers.Route{}}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			c.ops[method+" "+path] = &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
		}
	}
	return c, nil
})

// ContractOptions are the options of request and response validation.
// Authentication is left to the gateway and to serve.
func ContractOptions() *openapi3filter.Options {
	return &openapi3filter.Options{
		MultiError:            true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		SkipSettingDefaults:   true, // the handlers apply their own defaults
		IncludeResponseStatus: true,
	}
}

// checkContract validates the query and the body of a request against the
// route's operation in the document. A malformed value answers 400 naming
// each field and what to fix; a body over MaxBodyBytes answers 413. It
// leaves the body readable for the handler.
func checkContract(rt Route, w http.ResponseWriter, r *http.Request) error {
	c, err := LoadContract()
	if err != nil {
		return procurement.Internal(err)
	}
	route := c.ops[rt.Method+" "+rt.Path]
	if route == nil {
		return procurement.Internal(fmt.Errorf("%s %s is not in openapi.json", rt.Method, rt.Path))
	}
	// A clone, so that validation can set a missing Content-Type without
	// touching the request the handler reads.
	vr := r.Clone(r.Context())
	vr.Body = http.NoBody // unless the operation takes one: the filter would drain it
	var body any
	var data []byte
	if route.Operation.RequestBody != nil {
		if data, body, err = readJSON(w, r); err != nil {
			return err
		}
		if vr.Header.Get("Content-Type") == "" {
			vr.Header.Set("Content-Type", "application/json")
		}
		vr.Body = io.NopCloser(bytes.NewReader(data))
		r.Body = io.NopCloser(bytes.NewReader(data))
	}
	params := map[string]string{}
	for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
		params[m[1]] = r.PathValue(m[1])
	}
	in := &openapi3filter.RequestValidationInput{Request: vr, PathParams: params, Route: route, Options: ContractOptions()}
	if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
		return contractError(err, body)
	}
	return nil
}

// readJSON reads a JSON body within MaxBodyBytes. It refuses other media
// types and malformed JSON with the same messages as call.decode, which
// encoding/json's errors make precise (with the offset of a syntax error).
func readJSON(w http.ResponseWriter, r *http.Request) ([]byte, any, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return nil, nil, procurement.Invalid("Content-Type", "send the body as application/json")
	}
	if r.Body == nil {
		return nil, nil, decodeError(io.EOF)
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		return nil, nil, decodeError(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, nil, decodeError(err)
	}
	if dec.More() {
		return nil, nil, procurement.Invalid("body", "send exactly one JSON object")
	}
	return data, v, nil
}

// contractError turns a validation failure into a problem naming every
// field and what to fix.
func contractError(err error, body any) error {
	var p procurement.Problems
	notFound := ""
	var walk func(error)
	walk = func(err error) {
		me, isMulti := err.(openapi3.MultiError)
		var re *openapi3filter.RequestError
		switch {
		case isMulti:
			for _, e := range me {
				walk(e)
			}
		case errors.As(err, &re) && re.Parameter != nil:
			if re.Parameter.In == openapi3.ParameterInPath {
				notFound = re.Parameter.Name
				return
			}
			p.Add(re.Parameter.Name, "%s", paramFix(re))
		case errors.As(err, &re) && re.RequestBody != nil:
			leaves := schemaLeaves(re.Err)
			if len(leaves) == 0 {
				p.Add("body", "%s", firstLine(re.Error()))
			}
			for _, se := range leaves {
				addSchemaProblems(&p, se, body)
			}
		default:
			p.Add("request", "%s", firstLine(err.Error()))
		}
	}
	walk(err)
	if notFound != "" {
		return procurement.Errorf(procurement.ENOTFOUND, "no %s like that; ids use only letters, digits, '.', '-' and '_' (at most 128)", notFound)
	}
	// Several failing branches can name the same fix.
	slices.SortStableFunc(p, func(a, b procurement.FieldError) int { return strings.Compare(a.Field, b.Field) })
	p = slices.Compact(p)
	return p.Err()
}

// schemaLeaves are the innermost schema errors under err: those that name
// the keyword a value breaks.
func schemaLeaves(err error) []*openapi3.SchemaError {
	var out []*openapi3.SchemaError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case openapi3.MultiError:
			for _, x := range e {
				walk(x)
			}
		case *openapi3.SchemaError:
			if e.Origin == nil {
				out = append(out, e)
				return
			}
			var me openapi3.MultiError
			if errors.As(e.Origin, &me) {
				walk(me)
				return
			}
			var inner *openapi3.SchemaError
			if errors.As(e.Origin, &inner) {
				walk(inner)
				return
			}
			out = append(out, e)
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	// The null branch of a nullable value only says "not null".
	return slices.DeleteFunc(out, func(e *openapi3.SchemaError) bool {
		return e.Schema != nil && e.Schema.Type != nil && e.Schema.Type.Is(openapi3.TypeNull)
	})
}

// addSchemaProblems adds the field errors of one failing keyword.
func addSchemaProblems(p *procurement.Problems, se *openapi3.SchemaError, body any) {
	path := se.JSONPointer()
	s := se.Schema
	switch se.SchemaField {
	case "required":
		// The path ends at the object or, from some validators, at the
		// missing key.
		if _, ok := valueAt(body, path); !ok && len(path) > 0 {
			path = path[:len(path)-1]
		}
		obj, _ := valueAt(body, path)
		m, _ := obj.(map[string]any)
		for _, k := range s.Required {
			if _, ok := m[k]; !ok {
				p.Add(fieldName(body, append(slices.Clip(path), k)), "is required")
			}
		}
		return
	case "properties", "additionalProperties":
		if m, ok := se.Value.(map[string]any); ok && s != nil && (s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has) {
			for _, k := range sortedKeys(m) {
				if _, known := s.Properties[k]; !known {
					p.Add(fieldName(body, append(slices.Clip(path), k)), "is not a field of this request; remove it (see /openapi.json for the fields)")
				}
			}
			return
		}
	}
	field := fieldName(body, path)
	if field == "" {
		field = "body"
	}
	p.Add(field, "%s", schemaFix(se.SchemaField, s, se.Value, se.Reason))
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// valueAt follows a JSON pointer's tokens through decoded JSON.
func valueAt(v any, path []string) (any, bool) {
	for _, tok := range path {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[tok]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// fieldName writes a JSON pointer as the field paths of our problems:
// members joined with dots, array elements in brackets
// (milestones[0].id), as the validator and the domain name them.
func fieldName(body any, path []string) string {
	var b strings.Builder
	v := body
	for _, tok := range path {
		if arr, ok := v.([]any); ok {
			b.WriteString("[" + tok + "]")
			i, _ := strconv.Atoi(tok)
			if i >= 0 && i < len(arr) {
				v = arr[i]
			} else {
				v = nil
			}
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
		m, _ := v.(map[string]any)
		v = m[tok]
	}
	return b.String()
}

// patternFixes say in words what the document's patterns require.
var patternFixes = map[string]string{
	slug.String():           "must use only lower-case letters, digits and hyphens, e.g. job-coaching",
	datePattern:             "must be a date in the form YYYY-MM-DD",
	"^$|" + datePattern:     "must be a date in the form YYYY-MM-DD, or empty",
	monthPattern:            "must be a month YYYY-MM",
	`^[0-9]{7}-[0-9]$`:      "must be a Finnish business ID: seven digits, a hyphen and the check digit, e.g. 0114162-2",
	hexPattern:              "must be hexadecimal (the SHA-256 checksum of the file, 64 hex digits)",
	IDPattern:               "must be an id: letters, digits, '.', '-' and '_', at most 128",
	legalFormsPattern():     fmt.Sprintf("must be ngo or legal forms of %v, separated by commas", procurement.LegalForms),
	ParamPattern("quarter"): "must look like 2026-Q4",
}

// schemaFix says how to fix a value that breaks one keyword of s.
func schemaFix(keyword string, s *openapi3.Schema, value any, reason string) string {
	if s == nil {
		return reason
	}
	switch keyword {
	case "type":
		var want []string
		if s.Type != nil {
			want = slices.DeleteFunc(slices.Clone(s.Type.Slice()), func(t string) bool { return t == openapi3.TypeNull })
		}
		for i, t := range want {
			want[i] = article(t) + " " + t
		}
		return fmt.Sprintf("must be %s, not a JSON %s", strings.Join(want, " or "), jsonKind(value))
	case "minLength":
		if s.MinLength == 1 {
			return "is required"
		}
		return fmt.Sprintf("must have at least %d characters", s.MinLength)
	case "maxLength":
		return fmt.Sprintf("must be at most %d characters", u(s.MaxLength))
	case "minItems":
		if s.MinItems == 1 {
			return "must have at least one item"
		}
		return fmt.Sprintf("must have at least %d items", s.MinItems)
	case "maxItems":
		return fmt.Sprintf("must be at most %d items", u(s.MaxItems))
	case "minProperties":
		return fmt.Sprintf("must have at least %d entries", s.MinProps)
	case "maxProperties":
		return fmt.Sprintf("must be at most %d entries", u(s.MaxProps))
	case "minimum":
		return "must be at least " + f(s.Min)
	case "maximum":
		return "must be at most " + f(s.Max)
	case "exclusiveMinimum":
		if v := s.ExclusiveMin.Value; v != nil {
			return "must be greater than " + number(*v)
		}
	case "exclusiveMaximum":
		if v := s.ExclusiveMax.Value; v != nil {
			return "must be less than " + number(*v)
		}
	case "enum":
		vals := make([]string, 0, len(s.Enum))
		for _, e := range s.Enum {
			if e != nil {
				vals = append(vals, fmt.Sprint(e))
			}
		}
		return "must be one of: " + strings.Join(vals, ", ")
	case "pattern":
		if fix, ok := patternFixes[s.Pattern]; ok {
			return fix
		}
		return "must match the pattern " + s.Pattern
	case "format":
		switch s.Format {
		case "date":
			return "must be a date in the form YYYY-MM-DD"
		case "date-time":
			return "must be a time in RFC 3339 form, e.g. 2026-12-01T12:00:00+02:00"
		case "email":
			return "must be an e-mail address such as name@example.fi"
		}
	}
	return "is not valid: " + firstLine(reason)
}

// u and f write a schema's bound, which a failing keyword implies is set.
func u(p *uint64) uint64 {
	if p == nil {
		return 0
	}
	return *p
}

func f(p *float64) string {
	if p == nil {
		return "?"
	}
	return number(*p)
}

// paramFix says how to fix a query parameter, from everything its schema
// requires: a parser error says little about the fix.
func paramFix(re *openapi3filter.RequestError) string {
	p := re.Parameter
	empty := p.In == openapi3.ParameterInQuery && re.Input.GetQueryParams().Get(p.Name) == ""
	if errors.Is(re.Err, openapi3filter.ErrInvalidRequired) || errors.Is(re.Err, openapi3filter.ErrInvalidEmptyValue) || (p.Required && empty) {
		return "is required"
	}
	if p.Schema == nil || p.Schema.Value == nil {
		return "is not valid"
	}
	s := p.Schema.Value
	switch {
	case s.Type.Is(openapi3.TypeInteger) && s.Max != nil:
		return fmt.Sprintf("must be a whole number from %s to %s", f(s.Min), f(s.Max))
	case s.Type.Is(openapi3.TypeInteger):
		return fmt.Sprintf("must be a whole number, %s or more", f(s.Min))
	case len(s.Enum) > 0:
		return schemaFix("enum", s, nil, "")
	case s.Pattern != "":
		return schemaFix("pattern", s, nil, "")
	}
	return "is not valid"
}

func number(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func article(noun string) string {
	if strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an"
	}
	return "a"
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number, float64, int64, int:
		return "number"
	case []any:
		return "array"
	}
	return "object"
}
