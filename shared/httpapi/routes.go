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
	Query     []Param
	handle    func(*call) (any, error)
}

// Param is a query parameter.
type Param struct{ Name, Description string }

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
	pageParams    = []Param{{"cursor", "the cursor of the previous page; omit for the first"}, {"limit", "items per page, 1-100 (default 50)"}}
)

// Routes is every route of the API.
var Routes []Route

func init() {
	Routes = slices.Concat(qualificationRoutes(), competitionRoutes(), auditRoutes())
}
