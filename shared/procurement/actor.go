package procurement

// Role is what a verified identity may do.
type Role string

// The roles. They come only from verified tokens (Cognito groups in AWS).
const (
	RoleOfficer  Role = "officer"
	RoleProvider Role = "provider"
	RoleAuditor  Role = "auditor"
)

// Actor is the verified identity behind a request.
type Actor struct {
	UserID string `json:"userId"`
	Role   Role   `json:"role"`
	// Org is the organisation the user acts for: a buyer of the ring for
	// officers and auditors, a provider for provider users.
	Org string `json:"org"`
}

// Is reports whether the actor has the role.
func (a Actor) Is(r Role) bool { return a.Role == r }
