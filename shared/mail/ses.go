package mail

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
)

// SES sends through Amazon SES (API v2), with a configuration set whose
// event destination reports bounces and complaints (see Events).
type SES struct {
	Client           *sesv2.Client
	ConfigurationSet string
}

// Send sends one message as raw MIME, so that SES sends exactly what the
// SMTP relay would. A refused message or address is Permanent; throttling,
// a paused account or a service error may pass on a retry.
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
	if err == nil {
		return nil
	}
	var rejected *types.MessageRejected
	var bad *types.BadRequestException
	var notVerified *types.MailFromDomainNotVerifiedException
	var notFound *types.NotFoundException
	if errors.As(err, &rejected) || errors.As(err, &bad) || errors.As(err, &notVerified) || errors.As(err, &notFound) {
		return &Permanent{err}
	}
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorFault() == smithy.FaultClient && api.ErrorCode() != "TooManyRequestsException" &&
		api.ErrorCode() != "LimitExceededException" && api.ErrorCode() != "SendingPausedException" && api.ErrorCode() != "AccountSuspendedException" {
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
