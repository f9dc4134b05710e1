package mail

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// SES sends through Amazon SES (API v2), with a configuration set whose
// event destination reports bounces and complaints (see Events).
type SES struct {
	Client           *sesv2.Client
	ConfigurationSet string
}

// Send sends one message as raw MIME, so that SES sends exactly what the
// SMTP relay would. Only a malformed request (BadRequestException, such as
// an address SES cannot parse) is Permanent. SES refuses a message
// synchronously mostly for reasons of the deployment, not of the
// recipient (a sender domain not verified yet, the sandbox's unverified
// recipients, a paused account, throttling): those are retried with
// backoff and, if they persist, given up with the MailGivenUp alarm.
// Bounces and complaints arrive later as events (Events).
func (s *SES) Send(ctx context.Context, m Message) error {
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(m.From),
		Destination:      &types.Destination{ToAddresses: []string{m.To}},
		Content:          &types.EmailContent{Raw: &types.RawMessage{Data: m.Bytes()}},
		EmailTags:        []types.MessageTag{{Name: aws.String("notification"), Value: aws.String(tagValue(m.Notification))}},
	}
	if s.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(s.ConfigurationSet)
	}
	_, err := s.Client.SendEmail(ctx, in)
	if _, bad := errors.AsType[*types.BadRequestException](err); bad {
		return &Permanent{err}
	}
	return err
}

// tagValue keeps the characters SES allows in a tag value.
func tagValue(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "none"
	}
	return string(b)
}
