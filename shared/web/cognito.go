package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/rengas/rengas/shared/auth"
)

// CognitoConfig locates the user pool and the web app client.
type CognitoConfig struct {
	Region, UserPoolID, ClientID string
	// Domain is the user-pool domain of the managed login, e.g.
	// https://rengas-123.auth.eu-north-1.amazoncognito.com.
	Domain string
	// PublicURL is where the pages are served (the HTTP API's URL); the
	// client's callback is PublicURL/auth/callback and its sign-out URL
	// PublicURL/fi/.
	PublicURL string
	// Key signs the short-lived login cookie (state and PKCE verifier).
	Key []byte
}

// CognitoSignIn signs users in with Cognito's managed login: the
// authorization-code flow with PKCE (never the implicit flow). The ID
// token is kept in an HttpOnly, Secure, SameSite=Lax cookie and verified
// on every request against the pool's JWKS; when it expires the refresh
// token renews it.
type CognitoSignIn struct {
	cfg    CognitoConfig
	oauth  *oauth2.Config
	issuer string
	keys   keyfunc.Keyfunc
	sealer sealer
}

const (
	idCookie      = "rengas_id"
	refreshCookie = "rengas_refresh"
	loginCookie   = "rengas_login"
)

// NewCognitoSignIn fetches the pool's JWKS (and keeps it fresh in the
// background) and returns the sign-in.
func NewCognitoSignIn(ctx context.Context, cfg CognitoConfig) (*CognitoSignIn, error) {
	issuer := fmt.Sprintf("https://cognito-idp.%s.amazonaws.com/%s", cfg.Region, cfg.UserPoolID)
	keys, err := keyfunc.NewDefaultCtx(ctx, []string{issuer + "/.well-known/jwks.json"})
	if err != nil {
		return nil, fmt.Errorf("the user pool's JWKS: %w", err)
	}
	return newCognito(cfg, issuer, keys), nil
}

func newCognito(cfg CognitoConfig, issuer string, keys keyfunc.Keyfunc) *CognitoSignIn {
	domain := strings.TrimSuffix(cfg.Domain, "/")
	return &CognitoSignIn{cfg: cfg, issuer: issuer, keys: keys, sealer: newSealer(cfg.Key), oauth: &oauth2.Config{
		ClientID:    cfg.ClientID,
		Endpoint:    oauth2.Endpoint{AuthURL: domain + "/oauth2/authorize", TokenURL: domain + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: strings.TrimSuffix(cfg.PublicURL, "/") + "/auth/callback",
		Scopes:      []string{"openid", "email", "profile"},
	}}
}

// verify checks an ID token's signature against the JWKS, its issuer,
// audience (the web client), use and expiry, and returns its claims as API
// Gateway passes them.
func (c *CognitoSignIn) verify(ctx context.Context, token string) (map[string]string, error) {
	t, err := jwt.Parse(token, c.keys.KeyfuncCtx(ctx), jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(c.issuer),
		jwt.WithAudience(c.cfg.ClientID), jwt.WithExpirationRequired(), jwt.WithLeeway(5*time.Second))
	if err != nil {
		return nil, err
	}
	mc := t.Claims.(jwt.MapClaims)
	if mc["token_use"] != "id" {
		return nil, errors.New("not an ID token")
	}
	return auth.GatewayClaims(mc), nil
}

// Identify verifies the ID token cookie; an expired one is renewed with
// the refresh token.
func (c *CognitoSignIn) Identify(w http.ResponseWriter, r *http.Request) (map[string]string, error) {
	if ck, err := r.Cookie(idCookie); err == nil {
		claims, err := c.verify(r.Context(), ck.Value)
		if err == nil {
			return claims, nil
		}
		if !errors.Is(err, jwt.ErrTokenExpired) {
			return nil, err
		}
	}
	rt, err := r.Cookie(refreshCookie)
	if err != nil {
		return nil, nil
	}
	tok, err := c.oauth.TokenSource(r.Context(), &oauth2.Token{RefreshToken: rt.Value, Expiry: time.Now().Add(-time.Minute)}).Token()
	if err != nil {
		setCookie(w, r, refreshCookie, "", -1)
		return nil, fmt.Errorf("refresh: %w", err)
	}
	return c.keep(w, r, tok)
}

// keep verifies a token response's ID token and keeps the tokens in cookies.
func (c *CognitoSignIn) keep(w http.ResponseWriter, r *http.Request, tok *oauth2.Token) (map[string]string, error) {
	id, _ := tok.Extra("id_token").(string)
	claims, err := c.verify(r.Context(), id)
	if err != nil {
		return nil, err
	}
	setCookie(w, r, idCookie, id, 3600)
	if tok.RefreshToken != "" {
		setCookie(w, r, refreshCookie, tok.RefreshToken, 30*24*3600)
	}
	return claims, nil
}

// revoke revokes a refresh token (and the tokens issued with it).
func (c *CognitoSignIn) revoke(ctx context.Context, token string) error {
	form := url.Values{"token": {token}, "client_id": {c.cfg.ClientID}}
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimSuffix(c.cfg.Domain, "/")+"/oauth2/revoke", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("revoke answered %d", res.StatusCode)
	}
	return nil
}

type login struct {
	State, Verifier, Next string
}

func (c *CognitoSignIn) routes(h *Handler) {
	// Sign-in sends the browser to the managed login with a fresh state
	// and PKCE challenge; the verifier waits in a sealed cookie.
	h.handle("GET", "/sign-in", func(q *req) error {
		l := login{State: oauth2.GenerateVerifier(), Verifier: oauth2.GenerateVerifier(), Next: safeNext(q.r.URL.Query().Get("next"))}
		if l.Next == "" {
			l.Next = q.href("/")
		}
		v, err := c.sealer.seal(l, 10*time.Minute)
		if err != nil {
			return err
		}
		setCookie(q.w, q.r, loginCookie, v, 600)
		u := c.oauth.AuthCodeURL(l.State, oauth2.S256ChallengeOption(l.Verifier), oauth2.SetAuthURLParam("lang", q.lang))
		http.Redirect(q.w, q.r, u, http.StatusFound)
		return nil
	})
	h.mux.HandleFunc("GET /auth/callback", func(w http.ResponseWriter, r *http.Request) {
		var l login
		ck, err := r.Cookie(loginCookie)
		if err == nil {
			err = c.sealer.open(ck.Value, &l)
		}
		if err != nil || r.URL.Query().Get("state") != l.State || r.URL.Query().Get("code") == "" {
			h.errorPage(w, r, "fi", http.StatusBadRequest, "error.signIn")
			return
		}
		setCookie(w, r, loginCookie, "", -1)
		tok, err := c.oauth.Exchange(r.Context(), r.URL.Query().Get("code"), oauth2.VerifierOption(l.Verifier))
		var claims map[string]string
		if err == nil {
			claims, err = c.keep(w, r, tok)
		}
		if err == nil && h.onSignIn != nil {
			h.onSignIn(r.Context(), claims, langOf(&http.Request{URL: &url.URL{Path: l.Next}}))
		}
		if err != nil {
			h.log.Warn("sign-in", "err", err)
			h.errorPage(w, r, langOf(&http.Request{URL: &url.URL{Path: l.Next}}), http.StatusBadRequest, "error.signIn")
			return
		}
		http.Redirect(w, r, l.Next, http.StatusSeeOther)
	})
	// Sign-out ends the session here and at Cognito: the refresh token is
	// revoked and the managed login's own session ended by its logout.
	h.handle("POST", "/sign-out", func(q *req) error {
		if rt, err := q.r.Cookie(refreshCookie); err == nil {
			if err := c.revoke(q.r.Context(), rt.Value); err != nil {
				q.h.log.Warn("revoke refresh token", "err", err)
			}
		}
		setCookie(q.w, q.r, idCookie, "", -1)
		setCookie(q.w, q.r, refreshCookie, "", -1)
		u := strings.TrimSuffix(c.cfg.Domain, "/") + "/logout?" + url.Values{"client_id": {c.cfg.ClientID}, "logout_uri": {strings.TrimSuffix(c.cfg.PublicURL, "/") + "/" + q.lang + "/"}}.Encode()
		http.Redirect(q.w, q.r, u, http.StatusSeeOther)
		return nil
	})
}
