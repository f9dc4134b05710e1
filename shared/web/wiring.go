package web

import (
	"net/http"

	"github.com/rengas/rengas/shared/httpapi"
)

// API joins the handlers of the API's functions into one handler by the
// route table, as API Gateway routes each request to its function: the
// audit routes reach the audit function's read-only store, the others
// their own. handlers maps a function name (httpapi.FnQualification, ...)
// to its handler (httpapi.Server.Handler(name)).
func API(handlers map[string]http.Handler) http.Handler {
	mux := http.NewServeMux()
	for _, rt := range httpapi.Routes {
		h, ok := handlers[rt.Function]
		if !ok {
			panic("web: no handler for the function " + rt.Function)
		}
		mux.Handle(rt.Method+" "+rt.Path, h)
	}
	mux.Handle("/", handlers[httpapi.FnQualification]) // its 404 for unknown routes
	return mux
}
