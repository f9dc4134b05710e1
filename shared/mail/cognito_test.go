package mail_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/mail"
)

func cognitoEvent(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "cognito", name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// The Cognito trigger records every user who signs in, through the pages
// or the API, with a verified address: in their organisation's directory,
// in their language (fi when their locale is none of fi, sv, en). It
// answers Cognito the event unchanged.
func TestCognitoTriggerFillsTheDirectory(t *testing.T) {
	e := setup(t, true)
	ctx := context.Background()
	h := mail.CognitoTrigger(e.st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, name := range []string{"post-authentication.json", "post-authentication-unverified.json", "post-confirmation-unknown-locale.json"} {
		raw := cognitoEvent(t, name)
		before := e.st.RoundTrips()
		out, err := h(ctx, raw)
		if err != nil || !bytes.Equal(out, raw) {
			t.Fatalf("%s: the trigger must answer the event unchanged: %v", name, err)
		}
		want := int64(1) // one conditional UpdateItem
		if name == "post-authentication-unverified.json" {
			want = 0
		}
		if trips := e.st.RoundTrips() - before; trips != want {
			t.Errorf("%s: %d DynamoDB round trips, want %d", name, trips, want)
		}
	}
	dirs, err := e.st.MailDirectories(ctx, []string{"provider-hoivapolku", "buyer-lahti"})
	if err != nil {
		t.Fatal(err)
	}
	p := dirs["provider-hoivapolku"].Users
	if len(p) != 1 || p[0].Email != "api.user@hoivapolku.example.fi" || p[0].Lang != "sv" || p[0].ID != "4b1e7c2a-0f3d-4a55-9d27-6c1f0e0a9b11" || p[0].Seen == "" {
		t.Errorf("provider directory: want the verified API user only, in sv, stamped; got %+v", p)
	}
	b := dirs["buyer-lahti"].Users
	if len(b) != 1 || b[0].Email != "hankinnat@lahti.example.fi" || b[0].Lang != "fi" {
		t.Errorf("buyer directory: want the user in fi (locale de-DE); got %+v", b)
	}

	// A trigger older than the sign-in recorded (a delayed retry) changes nothing.
	now := e.clock.Now()
	e.clock.Set(now.Add(-time.Hour))
	if err := e.st.RecordMailUser(ctx, "buyer-lahti", dynamo.MailUser{ID: b[0].ID, Email: "old@lahti.example.fi", Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(now)
	dirs, _ = e.st.MailDirectories(ctx, []string{"buyer-lahti"})
	if u := dirs["buyer-lahti"].Users; len(u) != 1 || u[0].Email != "hankinnat@lahti.example.fi" || u[0].Seen != b[0].Seen {
		t.Errorf("an older sign-in overwrote a later one: %+v", u)
	}
}

func TestLocale(t *testing.T) {
	for in, want := range map[string]string{"fi": "fi", "sv-FI": "sv", "SV_se": "sv", "en": "en", "en-GB": "en", "de-DE": "fi", "": "fi", "finnish": "fi"} {
		if got := mail.Locale(in); got != want {
			t.Errorf("Locale(%q) = %q, want %q", in, got, want)
		}
	}
}

// A user who has not signed in for the directory's maximum age (one who
// left and was disabled in Cognito) is no longer mailed; signing in again
// makes them a recipient again.
func TestStaleUsersAreNotMailed(t *testing.T) {
	e := setup(t, true)
	ctx := context.Background()
	h := mail.CognitoTrigger(e.st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := h(ctx, cognitoEvent(t, "post-confirmation-unknown-locale.json")); err != nil {
		t.Fatal(err)
	}
	if err := e.st.RecordMailUser(ctx, "buyer-lahti", dynamo.MailUser{ID: "active", Email: "active@lahti.example.fi", Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(mail.DefaultDirectoryMaxAge + time.Hour)
	if err := e.st.RecordMailUser(ctx, "buyer-lahti", dynamo.MailUser{ID: "active", Email: "active@lahti.example.fi", Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.Notify(ctx, "buyer-lahti", "competition.cancelled", "c1", "Cancelled."); err != nil {
		t.Fatal(err)
	}
	r, err := e.d.Run(ctx)
	if err != nil || r.Sent != 1 || r.Stale != 1 {
		t.Fatalf("run: %+v %v; want 1 sent, 1 stale", r, err)
	}
	if ms := e.box.Messages(); len(ms) != 1 || ms[0].To[0] != "active@lahti.example.fi" {
		t.Fatalf("mails %+v", ms)
	}
	// The stale user signs in again and gets the next notification.
	if _, err := h(ctx, cognitoEvent(t, "post-confirmation-unknown-locale.json")); err != nil {
		t.Fatal(err)
	}
	if err := e.st.Notify(ctx, "buyer-lahti", "competition.cancelled", "c2", "Cancelled."); err != nil {
		t.Fatal(err)
	}
	if r, err := e.d.Run(ctx); err != nil || r.Sent != 2 || r.Stale != 0 {
		t.Fatalf("run after the sign-in: %+v %v; want 2 sent", r, err)
	}
}
