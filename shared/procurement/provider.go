package procurement

import "time"

// Contact is how the buyer reaches a party.
type Contact struct {
	Name  string `json:"name" validate:"required,max=200"`
	Email string `json:"email" validate:"required,email,max=254"`
	Phone string `json:"phone,omitempty" validate:"omitempty,max=40"`
}

// Party is an organisation taking part in an application or a bid: a
// provider, or a member of a consortium.
type Party struct {
	Name             string    `json:"name" validate:"required,max=200"`
	BusinessID       string    `json:"businessId" validate:"required,businessid"`
	LegalForm        LegalForm `json:"legalForm" validate:"required,legalform"`
	HomeMunicipality string    `json:"homeMunicipality" validate:"required,max=100"`
}

// Provider is a registered organisation that may apply to join a DPS.
// Its ID is the organisation claim of its users.
type Provider struct {
	ID string `json:"id"`
	Party
	Contact   Contact   `json:"contact"`
	CreatedAt time.Time `json:"createdAt"`
	Version   int       `json:"version"`
}
