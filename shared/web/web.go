// Package web serves Rengas's pages for officers, providers and auditors in
// Finnish, Swedish and English: server-rendered html/template pages in one
// base layout, after the GOV.UK Design System's patterns (question pages,
// check-answers pages, error summaries), that work without JavaScript.
//
// The pages never touch the store. Each page calls the JSON API's handler
// in-process as the signed-in user (see api), so it passes exactly the
// API's access rules: what the API refuses, no page shows, and a 404 from
// the API is the page's 404.
package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rengas/rengas/shared/auth"
	"github.com/rengas/rengas/shared/procurement"
)

// Config wires the pages.
type Config struct {
	// API is the JSON API's handler (httpapi.Server.Handler), called
	// in-process with the user's claims in the request context.
	API http.Handler
	// SignIn is how users sign in: LocalSignIn or CognitoSignIn.
	SignIn SignIn
	Log    *slog.Logger
	// Now is the server clock (the store's), for deadlines shown as open
	// or closed.
	Now func() time.Time
	// FeedbackEmail is the address the accessibility statement gives for
	// feedback (Act 306/2019 requires one); New refuses an empty one.
	FeedbackEmail string
	// OnSignIn, if set, is told of every completed sign-in with the
	// user's verified claims and the language of the page they signed in
	// from: the web function records the user's address and language in
	// the organisation's mail directory (package mail e-mails them).
	OnSignIn func(ctx context.Context, claims map[string]string, lang string)
}

// Handler serves the pages, the assets and the sign-in routes.
type Handler struct {
	api    api
	signIn SignIn
	log    *slog.Logger
	now    func() time.Time
	// feedback is the accessibility statement's feedback address.
	feedback string
	onSignIn func(ctx context.Context, claims map[string]string, lang string)
	cat      *catalog
	assets   *assets
	pages    map[string]*template.Template
	mux      *http.ServeMux
	handler  http.Handler
}

// New returns the pages' handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if !strings.Contains(cfg.FeedbackEmail, "@") {
		return nil, fmt.Errorf("web: the accessibility statement needs a feedback address (FeedbackEmail), got %q", cfg.FeedbackEmail)
	}
	cat, err := newCatalog(cfg.Log)
	if err != nil {
		return nil, err
	}
	as, err := loadAssets()
	if err != nil {
		return nil, err
	}
	h := &Handler{api: api{cfg.API}, signIn: cfg.SignIn, log: cfg.Log, now: cfg.Now, feedback: cfg.FeedbackEmail, onSignIn: cfg.OnSignIn, cat: cat, assets: as, mux: http.NewServeMux()}
	if h.pages, err = parsePages(); err != nil {
		return nil, err
	}
	h.routes()
	// Every form is protected against cross-site requests: browsers send
	// Sec-Fetch-Site (or Origin), and a cross-origin POST is refused.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.errorPage(w, r, langOf(r), http.StatusForbidden, "error.crossOrigin")
	}))
	h.handler = securityHeaders(cop.Handler(h.mux))
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.handler.ServeHTTP(w, r) }

// Prefixes are the paths the pages own; everything else is the JSON API's.
var Prefixes = []string{"/fi/", "/sv/", "/en/", "/assets/", "/auth/"}

// Owns reports whether a request is the pages' rather than the API's.
func Owns(path string) bool {
	if path == "/" || path == "/fi" || path == "/sv" || path == "/en" {
		return true
	}
	for _, p := range Prefixes {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		next.ServeHTTP(w, r)
	})
}

// langOf returns the language of a request's path, Finnish by default.
func langOf(r *http.Request) string {
	seg, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if slices.Contains(Langs, seg) {
		return seg
	}
	return "fi"
}

// req is one page request being served.
type req struct {
	h      *Handler
	w      http.ResponseWriter
	r      *http.Request
	lang   string
	user   *user
	claims map[string]string
}

// user is the signed-in user as the pages show them.
type user struct {
	ID, Name, Org string
	Role          procurement.Role
}

// pageFunc serves one page; a returned error becomes an error page.
type pageFunc func(*req) error

// handle registers a page under every language prefix. Roles, if any,
// limit who may open it: nobody signed in is sent to sign in, and another
// role gets the same 404 the API gives for what one may not know of.
func (h *Handler) handle(method, pattern string, fn pageFunc, roles ...procurement.Role) {
	for _, l := range Langs {
		lang := l
		p := "/" + lang + pattern
		if pattern == "/" {
			p = "/" + lang + "/{$}"
		}
		h.mux.HandleFunc(method+" "+p, func(w http.ResponseWriter, r *http.Request) {
			q := &req{h: h, w: w, r: r, lang: lang}
			claims, err := h.signIn.Identify(w, r)
			if err != nil {
				h.log.Warn("session", "err", err)
			}
			if claims != nil {
				if a, err := auth.ActorFromClaims(claims); err == nil {
					q.claims = claims
					q.user = &user{ID: a.UserID, Name: claims[auth.ClaimName], Org: a.Org, Role: a.Role}
					if q.user.Name == "" {
						q.user.Name = a.UserID
					}
				}
			}
			if roles != nil && q.user == nil {
				q.redirect("/sign-in?next=" + url.QueryEscape(r.URL.RequestURI()))
				return
			}
			if roles != nil && !slices.Contains(roles, q.user.Role) {
				h.errorPage(w, r, lang, http.StatusNotFound, "error.notFound")
				return
			}
			w.Header().Set("Cache-Control", "no-store")
			if err := fn(q); err != nil {
				q.fail(err)
			}
		})
	}
}

var (
	officers  = []procurement.Role{procurement.RoleOfficer}
	providers = []procurement.Role{procurement.RoleProvider}
	auditors  = []procurement.Role{procurement.RoleAuditor}
	everyone  = []procurement.Role{procurement.RoleOfficer, procurement.RoleProvider, procurement.RoleAuditor}
	offAudit  = []procurement.Role{procurement.RoleOfficer, procurement.RoleAuditor}
)

func (h *Handler) routes() {
	h.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/fi/", http.StatusFound)
	})
	for _, l := range Langs {
		h.mux.Handle("GET /"+l+"", http.RedirectHandler("/"+l+"/", http.StatusMovedPermanently))
	}
	h.mux.HandleFunc("GET /assets/{file}", func(w http.ResponseWriter, r *http.Request) {
		if !h.assets.serve(w, r) {
			h.errorPage(w, r, "fi", http.StatusNotFound, "error.notFound")
		}
	})
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if !Owns(r.URL.Path) {
			// In AWS the pages take the HTTP API's $default route: what is
			// neither a page nor an API route gets the API's own answer.
			h.api.h.ServeHTTP(w, r)
			return
		}
		h.errorPage(w, r, langOf(r), http.StatusNotFound, "error.notFound")
	})
	h.signIn.routes(h)
	h.handle("GET", "/", (*req).home)
	h.handle("GET", "/accessibility", (*req).accessibility)
	h.handle("GET", "/open-data/policy", (*req).publicationPolicy)
	h.providerRoutes()
	h.officerRoutes()
	h.contractRoutes()
	h.auditorRoutes()
}

// fail turns an error into a page: the API's 404 is the page's 404, its
// other statuses keep their meaning, internal errors are logged, never shown.
func (q *req) fail(err error) {
	var ae *apiError
	if errors.As(err, &ae) {
		switch ae.Status {
		case http.StatusNotFound:
			q.h.errorPage(q.w, q.r, q.lang, http.StatusNotFound, "error.notFound")
			return
		case http.StatusForbidden:
			q.h.errorPage(q.w, q.r, q.lang, http.StatusForbidden, "error.forbidden")
			return
		case http.StatusConflict:
			q.h.errorPage(q.w, q.r, q.lang, http.StatusConflict, "error.conflict")
			return
		case http.StatusServiceUnavailable:
			q.h.errorPage(q.w, q.r, q.lang, http.StatusServiceUnavailable, "error.unavailable")
			return
		case http.StatusUnauthorized:
			q.redirect("/sign-in")
			return
		}
	}
	q.h.log.Error("page failed", "method", q.r.Method, "path", q.r.URL.Path, "err", err)
	q.h.errorPage(q.w, q.r, q.lang, http.StatusInternalServerError, "error.internal")
}

// href is the address of a page in the request's language.
func (q *req) href(p string) string { return "/" + q.lang + p }

// redirect answers 303 See Other to a page in the same language: the
// redirect of POST, redirect, GET.
func (q *req) redirect(p string) {
	http.Redirect(q.w, q.r, q.href(p), http.StatusSeeOther)
}

// get calls the API with GET as the user.
func (q *req) get(path string, query url.Values, out any) error {
	_, _, err := q.h.api.call(q.r.Context(), q.claims, "GET", path, query, nil, out)
	return err
}

// inviteeNames returns the names of a competition's invitees by provider
// id, as far as the user may see the invitee list (its own officers and
// the auditors); for anyone else it is empty.
func (q *req) inviteeNames(comp string) map[string]string {
	names := map[string]string{}
	query := url.Values{"limit": {"100"}}
	for range 20 {
		var page list[procurement.Invitee]
		if err := q.get("/competitions/"+comp+"/invitees", query, &page); err != nil {
			break
		}
		for _, inv := range page.Items {
			names[inv.ProviderID] = inv.Party.Name
		}
		if page.Cursor == "" {
			break
		}
		query.Set("cursor", page.Cursor)
	}
	return names
}

// send calls the API with a body as the user.
func (q *req) send(method, path string, body, out any) error {
	_, _, err := q.h.api.call(q.r.Context(), q.claims, method, path, nil, body, out)
	return err
}

// T translates in the request's language.
func (q *req) T(id string) string { return q.h.cat.T(q.lang, id, nil) }

// view is what every page template gets.
type view struct {
	Lang     string
	Title    string
	Path     string // the page's address without the language prefix, for the language switch
	User     *user
	Errors   []fieldError
	Flash    string
	Data     any
	Assets   *assets
	LangURLs map[string]string
}

// fieldError is one entry of an error summary: the id of the field it
// links to and the translated text.
type fieldError struct {
	ID, Text string
}

// errorFor returns the error text of a field, for the field's own message.
func (v view) ErrorFor(id string) string {
	for _, e := range v.Errors {
		if e.ID == id {
			return e.Text
		}
	}
	return ""
}

// render writes a page with the status.
func (q *req) render(status int, name, titleKey string, data any, errs []fieldError) error {
	v := view{Lang: q.lang, Title: q.T(titleKey), User: q.user, Errors: errs, Data: data, Assets: q.h.assets}
	if f := q.r.URL.Query().Get("done"); f != "" && slices.Contains(flashes, f) {
		v.Flash = q.T("flash." + f)
	}
	return q.h.write(q.w, q.r, status, name, v)
}

// flashes are the confirmations a redirect may ask a page to show.
var flashes = []string{"decided", "requested", "extended", "asked", "answered", "declared", "scored", "rejected", "awarded", "cancelled", "amended", "withdrawn", "responded", "status", "published", "registered", "applied", "signedOut", "saved"}

func (h *Handler) write(w http.ResponseWriter, r *http.Request, status int, name string, v view) error {
	v.LangURLs = map[string]string{}
	rest, query := strings.TrimPrefix(r.URL.Path, "/"+v.Lang), r.URL.RawQuery
	if r.Method != http.MethodGet {
		// A form answered with its errors: the switch leads to the page
		// the form was on (the browser's same-origin Referer), else home.
		rest, query = "/", ""
		if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host && strings.HasPrefix(ref.Path, "/"+v.Lang+"/") {
			rest, query = strings.TrimPrefix(ref.Path, "/"+v.Lang), ref.RawQuery
		}
	}
	if !strings.HasPrefix(rest, "/") {
		rest = "/"
	}
	if qv, err := url.ParseQuery(query); err == nil {
		qv.Del("done") // a confirmation is shown once
		query = qv.Encode()
	}
	for _, l := range Langs {
		u := "/" + l + rest
		if query != "" {
			u += "?" + query
		}
		v.LangURLs[l] = u
	}
	v.Path = rest
	t, ok := h.pages[name]
	if !ok {
		return fmt.Errorf("no page template %s", name)
	}
	t, err := t.Clone()
	if err != nil {
		return err
	}
	t.Funcs(h.funcs(v.Lang))
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	body := b.Bytes()
	if acceptsGzip(r) && len(body) > 1024 {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Add("Vary", "Accept-Encoding")
		body = gzipBytes(body)
	}
	w.WriteHeader(status)
	_, err = w.Write(body)
	return err
}

// errorPage writes the 404, 403, 409 or 500 page in the language.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, lang string, status int, key string) {
	var u *user
	if claims, _ := h.signIn.Identify(w, r); claims != nil {
		if a, err := auth.ActorFromClaims(claims); err == nil {
			u = &user{ID: a.UserID, Name: claims[auth.ClaimName], Org: a.Org, Role: a.Role}
		}
	}
	v := view{Lang: lang, Title: h.cat.T(lang, key, nil), User: u, Data: map[string]any{"Key": key, "Status": status}, Assets: h.assets}
	if err := h.write(w, r, status, "error", v); err != nil {
		h.log.Error("error page", "err", err)
	}
}
