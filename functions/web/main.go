// Command web is the Lambda function that serves Rengas's pages and their
// assets (see shared/web) behind the same HTTP API as the JSON API. The
// pages call the API's handlers in-process as the signed-in user; users
// sign in with Cognito's managed login.
package main

import (
	"context"
	"log"
	"log/slog"
	"net/http"
	"os"
	_ "time/tzdata" // deadlines are shown in Europe/Helsinki

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/httpapi"
	"github.com/rengas/rengas/shared/web"
)

func main() {
	ctx := context.Background()
	srv, err := httpapi.ServerFromEnv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	audit, err := httpapi.ServerFromEnv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	audit.Store.ReadOnly = true // as the audit function: auditors never change anything
	signIn, err := web.NewCognitoSignIn(ctx, web.CognitoConfig{
		Region: os.Getenv("AWS_REGION"), UserPoolID: os.Getenv("USER_POOL_ID"), ClientID: os.Getenv("WEB_CLIENT_ID"),
		Domain: os.Getenv("COGNITO_DOMAIN"), PublicURL: os.Getenv("PUBLIC_URL"), Key: web.CookieKey(os.Getenv("WEB_COOKIE_KEY"), dynamo.TableName()),
	})
	if err != nil {
		log.Fatal(err)
	}
	pages, err := web.New(web.Config{
		API: web.API(map[string]http.Handler{
			httpapi.FnQualification: srv.Handler(httpapi.FnQualification),
			httpapi.FnCompetitions:  srv.Handler(httpapi.FnCompetitions),
			httpapi.FnAudit:         audit.Handler(httpapi.FnAudit),
		}),
		SignIn: signIn,
		Log:    slog.New(slog.NewJSONHandler(os.Stdout, nil)),
		Now:    srv.Store.Now,
		// The accessibility statement's feedback address (CDK context
		// feedbackEmail); New refuses to start without one.
		FeedbackEmail: os.Getenv("FEEDBACK_EMAIL"),
		// Each sign-in records the user's address and page language in
		// the organisation's mail directory, so that notifications reach
		// them by e-mail (package mail).
		OnSignIn: func(ctx context.Context, claims map[string]string, lang string) {
			if claims["custom:org"] == "" || claims["email"] == "" || claims["email_verified"] == "false" {
				return
			}
			err := srv.Store.RecordMailUser(ctx, claims["custom:org"], dynamo.MailUser{ID: claims["sub"], Email: claims["email"], Lang: lang})
			if err != nil {
				slog.Warn("record the user in the mail directory", "err", err)
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(httpadapter.NewV2(pages).ProxyWithContext)
}
