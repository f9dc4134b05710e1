package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/rengas/rengas/shared/auth"
)

// SignIn is how users sign in and how a request's user is known.
type SignIn interface {
	// Identify returns the verified claims of the request's session, in the
	// form API Gateway passes them to a function, or nil when nobody is
	// signed in. It may refresh the session and set cookies on w.
	Identify(w http.ResponseWriter, r *http.Request) (map[string]string, error)
	routes(h *Handler)
}

// sealer signs small values for cookies with an HMAC key.
type sealer struct{ key []byte }

func newSealer(key []byte) sealer {
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			panic(err)
		}
	}
	return sealer{key: key}
}

// seal returns v as JSON, base64url-encoded, with its MAC and expiry.
func (s sealer) seal(v any, ttl time.Duration) (string, error) {
	b, err := json.Marshal(struct {
		V   any   `json:"v"`
		Exp int64 `json:"exp"`
	}{v, time.Now().Add(ttl).Unix()})
	if err != nil {
		return "", err
	}
	p := base64.RawURLEncoding.EncodeToString(b)
	return p + "." + base64.RawURLEncoding.EncodeToString(s.mac(p)), nil
}

func (s sealer) mac(p string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(p))
	return m.Sum(nil)
}

var errBadSeal = errors.New("the cookie is not valid or has expired")

// open checks a sealed value and decodes it into v.
func (s sealer) open(sealed string, v any) error {
	p, sig, ok := strings.Cut(sealed, ".")
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err != nil || !hmac.Equal(got, s.mac(p)) {
		return errBadSeal
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return errBadSeal
	}
	var env struct {
		V   json.RawMessage `json:"v"`
		Exp int64           `json:"exp"`
	}
	if err := json.Unmarshal(b, &env); err != nil || time.Now().Unix() > env.Exp {
		return errBadSeal
	}
	return json.Unmarshal(env.V, v)
}

// secure reports whether the request came over https (directly or through
// API Gateway / a proxy), so that cookies are marked Secure.
func secure(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" || r.URL.Scheme == "https"
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteLaxMode})
}

const sessionCookie = "rengas_session"

// LocalSignIn signs in as one of the demo users, for the local server and
// tests: the sign-in page lists them, each with its user id on the button.
type LocalSignIn struct {
	Users  []auth.User
	sealer sealer
}

// NewLocalSignIn returns local sign-in for the users, with sessions signed
// by key (a random key when empty).
func NewLocalSignIn(users []auth.User, key []byte) *LocalSignIn {
	return &LocalSignIn{Users: users, sealer: newSealer(key)}
}

func (l *LocalSignIn) user(id string) (auth.User, bool) {
	for _, u := range l.Users {
		if u.ID == id {
			return u, true
		}
	}
	return auth.User{}, false
}

// Claims returns a user's claims as API Gateway's JWT authorizer would
// pass those of a Cognito ID token.
func Claims(u auth.User) map[string]string {
	return map[string]string{auth.ClaimSubject: u.ID, auth.ClaimOrg: u.Org, auth.ClaimName: u.Name, auth.ClaimGroups: "[" + auth.GroupOf(u.Role) + "]"}
}

// Identify reads the signed session cookie.
func (l *LocalSignIn) Identify(w http.ResponseWriter, r *http.Request) (map[string]string, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	var id string
	if err := l.sealer.open(c.Value, &id); err != nil {
		return nil, err
	}
	u, ok := l.user(id)
	if !ok {
		return nil, errors.New("no demo user " + id)
	}
	return Claims(u), nil
}

func (l *LocalSignIn) routes(h *Handler) {
	h.handle("GET", "/sign-in", func(q *req) error {
		return q.render(200, "signin", "signin.title", map[string]any{"Users": l.Users, "Next": safeNext(q.r.URL.Query().Get("next"))}, nil)
	})
	h.handle("POST", "/sign-in", func(q *req) error {
		u, ok := l.user(q.r.PostFormValue("user"))
		if !ok {
			return q.render(400, "signin", "signin.title", map[string]any{"Users": l.Users}, []fieldError{{ID: "user-" + l.Users[0].ID, Text: q.T("signin.choose")}})
		}
		v, err := l.sealer.seal(u.ID, 12*time.Hour)
		if err != nil {
			return err
		}
		setCookie(q.w, q.r, sessionCookie, v, 12*3600)
		if next := safeNext(q.r.PostFormValue("next")); next != "" {
			http.Redirect(q.w, q.r, next, http.StatusSeeOther)
			return nil
		}
		q.redirect("/")
		return nil
	})
	h.handle("POST", "/sign-out", func(q *req) error {
		setCookie(q.w, q.r, sessionCookie, "", -1)
		q.redirect("/?done=signedOut")
		return nil
	})
}

// safeNext accepts only a local page address to return to after sign-in.
func safeNext(next string) string {
	if !Owns(next) || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") || !strings.HasPrefix(next, "/") {
		return ""
	}
	return next
}

// CookieKey returns the key that signs the login cookie: the configured
// secret, or else one derived from a deployment-wide value (such as the
// table name), so that every instance of the function shares it. The
// login cookie only carries the state and PKCE verifier of a sign-in in
// progress, which the browser alone holds; set a secret all the same.
func CookieKey(secret, fallback string) []byte {
	if secret != "" {
		return []byte(secret)
	}
	sum := sha256.Sum256([]byte("rengas-web-cookie:" + fallback))
	return sum[:]
}
