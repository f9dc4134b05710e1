package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/rengas/rengas/shared/procurement"
)

// Route is one API route. The table below is the single source for the
// mux, the OpenAPI document and the API Gateway routes of the CDK stack.
type Route struct {
	Method string
	// Path uses {name} parameters, the syntax of both net/http and API Gateway.
	Path string
	// Function is the Lambda function that serves the route; functions
	// split along privilege boundaries.
	Function string
	// Roles may call the route; nil means public (no token).
	Roles   []procurement.Role
	Summary string
	// Request and Response are zero values of the body types, for the
	// OpenAPI document; Request is nil when there is no body.
	Request  any
	Response any
	Created  bool // answers 201 rather than 200
	// ContentType is the media type of a non-JSON response (e.g. text/csv).
	ContentType string
	// MayCreate answers 201 when it creates and 200 when it replaces.
	MayCreate bool
	// Idempotent routes take an optional Idempotency-Key header: a retry
	// with the same key and request answers the first result again. Every
	// route that creates or submits is (see idempotency.go).
	Idempotent bool
	// KeyInStore marks an idempotent route whose store method reads and
	// writes the key's record in its own round trips (bids); serve only
	// checks the key and computes the request's digest.
	KeyInStore bool
	Query      []Param
	// Statuses are the error statuses the route answers beyond those the
	// document derives from its shape (body, parameters, roles), e.g. 409
	// for bids that are still sealed.
	Statuses []int
	handle   func(*call) (any, error)
}

// Param is a query parameter and the rules its handler enforces, which the
// OpenAPI document states and the edge checks.
type Param struct {
	Name, Description string
	// Required answers 400 when the parameter is missing or empty.
	Required bool
	// Type is the JSON type of the value: "string" (when empty) or "integer".
	Type string
	// Min and Max bound an integer; a zero Max leaves it unbounded above.
	Min, Max int64
	// Default is the value the handler uses when the parameter is absent.
	Default any
	// Pattern is a regular expression a string must match, Format its
	// OpenAPI format (e.g. date), Enum the values it may take.
	Pattern, Format string
	Enum            []string
}

// Patterns of query parameters.
const (
	datePattern  = `^[0-9]{4}-[0-9]{2}-[0-9]{2}$`
	monthPattern = `^[0-9]{4}-(0[1-9]|1[0-2])$`
)

// enumOf lists string-typed values as strings, for an enum.
func enumOf[T ~string](vs ...T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// legalFormsPattern matches what the award filters accept for legalForm:
// legal forms or ngo, separated by commas.
func legalFormsPattern() string {
	one := `\s*(ngo|` + strings.Join(enumOf(procurement.LegalForms...), "|") + `)\s*`
	return "^" + one + "(," + one + ")*$"
}

// intParam is an optional integer parameter within [lo, hi].
func intParam(name, desc string, lo, hi, def int64) Param {
	return Param{Name: name, Description: desc, Type: "integer", Min: lo, Max: hi, Default: def}
}

func (rt Route) status() int {
	if rt.Created {
		return http.StatusCreated
	}
	return http.StatusOK
}

func (rt Route) allows(r procurement.Role) bool { return slices.Contains(rt.Roles, r) }

func (rt Route) roleList() string {
	s := make([]string, len(rt.Roles))
	for i, r := range rt.Roles {
		s[i] = string(r) + "s"
	}
	return strings.Join(s, ", ")
}

// Functions, one Lambda each.
const (
	FnQualification = "qualification"
	FnCompetitions  = "competitions"
	FnAudit         = "audit"
)

// FunctionNames lists the functions that serve API routes.
var FunctionNames = []string{FnQualification, FnCompetitions, FnAudit}

var (
	officers      = []procurement.Role{procurement.RoleOfficer}
	providers     = []procurement.Role{procurement.RoleProvider}
	everyone      = []procurement.Role{procurement.RoleOfficer, procurement.RoleProvider, procurement.RoleAuditor}
	officersAudit = []procurement.Role{procurement.RoleOfficer, procurement.RoleAuditor}
	pageParams    = []Param{{Name: "cursor", Description: "the cursor of the previous page; omit for the first"}, intParam("limit", "items per page, 1-100 (default 50)", 1, 100, 50)}
)

// Routes is every route of the API.
var Routes []Route

func init() {
	Routes = slices.Concat(qualificationRoutes(), competitionRoutes(), contractRoutes(), auditRoutes(), documentRoutes(), openDataRoutes())
}
