package mail

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"

	"github.com/rengas/rengas/shared/auth"
	"github.com/rengas/rengas/shared/dynamo"
)

// The Cognito trigger fills the mail directory with every user of an
// organisation, whichever way they sign in: Cognito calls it after each
// authentication (the pages' managed login and the API clients' token
// requests alike) and after a confirmation. It records the user's
// verified address, organisation (custom:org) and language (locale) in one
// conditional write (dynamo.RecordMailUser), stamped with the time, so
// that the dispatcher can leave out users who stopped signing in
// (Dispatcher.DirectoryMaxAge).

// Trigger sources the handler records; Cognito sends others to other
// triggers only.
var recordedTriggers = []string{
	"PostAuthentication_Authentication",
	"PostConfirmation_ConfirmSignUp",
	"PostConfirmation_ConfirmForgotPassword",
}

// cognitoEvent is the part of a Cognito user pool trigger event the
// handler reads (the header and request.userAttributes, common to the
// post-authentication and post-confirmation events).
type cognitoEvent struct {
	TriggerSource string `json:"triggerSource"`
	UserName      string `json:"userName"`
	Request       struct {
		UserAttributes map[string]string `json:"userAttributes"`
	} `json:"request"`
}

// Locale is the mail language of a Cognito locale attribute: its language
// part if it is fi, sv or en ("sv-FI" is sv), and fi otherwise.
func Locale(locale string) string {
	lang, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(locale)), "-")
	lang, _, _ = strings.Cut(lang, "_")
	if slices.Contains(dynamo.MailLanguages, lang) {
		return lang
	}
	return "fi"
}

// CognitoOutcome says what the trigger did with one event.
type CognitoOutcome string

const (
	Recorded       CognitoOutcome = "recorded"
	SkipUnverified CognitoOutcome = "skipped: e-mail address not verified"
	SkipNoOrg      CognitoOutcome = "skipped: no organisation (custom:org)"
	SkipTrigger    CognitoOutcome = "skipped: not a sign-in or confirmation"
)

// RecordSignIn records the user of a Cognito trigger event in the mail
// directory, if the event is a sign-in or confirmation of a user with a
// verified address and an organisation.
func RecordSignIn(ctx context.Context, st *dynamo.Store, raw json.RawMessage) (CognitoOutcome, error) {
	var ev cognitoEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return "", err
	}
	if !slices.Contains(recordedTriggers, ev.TriggerSource) {
		return SkipTrigger, nil
	}
	at := ev.Request.UserAttributes
	if at["email"] == "" || at["email_verified"] != "true" {
		return SkipUnverified, nil
	}
	if at[auth.ClaimOrg] == "" {
		return SkipNoOrg, nil
	}
	id := at["sub"]
	if id == "" {
		id = ev.UserName
	}
	err := st.RecordMailUser(ctx, at[auth.ClaimOrg], dynamo.MailUser{ID: id, Email: at["email"], Lang: Locale(at["locale"])})
	if err != nil {
		return "", err
	}
	return Recorded, nil
}

// CognitoTrigger is the entry point of the function Cognito calls: it
// records the user and answers the event unchanged, as Cognito requires.
// A failure to record is logged and does not refuse the sign-in: the
// user's next sign-in records them.
func CognitoTrigger(st *dynamo.Store, log *slog.Logger) func(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
	return func(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
		out, err := RecordSignIn(ctx, st, raw)
		if err != nil {
			log.Error("record the user in the mail directory", "err", err)
		} else {
			log.Info("cognito trigger", "outcome", string(out))
		}
		return raw, nil
	}
}
