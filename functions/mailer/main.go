// Command mailer is the Lambda function that e-mails the notification
// outbox. EventBridge runs it every minute: it sends what is queued (see
// package mail) through SES, or through the ring's SMTP relay when
// SMTP_ADDR is set. SES's bounce and complaint events reach it through an
// SNS topic: it records them against the address, and a permanent bounce
// or a complaint stops all mail to that address.
package main

import (
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
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
	lambda.Start(func(ctx context.Context, raw json.RawMessage) (any, error) {
		var sns events.SNSEvent
		if err := json.Unmarshal(raw, &sns); err == nil && len(sns.Records) > 0 && sns.Records[0].EventSource == "aws:sns" {
			n := 0
			for _, rec := range sns.Records {
				got, err := mail.RecordEvents(ctx, store, rec.SNS.Message)
				n += got
				if err != nil {
					logger.Error("record SES event", "err", err, "message", rec.SNS.MessageID)
					return nil, err
				}
			}
			logger.Info("SES events recorded", "addresses", n)
			return map[string]int{"addresses": n}, nil
		}
		r, err := d.Run(ctx)
		logger.Info("mail run", "report", r, "err", err)
		return r, err
	})
}
