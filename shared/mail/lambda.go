package mail

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
)

// Handler is the mailer function's entry point. An SNS notification
// carries SES events: each bounce and complaint is recorded against its
// address. Anything else (the EventBridge schedule) runs the dispatcher.
func (d *Dispatcher) Handler(log *slog.Logger) func(ctx context.Context, raw json.RawMessage) (any, error) {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var sns events.SNSEvent
		if err := json.Unmarshal(raw, &sns); err == nil && len(sns.Records) > 0 && sns.Records[0].EventSource == "aws:sns" {
			n := 0
			for _, rec := range sns.Records {
				got, err := RecordEvents(ctx, d.Store, rec.SNS.Message)
				n += got
				if err != nil {
					// SNS delivers again; recording an event twice only
					// counts it twice.
					log.Error("record SES event", "err", err, "message", rec.SNS.MessageID)
					return nil, err
				}
			}
			log.Info("SES events recorded", "addresses", n)
			return map[string]int{"addresses": n}, nil
		}
		r, err := d.Run(ctx)
		log.Info("mail run", "report", r, "err", err)
		return r, err
	}
}
