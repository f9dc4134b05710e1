package httpapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-playground/validator/v10"

	"github.com/rengas/rengas/shared/exports"

	"github.com/rengas/rengas/shared/procurement"
)

// OpenAPIDocument is the committed OpenAPI 3.1 document, served at
// /openapi.json. TestOpenAPIDocumentIsCurrent fails when it differs from
// what GenerateOpenAPI builds from the route table; run
// `go test ./shared/httpapi -run OpenAPI -update` to rewrite it.
//
//go:embed openapi.json
var OpenAPIDocument []byte

type obj = map[string]any

// Schemer is implemented by types whose JSON form is not what their Go kind
// suggests (procurement.Rate is an int64 sent as 0.25); the generator uses
// their schema as it is.
type Schemer interface{ JSONSchema() map[string]any }

// GenerateOpenAPI builds the OpenAPI 3.1 document from Routes and the
// request and response types. It states every rule the validator tags and
// the query parameter declarations enforce, and every status a route can
// answer.
func GenerateOpenAPI() ([]byte, error) {
	g := &schemaGen{defs: obj{}, v: newValidator(), inRequest: map[reflect.Type]bool{}, names: map[string][]reflect.Type{}}
	for _, rt := range Routes {
		if rt.Request != nil {
			g.walk(reflect.TypeOf(rt.Request), g.inRequest)
		}
	}
	seen := map[reflect.Type]bool{}
	for _, rt := range Routes {
		for _, v := range []any{rt.Request, rt.Response} {
			if v != nil {
				g.walk(reflect.TypeOf(v), seen)
			}
		}
	}
	g.walk(reflect.TypeFor[Problem](), seen)
	for t := range seen {
		g.names[schemaName(t)] = append(g.names[schemaName(t)], t)
	}
	paths := obj{}
	for _, rt := range Routes {
		op := obj{
			"operationId": operationID(rt),
			"summary":     rt.Summary,
			"tags":        []string{rt.Function},
		}
		var params []obj
		for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
			params = append(params, obj{"name": m[1], "in": "path", "required": true, "schema": obj{"type": "string", "pattern": ParamPattern(m[1])}})
		}
		for _, q := range rt.Query {
			params = append(params, queryParam(q))
		}
		if rt.Idempotent {
			params = append(params, obj{"name": "Idempotency-Key", "in": "header", "required": false,
				"description": "Makes a retry safe. The key is bound to the caller (organisation and user), the route, the target (the path with its ids) and the body. " +
					"The same key with the same request answers the first result again (same status and body, header Idempotent-Replayed: true) and changes nothing; " +
					"with another route, target or body, or from another user, it answers 400 naming Idempotency-Key: use a new key for a new request. " +
					"The key is taken in the same transaction as the change, so a request that fails leaves it free to retry. " +
					"Of concurrent requests with one key exactly one is applied and the others answer its result (or 409 while it is still being stored: retry). " +
					"Remembered 24 hours.",
				"schema": obj{"type": "string", "maxLength": 100, "pattern": IDPattern}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.Request != nil {
			op["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": g.schema(reflect.TypeOf(rt.Request))}}}
		}
		responses := errorResponses(rt)
		ok := obj{"description": "Success"}
		if rt.ContentType != "" {
			ok["content"] = obj{rt.ContentType: obj{"schema": obj{"type": "string"}}}
		} else if rt.Response != nil {
			ok["content"] = obj{"application/json": obj{"schema": g.schema(reflect.TypeOf(rt.Response))}}
		}
		responses[itoa(rt.status())] = ok
		if rt.Idempotent {
			ok["headers"] = obj{"Idempotent-Replayed": obj{"description": "true when the answer repeats an earlier request with the same Idempotency-Key.", "schema": obj{"type": "string", "enum": []string{"true"}}}}
		}
		if rt.ContentType == "text/csv" {
			ok["headers"] = obj{"Next-Cursor": obj{"description": "The cursor of the next page, when there is one.", "schema": obj{"type": "string"}}}
		}
		if rt.MayCreate {
			responses["201"] = obj{"description": "Created", "content": ok["content"]}
		}
		if rt.Roles != nil {
			roles := make([]string, len(rt.Roles))
			for i, r := range rt.Roles {
				roles[i] = string(r)
			}
			op["description"] = "Roles: " + strings.Join(roles, ", ") + "."
			op["security"] = []obj{{"bearer": []string{}}}
		}
		op["responses"] = responses
		p, _ := paths[rt.Path].(obj)
		if p == nil {
			p = obj{}
			paths[rt.Path] = p
		}
		p[strings.ToLower(rt.Method)] = op
	}
	g.schema(reflect.TypeOf(Problem{})) // registers #/components/schemas/Problem
	if g.err != nil {
		return nil, g.err
	}
	doc := obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":   "Rengas API",
			"version": "1.0.0",
			"description": "Rengas is a dynamic purchasing system for outcome-based employment services. " +
				"Every error is application/problem+json (RFC 9457). Updates carry the version they were based on; a stale version answers 409. " +
				"Requests are checked against this document before any handler runs. " +
				"Notifications (GET /notifications) are also e-mailed, within about a minute, to every user of the receiving organisation who has signed in to the pages " +
				"(in the language they signed in with) and to a provider's contact address, with a link to the page concerned: " +
				"invitees on competition.invited, competition.amended, competition.cancelled and question.answered; bidders on competition.awarded; " +
				"the buyer on question.asked; the DPS's buyers on application.overdue; the applicant on application.decided; " +
				"the provider on admission.admitted, admission.suspended, admission.excluded and declaration.requested.",
		},
		"servers":    []obj{{"url": "/"}},
		"paths":      paths,
		"components": obj{"schemas": g.defs, "securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	return append(b, '\n'), err
}

// queryParam states a query parameter with the rules its handler enforces.
func queryParam(q Param) obj {
	s := obj{"type": "string"}
	if q.Type == "integer" {
		s = obj{"type": "integer", "minimum": q.Min}
		if q.Max != 0 {
			s["maximum"] = q.Max
		}
	}
	if q.Pattern != "" {
		s["pattern"] = q.Pattern
	}
	if q.Format != "" {
		s["format"] = q.Format
	}
	if q.Enum != nil {
		s["enum"] = q.Enum
	}
	if q.Default != nil {
		s["default"] = q.Default
	}
	p := obj{"name": q.Name, "in": "query", "required": q.Required, "description": q.Description, "schema": s}
	if !q.Required {
		// The handlers read an empty value as an absent one.
		p["allowEmptyValue"] = true
	}
	return p
}

// errorResponses are the error statuses of a route, by rule from its shape
// and from its declared Statuses.
func errorResponses(rt Route) obj {
	r := obj{}
	switch {
	case rt.Request != nil && rt.Query != nil:
		r["400"] = problemRef("The body or a query parameter is not valid; errors[] names each field and the fix.")
	case rt.Request != nil:
		r["400"] = problemRef("The body is not valid; errors[] names each field and the fix.")
	case rt.Query != nil:
		r["400"] = problemRef("A query parameter is not valid; errors[] names it and the fix.")
	}
	if rt.Request != nil {
		r["413"] = problemRef(fmt.Sprintf("The body is larger than %d KiB.", MaxBodyBytes>>10))
	}
	if rt.Roles != nil {
		r["401"] = problemRef("No valid bearer token.")
		r["403"] = problemRef("Your role or organisation may not do this.")
	}
	if rt.Roles != nil || pathParam.MatchString(rt.Path) {
		r["404"] = problemRef("Not found, or not yours to see (a malformed id in the path answers the same).")
	}
	if rt.Roles != nil || pathParam.MatchString(rt.Path) {
		// Every route that reads the database.
		busy := problemRef("The database is throttled or slow; nothing was changed. Retry after the seconds in Retry-After.")
		busy["headers"] = obj{"Retry-After": obj{"description": "Seconds to wait before retrying.", "schema": obj{"type": "integer"}}}
		r["503"] = busy
	}
	if rt.Method != http.MethodGet {
		r["409"] = problemRef("The state changed (stale version) or forbids the action now.")
	} else if rt.Roles != nil || pathParam.MatchString(rt.Path) {
		r["303"] = obj{
			"description": fmt.Sprintf("The answer is larger than %d MiB, more than a response may carry: it was stored for download; fetch it from Location (the same link as location) within %s.", InlineLimit>>20, exports.LinkTTL),
			"headers":     obj{"Location": obj{"description": "A presigned link to the answer.", "schema": obj{"type": "string", "format": "uri"}}},
			"content": obj{"application/json": obj{"schema": obj{"type": "object", "additionalProperties": false,
				"required": []string{"location", "expiresAt", "bytes", "detail"},
				"properties": obj{
					"location":  obj{"type": "string", "format": "uri"},
					"expiresAt": obj{"type": "string", "format": "date-time"},
					"bytes":     obj{"type": "integer", "minimum": 0},
					"detail":    obj{"type": "string"},
				}}}},
		}
	}
	if slices.Contains(rt.Statuses, http.StatusNotModified) {
		r["304"] = obj{
			"description": "Not modified: If-None-Match names the document's current ETag; no body.",
			"headers": obj{
				"ETag":          obj{"description": "The document's entity tag, as in the 200 answer.", "schema": obj{"type": "string"}},
				"Cache-Control": obj{"description": "How long the copy may be kept.", "schema": obj{"type": "string"}},
			},
		}
	}
	for _, st := range rt.Statuses {
		if _, done := r[itoa(st)]; !done {
			r[itoa(st)] = problemRef(statusNotes[st])
		}
	}
	return r
}

// statusNotes describe the statuses routes declare in Statuses.
var statusNotes = map[int]string{
	http.StatusNotFound: "Nothing to answer yet (e.g. no release newer than the position asked for); ask again later with the same link.",
	http.StatusConflict: "The state forbids the answer now (e.g. the bids are sealed until the deadline, or you have not declared that you have no conflict of interest).",
}

var pathParam = regexp.MustCompile(`\{([a-zA-Z]+)\}`)

func operationID(rt Route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, part := range strings.Split(rt.Path, "/") {
		part = strings.Trim(part, "{}")
		for _, w := range strings.FieldsFunc(part, func(r rune) bool { return r == '-' || r == '.' }) {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

func problemRef(desc string) obj {
	return obj{"description": desc, "content": obj{"application/problem+json": obj{"schema": obj{"$ref": "#/components/schemas/Problem"}}}}
}

func itoa(i int) string { return strconv.Itoa(i) }

type schemaGen struct {
	defs obj
	v    *validator.Validate
	// inRequest holds the struct types a request body may contain: their
	// required fields are those the server refuses to go without. Other
	// types are only answered, and every field they always send is
	// required.
	inRequest map[reflect.Type]bool
	// names are the struct types by schemaName, to tell apart namesakes.
	names map[string][]reflect.Type
	err   error
}

var (
	timeType      = reflect.TypeFor[time.Time]()
	numberType    = reflect.TypeFor[json.Number]()
	rawMsgType    = reflect.TypeFor[json.RawMessage]()
	rawJSONType   = reflect.TypeFor[rawJSON]()
	schemerType   = reflect.TypeFor[Schemer]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
	pkgPath       = regexp.MustCompile(`[\w./-]*\.`)
	nonName       = regexp.MustCompile(`[^A-Za-z0-9]+`)
	argPkgPath    = regexp.MustCompile(`[\w./-]*/`)
)

func schemaName(t reflect.Type) string {
	return strings.Trim(nonName.ReplaceAllString(pkgPath.ReplaceAllString(t.Name(), ""), "_"), "_")
}

// walk records in seen the struct types reachable from t.
func (g *schemaGen) walk(t reflect.Type, seen map[reflect.Type]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] || t == timeType {
		return
	}
	seen[t] = true
	for f := range t.Fields() {
		if f.IsExported() {
			g.walk(f.Type, seen)
		}
	}
}

// defName is the component name of a struct type: its own name, or with
// its package's when another type has the same name (ocds.Contract and
// procurement.Contract).
func (g *schemaGen) defName(t reflect.Type) string {
	name := schemaName(t)
	if len(g.names[name]) > 1 {
		if strings.Contains(t.Name(), "[") {
			// A generic type (dynamo.Page[procurement.Contract] and
			// dynamo.Page[outcomes.Contract]): name its type arguments' packages.
			return strings.Trim(nonName.ReplaceAllString(argPkgPath.ReplaceAllString(t.Name(), ""), "_"), "_")
		}
		return path.Base(t.PkgPath()) + "_" + name
	}
	return name
}

func (g *schemaGen) schema(t reflect.Type) obj {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Implements(schemerType):
		return obj(reflect.Zero(t).Interface().(Schemer).JSONSchema())
	case t == timeType:
		return obj{"type": "string", "format": "date-time"}
	case t == numberType:
		return obj{"type": "number"}
	case t == rawJSONType, t == rawMsgType:
		return obj{}
	case t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType):
		// Its Go kind says nothing about its JSON form.
		if g.err == nil {
			g.err = fmt.Errorf("openapi: %s marshals itself; give it a JSONSchema method", t)
		}
		return obj{}
	}
	switch t.Kind() {
	case reflect.String:
		return obj{"type": "string"}
	case reflect.Bool:
		return obj{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return obj{"type": "integer"}
	case reflect.Float64:
		return obj{"type": "number"}
	case reflect.Slice:
		return obj{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return obj{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return obj{}
	case reflect.Struct:
		name := g.defName(t)
		if _, done := g.defs[name]; !done {
			g.defs[name] = obj{} // placeholder against recursion
			props, required := obj{}, []string{}
			g.fields(t, g.inRequest[t], props, &required)
			s := obj{"type": "object", "properties": props, "additionalProperties": false}
			if len(required) > 0 {
				s["required"] = required
			}
			g.defs[name] = s
		}
		return obj{"$ref": "#/components/schemas/" + name}
	}
	return obj{}
}

// fields states the properties of a struct, inlining embedded structs as
// encoding/json does.
func (g *schemaGen) fields(t reflect.Type, request bool, props obj, required *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			g.fields(ft, request, props, required)
			continue
		}
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		omitted := slices.Contains(strings.Split(opts, ","), "omitempty")
		rules, elemRules, _ := strings.Cut(f.Tag.Get("validate"), ",dive")
		elemRules = strings.TrimPrefix(elemRules, ",")
		if strings.HasPrefix(rules, "dive") {
			rules, elemRules = "", strings.TrimPrefix(strings.TrimPrefix(rules, "dive"), ",")
		}
		s := g.schema(f.Type)
		constrainAll(s, f.Type, rules)
		if elemRules != "" {
			switch {
			case s["items"] != nil:
				constrainAll(s["items"].(obj), f.Type.Elem(), elemRules)
			case s["additionalProperties"] != nil:
				constrainAll(s["additionalProperties"].(obj), f.Type.Elem(), elemRules)
			}
		}
		// A zero value the validator refuses means the field must be sent;
		// one it accepts is what the server assumes when the field is absent.
		zeroOK := g.zeroPasses(f.Type, rules)
		switch {
		case request && !zeroOK:
			*required = append(*required, name)
		case !request && !omitted:
			*required = append(*required, name)
		}
		if nilable(f.Type) && zeroOK && (request || !omitted) {
			s = nullable(s)
		}
		props[name] = s
	}
}

// zeroPasses reports whether the validator accepts the zero value of t
// under rules (the tag up to its dive).
func (g *schemaGen) zeroPasses(t reflect.Type, rules string) bool {
	zero := reflect.Zero(t).Interface()
	if rules != "" && g.v.Var(zero, rules) != nil {
		return false
	}
	if t.Kind() == reflect.Struct && t != timeType {
		// The validator also checks a nested struct's own fields.
		return g.v.Struct(zero) == nil
	}
	return true
}

func nilable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		return !t.Implements(schemerType)
	}
	return false
}

// nullable lets s also be null, as encoding/json writes a nil pointer,
// slice or map.
func nullable(s obj) obj {
	switch typ := s["type"].(type) {
	case string:
		s["type"] = []string{typ, "null"}
		if e, ok := s["enum"].([]string); ok {
			s["enum"] = append(anySlice(e), nil)
		}
		return s
	case nil:
		if len(s) == 0 {
			return s // anything, null included
		}
	}
	// oneOf rather than anyOf: exactly one branch can match, and a failing
	// oneOf keeps the errors of its branches for the edge's messages.
	return obj{"oneOf": []obj{s, {"type": "null"}}}
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// constrainAll applies the validator rules of one tag (without dive) to s.
func constrainAll(s obj, t reflect.Type, rules string) {
	if rules == "" {
		return
	}
	list := strings.Split(rules, ",")
	omitEmpty := slices.Contains(list, "omitempty")
	for _, rule := range list {
		k, v, _ := strings.Cut(rule, "=")
		constrain(s, t, k, v)
	}
	if omitEmpty && s["type"] == "string" {
		// The rules apply only to a non-empty string; "" passes.
		if p, ok := s["pattern"].(string); ok {
			s["pattern"] = "^$|" + p
		}
		if _, ok := s["minLength"]; ok {
			delete(s, "minLength")
		}
		if e, ok := s["enum"].([]string); ok {
			s["enum"] = append(e, "")
		}
		delete(s, "format")
	}
}

// constrain states one validator rule on s; rules that the validator
// applies to the kind of t map to the JSON Schema keyword of that kind.
func constrain(s obj, t reflect.Type, rule, param string) {
	if _, isRef := s["$ref"]; isRef {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	n := json.Number(param)
	kw := func(str, slice, object, number string) string {
		switch t.Kind() {
		case reflect.String:
			return str
		case reflect.Slice:
			return slice
		case reflect.Map:
			return object
		}
		return number
	}
	switch rule {
	case "required":
		if t.Kind() == reflect.String {
			if _, ok := s["minLength"]; !ok {
				s["minLength"] = 1
			}
		}
	case "max", "lte":
		s[kw("maxLength", "maxItems", "maxProperties", "maximum")] = n
	case "min", "gte":
		s[kw("minLength", "minItems", "minProperties", "minimum")] = n
	case "len":
		s[kw("minLength", "minItems", "minProperties", "minimum")] = n
		s[kw("maxLength", "maxItems", "maxProperties", "maximum")] = n
	case "gt":
		s["exclusiveMinimum"] = n
	case "lt":
		s["exclusiveMaximum"] = n
	case "oneof":
		s["enum"] = strings.Fields(param)
	case "email":
		s["format"] = "email"
	case "datetime":
		if param == time.DateOnly {
			s["format"] = "date"
			s["pattern"] = datePattern
		} else {
			s["format"] = "date-time"
		}
	case "slug":
		s["pattern"] = slug.String()
	case "id":
		s["pattern"] = IDPattern
	case "businessid":
		s["pattern"] = `^[0-9]{7}-[0-9]$`
		s["description"] = "Finnish business ID (Y-tunnus) with a valid check digit"
	case "legalform":
		s["enum"] = enumOf(procurement.LegalForms...)
	case "hexadecimal":
		s["pattern"] = hexPattern
	}
}

// hexPattern is what the validator's hexadecimal rule accepts.
const hexPattern = `^(0[xX])?[0-9a-fA-F]+$`
