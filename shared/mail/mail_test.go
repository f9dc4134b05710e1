package mail_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/localdb"
	"github.com/rengas/rengas/shared/localmail"
	"github.com/rengas/rengas/shared/mail"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/seed"
)

const (
	from = "Rengas <rengas@lahti.example.fi>"
	base = "https://rengas.lahti.example.fi"
)

var tables atomic.Int64

type env struct {
	eng   *localdb.Engine
	st    *dynamo.Store
	clock *dynamo.Clock
	box   *localmail.Server
	d     *mail.Dispatcher
}

// setup starts the DynamoDB engine, a table (seeded with the demo ring
// unless bare), the SMTP catcher and a dispatcher that sends to it through
// the SMTP client.
func setup(t testing.TB, bare bool) *env {
	t.Helper()
	eng, err := localdb.Start(":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	table := fmt.Sprintf("m%d", tables.Add(1))
	db, err := eng.Open(context.Background(), table)
	if err != nil {
		t.Fatal(err)
	}
	st := dynamo.New(db, table)
	clock := &dynamo.Clock{}
	st.Now = clock.Now
	if !bare {
		if err := seed.Load(context.Background(), st); err != nil {
			t.Fatal(err)
		}
	}
	box, err := localmail.Start(":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { box.Close() })
	cat, err := mail.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	d := &mail.Dispatcher{Store: st, Sender: &mail.SMTP{Addr: box.Addr, Security: "none", Timeout: 5 * time.Second}, Catalog: cat,
		From: from, BaseURL: base, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Backoff: time.Millisecond}
	return &env{eng: eng, st: st, clock: clock, box: box, d: d}
}

func (e *env) run(t testing.TB) mail.Report {
	t.Helper()
	r, err := e.d.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A published competition e-mails every invitee: each user of each invited
// organisation and its contact address, once, in the recipient's language,
// with the link to the competition's page; a second run sends nothing.
func TestPublishedCompetitionMailsEveryInvitee(t *testing.T) {
	e := setup(t, false)
	ctx := context.Background()
	first := e.run(t) // the demo ring's own notifications
	if first.Sent == 0 || first.Busy {
		t.Fatalf("the seed's notifications were not mailed: %+v", first)
	}
	before := len(e.box.Messages())

	officer := procurement.Actor{UserID: "officer-lahti", Role: procurement.RoleOfficer, Org: seed.BuyerLahti}
	c, err := e.st.CreateCompetition(ctx, officer, seed.DPSID, seed.DemoDefinition(e.st.Now()), seed.System[procurement.DPS])
	if err != nil {
		t.Fatal(err)
	}
	if c, err = e.st.PublishCompetition(ctx, officer, c.ID, c.Version, seed.System[procurement.Competition]); err != nil {
		t.Fatal(err)
	}
	if len(c.Invitees) < 2 {
		t.Fatalf("want at least two invitees, got %v", c.Invitees)
	}
	r := e.run(t)
	got := e.box.Messages()[before:]
	dirs, err := e.st.MailDirectories(ctx, c.Invitees)
	if err != nil {
		t.Fatal(err)
	}
	cat, _ := mail.NewCatalog()
	want := 0
	langs := map[string]bool{}
	for _, org := range c.Invitees {
		rcpts := mail.Recipients(dirs[org])
		if len(rcpts) < 2 {
			t.Errorf("%s: want its user and its contact address, got %v", org, rcpts)
		}
		for _, rc := range rcpts {
			want++
			langs[rc.Lang] = true
			subject, _ := cat.T(rc.Lang, "competition.invited.subject", map[string]string{"Ref": c.ID, "Subject": c.Title})
			if !strings.Contains(subject, c.Title) {
				t.Errorf("%s subject %q does not name the competition %q", rc.Lang, subject, c.Title)
			}
			var hits []localmail.Mail
			for _, m := range got {
				if slices.Contains(m.To, rc.Address) && m.Text != "" && strings.Contains(m.Text, "/competitions/"+c.ID) {
					hits = append(hits, m)
				}
			}
			if len(hits) != 1 {
				t.Errorf("%s (%s): %d invitations, want 1", rc.Address, org, len(hits))
				continue
			}
			m := hits[0]
			link := base + "/" + rc.Lang + "/competitions/" + c.ID
			if m.Subject != subject || m.Lang != rc.Lang || !strings.Contains(m.Text, link) || m.From != "rengas@lahti.example.fi" {
				t.Errorf("%s: subject %q lang %s, want %q in %s with the link %s:\n%s", rc.Address, m.Subject, m.Lang, subject, rc.Lang, link, m.Text)
			}
		}
	}
	if len(got) != want || r.Sent != want {
		t.Errorf("%d mails caught, %d reported sent; want %d (every user and contact of %d invitees)", len(got), r.Sent, want, len(c.Invitees))
	}
	if len(langs) < 2 {
		t.Errorf("the demo invitees read %v; the test needs more than one language", langs)
	}
	t.Logf("published %s to %d invitees: %d mails in %d languages, %d DynamoDB round trips", c.ID, len(c.Invitees), len(got), len(langs), r.RoundTrips)
	if again := e.run(t); again.Sent != 0 || again.Notifications != 0 || len(e.box.Messages()) != before+want {
		t.Errorf("a second run sent again: %+v", again)
	}
	// The outbox still lists the notification: mailing only takes it off the queue.
	page, err := e.st.ListNotifications(ctx, c.Invitees[0], "", 5)
	if err != nil || len(page.Items) == 0 || page.Items[0].Kind != "competition.invited" {
		t.Errorf("the invitee's outbox: %v %v", page.Items, err)
	}
}

// A relay that answers 4xx is tried again on a later run, and the mail then
// sent once; one that answers 5xx is not tried again; an address with a
// permanent bounce or a complaint reported by SES is not mailed at all.
func TestRetriesRefusalsAndSuppression(t *testing.T) {
	e := setup(t, true)
	ctx := context.Background()
	for i, a := range []string{"later@a.example.fi", "never@b.example.fi", "bounced@c.example.fi", "ok@d.example.fi"} {
		org := fmt.Sprintf("org-%d", i)
		if err := e.st.RecordMailUser(ctx, org, dynamo.MailUser{ID: "u" + org, Email: a, Lang: "fi"}); err != nil {
			t.Fatal(err)
		}
		if err := e.st.Notify(ctx, org, "declaration.requested", "req-"+org, "Renewed self-declaration requested"); err != nil {
			t.Fatal(err)
		}
	}
	e.box.Refuse("later@a.example.fi", 451)
	e.box.Refuse("never@b.example.fi", 550)
	bounce := `{"eventType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General","bouncedRecipients":[{"emailAddress":"Bounced@c.example.fi","diagnosticCode":"smtp; 550 5.1.1 user unknown"}]},"mail":{"destination":["bounced@c.example.fi"]}}`
	if n, err := mail.RecordEvents(ctx, e.st, bounce); err != nil || n != 1 {
		t.Fatalf("record the bounce: %d %v", n, err)
	}
	complaint := `{"notificationType":"Complaint","complaint":{"complaintFeedbackType":"abuse","complainedRecipients":[{"emailAddress":"someone@else.example.fi"}]}}`
	if n, err := mail.RecordEvents(ctx, e.st, complaint); err != nil || n != 1 {
		t.Fatalf("record the complaint: %d %v", n, err)
	}
	transient := `{"eventType":"Bounce","bounce":{"bounceType":"Transient","bouncedRecipients":[{"emailAddress":"ok@d.example.fi"}]}}`
	if _, err := mail.RecordEvents(ctx, e.st, transient); err != nil {
		t.Fatal(err)
	}
	states, _ := e.st.AddressStates(ctx, []string{"bounced@c.example.fi", "someone@else.example.fi", "ok@d.example.fi"})
	if !states["bounced@c.example.fi"].Suppressed || !states["someone@else.example.fi"].Suppressed || states["ok@d.example.fi"].Suppressed || states["ok@d.example.fi"].Bounces != 1 {
		t.Fatalf("address states %+v", states)
	}

	r := e.run(t)
	if r.Sent != 1 || r.Failed != 1 || r.Suppressed != 1 || r.Deferred != 1 {
		t.Fatalf("first run %+v, want 1 sent, 1 refused for good, 1 suppressed, 1 deferred", r)
	}
	if again := e.run(t); again.Notifications != 0 {
		t.Fatalf("the deferred notification was retried before its time: %+v", again)
	}
	e.box.Refuse("later@a.example.fi", 0)
	e.box.Refuse("never@b.example.fi", 0)
	e.clock.Advance(mail.RetryDelay(0) + time.Second)
	r = e.run(t)
	if r.Notifications != 1 || r.Sent != 1 {
		t.Fatalf("after the retry delay: %+v, want the deferred notification sent", r)
	}
	e.clock.Advance(24 * time.Hour)
	if r = e.run(t); r.Notifications != 0 || r.RoundTrips != 2+dynamo.MailShards {
		t.Fatalf("something stayed queued, or an idle run cost more than the lease and a Query per shard: %+v", r)
	}
	count := map[string]int{}
	for _, m := range e.box.Messages() {
		count[m.To[0]]++
	}
	if count["later@a.example.fi"] != 1 || count["ok@d.example.fi"] != 1 || count["never@b.example.fi"] != 0 || count["bounced@c.example.fi"] != 0 {
		t.Errorf("mails per address %v", count)
	}
}

// Two dispatchers never run at once: the second finds the lease taken.
func TestOneDispatcherAtATime(t *testing.T) {
	e := setup(t, true)
	ctx := context.Background()
	ok, err := e.st.TakeMailLease(ctx, "someone-else", time.Minute)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if r := e.run(t); !r.Busy {
		t.Errorf("ran while another held the lease: %+v", r)
	}
	e.clock.Advance(2 * time.Minute)
	if r := e.run(t); r.Busy {
		t.Errorf("an expired lease still held: %+v", r)
	}
	// Two runs of one dispatcher at once (the local timer and a manual
	// run) mail each address once between them.
	for i := range 60 {
		org := fmt.Sprintf("org-%d", i)
		if err := e.st.RecordMailUser(ctx, org, dynamo.MailUser{ID: "u" + org, Email: org + "@example.fi", Lang: "sv"}); err != nil {
			t.Fatal(err)
		}
		if err := e.st.Notify(ctx, org, "question.asked", "comp", "A question awaits an answer."); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	reports, errs := make([]mail.Report, 2), make([]error, 2)
	for i := range reports {
		wg.Go(func() { reports[i], errs[i] = e.d.Run(ctx) })
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	if n := len(e.box.Messages()); n != 60 || reports[0].Sent+reports[1].Sent != 60 {
		t.Errorf("two runs at once: %d mails caught, reports %+v %+v; want 60 in all", n, reports[0], reports[1])
	}
}

// Every kind has its texts in every language, and every text is used.
func TestCatalogIsComplete(t *testing.T) {
	cat, err := mail.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range dynamo.MailLanguages {
		for _, k := range append(slices.Clone(mail.Kinds), "other") {
			for _, part := range []string{".subject", ".body"} {
				if _, err := cat.T(l, k+part, map[string]string{"Ref": "x"}); err != nil {
					t.Error(err)
				}
			}
		}
		for _, id := range []string{"mail.details", "mail.open", "mail.footer"} {
			if _, err := cat.T(l, id, map[string]string{"Org": "x", "Notifications": "y"}); err != nil {
				t.Error(err)
			}
		}
	}
}

// TestThousandNotifications measures the DynamoDB round trips of mailing
// 1,000 notifications to 1,000 organisations (one user each), and bounds
// them.
func TestThousandNotifications(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 1,000 mails through SMTP")
	}
	start := time.Now()
	r := mailThousand(t)
	t.Logf("1,000 notifications mailed in %d DynamoDB round trips (%v, %d mails)", r.RoundTrips, time.Since(start).Round(time.Millisecond), r.Sent)
	// lease 2 + queue ceil(~250/100) per shard + 1,000 confirmed/100 + 2,000 directory keys/100 + 1,000 addresses/100 + 1,000/50 marks
	if limit := int64(2 + 3*dynamo.MailShards + 10 + 20 + 10 + 20); r.RoundTrips > limit {
		t.Errorf("%d round trips, want at most %d", r.RoundTrips, limit)
	}
}

// BenchmarkMailThousandNotifications reports the same figure per run.
func BenchmarkMailThousandNotifications(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		e := prepareThousand(b)
		b.StartTimer()
		r, err := e.d.Run(context.Background())
		if err != nil || r.Sent != 1000 {
			b.Fatal(r, err)
		}
		b.ReportMetric(float64(r.RoundTrips), "roundtrips/1000notifications")
	}
}

func prepareThousand(tb testing.TB) *env {
	e := setup(tb, true)
	ctx := context.Background()
	for i := range 1000 {
		org := fmt.Sprintf("org-%04d", i)
		if err := e.st.RecordMailUser(ctx, org, dynamo.MailUser{ID: "u" + org, Email: org + "@example.fi", Lang: dynamo.MailLanguages[i%3]}); err != nil {
			tb.Fatal(err)
		}
		if err := e.st.Notify(ctx, org, "competition.invited", "comp-1", "You are invited to bid."); err != nil {
			tb.Fatal(err)
		}
	}
	return e
}

func mailThousand(t *testing.T) mail.Report {
	e := prepareThousand(t)
	r := e.run(t)
	if r.Sent != 1000 || r.Notifications != 1000 || len(e.box.Messages()) != 1000 {
		t.Fatalf("%+v; caught %d", r, len(e.box.Messages()))
	}
	return r
}

// A fan-out cut short after its notifications were written (its own
// record not yet deleted) is finished by the scheduled job; notifications
// already mailed by then are not written again, so nobody is mailed twice.
func TestInterruptedFanOutIsNotMailedTwice(t *testing.T) {
	e := setup(t, false)
	ctx := context.Background()
	if _, err := e.st.RunSchedule(ctx); err != nil { // its own notifications first
		t.Fatal(err)
	}
	e.run(t)
	before := len(e.box.Messages())
	officer := procurement.Actor{UserID: "officer-lahti", Role: procurement.RoleOfficer, Org: seed.BuyerLahti}
	c, err := e.st.CreateCompetition(ctx, officer, seed.DPSID, seed.DemoDefinition(e.st.Now()), seed.System[procurement.DPS])
	if err != nil {
		t.Fatal(err)
	}
	// The request dies before it deletes its fan-out record.
	e.eng.Faults(localdb.FaultNext(1, localdb.Fault{Kind: localdb.Throttle, Code: "ValidationException"}, "DeleteItem"))
	if _, err = e.st.PublishCompetition(ctx, officer, c.ID, c.Version, seed.System[procurement.Competition]); err != nil {
		t.Fatal(err)
	}
	e.eng.Faults(nil)
	first := e.run(t)
	if first.Sent == 0 {
		t.Fatalf("the invitations were not mailed: %+v", first)
	}
	report, err := e.st.RunSchedule(ctx)
	if err != nil || report.Dispatched != 1 {
		t.Fatalf("the scheduled job finished %d fan-outs (%v), want the one left behind", report.Dispatched, err)
	}
	if again := e.run(t); again.Notifications != 0 || again.Sent != 0 {
		t.Errorf("finishing the fan-out queued its notifications again: %+v", again)
	}
	if n := len(e.box.Messages()) - before; n != first.Sent {
		t.Errorf("%d mails, want %d", n, first.Sent)
	}
}
