package mail

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/rengas/rengas/shared/dynamo"
)

// sesEvent is the part of an SES event (configuration-set event
// publishing, or the identity's feedback notifications, whose field is
// notificationType) that concerns addresses.
type sesEvent struct {
	EventType        string `json:"eventType"`
	NotificationType string `json:"notificationType"`
	Bounce           *struct {
		BounceType        string `json:"bounceType"`
		BounceSubType     string `json:"bounceSubType"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
	Complaint *struct {
		ComplaintFeedbackType string `json:"complaintFeedbackType"`
		ComplainedRecipients  []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
	} `json:"complaint"`
}

// AddressEvents reads the bounces and complaints of one SES event (the
// Message of its SNS notification). A permanent bounce or any complaint
// suppresses the address; a transient bounce is only counted. Other
// events (deliveries, sends) give nothing.
func AddressEvents(message string) ([]dynamo.AddressEvent, error) {
	var ev sesEvent
	if err := json.Unmarshal([]byte(message), &ev); err != nil {
		return nil, fmt.Errorf("not an SES event: %w", err)
	}
	kind := ev.EventType
	if kind == "" {
		kind = ev.NotificationType
	}
	var out []dynamo.AddressEvent
	switch {
	case kind == "Bounce" && ev.Bounce != nil:
		for _, r := range ev.Bounce.BouncedRecipients {
			out = append(out, dynamo.AddressEvent{Address: r.EmailAddress, Suppress: ev.Bounce.BounceType == "Permanent",
				Detail: fmt.Sprintf("bounce %s/%s %s", ev.Bounce.BounceType, ev.Bounce.BounceSubType, r.DiagnosticCode)})
		}
	case kind == "Complaint" && ev.Complaint != nil:
		for _, r := range ev.Complaint.ComplainedRecipients {
			out = append(out, dynamo.AddressEvent{Address: r.EmailAddress, Complaint: true, Suppress: true,
				Detail: "complaint " + ev.Complaint.ComplaintFeedbackType})
		}
	}
	return out, nil
}

// RecordEvents records each bounce and complaint of an SES event against
// its address: one UpdateItem an address.
func RecordEvents(ctx context.Context, st *dynamo.Store, message string) (int, error) {
	evs, err := AddressEvents(message)
	if err != nil {
		return 0, err
	}
	for i, ev := range evs {
		if err := st.RecordAddressEvent(ctx, ev); err != nil {
			return i, err
		}
	}
	return len(evs), nil
}
