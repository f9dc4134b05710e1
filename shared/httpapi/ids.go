package httpapi

import (
	"regexp"

	"github.com/rengas/rengas/shared/procurement"
)

// IDPattern is what every id in a path must look like: letters, digits,
// dots, hyphens and underscores, at most 128 characters. It is stated in
// the OpenAPI document and checked at the edge before anything else, so no
// encoded separator, control character or overlong id reaches the store.
const IDPattern = `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`

// paramPatterns are the path parameters with a stricter form than IDPattern.
var paramPatterns = map[string]string{
	"quarter":  `^[0-9]{4}-Q[1-4]$`,
	"anchorId": `^[1-9][0-9]{0,11}$`,
}

// ParamPattern returns the pattern a path parameter must match.
func ParamPattern(name string) string {
	if p, ok := paramPatterns[name]; ok {
		return p
	}
	return IDPattern
}

var compiledPatterns = map[string]*regexp.Regexp{}

func init() {
	compiledPatterns[IDPattern] = regexp.MustCompile(IDPattern)
	for _, p := range paramPatterns {
		compiledPatterns[p] = regexp.MustCompile(p)
	}
}

// ValidID reports whether s is a well-formed id.
func ValidID(s string) bool { return compiledPatterns[IDPattern].MatchString(s) }

// checkPathParams answers a malformed path id as "not found": no such id
// can exist, and the answer is the same as for a well-formed unknown one.
func checkPathParams(rt Route, get func(string) string) error {
	for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
		name := m[1]
		if !compiledPatterns[ParamPattern(name)].MatchString(get(name)) {
			return procurement.Errorf(procurement.ENOTFOUND, "no %s %q; ids use only letters, digits, '.', '-' and '_' (at most 128)", name, truncate(get(name), 40))
		}
	}
	return nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return string(r)
}
