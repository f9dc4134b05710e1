package procurement

import (
	"slices"
	"strconv"
	"time"

	"github.com/rengas/rengas/shared/workdays"
)

// LegalForm is the legal form of a provider or consortium member.
type LegalForm string

// The legal forms a provider can register with.
const (
	FormAssociation LegalForm = "association"
	FormFoundation  LegalForm = "foundation"
	FormCompany     LegalForm = "company"
	FormCooperative LegalForm = "cooperative"
	FormSocial      LegalForm = "social_enterprise"
	FormEducation   LegalForm = "educational_institution"
	FormOther       LegalForm = "other"
)

// LegalForms lists every legal form, in the order shown to users.
var LegalForms = []LegalForm{FormAssociation, FormFoundation, FormCompany, FormCooperative, FormSocial, FormEducation, FormOther}

// IsThirdSector reports whether the form is an NGO (association or
// foundation). Fairness statistics group by it.
func (f LegalForm) IsThirdSector() bool { return f == FormAssociation || f == FormFoundation }

// CriterionKind is the kind of a selection criterion.
type CriterionKind string

// Selection criterion kinds.
const (
	// KindDeclaration is a yes/no statement the applicant must confirm.
	KindDeclaration CriterionKind = "declaration"
	// KindMinimum is a figure (e.g. turnover in euros, years of experience)
	// that must be at least Minimum.
	KindMinimum CriterionKind = "minimum"
	// KindDocument is a document the applicant must attach, valid for
	// ValidityDays from its issue date.
	KindDocument CriterionKind = "document"
)

// Criterion is a selection criterion of a category (soveltuvuusvaatimus).
type Criterion struct {
	ID           string        `json:"id" validate:"required,max=40,slug"`
	Kind         CriterionKind `json:"kind" validate:"required,oneof=declaration minimum document"`
	Text         string        `json:"text" validate:"required,max=1000"`
	Minimum      int64         `json:"minimum,omitempty" validate:"gte=0"`
	Unit         string        `json:"unit,omitempty" validate:"max=40"`
	DocumentType string        `json:"documentType,omitempty" validate:"max=80"`
	ValidityDays int           `json:"validityDays,omitempty" validate:"gte=0,lte=3650"`
}

// Category is a part of a DPS (luokka); applicants choose categories.
type Category struct {
	ID       string      `json:"id" validate:"required,max=40,slug"`
	Name     string      `json:"name" validate:"required,max=200"`
	Criteria []Criterion `json:"criteria" validate:"max=50,dive"`
}

// ExclusionGround is a self-declaration question in the spirit of the ESPD
// (e.g. convictions, tax arrears, bankruptcy). Answering "yes" means the
// ground applies to the applicant.
type ExclusionGround struct {
	ID       string `json:"id" validate:"required,max=40,slug"`
	Question string `json:"question" validate:"required,max=1000"`
}

// Settings are the rules of a DPS that depend on its value and regime.
// Each has a safe default (see DefaultSettings).
type Settings struct {
	// DecisionWorkdays is the time to decide on an application (10).
	DecisionWorkdays int `json:"decisionWorkdays" validate:"gte=1,lte=10"`
	// ExtendedDecisionWorkdays is the limit after a justified extension (15).
	ExtendedDecisionWorkdays int `json:"extendedDecisionWorkdays" validate:"gte=1,lte=15"`
	// MinDeclarationWorkdays is the least time to answer a renewed
	// self-declaration request (5).
	MinDeclarationWorkdays int `json:"minDeclarationWorkdays" validate:"gte=5,lte=60"`
	// MinTenderDays is the least tender period of a mini-competition (10).
	MinTenderDays int `json:"minTenderDays" validate:"gte=10,lte=120"`
	// StandstillDays is the standstill period after an award decision;
	// 0 means none (e.g. call-offs exempt by the regime).
	StandstillDays int `json:"standstillDays" validate:"gte=0,lte=60"`
	// StandstillUnit counts StandstillDays in calendar days ("calendar",
	// the default: a period ending on a Saturday, Sunday or public holiday
	// runs to the next working day, Act 150/1930) or in Finnish working
	// days ("workdays").
	StandstillUnit string `json:"standstillUnit,omitempty" validate:"omitempty,oneof=calendar workdays"`
	// ClaimGraceDays is how long after the contract period outcome claims
	// are still accepted (0: the default, 60 days).
	ClaimGraceDays int `json:"claimGraceDays,omitempty" validate:"gte=0,lte=365"`
	// VerificationWorkdays is the time to verify an outcome claim, in
	// working days (0: the default, 20).
	VerificationWorkdays int `json:"verificationWorkdays,omitempty" validate:"gte=0,lte=60"`
	// ReferralRetentionDays is how long after a referral ends its client
	// reference is kept before it is erased (0: the default, 730 days).
	ReferralRetentionDays int `json:"referralRetentionDays,omitempty" validate:"gte=0,lte=3650"`
	// AppealInstructions is the text sent with every award decision.
	AppealInstructions string `json:"appealInstructions" validate:"max=5000"`
	// BuyerDetails are what the open data says about each buyer, by buyer
	// id (optional; a buyer without them is named only).
	BuyerDetails map[string]BuyerDetails `json:"buyerDetails,omitempty" validate:"max=20,dive"`
}

// BuyerDetails describe a buyer in the open data: its business id, the
// address and the contact point of its procurement office. The contact
// point is an office, never a person: open data holds no personal names.
type BuyerDetails struct {
	BusinessID    string `json:"businessId" validate:"required,businessid"`
	StreetAddress string `json:"streetAddress" validate:"required,max=200"`
	PostalCode    string `json:"postalCode" validate:"required,numeric,len=5"`
	Locality      string `json:"locality" validate:"required,max=100"`
	// ContactUnit names the office to contact (e.g. "Procurement services").
	ContactUnit string `json:"contactUnit" validate:"required,max=200"`
	Email       string `json:"email" validate:"required,email,max=200"`
	Telephone   string `json:"telephone,omitempty" validate:"max=40"`
	URL         string `json:"url,omitempty" validate:"omitempty,url,max=500"`
}

// Defaults of the outcome-contract settings, used when a setting is 0.
const (
	DefaultClaimGraceDays        = 60
	DefaultVerificationWorkdays  = 20
	DefaultReferralRetentionDays = 730
)

// Grace returns the claim grace period in days.
func (s Settings) Grace() int { return orDefault(s.ClaimGraceDays, DefaultClaimGraceDays) }

// Verification returns the verification deadline in working days.
func (s Settings) Verification() int {
	return orDefault(s.VerificationWorkdays, DefaultVerificationWorkdays)
}

// Retention returns the retention of referral references in days.
func (s Settings) Retention() int {
	return orDefault(s.ReferralRetentionDays, DefaultReferralRetentionDays)
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// StandstillEnd returns the moment the standstill period after a decision
// made at t ends: midnight (Finnish time) after its last day. The day of
// the decision is not counted. In calendar days, a last day that is not a
// working day moves to the next working day (Act 150/1930 on statutory
// time limits); in working days, only working days count. No standstill
// (0 days) ends at t.
func (s Settings) StandstillEnd(t time.Time) time.Time {
	if s.StandstillDays <= 0 {
		return t
	}
	var last time.Time
	if s.StandstillUnit == "workdays" {
		last = workdays.Add(t, s.StandstillDays)
	} else {
		last = workdays.Date(t).AddDate(0, 0, s.StandstillDays)
		for !workdays.IsWorkday(last) {
			last = last.AddDate(0, 0, 1)
		}
	}
	y, m, d := last.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, workdays.Helsinki)
}

// DefaultSettings returns the safe defaults of the law.
func DefaultSettings() Settings {
	return Settings{
		DecisionWorkdays:         10,
		ExtendedDecisionWorkdays: 15,
		MinDeclarationWorkdays:   5,
		MinTenderDays:            10,
		StandstillDays:           14,
		AppealInstructions: "A party concerned may appeal this decision to the Market Court (markkinaoikeus) " +
			"within 14 days of receiving it, and may request a procurement correction from the contracting authority " +
			"within the same period (Act on Public Procurement 1397/2016, chapters 15-16).",
	}
}

// DPS is a dynamic purchasing system run by the buyers of a ring.
type DPS struct {
	ID     string   `json:"id"`
	Title  string   `json:"title"`
	Ring   string   `json:"ring"`
	Buyers []string `json:"buyers"`
	// BuyerNames are the buyers' official names, by id.
	BuyerNames       map[string]string `json:"buyerNames"`
	ServiceArea      []string          `json:"serviceArea"`
	ValidFrom        string            `json:"validFrom"`
	ValidUntil       string            `json:"validUntil"`
	Categories       []Category        `json:"categories"`
	ExclusionGrounds []ExclusionGround `json:"exclusionGrounds"`
	// QualityCriteria are the award criteria named in the DPS notice; a
	// mini-competition may weigh them but never add new ones.
	QualityCriteria []string  `json:"qualityCriteria"`
	Settings        Settings  `json:"settings"`
	CreatedAt       time.Time `json:"createdAt"`
	Version         int       `json:"version"`
}

// Category returns the category with the id.
func (d *DPS) Category(id string) (*Category, bool) {
	for i := range d.Categories {
		if d.Categories[i].ID == id {
			return &d.Categories[i], true
		}
	}
	return nil, false
}

// BuyerName returns a buyer's name, or its id if none is recorded.
func (d *DPS) BuyerName(id string) string {
	if n := d.BuyerNames[id]; n != "" {
		return n
	}
	return id
}

// OpenOn reports whether the DPS accepts applications on the day (YYYY-MM-DD).
// A DPS stays open to new applicants for its whole validity.
func (d *DPS) OpenOn(day string) bool { return d.ValidFrom <= day && day <= d.ValidUntil }

// Validate checks the parts that cannot be expressed as struct tags.
func (d *DPS) Validate() error {
	var p Problems
	if d.ValidUntil < d.ValidFrom {
		p.Add("validUntil", "must not be before validFrom")
	}
	if len(d.Buyers) == 0 {
		p.Add("buyers", "name at least one buyer of the ring")
	}
	seen := map[string]bool{}
	for i, c := range d.Categories {
		if seen[c.ID] {
			p.Add("categories["+strconv.Itoa(i)+"].id", "%q is used twice; give every category its own id", c.ID)
		}
		seen[c.ID] = true
		crit := map[string]bool{}
		for j, k := range c.Criteria {
			f := "categories[" + strconv.Itoa(i) + "].criteria[" + strconv.Itoa(j) + "]"
			if crit[k.ID] {
				p.Add(f+".id", "%q is used twice in the category", k.ID)
			}
			crit[k.ID] = true
			if k.Kind == KindDocument && k.DocumentType == "" {
				p.Add(f+".documentType", "name the document type a document criterion asks for")
			}
			if k.Kind == KindMinimum && k.Minimum <= 0 {
				p.Add(f+".minimum", "give the least acceptable figure (greater than 0)")
			}
		}
	}
	for id := range d.Settings.BuyerDetails {
		if !slices.Contains(d.Buyers, id) {
			p.Add("settings.buyerDetails."+id, "%q is not one of the DPS's buyers %v; give details only for its buyers", id, d.Buyers)
		}
	}
	if d.Settings.ExtendedDecisionWorkdays < d.Settings.DecisionWorkdays {
		p.Add("settings.extendedDecisionWorkdays", "must be at least decisionWorkdays")
	}
	return p.Err()
}
