package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/go-playground/validator/v10"

	"github.com/rengas/rengas/shared/outcomes"
	"github.com/rengas/rengas/shared/procurement"
)

var slug = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	must(v.RegisterValidation("id", func(fl validator.FieldLevel) bool { return ValidID(fl.Field().String()) }))
	must(v.RegisterValidation("slug", func(fl validator.FieldLevel) bool { return slug.MatchString(fl.Field().String()) }))
	must(v.RegisterValidation("businessid", func(fl validator.FieldLevel) bool {
		return procurement.ValidateBusinessID(fl.Field().String()) == nil
	}))
	must(v.RegisterValidation("legalform", func(fl validator.FieldLevel) bool {
		return slices.Contains(procurement.LegalForms, procurement.LegalForm(fl.Field().String()))
	}))
	return v
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// check validates v and turns every failure into a field error that says
// how to fix it.
func (s *Server) check(v any) error {
	err := s.validate.Struct(v)
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		if err != nil {
			return procurement.Internal(err)
		}
		return nil
	}
	var p procurement.Problems
	for _, fe := range verrs {
		p.Add(jsonPath(fe.Namespace()), "%s", fixMessage(fe))
	}
	return p.Err()
}

func fixMessage(fe validator.FieldError) string {
	unit := "characters"
	if k := fe.Kind(); k == reflect.Slice || k == reflect.Map {
		unit = "items"
	}
	switch fe.Tag() {
	case "required":
		return "is required"
	case "max":
		if fe.Kind() == reflect.Int || fe.Kind() == reflect.Int64 {
			return "must be at most " + fe.Param()
		}
		return fmt.Sprintf("must be at most %s %s", fe.Param(), unit)
	case "min":
		if fe.Kind() == reflect.Int || fe.Kind() == reflect.Int64 {
			return "must be at least " + fe.Param()
		}
		return fmt.Sprintf("must have at least %s %s", fe.Param(), unit)
	case "len":
		return fmt.Sprintf("must be exactly %s %s long", fe.Param(), unit)
	case "gte":
		return "must be at least " + fe.Param()
	case "lte":
		return "must be at most " + fe.Param()
	case "gt":
		return "must be greater than " + fe.Param()
	case "oneof":
		return "must be one of: " + strings.ReplaceAll(fe.Param(), " ", ", ")
	case "email":
		return "must be an e-mail address such as name@example.fi"
	case "datetime":
		if fe.Param() == "2006-01-02" {
			return "must be a date in the form YYYY-MM-DD"
		}
		return "must be a time in RFC 3339 form, e.g. 2026-12-01T12:00:00+02:00"
	case "hexadecimal":
		return "must be hexadecimal (the SHA-256 checksum of the file, 64 hex digits)"
	case "slug":
		return "must use only lower-case letters, digits and hyphens, e.g. job-coaching"
	case "id":
		return "must be an id: letters, digits, '.', '-' and '_', at most 128"
	case "businessid":
		if err := procurement.ValidateBusinessID(fmt.Sprint(fe.Value())); err != nil {
			return err.Error()
		}
	case "legalform":
		return fmt.Sprintf("must be one of: %v", procurement.LegalForms)
	case "dive", "required_with":
	}
	return "is not valid (" + fe.Tag() + ")"
}

// jsonPath turns a validator namespace into the field path a client sent:
// it drops the request type's name and embedded structs, whose Go names
// start with a capital while every JSON name here starts in lower case.
func jsonPath(ns string) string {
	var parts []string
	_, ns, _ = strings.Cut(ns, ".")
	for _, p := range strings.Split(ns, ".") {
		if p != "" && (p[0] < 'A' || p[0] > 'Z') {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ".")
}

// refuseIdentityCodes refuses a body with a Finnish personal identity code
// in any text field: Rengas stores no one's identity code, whatever the
// field. Digests (sha256) are hexadecimal and exempt.
func refuseIdentityCodes(body []byte) error {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return nil // decode has answered already
	}
	var found string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		if found != "" {
			return
		}
		switch x := v.(type) {
		case string:
			if outcomes.ContainsHetu(x) {
				found = path
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(x)) {
				if k == "sha256" {
					continue
				}
				p := k
				if path != "" {
					p = path + "." + k
				}
				walk(p, x[k])
			}
		}
	}
	walk("", v)
	if found != "" {
		return procurement.Invalid(found, "%s", outcomes.HetuReason)
	}
	return nil
}
