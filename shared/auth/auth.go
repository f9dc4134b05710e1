// Package auth turns verified JWT claims into an Actor.
//
// In AWS the API Gateway JWT authorizer verifies the Cognito token and
// passes its claims in the request context; locally package apigw verifies
// tokens signed by a local Issuer and passes the same claims the same way.
// Handlers only ever see claims that a gateway verified, never headers.
package auth

import (
	"context"
	"fmt"
	"strings"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/rengas/rengas/shared/procurement"
)

// Claim names. Cognito puts group membership in cognito:groups and custom
// user attributes under the custom: prefix.
const (
	ClaimSubject = "sub"
	ClaimGroups  = "cognito:groups"
	ClaimOrg     = "custom:org"
	ClaimName    = "name"
)

// Groups maps Cognito groups to roles.
var Groups = map[string]procurement.Role{
	"officers":  procurement.RoleOfficer,
	"providers": procurement.RoleProvider,
	"auditors":  procurement.RoleAuditor,
}

// GroupOf returns the Cognito group of a role.
func GroupOf(r procurement.Role) string {
	for g, role := range Groups {
		if role == r {
			return g
		}
	}
	return ""
}

// ActorFromContext returns the actor whose verified claims the gateway put
// in the request context. Errors: EUNAUTHORIZED, EFORBIDDEN.
func ActorFromContext(ctx context.Context) (procurement.Actor, error) {
	gw, ok := core.GetAPIGatewayV2ContextFromContext(ctx)
	if !ok || gw.Authorizer == nil || gw.Authorizer.JWT == nil {
		return procurement.Actor{}, procurement.Errorf(procurement.EUNAUTHORIZED, "send a bearer token in the Authorization header")
	}
	return ActorFromClaims(gw.Authorizer.JWT.Claims)
}

// ActorFromClaims builds an actor from verified claims as API Gateway
// passes them: every value a string, arrays written as "[a b]".
func ActorFromClaims(claims map[string]string) (procurement.Actor, error) {
	a := procurement.Actor{UserID: claims[ClaimSubject], Org: claims[ClaimOrg]}
	if a.UserID == "" {
		return a, procurement.Errorf(procurement.EUNAUTHORIZED, "the token has no subject")
	}
	var roles []procurement.Role
	for _, g := range strings.FieldsFunc(strings.Trim(claims[ClaimGroups], "[]"), func(r rune) bool { return r == ' ' || r == ',' }) {
		if r, ok := Groups[strings.Trim(g, `"`)]; ok {
			roles = append(roles, r)
		}
	}
	if len(roles) != 1 {
		return a, procurement.Errorf(procurement.EFORBIDDEN, "the user must belong to exactly one of the groups officers, providers, auditors")
	}
	a.Role = roles[0]
	if a.Org == "" {
		return a, procurement.Errorf(procurement.EFORBIDDEN, "the user is not tied to an organisation (claim %s)", ClaimOrg)
	}
	return a, nil
}

// User is a demo or test user.
type User struct {
	ID   string           `json:"id"`
	Name string           `json:"name"`
	Role procurement.Role `json:"role"`
	Org  string           `json:"org"`
}

// GatewayClaims writes a verified token's claims as API Gateway's JWT
// authorizer passes them to a function: every value a string, arrays as
// "[a b]", numbers without a fraction.
func GatewayClaims(mc map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range mc {
		switch v := v.(type) {
		case []any:
			parts := make([]string, len(v))
			for j, p := range v {
				parts[j] = fmt.Sprint(p)
			}
			out[k] = "[" + strings.Join(parts, " ") + "]"
		case float64:
			out[k] = fmt.Sprintf("%.0f", v)
		default:
			out[k] = fmt.Sprint(v)
		}
	}
	return out
}
