// Package mail turns the notification outbox into e-mail.
//
// Every notification is written with an entry on the mail queue (a sparse
// index over the notification items, see shared/dynamo/mail.go). The
// Dispatcher reads the queue, e-mails each notification to every user in
// its organisation's mail directory and to the organisation's contact
// address, each in the recipient's language with a link to the page that
// needs them, and marks each address as sent on the notification. It
// sends through SES (API v2) in AWS or through an SMTP relay (a ring's
// own, or the catcher the local server embeds).
package mail

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/rengas/rengas/shared/dynamo"
)

// Message is one e-mail to one recipient.
type Message struct {
	From, To string
	Subject  string
	Text     string
	Lang     string
	// ID is the Message-ID, the same for every attempt to send one
	// notification to one address: a duplicate sent after a crash carries
	// the ID of the first, and mail programs show them as one.
	ID string
	// Notification is the id of the notification mailed.
	Notification string
	Date         time.Time
}

// Bytes is the message in RFC 5322 form: UTF-8 text, quoted-printable,
// CRLF line ends.
func (m Message) Bytes() []byte {
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", m.From)
	h("To", m.To)
	h("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	h("Date", m.Date.UTC().Format(time.RFC1123Z))
	h("Message-ID", "<"+m.ID+">")
	h("Content-Language", m.Lang)
	h("X-Rengas-Notification", m.Notification)
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(m.Text, "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}

// Sender sends one message. Its errors say whether trying again may help:
// a Permanent error (the address or the message is refused for good) is
// not retried.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Permanent marks an error that a retry cannot cure.
type Permanent struct{ Err error }

func (p *Permanent) Error() string { return "permanent: " + p.Err.Error() }
func (p *Permanent) Unwrap() error { return p.Err }

// IsPermanent reports whether err is a Permanent error.
func IsPermanent(err error) bool {
	_, ok := errors.AsType[*Permanent](err)
	return ok
}

//go:embed messages/*.json
var messageFiles embed.FS

// Catalog holds the mail texts in fi, sv and en.
type Catalog struct {
	localizers map[string]*i18n.Localizer
}

// NewCatalog loads the embedded catalogs.
func NewCatalog() (*Catalog, error) {
	b := i18n.NewBundle(language.Finnish)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	c := &Catalog{localizers: map[string]*i18n.Localizer{}}
	for _, l := range dynamo.MailLanguages {
		if _, err := b.LoadMessageFileFS(messageFiles, "messages/"+l+".json"); err != nil {
			return nil, fmt.Errorf("mail catalog %s: %w", l, err)
		}
		c.localizers[l] = i18n.NewLocalizer(b, l)
	}
	return c, nil
}

// T translates a message id in a language; no fallback to another
// language (the catalog test finds missing texts).
func (c *Catalog) T(lang, id string, data any) (string, error) {
	s, tag, err := c.localizers[lang].LocalizeWithTag(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil || tag.String() != lang {
		return "", fmt.Errorf("mail text %s/%s is missing: %v", lang, id, err)
	}
	return s, nil
}

// Kinds are the notification kinds the catalogs have texts for; any other
// kind is mailed with the "other" texts.
var Kinds = []string{
	"competition.invited", "competition.amended", "competition.cancelled", "competition.awarded",
	"question.asked", "question.answered",
	"application.decided", "application.overdue",
	"admission.admitted", "admission.suspended", "admission.excluded",
	"declaration.requested",
}

// Path is the page (without the language prefix) that a notification
// needs its reader on.
func Path(kind, ref string) string {
	switch {
	case kind == "competition.awarded":
		return "/competitions/" + ref + "/decision"
	case strings.HasPrefix(kind, "competition.") || strings.HasPrefix(kind, "question."):
		return "/competitions/" + ref
	case kind == "application.decided":
		return "/applications"
	case kind == "application.overdue":
		return "/queue"
	case strings.HasPrefix(kind, "admission."):
		return "/registration"
	case kind == "declaration.requested":
		return "/declarations/" + ref
	}
	return "/notifications"
}

// Compose writes the mail of one notification to one recipient in the
// recipient's language. base is the public address of the pages.
func (c *Catalog) Compose(nt dynamo.Notification, to Recipient, from, base string, now time.Time) (Message, error) {
	kind := nt.Kind
	if !known(kind) {
		kind = "other"
	}
	base = strings.TrimSuffix(base, "/")
	data := map[string]string{"Ref": nt.Ref, "Subject": nt.Subject, "Org": nt.To, "Notifications": base + "/" + to.Lang + "/notifications"}
	var parts [5]string
	for i, id := range []string{kind + ".subject", kind + ".body", "mail.details", "mail.open", "mail.footer"} {
		s, err := c.T(to.Lang, id, data)
		if err != nil {
			return Message{}, err
		}
		parts[i] = s
	}
	link := base + "/" + to.Lang + Path(nt.Kind, nt.Ref)
	text := parts[1] + "\n\n" + parts[3] + "\n" + link + "\n\n" + parts[2] + "\n" + nt.Message + "\n\n-- \n" + parts[4] + "\n"
	sum := sha256.Sum256([]byte(nt.To + "\x00" + nt.ID + "\x00" + dynamo.NormalAddress(to.Address)))
	host := "rengas.invalid"
	if a, err := mail.ParseAddress(from); err == nil {
		if _, h, ok := strings.Cut(a.Address, "@"); ok {
			host = h
		}
	}
	return Message{From: from, To: to.Address, Subject: parts[0], Text: text, Lang: to.Lang, Date: now,
		ID: hex.EncodeToString(sum[:16]) + "@" + host, Notification: nt.ID}, nil
}

func known(kind string) bool {
	for _, k := range Kinds {
		if k == kind {
			return true
		}
	}
	return false
}

// Recipient is one address a notification is mailed to.
type Recipient struct {
	Address string
	Lang    string
}

// Recipients are the addresses of an organisation's directory: every user
// in their own language, and the contact address in the language most of
// the users chose (Finnish if none did), each address once.
func Recipients(d dynamo.MailDirectory) []Recipient {
	var out []Recipient
	seen := map[string]bool{}
	count := map[string]int{}
	for _, u := range d.Users {
		count[u.Lang]++
		if a := dynamo.NormalAddress(u.Email); a != "" && !seen[a] {
			seen[a] = true
			out = append(out, Recipient{Address: u.Email, Lang: u.Lang})
		}
	}
	if a := dynamo.NormalAddress(d.Contact); a != "" && !seen[a] {
		lang := "fi"
		for _, l := range dynamo.MailLanguages {
			if count[l] > count[lang] {
				lang = l
			}
		}
		out = append(out, Recipient{Address: d.Contact, Lang: lang})
	}
	return out
}
