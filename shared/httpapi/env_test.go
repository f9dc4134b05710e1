package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/rengas/rengas/shared/apigw"
	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/files"
	"github.com/rengas/rengas/shared/httpapi"
	"github.com/rengas/rengas/shared/localdb"
	"github.com/rengas/rengas/shared/locals3"
	"github.com/rengas/rengas/shared/seed"
)

var (
	engine     *localdb.Engine
	objects    *locals3.Server // anchors, one bucket per env
	tableCount atomic.Int64
)

func TestMain(m *testing.M) {
	var err error
	if engine, err = localdb.Start(":0"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if objects, err = locals3.Start(locals3.DefaultBucket); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	engine.Close()
	objects.Close()
	os.Exit(code)
}

// env is a seeded Rengas behind the local gateway, on its own table of the
// embedded engine, reached over real HTTP. opts configure its DynamoDB
// client (such as the retries of fault-injection tests).
type env struct {
	t      testing.TB
	url    string
	store  *dynamo.Store
	db     *dynamodb.Client
	clock  *dynamo.Clock
	srv    *httpapi.Server
	audit  *httpapi.Server // the audit function's, on a read-only store
	issuer *apigw.LocalIssuer
	tokens map[string]string
	// lag is how long before the store's clock the gateway stamps a
	// request's receipt: a request that waited that long to be served.
	lag *atomic.Int64
}

func newEnv(t testing.TB, opts ...func(*dynamodb.Options)) *env {
	t.Helper()
	ctx := context.Background()
	table := fmt.Sprintf("t%d", tableCount.Add(1))
	db, err := engine.Open(ctx, table)
	if err != nil {
		t.Fatal(err)
	}
	if len(opts) > 0 {
		db = dynamodb.New(db.Options(), opts...)
	}
	store := dynamo.New(db, table)
	clock := &dynamo.Clock{}
	store.Now = clock.Now
	if err := objects.NewBucket("anchors-" + table); err != nil {
		t.Fatal(err)
	}
	if store.Anchors, err = dynamo.ConnectAnchors(ctx, objects.Endpoint, "anchors-"+table); err != nil {
		t.Fatal(err)
	}
	if err := seed.Load(ctx, store); err != nil {
		t.Fatal(err)
	}
	srv := httpapi.NewServer(store, slog.New(slog.NewTextHandler(testLog{t}, nil)))
	// Uploaded documents: a bucket of their own on the local S3 server.
	if err := objects.NewBucket("docs-" + table); err != nil {
		t.Fatal(err)
	}
	if srv.Files, err = files.Connect(ctx, objects.Endpoint, "docs-"+table, false); err != nil {
		t.Fatal(err)
	}
	fns := map[string]apigw.Invoker{}
	for _, fn := range httpapi.FunctionNames {
		fns[fn] = srv.LambdaEntry(fn)
	}
	// The audit function gets a read-only store, as in AWS.
	ro := dynamo.New(db, table)
	ro.Now, ro.ReadOnly, ro.Anchors = clock.Now, true, store.Anchors
	audit := httpapi.NewServer(ro, srv.Log)
	fns[httpapi.FnAudit] = audit.LambdaEntry(httpapi.FnAudit)
	issuer := apigw.NewLocalIssuer()
	lag := &atomic.Int64{}
	received := func() time.Time { return clock.Now().Add(-time.Duration(lag.Load())) }
	ts := httptest.NewServer(apigw.New(httpapi.Routes, fns, issuer).WithClock(received))
	t.Cleanup(ts.Close)
	e := &env{t: t, url: ts.URL, store: store, db: db, clock: clock, srv: srv, audit: audit, issuer: issuer, tokens: map[string]string{}, lag: lag}
	for _, u := range seed.Users {
		tok, err := issuer.Sign(u, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[u.ID] = tok
	}
	return e
}

// resp is a decoded response.
type resp struct {
	status int
	ctype  string
	body   map[string]any
	raw    []byte
	header http.Header
}

func (r resp) str(path string) string { return fmt.Sprint(dig(r.body, path)) }

// dig follows a dotted path through decoded JSON; numbers index arrays.
func dig(v any, path string) any {
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			var i int
			fmt.Sscan(p, &i)
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// do sends a request as the demo user (empty: no token). body may be a
// string (sent as is) or a value (sent as JSON).
func (e *env) do(user, method, path string, body any) resp {
	e.t.Helper()
	return e.doWith(user, method, path, body, nil)
}

// doWith is do with extra request headers.
func (e *env) doWith(user, method, path string, body any, header map[string]string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.url+path, rd)
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[user])
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if err := conforms(req, res.StatusCode, res.Header, raw); err != nil {
		e.t.Errorf("%s %s answered %d, which breaks openapi.json: %v\n%s", method, path, res.StatusCode, err, truncate(raw, 2000))
	}
	r := resp{status: res.StatusCode, ctype: res.Header.Get("Content-Type"), raw: raw, header: res.Header}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

// conforms checks an answer against the operation of its request in the
// OpenAPI document: the status is documented for it, and the content type
// and the body match what the document says of that status. An answer to
// a request the document has no operation for (the gateway's 404 and 405)
// has nothing to conform to.
func conforms(req *http.Request, status int, header http.Header, body []byte) error {
	c, err := httpapi.LoadContract()
	if err != nil {
		return err
	}
	// The document's server is "/": match the path alone, not the test
	// server's host.
	req = req.Clone(context.Background())
	req.URL = &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
	route, params, err := c.Router.FindRoute(req)
	if err != nil {
		if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			return nil
		}
		return fmt.Errorf("no operation in the document: %w", err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options:                httpapi.ContractOptions(),
	}
	return openapi3filter.ValidateResponse(context.Background(), in.SetBodyBytes(body))
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return append(b[:n:n], "…"...)
	}
	return b
}

// must fails the test unless the response has the status.
func (e *env) must(r resp, status int) resp {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("got status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

// problem checks an error answer: status, problem+json and, if field is
// not empty, a field error naming it.
func (e *env) problem(r resp, status int, field string) {
	e.t.Helper()
	if r.status != status || r.ctype != "application/problem+json" {
		e.t.Fatalf("got %d %s, want %d application/problem+json: %s", r.status, r.ctype, status, r.raw)
	}
	if field == "" {
		return
	}
	errs, _ := r.body["errors"].([]any)
	for _, fe := range errs {
		if m := fe.(map[string]any); m["field"] == field && m["message"] != "" {
			return
		}
	}
	e.t.Fatalf("problem names no field %q: %s", field, r.raw)
}

const dpsPath = "/dps/" + seed.DPSID

// pending returns the received applications by provider id.
func (e *env) pending() map[string]map[string]any {
	e.t.Helper()
	r := e.must(e.do("officer-lahti", "GET", dpsPath+"/applications?status=received", nil), 200)
	out := map[string]map[string]any{}
	for _, it := range r.body["items"].([]any) {
		m := it.(map[string]any)
		out[m["providerId"].(string)] = m
	}
	return out
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// testLog sends the server's log to the test's output.
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// openBids moves the clock past the deadline and the opening grace, and
// runs the scheduled job, which alone opens competitions.
func (e *env) openBids(deadline time.Time) {
	e.t.Helper()
	if now := e.clock.Now(); now.Before(deadline.Add(dynamo.OpeningGrace)) {
		e.clock.Set(deadline.Add(dynamo.OpeningGrace + time.Second))
	}
	if _, err := e.store.RunSchedule(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}
