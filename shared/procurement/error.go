// Package procurement holds the domain of Rengas: dynamic purchasing
// systems, providers, applications to join, admissions and the rules of
// Directive 2014/24/EU Article 34 and the Finnish Act on Public Procurement
// (1397/2016) that govern them. It knows nothing of HTTP or DynamoDB.
package procurement

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes. The HTTP layer maps each to one status in one place.
const (
	EINVALID      = "invalid"      // the request breaks a rule; fix the input
	ENOTFOUND     = "not_found"    // no such thing, or it is not yours to see
	ECONFLICT     = "conflict"     // the state changed or forbids the action now
	EFORBIDDEN    = "forbidden"    // your role may not do this
	EUNAUTHORIZED = "unauthorized" // no valid identity
	EINTERNAL     = "internal"     // our fault; logged, never shown
	EUNAVAILABLE  = "unavailable"  // the database is throttled or slow; try again later
)

// FieldError says what is wrong with one input field and how to fix it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one error type of the domain.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	Err     error // the cause; for EINTERNAL it is logged only
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error naming one field.
func Invalid(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: EINVALID, Message: "the request is not valid", Fields: []FieldError{{Field: field, Message: msg}}}
}

// Internal wraps an unexpected error.
func Internal(err error) *Error {
	return &Error{Code: EINTERNAL, Message: "internal error", Err: err}
}

// ErrorCode returns the code of err, EINTERNAL for foreign errors and ""
// for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return EINTERNAL
}

// Problems collects field errors so that a request is answered with all of
// them at once rather than one per attempt.
type Problems []FieldError

// Add records a problem with a field.
func (p *Problems) Add(field, format string, args ...any) {
	*p = append(*p, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns an EINVALID error holding the problems, or nil if none.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "the request is not valid", Fields: p}
}
