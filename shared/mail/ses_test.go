package mail_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/rengas/rengas/shared/mail"
)

// The SES sender sends the same raw message as the SMTP relay would, with
// the configuration set, through the SDK's real SendEmail call (to an
// endpoint that answers as SES does); only a malformed request is a
// permanent failure.
func TestSESSendAndErrors(t *testing.T) {
	var got struct {
		FromEmailAddress     string
		ConfigurationSetName string
		Destination          struct{ ToAddresses []string }
		Content              struct{ Raw struct{ Data string } }
	}
	answer := func(w http.ResponseWriter) { w.Write([]byte(`{"MessageId":"m-1"}`)) }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Path != "/v2/email/outbound-emails" || !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
			t.Errorf("%s %s (auth %q)", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &got); err != nil {
			t.Error(err)
		}
		answer(w)
	}))
	defer srv.Close()
	client := sesv2.New(sesv2.Options{Region: "eu-north-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
	s := &mail.SES{Client: client, ConfigurationSet: "rengas"}
	m := mail.Message{From: "Rengas <rengas@lahti.example.fi>", To: "liisa@lahti.example.fi", Subject: "Tarjouspyyntö: Työvalmennus", Text: "Hei\n", Lang: "fi",
		ID: "abc@lahti.example.fi", Notification: "n1", Date: time.Unix(0, 0)}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	data, _ := base64.StdEncoding.DecodeString(got.Content.Raw.Data)
	if got.FromEmailAddress != m.From || got.ConfigurationSetName != "rengas" || len(got.Destination.ToAddresses) != 1 ||
		got.Destination.ToAddresses[0] != m.To || string(data) != string(m.Bytes()) {
		t.Errorf("SES got %+v\n%s", got, data)
	}
	for code, permanent := range map[string]bool{"BadRequestException": true, "MessageRejected": false, "TooManyRequestsException": false, "MailFromDomainNotVerifiedException": false} {
		answer = func(w http.ResponseWriter) {
			w.Header().Set("X-Amzn-ErrorType", code)
			w.WriteHeader(400)
			w.Write([]byte(`{"message":"refused"}`))
		}
		err := s.Send(context.Background(), m)
		if err == nil || mail.IsPermanent(err) != permanent {
			t.Errorf("%s: error %v, permanent %t, want %t", code, err, mail.IsPermanent(err), permanent)
		}
	}
}

// A relay is configured from the environment; plain text is allowed only
// to a loopback relay, and never with a password.
func TestSMTPFromEnv(t *testing.T) {
	for _, c := range []struct {
		addr, security, user string
		ok                   bool
	}{
		{"smtp.lahti.example.fi:587", "", "rengas", true},
		{"smtp.lahti.example.fi:465", "tls", "", true},
		{"127.0.0.1:2525", "none", "", true},
		{"smtp.lahti.example.fi:25", "none", "", false},
		{"127.0.0.1:2525", "none", "rengas", false},
		{"smtp.lahti.example.fi", "", "", false},
		{"smtp.lahti.example.fi:587", "ssl", "", false},
	} {
		t.Setenv("SMTP_ADDR", c.addr)
		t.Setenv("SMTP_SECURITY", c.security)
		t.Setenv("SMTP_USERNAME", c.user)
		if _, err := mail.SMTPFromEnv(); (err == nil) != c.ok {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
