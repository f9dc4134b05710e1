package mail_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/mail"
)

// The function's entry point records SES events from SNS and, on the
// schedule's event, mails the queue.
func TestMailerEntryPoint(t *testing.T) {
	e := setup(t, true)
	ctx := context.Background()
	h := e.d.Handler(slog.New(slog.NewTextHandler(io.Discard, nil)))
	complaint := `{"eventType":"Complaint","complaint":{"complaintFeedbackType":"abuse","complainedRecipients":[{"emailAddress":"angry@example.fi"}]}}`
	sns, _ := json.Marshal(events.SNSEvent{Records: []events.SNSEventRecord{{EventSource: "aws:sns", SNS: events.SNSEntity{MessageID: "1", Message: complaint}}}})
	if out, err := h(ctx, sns); err != nil || out.(map[string]int)["addresses"] != 1 {
		t.Fatalf("SNS: %v %v", out, err)
	}
	states, _ := e.st.AddressStates(ctx, []string{"angry@example.fi"})
	if !states["angry@example.fi"].Suppressed || states["angry@example.fi"].Complaints != 1 {
		t.Errorf("the complaint was not recorded: %+v", states)
	}
	bad, _ := json.Marshal(events.SNSEvent{Records: []events.SNSEventRecord{{EventSource: "aws:sns", SNS: events.SNSEntity{Message: "not json"}}}})
	if _, err := h(ctx, bad); err == nil {
		t.Error("a message that is not an SES event must fail, so that SNS delivers it again or dead-letters it")
	}
	for _, a := range []string{"angry@example.fi", "calm@example.fi"} {
		org := "org-" + a[:4]
		if err := e.st.RecordMailUser(ctx, org, dynamo.MailUser{ID: "u", Email: a, Lang: "en"}); err != nil {
			t.Fatal(err)
		}
		if err := e.st.Notify(ctx, org, "competition.cancelled", "c1", "Cancelled."); err != nil {
			t.Fatal(err)
		}
	}
	schedule, _ := json.Marshal(events.EventBridgeEvent{DetailType: "Scheduled Event", Source: "aws.events"})
	out, err := h(ctx, schedule)
	if r, ok := out.(mail.Report); err != nil || !ok || r.Sent != 1 || r.Suppressed != 1 {
		t.Fatalf("scheduled run: %+v %v", out, err)
	}
	if ms := e.box.Messages(); len(ms) != 1 || ms[0].To[0] != "calm@example.fi" {
		t.Errorf("mails %+v", ms)
	}
}
