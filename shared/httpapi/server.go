// Package httpapi is the HTTP API of Rengas: one route table, thin
// handlers (decode, validate, call the store, encode) and RFC 9457 problem
// responses. The same http.Handler runs in Lambda (through
// aws-lambda-go-api-proxy) and in the local server.
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-playground/validator/v10"

	"github.com/rengas/rengas/shared/auth"
	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/exports"
	"github.com/rengas/rengas/shared/files"
	"github.com/rengas/rengas/shared/procurement"
)

// MaxBodyBytes limits request bodies.
const MaxBodyBytes = 256 << 10

// Server holds the dependencies of the handlers.
type Server struct {
	Store *dynamo.Store
	Log   *slog.Logger
	// Budget bounds each request's work (RequestBudget unless set).
	Budget time.Duration
	// Exports keeps answers larger than InlineLimit for download (nil:
	// they are sent directly).
	Exports     *exports.Bucket
	InlineLimit int
	// Files is the documents bucket (nil: uploads and downloads answer
	// 503).
	Files    *files.Bucket
	validate *validator.Validate
}

// NewServer returns a server on the store.
func NewServer(store *dynamo.Store, log *slog.Logger) *Server {
	return &Server{Store: store, Log: log, Budget: RequestBudget, InlineLimit: InlineLimit, validate: newValidator()}
}

// Handler returns the routes of one function ("" for all of them).
func (s *Server) Handler(function string) http.Handler {
	mux := http.NewServeMux()
	for _, rt := range Routes {
		if function == "" || rt.Function == function {
			mux.Handle(rt.Method+" "+rt.Path, s.serve(rt))
		}
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.problem(w, r, procurement.Errorf(procurement.ENOTFOUND, "no route %s %s; see /openapi.json", r.Method, r.URL.Path))
	})
	return mux
}

// call is one request being served.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	actor procurement.Actor
	s     *Server
	// received is when the request reached the gateway: the legal time of
	// receipt of a bid.
	received time.Time
	idem     *keyed // the request's Idempotency-Key, if any (idempotency.go)
}

func (c *call) path(name string) string { return c.r.PathValue(name) }

// decode reads a JSON body into v, refusing unknown fields and bodies over
// MaxBodyBytes, then validates it.
func (c *call) decode(v any) error {
	if ct := c.r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return procurement.Invalid("Content-Type", "send the body as application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, MaxBodyBytes))
	if err != nil {
		return decodeError(err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return procurement.Invalid("body", "send exactly one JSON object")
	}
	if err := refuseIdentityCodes(body); err != nil {
		return err
	}
	return c.s.check(v)
}

func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return &procurement.Error{Code: ETOOLARGE, Message: fmt.Sprintf("the body is larger than %d bytes; send less data per request", MaxBodyBytes)}
	case errors.Is(err, io.EOF):
		return procurement.Invalid("body", "send a JSON object; the body is empty")
	case errors.As(err, &syn):
		return procurement.Invalid("body", "is not valid JSON (error at byte %d): %v", syn.Offset, syn)
	case errors.As(err, &typ):
		return procurement.Invalid(typ.Field, "must be a %s, not a JSON %s", typeName(typ.Type), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return procurement.Invalid(f, "is not a field of this request; remove it (see /openapi.json for the fields)")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return procurement.Invalid("body", "the JSON ends too early; send a complete object")
	}
	return procurement.Invalid("body", "cannot be read as JSON: %v", err)
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "integer"
	case reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice:
		return "array"
	}
	return "object"
}

// queryInt reads an optional integer query parameter within [lo, hi].
func (c *call) queryInt(name string, def, lo, hi int) (int, error) {
	v := c.r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < lo || i > hi {
		return 0, procurement.Invalid(name, "must be a whole number from %d to %d", lo, hi)
	}
	return i, nil
}

// page reads the cursor and limit parameters of a list.
func (c *call) page() (cursor string, limit int, err error) {
	limit, err = c.queryInt("limit", 50, 1, 100)
	return c.r.URL.Query().Get("cursor"), limit, err
}

// ETOOLARGE is the code of a body over the size limit.
const ETOOLARGE = "too_large"

// status maps error codes to HTTP statuses; this is the only place.
var status = map[string]int{
	procurement.EINVALID:      http.StatusBadRequest,
	procurement.ENOTFOUND:     http.StatusNotFound,
	procurement.ECONFLICT:     http.StatusConflict,
	procurement.EFORBIDDEN:    http.StatusForbidden,
	procurement.EUNAUTHORIZED: http.StatusUnauthorized,
	ETOOLARGE:                 http.StatusRequestEntityTooLarge,
	procurement.EINTERNAL:     http.StatusInternalServerError,
	procurement.EUNAVAILABLE:  http.StatusServiceUnavailable,
}

// RequestBudget bounds a request's work, below the functions' time limit
// (10 s), so that an overrun answers 503 rather than being cut off.
const RequestBudget = 8 * time.Second

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type     string                   `json:"type"`
	Title    string                   `json:"title"`
	Status   int                      `json:"status"`
	Detail   string                   `json:"detail"`
	Instance string                   `json:"instance,omitempty"`
	Errors   []procurement.FieldError `json:"errors,omitempty"`
}

func (s *Server) problem(w http.ResponseWriter, r *http.Request, err error) {
	code := procurement.ErrorCode(err)
	var e *procurement.Error
	if !errors.As(err, &e) {
		e = procurement.Internal(err)
	}
	st := status[code]
	p := Problem{Type: "urn:rengas:problem:" + code, Title: http.StatusText(st), Status: st, Detail: e.Message, Instance: r.URL.Path, Errors: e.Fields}
	if code == procurement.ENOTFOUND {
		// Hidden answers exactly as missing: the text depends only on the
		// address asked for, never on why nothing is there.
		p.Detail = "nothing was found at this address: it does not exist, or it is not yours to see"
	}
	if code == procurement.EUNAVAILABLE {
		s.Log.Warn("unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "1")
	}
	if code == procurement.EINTERNAL {
		// Internal errors are logged, never shown.
		s.Log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		p.Detail = "something went wrong on our side; it has been logged. Try again later."
	}
	writeJSON(w, st, "application/problem+json", p)
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// serve wraps a route: identity, role check, handler, encoding.
func (s *Server) serve(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.Budget)
		defer cancel()
		r = r.WithContext(ctx)
		c := &call{w: w, r: r, s: s, received: s.receivedAt(r)}
		if err := checkPathParams(rt, r.PathValue); err != nil {
			s.problem(w, r, err)
			return
		}
		if rt.Roles != nil {
			a, err := auth.ActorFromContext(r.Context())
			if err != nil {
				s.problem(w, r, err)
				return
			}
			if !rt.allows(a.Role) {
				s.problem(w, r, procurement.Errorf(procurement.EFORBIDDEN, "%s %s is for %s; you are signed in as %s", rt.Method, rt.Path, rt.roleList(), a.Role))
				return
			}
			c.actor = a
		}
		if err := checkContract(rt, w, r); err != nil {
			s.problem(w, r, err)
			return
		}
		if rt.Idempotent && s.beginKeyed(rt, c) {
			return
		}
		out, err := rt.handle(c)
		if err != nil {
			if !s.failedKeyed(rt, c, err) {
				s.problem(w, c.r, err)
			}
			return
		}
		st := rt.status()
		if cr, ok := out.(created); ok {
			out, st = cr.v, http.StatusCreated
		}
		var body []byte
		ctype := "application/json"
		switch raw := out.(type) {
		case notModified:
			// The client's copy is current (If-None-Match): the headers
			// the handler set (ETag, Cache-Control) and no body.
			w.WriteHeader(http.StatusNotModified)
			return
		case rawJSON:
			body, st = raw, http.StatusOK
		case rawBody:
			body, ctype, st = raw.body, raw.contentType, http.StatusOK
		default:
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(out)
			body = buf.Bytes()
			w.Header().Set("Cache-Control", "no-store")
		}
		if len(body) > s.InlineLimit && r.Method == http.MethodGet && s.Exports != nil {
			s.export(w, c, rt, ctype, body)
			return
		}
		if cc := w.Header().Get("Cache-Control"); rt.Roles == nil && strings.HasPrefix(rt.Path, OpenDataPrefix) && (cc == "" || cc == "no-store") {
			// Public open data may be cached (by CloudFront in AWS), so
			// that a repeated read costs no DynamoDB request. A handler
			// that set its own lifetime (the OCDS packages) keeps it.
			w.Header().Set("Cache-Control", OpenDataCacheControl)
		}
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(st)
		_, _ = w.Write(body)
	})
}

// OpenDataPrefix starts the paths of the public open-data routes, and
// OpenDataCacheControl is how long their answers may be cached: five
// minutes, so that a new award appears in the quarter's package soon.
const (
	OpenDataPrefix       = "/open-data/"
	OpenDataCacheControl = "public, max-age=300"
)

// InlineLimit is the largest answer sent in the response itself; a larger
// one (a function may return at most 6 MB, and API Gateway wraps it) is
// stored in the export bucket and answered with 303 See Other and a link.
const InlineLimit = 4 << 20

// Export is the answer that points to an export.
type Export struct {
	Location  string    `json:"location"`
	ExpiresAt time.Time `json:"expiresAt"`
	Bytes     int       `json:"bytes"`
	Detail    string    `json:"detail"`
}

// export stores a large answer and answers 303 with a link to it.
func (s *Server) export(w http.ResponseWriter, c *call, rt Route, ctype string, body []byte) {
	ext := ".json"
	if strings.HasPrefix(ctype, "text/csv") {
		ext = ".csv"
	}
	name := strings.Trim(strings.NewReplacer("/", "-", "{", "", "}", "").Replace(c.r.URL.Path), "-") + ext
	url, err := s.Exports.Put(c.r.Context(), name, ctype, body)
	if err != nil {
		s.problem(w, c.r, &procurement.Error{Code: procurement.EUNAVAILABLE, Err: err,
			Message: "the answer is too large to send directly and could not be stored for download; try again in a moment, or narrow the request"})
		return
	}
	w.Header().Set("Location", url)
	writeJSON(w, http.StatusSeeOther, "application/json", Export{Location: url, ExpiresAt: s.Store.Now().Add(exports.LinkTTL).UTC(), Bytes: len(body),
		Detail: fmt.Sprintf("the answer is %d bytes, more than a response may carry; fetch it from location within %s", len(body), exports.LinkTTL)})
}

type rawJSON []byte

// rawBody is a response in another format than JSON, such as CSV.
type rawBody struct {
	contentType string
	body        []byte
}
