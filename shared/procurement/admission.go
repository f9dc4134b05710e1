package procurement

import (
	"time"

	"github.com/rengas/rengas/shared/workdays"
)

// AdmissionStatus is a provider's standing in one category of a DPS.
type AdmissionStatus string

// Admission statuses.
const (
	AdmissionAdmitted  AdmissionStatus = "admitted"
	AdmissionSuspended AdmissionStatus = "suspended"
	AdmissionExcluded  AdmissionStatus = "excluded"
)

// StatusChange is one recorded change of an admission.
type StatusChange struct {
	Status AdmissionStatus `json:"status"`
	Reason string          `json:"reason"`
	By     string          `json:"by"`
	At     time.Time       `json:"at"`
}

// Admission says that a provider is admitted to a category. Only admitted
// (not suspended or excluded) providers are invited to mini-competitions.
type Admission struct {
	DPSID         string          `json:"dpsId"`
	Category      string          `json:"category"`
	ProviderID    string          `json:"providerId"`
	Provider      Party           `json:"provider"`
	Members       []Party         `json:"members"`
	ApplicationID string          `json:"applicationId"`
	Status        AdmissionStatus `json:"status"`
	History       []StatusChange  `json:"history"`
	UpdatedAt     time.Time       `json:"updatedAt"`
	Version       int             `json:"version"`
}

// Admit creates the admission that follows an admitting decision.
func Admit(a *Application, category string, by Actor, now time.Time) *Admission {
	members := make([]Party, len(a.Members))
	for i, m := range a.Members {
		members[i] = m.Party
	}
	d := a.Decisions[0]
	for _, x := range a.Decisions {
		if x.Category == category {
			d = x
		}
	}
	return &Admission{
		DPSID: a.DPSID, Category: category, ProviderID: a.ProviderID, Provider: a.Applicant,
		Members: members, ApplicationID: a.ID, Status: AdmissionAdmitted,
		History:   []StatusChange{{Status: AdmissionAdmitted, Reason: d.Reason, By: by.UserID, At: now}},
		UpdatedAt: now,
	}
}

// SetStatus suspends, reinstates or excludes an admitted provider. Exclusion
// is final within the DPS (the provider may apply again later); every
// change needs a reason because exclusion grounds apply at any stage.
func (ad *Admission) SetStatus(by Actor, to AdmissionStatus, reason string, now time.Time) error {
	if reason == "" {
		return Invalid("reason", "state the reason: the exclusion ground or the circumstance behind the change")
	}
	switch {
	case ad.Status == AdmissionExcluded:
		return Errorf(ECONFLICT, "the provider is excluded from this category; it must apply again to be admitted")
	case ad.Status == to:
		return Errorf(ECONFLICT, "the provider is already %s in this category", to)
	case to != AdmissionAdmitted && to != AdmissionSuspended && to != AdmissionExcluded:
		return Invalid("status", "must be admitted (reinstate), suspended or excluded")
	}
	ad.Status = to
	ad.History = append(ad.History, StatusChange{Status: to, Reason: reason, By: by.UserID, At: now})
	ad.UpdatedAt = now
	return nil
}

// DeclarationRequest asks an admitted provider for a renewed
// self-declaration. The provider must get at least MinDeclarationWorkdays
// working days to answer.
type DeclarationRequest struct {
	ID          string       `json:"id"`
	DPSID       string       `json:"dpsId"`
	ProviderID  string       `json:"providerId"`
	Message     string       `json:"message"`
	DueOn       string       `json:"dueOn"`
	RequestedBy string       `json:"requestedBy"`
	RequestedAt time.Time    `json:"requestedAt"`
	Answer      *Declaration `json:"answer,omitempty"`
	// Documents came with the answer (e.g. renewed certificates).
	Documents  []Document `json:"documents,omitempty"`
	AnsweredAt *time.Time `json:"answeredAt,omitempty"`
	Version    int        `json:"version"`
}

// CheckDue refuses a due date that leaves the provider fewer working days
// than the DPS requires.
func CheckDue(s Settings, dueOn string, now time.Time) error {
	due, err := time.Parse(time.DateOnly, dueOn)
	if err != nil {
		return Invalid("dueOn", "must be a date YYYY-MM-DD")
	}
	earliest := workdays.Add(now, s.MinDeclarationWorkdays)
	if workdays.Between(now, due.Add(12*time.Hour)) < s.MinDeclarationWorkdays {
		return Invalid("dueOn", "must give at least %d working days to answer: choose %s or later", s.MinDeclarationWorkdays, workdays.DateString(earliest))
	}
	return nil
}

// AnswerWith records the provider's renewed declaration and the documents
// that come with it.
func (r *DeclarationRequest) AnswerWith(d *DPS, decl Declaration, docs []Document, now time.Time) error {
	decl.normalise()
	if r.Answer != nil {
		return Errorf(ECONFLICT, "this request was already answered on %s", workdays.DateString(*r.AnsweredAt))
	}
	var probs Problems
	checkExclusions(&probs, d, "exclusions", decl)
	checkDocuments(&probs, &Application{Documents: docs})
	if err := probs.Err(); err != nil {
		return err
	}
	r.Answer, r.AnsweredAt, r.Documents = &decl, &now, docs
	return nil
}
