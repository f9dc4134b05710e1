// Command mailer is the Lambda function that e-mails the notification
// outbox. EventBridge runs it every minute: it sends what is queued (see
// package mail) through SES, or through the ring's SMTP relay when
// SMTP_ADDR is set. SES's bounce and complaint events reach it through an
// SNS topic: it records them against the address, and a permanent bounce
// or a complaint stops all mail to that address.
package main

import (
	"context"
	"log"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rengas/rengas/shared/httpapi"
	"github.com/rengas/rengas/shared/mail"
)

func main() {
	ctx := context.Background()
	store, err := httpapi.StoreFromEnv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	d, err := mail.FromEnv(ctx, store)
	if err != nil {
		log.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	d.Log = logger
	lambda.Start(d.Handler(logger))
}
