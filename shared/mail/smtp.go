package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"os"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTP sends through an SMTP relay, one connection a message.
type SMTP struct {
	// Addr is the relay's host:port.
	Addr string
	// Username and Password, if set, authenticate with AUTH PLAIN (only
	// over TLS).
	Username, Password string
	// Security is "starttls" (the default), "tls" (implicit TLS, port
	// 465) or "none" (plain text: only for a relay on a loopback address,
	// such as the local server's catcher).
	Security string
	Timeout  time.Duration
	// TLSConfig, if set, replaces the default (system roots, ServerName
	// from Addr).
	TLSConfig *tls.Config
}

// SMTPFromEnv returns the relay configured by SMTP_ADDR (host:port),
// SMTP_USERNAME, SMTP_PASSWORD and SMTP_SECURITY, or nil if SMTP_ADDR is
// not set.
func SMTPFromEnv() (*SMTP, error) {
	addr := os.Getenv("SMTP_ADDR")
	if addr == "" {
		return nil, nil
	}
	s := &SMTP{Addr: addr, Username: os.Getenv("SMTP_USERNAME"), Password: os.Getenv("SMTP_PASSWORD"), Security: os.Getenv("SMTP_SECURITY")}
	return s, s.check()
}

func (s *SMTP) check() error {
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("SMTP_ADDR %q: give host:port, e.g. smtp.example.fi:587", s.Addr)
	}
	switch s.Security {
	case "", "starttls", "tls":
	case "none":
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("SMTP_SECURITY=none sends mail and passwords in plain text; it is allowed only to a loopback relay, not %s", host)
		}
		if s.Username != "" {
			return errors.New("SMTP_USERNAME needs TLS: use SMTP_SECURITY=starttls or tls")
		}
	default:
		return fmt.Errorf("SMTP_SECURITY %q: use starttls, tls or none", s.Security)
	}
	return nil
}

// Send sends one message. A 5xx answer is Permanent; anything else (no
// connection, a 4xx answer) may pass on a retry.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if err := s.check(); err != nil {
		return &Permanent{err}
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return err
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	host, _, _ := net.SplitHostPort(s.Addr)
	cfg := s.TLSConfig
	if cfg == nil {
		cfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	var c *smtp.Client
	switch s.Security {
	case "tls":
		c = smtp.NewClient(tls.Client(conn, cfg))
	case "none":
		c = smtp.NewClient(conn)
	default:
		if c, err = smtp.NewClientStartTLS(conn, cfg); err != nil {
			conn.Close()
			return classify(err)
		}
	}
	defer c.Close()
	if s.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", s.Username, s.Password)); err != nil {
			return classify(err)
		}
	}
	from := m.From
	if a, err := mail.ParseAddress(m.From); err == nil {
		from = a.Address
	}
	if err := c.SendMail(from, []string{m.To}, bytes.NewReader(m.Bytes())); err != nil {
		return classify(err)
	}
	_ = c.Quit()
	return nil
}

func classify(err error) error {
	if se, ok := errors.AsType[*smtp.SMTPError](err); ok && se.Code >= 500 {
		return &Permanent{err}
	}
	return err
}
