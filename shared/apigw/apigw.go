// Package apigw stands in for API Gateway (HTTP API) on one machine. It
// matches the same route table as the CDK stack, verifies bearer tokens as
// the JWT authorizer does, turns each request into an API Gateway v2 event
// and invokes the function's Lambda entry point. The functions therefore
// run exactly as they do in AWS, claims included.
package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rengas/rengas/shared/httpapi"
)

// Invoker is a Lambda function's entry point.
type Invoker func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Gateway routes requests to functions.
type Gateway struct {
	mux *http.ServeMux
	now func() time.Time
}

// WithClock makes the gateway stamp each request's time of receipt
// (requestContext.timeEpoch) from now rather than the system clock, for
// tests that move the store's clock.
func (g *Gateway) WithClock(now func() time.Time) *Gateway {
	g.now = now
	return g
}

// New returns a gateway for the routes, invoking functions by name and
// verifying tokens with the issuer.
func New(routes []httpapi.Route, functions map[string]Invoker, issuer *LocalIssuer) *Gateway {
	g := &Gateway{mux: http.NewServeMux(), now: time.Now}
	for _, rt := range routes {
		fn := functions[rt.Function]
		if fn == nil {
			panic("apigw: no function " + rt.Function)
		}
		g.mux.Handle(rt.Method+" "+rt.Path, g.route(rt, fn, issuer))
	}
	g.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem(w, http.StatusNotFound, "no route "+r.Method+" "+r.URL.Path+"; see /openapi.json")
	})
	return g
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) { g.mux.ServeHTTP(w, r) }

func problem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(httpapi.Problem{Type: "urn:rengas:problem:gateway", Title: http.StatusText(status), Status: status, Detail: detail})
}

func (g *Gateway) route(rt httpapi.Route, fn Invoker, issuer *LocalIssuer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received := g.now()
		ev := events.APIGatewayV2HTTPRequest{
			Version:  "2.0", // API Gateway passes the path as it was sent, still percent-encoded.
			RouteKey: rt.Method + " " + rt.Path, RawPath: r.URL.EscapedPath(), RawQueryString: r.URL.RawQuery,
			Headers: map[string]string{}, PathParameters: map[string]string{},
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				RouteKey: rt.Method + " " + rt.Path, Stage: "$default", DomainName: r.Host, TimeEpoch: received.UnixMilli(),
				RequestID: fmt.Sprintf("local-%d", time.Now().UnixNano()),
				HTTP:      events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.Method, Path: r.URL.Path, SourceIP: r.RemoteAddr, UserAgent: r.UserAgent()},
			},
		}
		for name, vals := range r.Header {
			ev.Headers[strings.ToLower(name)] = strings.Join(vals, ",")
		}
		if rt.Roles != nil {
			token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok {
				problem(w, http.StatusUnauthorized, "send a bearer token: Authorization: Bearer <token>")
				return
			}
			claims, err := issuer.Verify(strings.TrimSpace(token))
			if err != nil {
				problem(w, http.StatusUnauthorized, "the bearer token is not valid: "+err.Error())
				return
			}
			ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims, Scopes: []string{}},
			}
		}
		// API Gateway caps payloads at 10 MB; the functions enforce their own, smaller limit.
		body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
		if err != nil {
			problem(w, http.StatusBadRequest, "cannot read the body")
			return
		}
		ev.Body = base64.StdEncoding.EncodeToString(body)
		ev.IsBase64Encoded = true
		for _, m := range pathParamNames(rt.Path) {
			ev.PathParameters[m] = r.PathValue(m)
		}
		res, err := fn(r.Context(), ev)
		if err != nil {
			problem(w, http.StatusInternalServerError, "the function failed")
			return
		}
		Write(w, res)
	})
}

func pathParamNames(path string) []string {
	var names []string
	for _, part := range strings.Split(path, "/") {
		if strings.HasPrefix(part, "{") {
			names = append(names, strings.Trim(part, "{}"))
		}
	}
	return names
}

// Write writes a function's response as API Gateway would.
func Write(w http.ResponseWriter, res events.APIGatewayV2HTTPResponse) {
	for k, v := range res.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range res.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	body := []byte(res.Body)
	if res.IsBase64Encoded {
		body, _ = base64.StdEncoding.DecodeString(res.Body)
	}
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(body)
}
