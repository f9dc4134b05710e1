package httpapi

import (
	_ "embed"
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"time"
)

// OpenAPIDocument is the committed OpenAPI 3.1 document, served at
// /openapi.json. TestOpenAPIDocumentIsCurrent fails when it differs from
// what GenerateOpenAPI builds from the route table; run
// `go test ./shared/httpapi -run OpenAPI -update` to rewrite it.
//
//go:embed openapi.json
var OpenAPIDocument []byte

type obj = map[string]any

// GenerateOpenAPI builds the OpenAPI 3.1 document from Routes and the
// request and response types.
func GenerateOpenAPI() ([]byte, error) {
	g := &schemaGen{defs: obj{}}
	paths := obj{}
	for _, rt := range Routes {
		op := obj{
			"operationId": operationID(rt),
			"summary":     rt.Summary,
			"tags":        []string{rt.Function},
		}
		var params []obj
		for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
			params = append(params, obj{"name": m[1], "in": "path", "required": true, "schema": obj{"type": "string"}})
		}
		for _, q := range rt.Query {
			params = append(params, obj{"name": q.Name, "in": "query", "required": false, "description": q.Description, "schema": obj{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		responses := obj{}
		if rt.Request != nil {
			op["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": g.schema(reflect.TypeOf(rt.Request))}}}
			responses["400"] = problemRef("The body or a parameter is not valid; errors[] names each field and the fix.")
			responses["413"] = problemRef("The body is larger than 256 KiB.")
		}
		ok := obj{"description": "Success"}
		if rt.ContentType != "" {
			ok["content"] = obj{rt.ContentType: obj{"schema": obj{"type": "string"}}}
		} else if rt.Response != nil {
			ok["content"] = obj{"application/json": obj{"schema": g.schema(reflect.TypeOf(rt.Response))}}
		}
		responses[itoa(rt.status())] = ok
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
			responses["401"] = problemRef("No valid bearer token.")
			responses["403"] = problemRef("Your role may not call this route.")
			responses["404"] = problemRef("Not found, or not yours to see.")
			if rt.Method != "GET" {
				responses["409"] = problemRef("The state changed (stale version) or forbids the action now.")
			}
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
	doc := obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":   "Rengas API",
			"version": "1.0.0",
			"description": "Rengas is a dynamic purchasing system for outcome-based employment services. " +
				"Every error is application/problem+json (RFC 9457). Updates carry the version they were based on; a stale version answers 409.",
		},
		"servers":    []obj{{"url": "/"}},
		"paths":      paths,
		"components": obj{"schemas": g.defs, "securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	return append(b, '\n'), err
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

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

type schemaGen struct{ defs obj }

var (
	timeType    = reflect.TypeOf(time.Time{})
	rawJSONType = reflect.TypeOf(rawJSON{})
	pkgPath     = regexp.MustCompile(`[\w./-]*\.`)
	nonName     = regexp.MustCompile(`[^A-Za-z0-9]+`)
)

func schemaName(t reflect.Type) string {
	return strings.Trim(nonName.ReplaceAllString(pkgPath.ReplaceAllString(t.Name(), ""), "_"), "_")
}

func (g *schemaGen) schema(t reflect.Type) obj {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return obj{"type": "string", "format": "date-time"}
	case t == rawJSONType:
		return obj{"type": "object"}
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
		name := schemaName(t)
		if _, done := g.defs[name]; !done {
			g.defs[name] = obj{} // placeholder against recursion
			props, required := obj{}, []string{}
			g.fields(t, props, &required)
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

func (g *schemaGen) fields(t reflect.Type, props obj, required *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			g.fields(ft, props, required)
			continue
		}
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := g.schema(f.Type)
		rules := f.Tag.Get("validate")
		before, _, _ := strings.Cut(rules, ",dive")
		for _, rule := range strings.Split(before, ",") {
			k, v, _ := strings.Cut(rule, "=")
			constrain(s, f.Type, k, v)
			if k == "required" {
				*required = append(*required, name)
			}
		}
		props[name] = s
	}
}

func constrain(s obj, t reflect.Type, rule, param string) {
	if _, isRef := s["$ref"]; isRef {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var n json.Number = json.Number(param)
	switch rule {
	case "max":
		switch t.Kind() {
		case reflect.String:
			s["maxLength"] = n
		case reflect.Slice:
			s["maxItems"] = n
		default:
			s["maximum"] = n
		}
	case "min":
		switch t.Kind() {
		case reflect.String:
			s["minLength"] = n
		case reflect.Slice:
			s["minItems"] = n
		default:
			s["minimum"] = n
		}
	case "len":
		s["minLength"], s["maxLength"] = n, n
	case "gte":
		s["minimum"] = n
	case "lte":
		s["maximum"] = n
	case "gt":
		s["exclusiveMinimum"] = n
	case "oneof":
		s["enum"] = strings.Fields(param)
	case "email":
		s["format"] = "email"
	case "datetime":
		if param == "2006-01-02" {
			s["format"] = "date"
		} else {
			s["format"] = "date-time"
		}
	case "slug":
		s["pattern"] = slug.String()
	case "businessid":
		s["pattern"] = `^[0-9]{7}-[0-9]$`
		s["description"] = "Finnish business ID (Y-tunnus) with a valid check digit"
	case "legalform":
		s["enum"] = []string{"association", "foundation", "company", "cooperative", "social_enterprise", "educational_institution", "other"}
	case "hexadecimal":
		s["pattern"] = "^[0-9a-fA-F]+$"
	}
}
