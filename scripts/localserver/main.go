// Command localserver runs Rengas on one machine: the embedded DynamoDB
// engine on a loopback port (or DYNAMODB_ENDPOINT), the table from the
// shared definition, the demo ring, an embedded S3-compatible server for
// the anchors of the audit chains (it does not enforce Object Lock: see
// package locals3), the scheduled job on a timer (anchoring included), and
// the API through a local stand-in for API Gateway that invokes the very
// same Lambda entry points as AWS, and an SMTP server on a loopback port
// that catches the mail the dispatcher sends (shown at /dev/mailbox).
//
//	go run ./scripts/localserver [-addr 127.0.0.1:8080] [-smtp 127.0.0.1:2525]
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/rengas/rengas/shared/apigw"
	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/exports"
	"github.com/rengas/rengas/shared/files"
	"github.com/rengas/rengas/shared/httpapi"
	"github.com/rengas/rengas/shared/localdb"
	"github.com/rengas/rengas/shared/localmail"
	"github.com/rengas/rengas/shared/locals3"
	"github.com/rengas/rengas/shared/mail"
	"github.com/rengas/rengas/shared/seed"
	"github.com/rengas/rengas/shared/web"
)

// exportBucket is the local export bucket's name.
const exportBucket = "rengas-exports"

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "where the API listens")
	dbAddr := flag.String("db", ":0", "loopback port of the embedded DynamoDB engine")
	smtpAddr := flag.String("smtp", ":0", "loopback port of the embedded SMTP catcher")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	engine, err := localdb.Start(*dbAddr)
	if err != nil {
		log.Fatal(err)
	}
	defer engine.Close()
	db, err := engine.Open(ctx, dynamo.TableName())
	if err != nil {
		log.Fatal(err)
	}
	store := dynamo.New(db, dynamo.TableName())
	clock := &dynamo.Clock{}
	store.Now = clock.Now
	objects, err := locals3.Start(locals3.DefaultBucket)
	if err != nil {
		log.Fatal(err)
	}
	defer objects.Close()
	if store.Anchors, err = dynamo.ConnectAnchors(ctx, objects.Endpoint, objects.Bucket); err != nil {
		log.Fatal(err)
	}
	if err := seed.Load(ctx, store); err != nil {
		log.Fatalf("seed the demo ring (use an empty table): %v", err)
	}
	if err := seed.LoadOutcomes(ctx, store); err != nil {
		log.Fatalf("seed the outcome-contract demo: %v", err)
	}
	// The scheduled job runs at once, as EventBridge would within a minute:
	// it opens the demo competition whose deadline has passed.
	if _, err := store.RunSchedule(ctx); err != nil {
		log.Fatalf("scheduled job: %v", err)
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	// E-mail: the dispatcher sends through the SMTP client to the embedded
	// catcher (or to the relay SMTP_ADDR names), every few seconds.
	catcher, err := localmail.Start(*smtpAddr)
	if err != nil {
		log.Fatal(err)
	}
	defer catcher.Close()
	catalog, err := mail.NewCatalog()
	if err != nil {
		log.Fatal(err)
	}
	var sender mail.Sender = &mail.SMTP{Addr: catcher.Addr, Security: "none", Timeout: 10 * time.Second}
	if relay, err := mail.SMTPFromEnv(); err != nil {
		log.Fatal(err)
	} else if relay != nil {
		sender = relay
	}
	mailer := &mail.Dispatcher{Store: store, Sender: sender, Catalog: catalog, From: "Rengas (local) <rengas@localhost>",
		BaseURL: "http://" + *addr, Log: logger}
	// Answers too large for a response go to an export bucket on the same
	// embedded S3-compatible server.
	if err := objects.NewBucket(exportBucket); err != nil {
		log.Fatal(err)
	}
	exported, err := exports.Connect(ctx, objects.Endpoint, exportBucket)
	if err != nil {
		log.Fatal(err)
	}
	// Uploaded documents: a bucket of their own on the same server. No
	// malware scanner runs locally; every file says so.
	if err := objects.NewBucket(locals3.DocumentsBucket); err != nil {
		log.Fatal(err)
	}
	documents, err := files.Connect(ctx, objects.Endpoint, locals3.DocumentsBucket, false)
	if err != nil {
		log.Fatal(err)
	}
	srv := httpapi.NewServer(store, logger)
	srv.Exports, srv.Files = exported, documents
	functions := map[string]apigw.Invoker{}
	for _, fn := range httpapi.FunctionNames {
		functions[fn] = srv.LambdaEntry(fn)
	}
	// The audit function reads through a read-only store, as its IAM role allows in AWS.
	auditStore := dynamo.New(db, dynamo.TableName())
	auditStore.Now, auditStore.ReadOnly, auditStore.Anchors = clock.Now, true, store.Anchors
	auditSrv := httpapi.NewServer(auditStore, logger)
	auditSrv.Exports = exported
	functions[httpapi.FnAudit] = auditSrv.LambdaEntry(httpapi.FnAudit)
	issuer := apigw.NewLocalIssuer()
	mux := http.NewServeMux()
	// The gateway stamps each request's time of receipt from the server
	// clock, which /local/clock/advance moves.
	gateway := apigw.New(httpapi.Routes, functions, issuer).WithClock(clock.Now)
	// The pages call the same functions' handlers in-process, the audit
	// routes through the read-only store; they sign in as the demo users.
	pages, err := web.New(web.Config{
		API: web.API(map[string]http.Handler{
			// Servers of their own without the export bucket: a page
			// renders what it reads, so it takes every answer inline.
			httpapi.FnQualification: pagesQualification(store, logger, documents).Handler(httpapi.FnQualification),
			httpapi.FnCompetitions:  httpapi.NewServer(store, logger).Handler(httpapi.FnCompetitions),
			httpapi.FnAudit:         httpapi.NewServer(auditStore, logger).Handler(httpapi.FnAudit),
		}),
		SignIn:        web.NewLocalSignIn(seed.Users, nil),
		Log:           logger,
		Now:           clock.Now,
		FeedbackEmail: seed.FeedbackEmail,
	})
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if web.Owns(r.URL.Path) {
			pages.ServeHTTP(w, r)
			return
		}
		gateway.ServeHTTP(w, r)
	}))
	// Local only: the stand-in for signing in with Cognito.
	mux.HandleFunc("GET /local/tokens/{user}", func(w http.ResponseWriter, r *http.Request) {
		u, ok := seed.User(r.PathValue("user"))
		if !ok {
			http.Error(w, "no demo user "+r.PathValue("user"), http.StatusNotFound)
			return
		}
		tok, err := issuer.Sign(u, 12*time.Hour)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, tok)
	})
	// Local only: move the server clock forward (e.g. past a bid deadline)
	// and run the scheduled job, as EventBridge would.
	mux.HandleFunc("POST /local/clock/advance", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("by"))
		if err != nil || d <= 0 {
			http.Error(w, "give ?by= a positive duration such as 240h", http.StatusBadRequest)
			return
		}
		clock.Advance(d)
		report, err := store.RunSchedule(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		sent, err := mailer.Run(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "server time is now %s; scheduled job: %+v; mail: %+v\n", clock.Now().UTC().Format(time.RFC3339), report, sent)
	})
	// Local only: the mail the dispatcher sent, as the SMTP catcher got it.
	mux.Handle("GET /dev/mailbox", catcher.Handler())
	go func() {
		// The mail dispatcher, locally every 5 seconds (in AWS every minute).
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if r, err := mailer.Run(ctx); err != nil {
					logger.Error("mail run", "err", err)
				} else if r.Sent+r.Failed+r.Deferred > 0 {
					logger.Info("mail run", "report", r)
				}
			}
		}
	}()
	go func() {
		// The scheduled job, locally on a timer.
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if r, err := store.RunSchedule(ctx); err != nil {
					logger.Error("scheduled run", "err", err)
				} else {
					logger.Info("scheduled run", "report", r)
				}
			}
		}
	}()

	hs := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	fmt.Printf("http://%s/\n\nRengas is running: open the address above in a browser and sign in as a demo user (fi, sv, en).\n  API:      http://%s  (OpenAPI: http://%s/openapi.json)\n  DynamoDB: %s (table %s)\n  Anchors:  %s (bucket %s; local only: Object Lock is not enforced)\n  Documents: bucket %s on the same S3 server (local only: no malware scanner; uploads are confirmed with POST /files/{id}/arrival)\n  Mail:     SMTP catcher on %s; the mailbox: http://%s/dev/mailbox\n\nDemo users (get a token: curl -s http://%s/local/tokens/<user>):\n",
		*addr, *addr, *addr, engine.Endpoint, dynamo.TableName(), objects.Endpoint, objects.Bucket, locals3.DocumentsBucket, catcher.Addr, *addr, *addr)
	for _, u := range seed.Users {
		fmt.Printf("  %-20s %-9s %-18s %s\n", u.ID, u.Role, u.Org, u.Name)
	}
	fmt.Printf("\nExample:\n  TOKEN=$(curl -s http://%s/local/tokens/officer-lahti)\n  curl -s -H \"Authorization: Bearer $TOKEN\" http://%s/dps/%s/applications\n", *addr, *addr, seed.DPSID)
	if err := hs.Serve(ln); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

// pagesQualification is the qualification routes' server the pages call:
// it stores the files chosen in their forms in the documents bucket.
func pagesQualification(store *dynamo.Store, logger *slog.Logger, documents *files.Bucket) *httpapi.Server {
	srv := httpapi.NewServer(store, logger)
	srv.Files = documents
	return srv
}
