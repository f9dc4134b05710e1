package apigw

import (
	"crypto/rand"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rengas/rengas/shared/auth"
)

// LocalIssuer signs and verifies tokens for the local server. It stands in
// for Cognito and the API Gateway JWT authorizer; it is never used in AWS.
type LocalIssuer struct {
	key []byte
	// Issuer is the iss claim; Audience the aud claim.
	Issuer, Audience string
}

// NewLocalIssuer returns an issuer with a fresh random HMAC key.
func NewLocalIssuer() *LocalIssuer {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic(err)
	}
	return &LocalIssuer{key: k, Issuer: "rengas-local", Audience: "rengas"}
}

// Sign returns a token for the user, valid for ttl.
func (i *LocalIssuer) Sign(u auth.User, ttl time.Duration) (string, error) {
	now := time.Now()
	claims := jwt.MapClaims{
		"iss": i.Issuer, "aud": i.Audience, "sub": u.ID, "iat": now.Unix(), "exp": now.Add(ttl).Unix(),
		auth.ClaimName: u.Name, auth.ClaimOrg: u.Org, auth.ClaimGroups: []string{auth.GroupOf(u.Role)},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(i.key)
}

// Verify checks a token's signature, issuer, audience and expiry and returns
// its claims in the form API Gateway passes them to a Lambda function.
func (i *LocalIssuer) Verify(token string) (map[string]string, error) {
	t, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return i.key, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(i.Issuer), jwt.WithAudience(i.Audience), jwt.WithExpirationRequired())
	if err != nil {
		return nil, err
	}
	return auth.GatewayClaims(t.Claims.(jwt.MapClaims)), nil
}
