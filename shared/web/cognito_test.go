package web

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// fakePool stands in for a Cognito user pool and its managed login: it
// signs ID tokens with its own RSA key, publishes the key as a JWKS, and
// answers the token endpoint for the authorization-code grant (checking
// the PKCE verifier against the challenge it was shown) and the refresh
// grant.
type fakePool struct {
	t        *testing.T
	key      *rsa.PrivateKey
	issuer   string
	client   string
	mu       sync.Mutex
	codes    map[string]string // code -> PKCE challenge
	refreshs int
	revoked  []string
	srv      *httptest.Server
}

func newFakePool(t *testing.T) *fakePool {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &fakePool{t: t, key: k, issuer: "https://cognito-idp.eu-north-1.amazonaws.com/eu-north-1_test", client: "pages-client", codes: map[string]string{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.token))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *fakePool) jwks() keyfunc.Keyfunc {
	b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	set, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
		"n": b64(p.key.N.Bytes()), "e": b64(big.NewInt(int64(p.key.E)).Bytes()),
	}}})
	k, err := keyfunc.NewJWKSetJSON(set)
	if err != nil {
		p.t.Fatal(err)
	}
	return k
}

func (p *fakePool) idToken(exp time.Time, key *rsa.PrivateKey) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": p.issuer, "aud": p.client, "sub": "liisa", "token_use": "id", "exp": exp.Unix(), "iat": time.Now().Unix(),
		"cognito:groups": []string{"officers"}, "custom:org": "buyer-lahti", "name": "Liisa Virtanen",
		"email": "liisa.virtanen@lahti.example.fi", "email_verified": true,
	})
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(key)
	if err != nil {
		p.t.Fatal(err)
	}
	return s
}

// authorize is what the managed login does once the user has signed in:
// it remembers the challenge and hands out a code.
func (p *fakePool) authorize(u *url.URL) string {
	q := u.Query()
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("client_id") != p.client {
		p.t.Fatalf("authorize request %s: want the code flow with an S256 challenge", u)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.codes["code-1"] = q.Get("code_challenge")
	return "code-1"
}

func (p *fakePool) token(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/oauth2/revoke" && r.ParseForm() == nil && r.PostForm.Get("client_id") == p.client {
		p.mu.Lock()
		p.revoked = append(p.revoked, r.PostForm.Get("token"))
		p.mu.Unlock()
		return
	}
	if r.URL.Path != "/oauth2/token" || r.ParseForm() != nil {
		http.NotFound(w, r)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 3600}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		challenge, ok := p.codes[r.PostForm.Get("code")]
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		delete(p.codes, r.PostForm.Get("code"))
		out["refresh_token"] = "rt-1"
	case "refresh_token":
		if r.PostForm.Get("refresh_token") != "rt-1" {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		p.refreshs++
	default:
		http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
		return
	}
	out["id_token"] = p.idToken(time.Now().Add(time.Hour), p.key)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func TestCognitoSignInWithCodeAndPKCE(t *testing.T) {
	pool := newFakePool(t)
	signIn := newCognito(CognitoConfig{Region: "eu-north-1", UserPoolID: "eu-north-1_test", ClientID: pool.client,
		Domain: pool.srv.URL, PublicURL: "https://pages.example", Key: []byte("k")}, pool.issuer, pool.jwks())
	var signedIn []string
	h, err := New(Config{API: http.NotFoundHandler(), SignIn: signIn, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), FeedbackEmail: "saavutettavuus@example.fi",
		OnSignIn: func(_ context.Context, claims map[string]string, lang string) {
			signedIn = append(signedIn, claims["sub"]+" "+claims["custom:org"]+" "+claims["email"]+" "+claims["email_verified"]+" "+lang)
		}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	defer ts.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) *http.Response {
		t.Helper()
		res, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	body := func(u string) string {
		t.Helper()
		res, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}

	// Sign-in goes to the managed login with state and an S256 challenge.
	res := get(ts.URL + "/sv/sign-in?next=/sv/accessibility")
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), pool.srv.URL+"/oauth2/authorize") {
		t.Fatalf("sign-in answered %d %s", res.StatusCode, loc)
	}
	if loc.Query().Get("redirect_uri") != "https://pages.example/auth/callback" {
		t.Errorf("redirect_uri %q", loc.Query().Get("redirect_uri"))
	}
	code := pool.authorize(loc)
	// A callback with another state is refused.
	if res := get(ts.URL + "/auth/callback?code=" + code + "&state=forged"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("a forged state answered %d", res.StatusCode)
	}
	res = get(ts.URL + "/auth/callback?code=" + code + "&state=" + url.QueryEscape(loc.Query().Get("state")))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/sv/accessibility" {
		t.Fatalf("callback answered %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	// The sign-in is reported once, with the verified claims and the
	// language of the page signed in from (the mail directory's record).
	if want := "liisa buyer-lahti liisa.virtanen@lahti.example.fi true sv"; len(signedIn) != 1 || signedIn[0] != want {
		t.Errorf("sign-ins reported %q, want [%q]", signedIn, want)
	}
	var idCookie string
	for _, sc := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(sc, "rengas_id=") {
			idCookie = sc
		}
	}
	if !strings.Contains(idCookie, "HttpOnly") || !strings.Contains(idCookie, "SameSite=Lax") {
		t.Errorf("ID token cookie %q must be HttpOnly and SameSite=Lax", idCookie)
	}
	if b := body(ts.URL + "/sv/accessibility"); !strings.Contains(b, "Inloggad: Liisa Virtanen") {
		t.Fatalf("not signed in after the callback: %s", b)
	}

	// An expired ID token is renewed with the refresh token.
	u, _ := url.Parse(ts.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: "rengas_id", Value: pool.idToken(time.Now().Add(-time.Hour), pool.key), Path: "/"}})
	if b := body(ts.URL + "/fi/accessibility"); !strings.Contains(b, "Kirjautuneena: Liisa Virtanen") || pool.refreshs != 1 {
		t.Fatalf("an expired token was not refreshed (refreshes %d)", pool.refreshs)
	}
	// A token signed by another key signs nobody in, and is not refreshed.
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	jar.SetCookies(u, []*http.Cookie{{Name: "rengas_id", Value: pool.idToken(time.Now().Add(time.Hour), other), Path: "/"}})
	if b := body(ts.URL + "/fi/accessibility"); strings.Contains(b, "Liisa") {
		t.Error("a token signed by another key was accepted")
	}

	// Signing out clears the cookies and ends the Cognito session.
	req, _ := http.NewRequest("POST", ts.URL+"/en/sign-out", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || out.Path != "/logout" || out.Query().Get("client_id") != pool.client || out.Query().Get("logout_uri") != "https://pages.example/en/" {
		t.Errorf("sign-out answered %d %s", res.StatusCode, out)
	}
	if b := body(ts.URL + "/fi/accessibility"); strings.Contains(b, "Liisa") {
		t.Error("still signed in after signing out")
	}
	if len(pool.revoked) != 1 || pool.revoked[0] != "rt-1" {
		t.Errorf("sign-out revoked %v, want the refresh token", pool.revoked)
	}
}
