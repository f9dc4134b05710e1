package web

import (
	"bytes"
	"compress/gzip"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rengas/rengas/shared/procurement"
)

//go:embed templates/*.html
var templateFiles embed.FS

// parsePages parses each page template together with the base layout.
// Functions are bound per request (see funcs); these stand-ins let the
// templates parse.
func parsePages() (map[string]*template.Template, error) {
	stub := (&Handler{}).funcs("fi")
	layout, err := template.New("layout.html").Funcs(stub).ParseFS(templateFiles, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := layout.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(templateFiles, n); err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

// funcs are the template functions of one language.
func (h *Handler) funcs(lang string) template.FuncMap {
	t := func(id string) string { return h.cat.T(lang, id, nil) }
	return template.FuncMap{
		"t": t,
		// tf translates with named values: {{tf "id" "Name" .X "Count" 3}}.
		"tf": func(id string, kv ...any) string {
			data := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				data[kv[i].(string)] = kv[i+1]
			}
			return h.cat.T(lang, id, data)
		},
		// code translates a domain code of a family (legal forms, statuses,
		// actions of the trail).
		"code": func(family string, code any) string {
			s := toString(code)
			if s == "" {
				return ""
			}
			if openFamilies[family] && !h.cat.has(lang, codeKey(family, s)) {
				return s
			}
			return h.cat.T(lang, codeKey(family, s), nil)
		},
		"href":  func(p string) string { return "/" + lang + p },
		"asset": func(name string) string { return h.assets.url(name) },
		"date": func(v any) string {
			switch x := v.(type) {
			case time.Time:
				return formatDate(lang, x)
			case *time.Time:
				if x == nil {
					return ""
				}
				return formatDate(lang, *x)
			case string:
				return formatDay(lang, x)
			}
			return ""
		},
		"datetime": func(v time.Time) string {
			return h.cat.T(lang, "format.datetime", map[string]any{"Date": formatDate(lang, v), "Time": clock(lang, v)})
		},
		// deadline names the zone: Finnish time, Europe/Helsinki.
		"deadline": func(v time.Time) string {
			return h.cat.T(lang, "format.deadline", map[string]any{"Date": formatDate(lang, v), "Time": clock(lang, v), "Zone": v.In(helsinki).Format("MST")})
		},
		"money":   func(c int64) string { return formatCents(lang, c) },
		"euros":   func(s string) string { return formatEuros(lang, s) },
		"decimal": func(s string) string { return formatDecimal(lang, s) },
		"rate":    func(r procurement.Rate) string { return formatRate(lang, int64(r)) },
		"bp":      func(r int64) string { return formatRate(lang, r) },
		"number":  func(n any) string { return groupDigits(lang, toInt(n)) },
		"inputEuros": func(c int64) string {
			if c == 0 {
				return ""
			}
			s := strings.TrimSuffix(strings.TrimSuffix(formatCents("fi", c), nbsp+"€"), ",00")
			return strings.ReplaceAll(s, nbsp, " ")
		},
		"inputRate": func(r procurement.Rate) string {
			return strings.ReplaceAll(strings.TrimSuffix(formatRate("fi", int64(r)), nbsp+"%"), nbsp, " ")
		},
		"deref": func(p *string) string {
			if p == nil {
				return ""
			}
			return *p
		},
		"derefInt": func(p *int) int {
			if p == nil {
				return -1
			}
			return *p
		},
		"seq": func(n int) []int {
			s := make([]int, n)
			for i := range s {
				s[i] = i
			}
			return s
		},
		"add": func(a, b int) int { return a + b },
		"contains": func(list []string, s string) bool {
			for _, x := range list {
				if x == s {
					return true
				}
			}
			return false
		},
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		},
		"fileTypes": fileTypes,
		"short": func(s string) string {
			if len(s) > 12 {
				return s[:12] + "…"
			}
			return s
		},
		"barWidth": func(pct string) string {
			if _, err := strconv.ParseFloat(pct, 64); err != nil {
				return "0"
			}
			return pct
		},
		"derefInt64": func(p *int64) int64 {
			if p == nil {
				return 0
			}
			return *p
		},
		"join":      func(s []string) string { return strings.Join(s, ", ") },
		"derefBool": func(p *bool) bool { return p != nil && *p },
		"optInt": func(p *int64) string {
			if p == nil {
				return ""
			}
			return strconv.FormatInt(*p, 10)
		},
		"docIssued": func(d *procurement.Document) string {
			if d == nil {
				return ""
			}
			return d.IssuedOn
		},
		"segRate": func(s procurement.Segment, m string) string {
			r, ok := s.ExpectedRates[m]
			if !ok {
				return ""
			}
			return strings.ReplaceAll(strings.TrimSuffix(formatRate("fi", int64(r)), nbsp+"%"), nbsp, " ")
		},
		"segTariff": func(s procurement.Segment, m string) int64 { return s.TariffsCents[m] },
		"hasRate":   func(s procurement.Segment, m string) bool { _, ok := s.ExpectedRates[m]; return ok },
		"dayOf":     func(t time.Time) string { return t.In(helsinki).Format(time.DateOnly) },
		"timeOf":    func(t time.Time) string { return t.In(helsinki).Format("15:04") },
	}
}

// toString writes a domain code (a string or a string type) as text.
func toString(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int64:
		return x
	}
	return 0
}

func gzipBytes(b []byte) []byte {
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return out.Bytes()
}

var indexRe = regexp.MustCompile(`\[[0-9]+\]`)

// fieldErrors turns the API's problem document into an error summary. ids
// maps the API's field names (indexes removed: milestones[].expectedRate)
// to the ids of the page's inputs; a field the page has no input for links
// to the form's first field. Texts are the page's own, in the page's
// language; in English the API's own message follows the field's name.
func (q *req) fieldErrors(err error, first string, ids map[string]string) ([]fieldError, bool) {
	var ae *apiError
	if !errors.As(err, &ae) || (ae.Status != 400 && ae.Status != 409) {
		return nil, false
	}
	if ae.Status == 409 {
		text := q.T("error.conflictForm")
		if q.lang == "en" && ae.Detail != "" {
			text += " (" + ae.Detail + ")"
		}
		return []fieldError{{ID: first, Text: text}}, true
	}
	var out []fieldError
	for _, f := range ae.Fields {
		generic := indexRe.ReplaceAllString(f.Field, "[]")
		id, ok := ids[generic]
		if !ok {
			id = first
		}
		if i := indexRe.FindString(f.Field); i != "" && ok && strings.Contains(id, "%d") {
			id = strings.Replace(id, "%d", strings.Trim(i, "[]"), 1)
		}
		label, named := f.Field, slices.Contains(apiFields, fieldKey(generic))
		if named {
			label = q.h.cat.T(q.lang, "field."+fieldKey(generic), nil)
		}
		text := q.T("error.invalid")
		if named {
			text = q.h.cat.T(q.lang, "error.field", map[string]any{"Label": label})
		}
		if q.lang == "en" {
			text = label + ": " + f.Message
		}
		out = append(out, fieldError{ID: id, Text: text})
	}
	if len(out) == 0 {
		out = []fieldError{{ID: first, Text: q.T("error.invalid")}}
	}
	return out, true
}

// apiFields are the API's field names (as fieldKey writes them) that the
// pages name in an error summary; others are summed up as "check the
// answers" (in English the API's own message is shown).
var apiFields = []string{"name", "businessId", "legalForm", "homeMunicipality", "contact_name", "contact_email", "contact_phone",
	"bidDeadline", "questionDeadline", "reason", "title", "description", "answer", "question", "statement", "reasons", "score",
	"message", "justification", "response", "outcome", "category", "dueOn", "providerIds", "fixedFeeCents", "status",
	"categories", "places", "contractEnd", "awards", "priceWeight", "maxOutcomeShare", "budgetCeilingCents"}

// fieldKey turns an API field name into a message id part.
func fieldKey(f string) string {
	return strings.NewReplacer("[]", "", ".", "_").Replace(f)
}
