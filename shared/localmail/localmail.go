// Package localmail is the local server's mail catcher: a real SMTP
// server (github.com/emersion/go-smtp) on a loopback port that keeps every
// message it accepts in memory, and a mailbox page that shows them. The
// dispatcher reaches it through the same SMTP client it uses for a ring's
// relay.
package localmail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Mail is one message as the catcher received it.
type Mail struct {
	From         string    `json:"from"`
	To           []string  `json:"to"`
	Subject      string    `json:"subject"`
	Lang         string    `json:"lang"`
	MessageID    string    `json:"messageId"`
	Notification string    `json:"notification"`
	Text         string    `json:"text"`
	Received     time.Time `json:"received"`
	Raw          string    `json:"-"`
}

// Server is the catcher.
type Server struct {
	// Addr is where it listens (127.0.0.1:port).
	Addr   string
	srv    *smtp.Server
	mu     sync.Mutex
	mail   []Mail
	refuse map[string]*smtp.SMTPError
}

// Refuse makes the server answer RCPT TO for the address with the code:
// a 4xx (try later) or a 5xx (refused for good), as a real relay does for
// a full or unknown mailbox. Code 0 accepts it again.
func (s *Server) Refuse(addr string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse == nil {
		s.refuse = map[string]*smtp.SMTPError{}
	}
	if code == 0 {
		delete(s.refuse, strings.ToLower(addr))
		return
	}
	s.refuse[strings.ToLower(addr)] = &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 1, 1}, Message: "mailbox refused by the local catcher"}
}

// MaxBytes is the largest message accepted.
const MaxBytes = 1 << 20

// Start listens on addr (":0" for any free loopback port).
func Start(addr string) (*Server, error) {
	if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: ln.Addr().String()}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	s.srv.Domain = "localhost"
	s.srv.MaxMessageBytes = MaxBytes
	s.srv.MaxRecipients = 50
	s.srv.ReadTimeout, s.srv.WriteTimeout = 30*time.Second, 30*time.Second
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// Messages returns what was received, oldest first.
func (s *Server) Messages() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mail...)
}

type session struct {
	s    *Server
	from string
	to   []string
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if _, err := mail.ParseAddress(to); err != nil {
		return &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 1, 3}, Message: "not an address: " + to}
	}
	x.s.mu.Lock()
	refused := x.s.refuse[strings.ToLower(to)]
	x.s.mu.Unlock()
	if refused != nil {
		return refused
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return err
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "not an RFC 5322 message: " + err.Error()}
	}
	body := io.Reader(msg.Body)
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	text, err := io.ReadAll(body)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "bad body: " + err.Error()}
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		subject = msg.Header.Get("Subject")
	}
	m := Mail{From: x.from, To: x.to, Subject: subject, Lang: msg.Header.Get("Content-Language"),
		MessageID: strings.Trim(msg.Header.Get("Message-ID"), "<>"), Notification: msg.Header.Get("X-Rengas-Notification"),
		Text: strings.ReplaceAll(string(text), "\r\n", "\n"), Received: time.Now(), Raw: string(raw)}
	x.s.mu.Lock()
	x.s.mail = append(x.s.mail, m)
	x.s.mu.Unlock()
	return nil
}

var page = template.Must(template.New("mailbox").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Local mailbox ({{len .}})</title>
<style>body{font-family:sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem}article{border-top:1px solid #999;padding:.5rem 0}pre{white-space:pre-wrap}</style></head>
<body><h1>Local mailbox</h1>
<p>Every message the local server's dispatcher sent, as its SMTP catcher received it (newest first; kept in memory until the server stops). JSON: <a href="?format=json">?format=json</a>.</p>
{{range .}}<article lang="{{.Lang}}"><h2>{{.Subject}}</h2>
<p>To: {{range .To}}{{.}} {{end}}· From: {{.From}} · {{.Received.Format "2006-01-02 15:04:05"}} · language {{.Lang}} · notification {{.Notification}}</p>
<pre>{{.Text}}</pre></article>
{{else}}<p>No mail yet.</p>{{end}}
</body></html>`))

// Handler serves the mailbox page (and its JSON with ?format=json).
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ms := s.Messages()
		for i, j := 0, len(ms)-1; i < j; i, j = i+1, j-1 {
			ms[i], ms[j] = ms[j], ms[i]
		}
		w.Header().Set("Cache-Control", "no-store")
		if r.URL.Query().Get("format") == "json" {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(ms)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := page.Execute(w, ms); err != nil && !errors.Is(err, context.Canceled) {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
}
