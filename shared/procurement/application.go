package procurement

import (
	"slices"
	"strconv"
	"time"

	"github.com/rengas/rengas/shared/workdays"
)

// ApplicationStatus is where an application stands.
type ApplicationStatus string

// Application statuses.
const (
	// StatusReceived: waiting for the officers' decisions; the clock runs.
	StatusReceived ApplicationStatus = "received"
	// StatusInfoRequested: waiting for the applicant; the clock is paused.
	StatusInfoRequested ApplicationStatus = "information_requested"
	// StatusDecided: every category has a decision.
	StatusDecided ApplicationStatus = "decided"
)

// ApplicationStatuses lists the statuses officers can filter by.
var ApplicationStatuses = []ApplicationStatus{StatusReceived, StatusInfoRequested, StatusDecided}

// Outcome is the decision on one category of an application.
type Outcome string

// Decision outcomes.
const (
	OutcomePending  Outcome = "pending"
	OutcomeAdmitted Outcome = "admitted"
	OutcomeRejected Outcome = "rejected"
)

// CriterionAnswer answers one selection criterion of one category.
type CriterionAnswer struct {
	Category  string `json:"category" validate:"required,max=40,id"`
	Criterion string `json:"criterion" validate:"required,max=40,id"`
	// Confirmed answers a declaration criterion.
	Confirmed *bool `json:"confirmed,omitempty"`
	// Value answers a minimum-figure criterion.
	Value *int64 `json:"value,omitempty" validate:"omitempty,gte=0"`
	// DocumentID names the attached document that answers a document criterion.
	DocumentID string `json:"documentId,omitempty" validate:"omitempty,max=40,id"`
}

// ExclusionAnswer answers one exclusion ground. Applies=true means the
// ground applies to the party, which the officers must weigh.
type ExclusionAnswer struct {
	Ground      string `json:"ground" validate:"required,max=40,id"`
	Applies     *bool  `json:"applies" validate:"required"`
	Explanation string `json:"explanation,omitempty" validate:"max=2000"`
}

// Declaration is one party's self-declaration.
type Declaration struct {
	Criteria   []CriterionAnswer `json:"criteria" validate:"max=200,dive"`
	Exclusions []ExclusionAnswer `json:"exclusions" validate:"max=50,dive"`
	SignedBy   string            `json:"signedBy" validate:"required,max=200"`
}

// Document is the metadata of a supporting document. The file itself is
// identified by its SHA-256 checksum. A document with a FileID names a file
// uploaded through POST /files: its SHA-256 must be the file's as verified
// on arrival, and its media type and size are the file's.
type Document struct {
	ID         string `json:"id" validate:"required,max=40,slug"`
	Name       string `json:"name" validate:"required,max=200"`
	Type       string `json:"type" validate:"required,max=80"`
	SHA256     string `json:"sha256" validate:"required,len=64,hexadecimal"`
	FileID     string `json:"fileId,omitempty" validate:"omitempty,max=40,id"`
	MediaType  string `json:"mediaType,omitempty" validate:"max=120"`
	Size       int64  `json:"size,omitempty" validate:"gte=0"`
	IssuedOn   string `json:"issuedOn" validate:"required,datetime=2006-01-02"`
	ExpiresOn  string `json:"expiresOn,omitempty" validate:"omitempty,datetime=2006-01-02"`
	BusinessID string `json:"businessId,omitempty"` // the party it belongs to; set by the server
}

// normalise makes omitted lists empty, so that answers carry [] not null.
func (d *Declaration) normalise() {
	if d.Criteria == nil {
		d.Criteria = []CriterionAnswer{}
	}
	if d.Exclusions == nil {
		d.Exclusions = []ExclusionAnswer{}
	}
}

// Member is a consortium member with its own declaration and documents.
type Member struct {
	Party
	Declaration Declaration `json:"declaration"`
	Documents   []Document  `json:"documents" validate:"max=50,dive"`
}

// Decision is the reasoned decision on one category.
type Decision struct {
	Category  string     `json:"category"`
	Outcome   Outcome    `json:"outcome"`
	Reason    string     `json:"reason,omitempty"`
	DecidedBy string     `json:"decidedBy,omitempty"`
	DecidedAt *time.Time `json:"decidedAt,omitempty"`
}

// InfoRequest is an officer's request for more information. While it is
// open the decision clock is paused.
type InfoRequest struct {
	Message     string     `json:"message"`
	RequestedBy string     `json:"requestedBy"`
	RequestedAt time.Time  `json:"requestedAt"`
	Response    string     `json:"response,omitempty"`
	RespondedAt *time.Time `json:"respondedAt,omitempty"`
}

// Extension records the one allowed extension of the decision time.
type Extension struct {
	Justification string    `json:"justification"`
	By            string    `json:"by"`
	At            time.Time `json:"at"`
}

// Application is a request to participate in one or more categories of a
// DPS, by a single provider or by a consortium led by the provider.
type Application struct {
	ID          string            `json:"id"`
	DPSID       string            `json:"dpsId"`
	ProviderID  string            `json:"providerId"`
	Applicant   Party             `json:"applicant"`
	Members     []Member          `json:"members"`
	Declaration Declaration       `json:"declaration"`
	Documents   []Document        `json:"documents"`
	Categories  []string          `json:"categories"`
	Decisions   []Decision        `json:"decisions"`
	Status      ApplicationStatus `json:"status"`
	ReceivedAt  time.Time         `json:"receivedAt"`
	// DueOn is the last day for the decisions, on the Finnish calendar.
	DueOn string `json:"dueOn"`
	// PausedRemaining is the working days left when the clock was paused.
	PausedRemaining int           `json:"pausedRemainingWorkdays,omitempty"`
	Extension       *Extension    `json:"extension,omitempty"`
	InfoRequests    []InfoRequest `json:"infoRequests"`
	UpdatedAt       time.Time     `json:"updatedAt"`
	Version         int           `json:"version"`
}

// IsConsortium reports whether the application is a joint one.
func (a *Application) IsConsortium() bool { return len(a.Members) > 0 }

// AllDocuments returns the documents of the lead and of every member.
func (a *Application) AllDocuments() []Document {
	docs := slices.Clone(a.Documents)
	for _, m := range a.Members {
		docs = append(docs, m.Documents...)
	}
	return docs
}

// NewApplication checks a submitted application against the DPS and
// starts its decision clock: the decisions are due DecisionWorkdays working
// days after the day of receipt.
func NewApplication(d *DPS, p *Provider, a *Application, now time.Time) error {
	a.Declaration.normalise()
	for i := range a.Members {
		a.Members[i].Declaration.normalise()
		if a.Members[i].Documents == nil {
			a.Members[i].Documents = []Document{}
		}
	}
	if a.Members == nil {
		a.Members = []Member{}
	}
	var probs Problems
	if !d.OpenOn(workdays.DateString(now)) {
		return Errorf(ECONFLICT, "the DPS %q is open for applications from %s to %s", d.ID, d.ValidFrom, d.ValidUntil)
	}
	if len(a.Categories) == 0 {
		probs.Add("categories", "choose at least one category of the DPS")
	}
	seen := map[string]bool{}
	for i, c := range a.Categories {
		if _, ok := d.Category(c); !ok {
			probs.Add("categories["+strconv.Itoa(i)+"]", "%q is not a category of this DPS; choose one of %v", c, categoryIDs(d))
		}
		if seen[c] {
			probs.Add("categories["+strconv.Itoa(i)+"]", "%q is chosen twice", c)
		}
		seen[c] = true
	}
	ids := map[string]bool{p.BusinessID: true}
	for i, m := range a.Members {
		if ids[m.BusinessID] {
			probs.Add("members["+strconv.Itoa(i)+"].businessId", "%s appears twice in the consortium", m.BusinessID)
		}
		ids[m.BusinessID] = true
	}

	a.DPSID, a.ProviderID, a.Applicant = d.ID, p.ID, p.Party
	for i := range a.Documents {
		a.Documents[i].BusinessID = p.BusinessID
	}
	for i := range a.Members {
		for j := range a.Members[i].Documents {
			a.Members[i].Documents[j].BusinessID = a.Members[i].BusinessID
		}
	}
	checkDocuments(&probs, a)
	checkExclusions(&probs, d, "declaration", a.Declaration)
	for i, m := range a.Members {
		checkExclusions(&probs, d, "members["+strconv.Itoa(i)+"].declaration", m.Declaration)
	}
	checkCriteria(&probs, d, a)
	if err := probs.Err(); err != nil {
		return err
	}

	a.Status = StatusReceived
	a.ReceivedAt, a.UpdatedAt = now, now
	a.DueOn = workdays.DateString(workdays.Add(now, d.Settings.DecisionWorkdays))
	a.Decisions = make([]Decision, len(a.Categories))
	for i, c := range a.Categories {
		a.Decisions[i] = Decision{Category: c, Outcome: OutcomePending}
	}
	a.InfoRequests = []InfoRequest{}
	if a.Members == nil {
		a.Members = []Member{}
	}
	return nil
}

func categoryIDs(d *DPS) []string {
	ids := make([]string, len(d.Categories))
	for i, c := range d.Categories {
		ids[i] = c.ID
	}
	return ids
}

func checkDocuments(probs *Problems, a *Application) {
	seen := map[string]bool{}
	for _, doc := range a.AllDocuments() {
		if seen[doc.ID] {
			probs.Add("documents", "document id %q is used twice; give every document its own id", doc.ID)
		}
		seen[doc.ID] = true
		if doc.ExpiresOn != "" && doc.ExpiresOn < doc.IssuedOn {
			probs.Add("documents", "document %q expires (%s) before it was issued (%s)", doc.ID, doc.ExpiresOn, doc.IssuedOn)
		}
	}
}

// checkExclusions requires an answer to every exclusion ground: each party
// of a consortium declares for itself.
func checkExclusions(probs *Problems, d *DPS, field string, decl Declaration) {
	answered := map[string]bool{}
	for _, e := range decl.Exclusions {
		answered[e.Ground] = true
		if !slices.ContainsFunc(d.ExclusionGrounds, func(g ExclusionGround) bool { return g.ID == e.Ground }) {
			probs.Add(field+".exclusions", "%q is not an exclusion ground of this DPS", e.Ground)
		}
		if e.Applies != nil && *e.Applies && e.Explanation == "" {
			probs.Add(field+".exclusions", "ground %q applies: explain the circumstances and any self-cleaning measures", e.Ground)
		}
	}
	for _, g := range d.ExclusionGrounds {
		if !answered[g.ID] {
			probs.Add(field+".exclusions", "answer exclusion ground %q: %s", g.ID, g.Question)
		}
	}
}

// checkCriteria requires every selection criterion of every chosen category
// to be answered by the lead or a member; a consortium may meet them jointly.
func checkCriteria(probs *Problems, d *DPS, a *Application) {
	answers := slices.Clone(a.Declaration.Criteria)
	for _, m := range a.Members {
		answers = append(answers, m.Declaration.Criteria...)
	}
	docs := map[string]Document{}
	for _, doc := range a.AllDocuments() {
		docs[doc.ID] = doc
	}
	for _, catID := range a.Categories {
		cat, ok := d.Category(catID)
		if !ok {
			continue // reported with the categories
		}
		for _, crit := range cat.Criteria {
			field := "declaration.criteria[" + catID + "/" + crit.ID + "]"
			ok := slices.ContainsFunc(answers, func(ans CriterionAnswer) bool {
				if ans.Category != catID || ans.Criterion != crit.ID {
					return false
				}
				switch crit.Kind {
				case KindDeclaration:
					return ans.Confirmed != nil
				case KindMinimum:
					return ans.Value != nil
				case KindDocument:
					doc, found := docs[ans.DocumentID]
					return found && doc.Type == crit.DocumentType
				}
				return false
			})
			if ok {
				continue
			}
			switch crit.Kind {
			case KindDeclaration:
				probs.Add(field, "confirm or deny: %s", crit.Text)
			case KindMinimum:
				probs.Add(field, "give the figure (%s, at least %d %s)", crit.Text, crit.Minimum, crit.Unit)
			case KindDocument:
				probs.Add(field, "attach a document of type %q and name its id in documentId", crit.DocumentType)
			}
		}
	}
}

// WorkdaysLeft returns the working days left until the decisions are due;
// negative when overdue. A paused clock reports what was left at the pause.
func (a *Application) WorkdaysLeft(now time.Time) int {
	if a.Status == StatusInfoRequested {
		return a.PausedRemaining
	}
	due, _ := time.Parse(time.DateOnly, a.DueOn)
	return workdays.Between(now, due.Add(12*time.Hour))
}

// Decide records the reasoned decision on one category. A rejection must
// state its reason; an admission gets the standard reason if none is given.
func (a *Application) Decide(by Actor, category string, outcome Outcome, reason string, now time.Time) error {
	if a.Status == StatusInfoRequested {
		return Errorf(ECONFLICT, "the application is waiting for the information requested from the applicant; decide after the answer")
	}
	i := slices.IndexFunc(a.Decisions, func(d Decision) bool { return d.Category == category })
	if i < 0 {
		return Invalid("category", "the application does not apply to category %q; it applies to %v", category, a.Categories)
	}
	if a.Decisions[i].Outcome != OutcomePending {
		return Errorf(ECONFLICT, "category %q was already decided (%s)", category, a.Decisions[i].Outcome)
	}
	switch outcome {
	case OutcomeAdmitted:
		if reason == "" {
			reason = "The applicant meets the selection criteria of the category and no exclusion ground applies."
		}
	case OutcomeRejected:
		if reason == "" {
			return Invalid("reason", "a rejection must state its reason: name the selection criterion or exclusion ground that is not met")
		}
	default:
		return Invalid("outcome", "must be admitted or rejected")
	}
	a.Decisions[i] = Decision{Category: category, Outcome: outcome, Reason: reason, DecidedBy: by.UserID, DecidedAt: &now}
	if !slices.ContainsFunc(a.Decisions, func(d Decision) bool { return d.Outcome == OutcomePending }) {
		a.Status = StatusDecided
	}
	a.UpdatedAt = now
	return nil
}

// RequestInformation asks the applicant for more information and pauses
// the decision clock.
func (a *Application) RequestInformation(by Actor, message string, now time.Time) error {
	if a.Status != StatusReceived {
		return Errorf(ECONFLICT, "information can be requested only while the application waits for decisions (it is %s)", a.Status)
	}
	if message == "" {
		return Invalid("message", "say what information the applicant must give")
	}
	a.PausedRemaining = a.WorkdaysLeft(now)
	a.Status = StatusInfoRequested
	a.InfoRequests = append(a.InfoRequests, InfoRequest{Message: message, RequestedBy: by.UserID, RequestedAt: now})
	a.UpdatedAt = now
	return nil
}

// Respond records the applicant's answer and restarts the clock with the
// working days that were left when it paused.
func (a *Application) Respond(response string, docs []Document, now time.Time) error {
	if a.Status != StatusInfoRequested {
		return Errorf(ECONFLICT, "no information request is open on this application")
	}
	if response == "" {
		return Invalid("response", "give the information the officers asked for")
	}
	for i := range docs {
		docs[i].BusinessID = a.Applicant.BusinessID
	}
	a.Documents = append(a.Documents, docs...)
	var probs Problems
	checkDocuments(&probs, a)
	if err := probs.Err(); err != nil {
		return err
	}
	last := &a.InfoRequests[len(a.InfoRequests)-1]
	last.Response, last.RespondedAt = response, &now
	a.Status = StatusReceived
	a.DueOn = workdays.DateString(workdays.Add(now, max(a.PausedRemaining, 0)))
	a.PausedRemaining = 0
	a.UpdatedAt = now
	return nil
}

// Extend extends the decision time once, from DecisionWorkdays to
// ExtendedDecisionWorkdays, with a recorded justification.
func (a *Application) Extend(by Actor, s Settings, justification string, now time.Time) error {
	if a.Extension != nil {
		return Errorf(ECONFLICT, "the decision time was already extended on %s; it can be extended only once", workdays.DateString(a.Extension.At))
	}
	if a.Status == StatusDecided {
		return Errorf(ECONFLICT, "the application is already decided")
	}
	if justification == "" {
		return Invalid("justification", "state why the decision needs more time (e.g. the number of applications or a need to verify documents)")
	}
	extra := s.ExtendedDecisionWorkdays - s.DecisionWorkdays
	if a.Status == StatusInfoRequested {
		a.PausedRemaining += extra
	} else {
		due, _ := time.Parse(time.DateOnly, a.DueOn)
		a.DueOn = workdays.DateString(workdays.Add(due.Add(12*time.Hour), extra))
	}
	a.Extension = &Extension{Justification: justification, By: by.UserID, At: now}
	a.UpdatedAt = now
	return nil
}
