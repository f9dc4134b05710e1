package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/rengas/rengas/shared/procurement"
)

// api calls the JSON API's handler in-process, as the signed-in user: the
// user's verified claims go into the request context exactly where API
// Gateway's JWT authorizer puts them. Pages therefore pass the very same
// access rules, validation and contract checks as the JSON API, and cost
// the same DynamoDB round trips as the calls they make.
type api struct {
	h http.Handler
}

// apiError is an answer of the API other than 2xx: its problem document.
type apiError struct {
	Status int
	Code   string
	Detail string
	Fields []procurement.FieldError
}

func (e *apiError) Error() string {
	return fmt.Sprintf("API %d %s: %s %v", e.Status, e.Code, e.Detail, e.Fields)
}

// call sends a request as the user with the claims (nil: the public) and
// decodes a JSON answer into out (unless nil). It returns the raw body for
// non-JSON answers such as CSV.
func (a api) call(ctx context.Context, claims map[string]string, method, path string, query url.Values, body, out any) ([]byte, http.Header, error) {
	return a.callHeaders(ctx, claims, method, path, query, body, out, nil)
}

func (a api) callHeaders(ctx context.Context, claims map[string]string, method, path string, query url.Values, body, out any, headers map[string]string) ([]byte, http.Header, error) {
	// The time of receipt is the page request's, as API Gateway stamped it
	// on the way to the web function: a bid posted from a page before the
	// deadline is on time. Without one (the local server serves pages
	// directly) the API takes its own clock.
	var received int64
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(ctx); ok {
		received = rc.TimeEpoch
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RawPath: path, RawQueryString: query.Encode(), Headers: map[string]string{},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			Stage: "$default", DomainName: "web.internal", TimeEpoch: received, RequestID: "web",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
		},
	}
	for k, v := range headers {
		ev.Headers[k] = v
	}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, nil, err
		}
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(b), true
		ev.Headers["content-type"] = "application/json"
	}
	if claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims, Scopes: []string{}},
		}
	}
	req, err := (&core.RequestAccessorV2{}).EventToRequestWithContext(ctx, ev)
	if err != nil {
		return nil, nil, err
	}
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req)
	raw := rec.Body.Bytes()
	if rec.Code >= 300 {
		var p struct {
			Type   string                   `json:"type"`
			Detail string                   `json:"detail"`
			Errors []procurement.FieldError `json:"errors"`
		}
		_ = json.Unmarshal(raw, &p)
		return nil, nil, &apiError{Status: rec.Code, Code: strings.TrimPrefix(p.Type, "urn:rengas:problem:"), Detail: p.Detail, Fields: p.Errors}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, nil, fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return raw, rec.Header(), nil
}

// callWithKey sends a request with an Idempotency-Key header.
func (a api) callWithKey(ctx context.Context, claims map[string]string, method, path string, body any, key string) ([]byte, http.Header, error) {
	return a.callHeaders(ctx, claims, method, path, nil, body, nil, map[string]string{"idempotency-key": key})
}
