// Package access is the one home of who may know of, see and change what in
// Rengas. Every operation of the JSON API (and every page) asks it before it
// answers anything that depends on hidden state: existence, status, version
// or count. The store reads and writes; it never decides who may.
//
// The policy is the table Rules below: for each kind of entity and each of
// its states, what each relation of the caller to the entity allows. What
// the caller may not know of answers exactly as what does not exist.
package access

// Ability is what a caller may do with an entity.
type Ability uint8

// The abilities. Each implies nothing about the others; the table states
// them all.
const (
	// Know: may learn that the entity exists. Without it the answer is
	// "not found", exactly as for an id that does not exist.
	Know Ability = 1 << iota
	// See: may read the entity (in the view its relation gets).
	See
	// Act: may change it (the domain rules still apply).
	Act
)

// Shorthands used in the table.
const (
	None = Ability(0)
	K    = Know
	KS   = Know | See
	KSA  = Know | See | Act
)

// Relation is how the caller stands to an entity.
type Relation int

// The relations, the columns of the table.
const (
	// OwnBuyer: an officer of the buyer the entity belongs to. For a DPS and
	// what lives in it (applications, admissions, declaration requests,
	// awards) every buyer of the DPS; for a mini-competition the buyer that
	// runs it.
	OwnBuyer Relation = iota
	// RingBuyer: an officer of another buyer of the same DPS (a shared DPS).
	RingBuyer
	// Outsider: an officer of a buyer with no part in the DPS.
	Outsider
	// OwnProvider: the provider the entity concerns (the applicant, the
	// invitee, the bidder, the addressee).
	OwnProvider
	// OtherProvider: any other provider.
	OtherProvider
	// Auditor: the ring's auditors. They read everything of the ring but
	// never sealed content before opening, and never write.
	Auditor
	// Public: no token.
	Public
	numRelations
)

var relationNames = [numRelations]string{"own buyer", "ring buyer", "outside officer", "own provider", "other provider", "auditor", "public"}

func (r Relation) String() string { return relationNames[r] }

// Relations lists every relation, in table order.
func Relations() []Relation {
	rs := make([]Relation, numRelations)
	for i := range rs {
		rs[i] = Relation(i)
	}
	return rs
}

// Entity is a kind of thing the rules govern.
type Entity string

// The entities.
const (
	DPS                Entity = "dps"                 // the DPS notice: categories, criteria, settings
	Provider           Entity = "provider"            // a provider's registration
	Application        Entity = "application"         // a request to participate, with declarations and documents
	Admission          Entity = "admission"           // a provider's standing in a category
	DeclarationRequest Entity = "declaration-request" // a renewed self-declaration request
	Documents          Entity = "documents"           // a DPS's document register (expiring documents)
	AwardHistory       Entity = "award-history"       // awards, contracts, statistics and quarterly notices of a DPS
	Notifications      Entity = "notifications"       // an organisation's outbox
	Competition        Entity = "competition"         // a mini-competition's notice (the public view)
	Internals          Entity = "competition-internals"
	Questions          Entity = "questions" // clarification questions and answers (askers: see Internals)
	Bid                Entity = "bid"       // one sealed bid and its trail
	Evaluation         Entity = "evaluation"
	Decision           Entity = "decision"
	Chain              Entity = "audit-chain"
	Anchor             Entity = "audit-anchor" // an anchor of the chains' heads and its verification
	OpenData           Entity = "open-data"
	// File is an uploaded file reached by its own id: the uploader's.
	File Entity = "file"
	// Attachment is an uploaded file reached through a record that holds
	// it (an application, a bid): the record's rules are asked first; the
	// scan state then decides whether the file may be read.
	Attachment Entity = "attachment"
	// Release is a contracting process's OCDS releases (a DPS's or a
	// mini-competition's). A release exists only for a public change, so
	// a process with a release is past its draft: the store writes none
	// for a draft, nor for a draft cancelled before publication.
	Release Entity = "ocds-release"
	// Outcome contracts after the award (package outcomes). Own buyer =
	// the buyer that ran the competition; own provider = the winner.
	Contract     Entity = "contract"           // the contract, its terms and stages
	Referral     Entity = "referral"           // client referrals (opaque client references)
	Claim        Entity = "claim"              // outcome claims and their verification
	Ledger       Entity = "ledger"             // ledger entries, balance and payments
	OutcomeStats Entity = "outcome-statistics" // what works for whom, in full (no suppression)
)

// State is the state of an entity that the rules depend on. Entities
// whose rules do not depend on state use Any.
type State string

// States. A mini-competition's state is its stored status, except that a
// published one past its deadline is Closed (bids closed, not yet opened),
// and a cancelled one is told apart by whether it was ever published.
const (
	Any                  State = "any"
	Draft                State = "draft"
	Published            State = "published"
	Closed               State = "closed"
	InEvaluation         State = "evaluation"
	Awarded              State = "awarded"
	CancelledUnpublished State = "cancelled-unpublished"
	Cancelled            State = "cancelled"
	// CancelledOpened: cancelled after its bids were opened; the opened
	// bids stay on the record for the buyer and the auditors.
	CancelledOpened State = "cancelled-opened"

	// The states of an uploaded file (see FileState).
	FileAwaiting State = "awaiting-upload"
	FileRefused  State = "refused"
	ScanPending  State = "scan-pending"
	ScanClean    State = "no-threats-found"
	ScanThreat   State = "threats-found"
	ScanFailed   State = "scan-failed"
	// NotScanned: locally, where no scanner runs. Others may read such a
	// file, and its status says plainly that it was not scanned.
	NotScanned State = "not-scanned"
)

// FileStates lists every state of an uploaded file.
var FileStates = []State{FileAwaiting, FileRefused, ScanPending, ScanClean, ScanThreat, ScanFailed, NotScanned}

// Contract states (outcomes.Status).
const (
	ContractAwarded   State = "contract-awarded"
	ContractConcluded State = "contract-concluded"
	ContractActive    State = "contract-active"
	ContractLapsed    State = "contract-lapsed"
	ContractCancelled State = "contract-cancelled"
)

// ContractStates lists every state of an outcome contract.
var ContractStates = []State{ContractAwarded, ContractConcluded, ContractActive, ContractLapsed, ContractCancelled}

// CompetitionStates lists every state of a mini-competition.
var CompetitionStates = []State{Draft, Published, Closed, InEvaluation, Awarded, CancelledUnpublished, Cancelled, CancelledOpened}

// Rule is one row of the table: what each relation may do with the entity
// in the state.
type Rule struct {
	Entity Entity
	State  State
	Allow  [numRelations]Ability
}

// Rules is the whole policy. Columns: own buyer, ring buyer, outside
// officer, own provider, other provider, auditor, public. A missing row
// allows nothing. Role checks (which roles may call a route at all) are on
// the route table; the domain's own rules (deadlines, versions, evaluation
// order) apply after these.
var Rules = []Rule{
	//                                         own buyer  ring buyer  outsider  own prov  other prov  auditor  public
	// The DPS notice is public: anyone may apply. Only its buyers act on it.
	{DPS, Any, [numRelations]Ability{KSA, None, KS, KS, KS, KS, KS}},
	// The provider register is the ring's: officers read registrations,
	// a provider only its own.
	{Provider, Any, [numRelations]Ability{KS, KS, KS, KSA, None, KS, None}},
	// Qualification is between the DPS's buyers and the applicant.
	{Application, Any, [numRelations]Ability{KSA, None, None, KSA, None, KS, None}},
	{Admission, Any, [numRelations]Ability{KSA, None, None, KS, None, KS, None}},
	{DeclarationRequest, Any, [numRelations]Ability{KSA, None, None, KSA, None, KS, None}},
	{Documents, Any, [numRelations]Ability{KS, None, None, None, None, KS, None}},
	{AwardHistory, Any, [numRelations]Ability{KS, None, None, None, None, KS, None}},
	{Notifications, Any, [numRelations]Ability{KS, None, None, KS, None, KS, None}},

	// A mini-competition. Own provider = an invitee. Before publication only
	// the running buyer (and the auditors) know of it; a draft cancelled
	// before publication stays unknown to everyone else forever.
	{Competition, Draft, [numRelations]Ability{KSA, None, None, None, None, KS, None}},
	{Competition, CancelledUnpublished, [numRelations]Ability{KS, None, None, None, None, KS, None}},
	// Published: a public notice. Invitees bid and ask; uninvited providers
	// have no business with it.
	{Competition, Published, [numRelations]Ability{KSA, KS, KS, KSA, None, KS, KS}},
	{Competition, Closed, [numRelations]Ability{KSA, KS, KS, KS, None, KS, KS}},
	{Competition, InEvaluation, [numRelations]Ability{KSA, KS, KS, KS, None, KS, KS}},
	{Competition, Awarded, [numRelations]Ability{KS, KS, KS, KS, None, KS, KS}},
	{Competition, Cancelled, [numRelations]Ability{KS, KS, KS, KS, None, KS, KS}},
	{Competition, CancelledOpened, [numRelations]Ability{KS, KS, KS, KS, None, KS, KS}},

	// The non-public parts: invitee list, conflict declarations, who asked
	// which question. The running buyer's officers and the auditors only.
	{Internals, Draft, [numRelations]Ability{KS, None, None, None, None, KS, None}},
	{Internals, CancelledUnpublished, [numRelations]Ability{KS, None, None, None, None, KS, None}},
	{Internals, Published, [numRelations]Ability{KS, None, None, None, None, KS, None}},
	{Internals, Closed, [numRelations]Ability{KS, None, None, None, None, KS, None}},
	{Internals, InEvaluation, [numRelations]Ability{KSA, None, None, None, None, KS, None}},
	{Internals, Awarded, [numRelations]Ability{KS, None, None, None, None, KS, None}},
	{Internals, Cancelled, [numRelations]Ability{KS, None, None, None, None, KS, None}},
	{Internals, CancelledOpened, [numRelations]Ability{KS, None, None, None, None, KS, None}},

	// Clarifications: invitees ask; the running buyer answers. Answers
	// are published to every invitee without the asker.
	{Questions, Published, [numRelations]Ability{KSA, None, None, KSA, None, KS, None}},
	{Questions, Closed, [numRelations]Ability{KS, None, None, KS, None, KS, None}},
	{Questions, InEvaluation, [numRelations]Ability{KS, None, None, KS, None, KS, None}},
	{Questions, Awarded, [numRelations]Ability{KS, None, None, KS, None, KS, None}},
	{Questions, Cancelled, [numRelations]Ability{KS, None, None, KS, None, KS, None}},
	{Questions, CancelledOpened, [numRelations]Ability{KS, None, None, KS, None, KS, None}},

	// Sealed bids. Own provider = the bidder, who alone sees and changes its
	// bid until the deadline. Before opening nobody else may even know
	// whether a bid exists. After opening the running buyer evaluates and
	// the auditors read.
	{Bid, Published, [numRelations]Ability{None, None, None, KSA, None, None, None}},
	{Bid, Closed, [numRelations]Ability{None, None, None, KS, None, None, None}},
	{Bid, InEvaluation, [numRelations]Ability{KSA, None, None, KS, None, KS, None}},
	{Bid, Awarded, [numRelations]Ability{KS, None, None, KS, None, KS, None}},
	{Bid, Cancelled, [numRelations]Ability{None, None, None, KS, None, None, None}},
	{Bid, CancelledOpened, [numRelations]Ability{KS, None, None, KS, None, KS, None}},

	// The evaluation (bid list, scores, preview, award) is the running
	// buyer's work once the bids are opened; the auditors read it. Before
	// opening the running buyer knows there will be one (the answer is
	// "sealed", the same with or without bids).
	{Evaluation, Published, [numRelations]Ability{K, None, None, None, None, K, None}},
	{Evaluation, Closed, [numRelations]Ability{K, None, None, None, None, K, None}},
	{Evaluation, InEvaluation, [numRelations]Ability{KSA, None, None, None, None, KS, None}},
	{Evaluation, Awarded, [numRelations]Ability{KS, None, None, None, None, KS, None}},
	{Evaluation, Cancelled, [numRelations]Ability{K, None, None, None, None, K, None}},
	{Evaluation, CancelledOpened, [numRelations]Ability{KS, None, None, None, None, KS, None}},

	// The award decision: in full for the running buyer and the auditors;
	// every other reader (bidders, the ring's other buyers, the public) sees
	// the winners' numbers, and a bidder also its own.
	{Decision, Awarded, [numRelations]Ability{KS, KS, KS, KS, None, KS, KS}},

	// Outcome contracts. The running buyer concludes, cancels or lets a
	// contract lapse; the winner accepts; the ring's other buyers may know
	// of and read the contract (its terms are public in open data anyway)
	// but never its clients; other providers and outside officers nothing.
	{Contract, ContractAwarded, [numRelations]Ability{KSA, KS, None, KS, None, KS, None}},
	{Contract, ContractConcluded, [numRelations]Ability{KSA, KS, None, KSA, None, KS, None}},
	{Contract, ContractActive, [numRelations]Ability{KSA, KS, None, KS, None, KS, None}},
	{Contract, ContractLapsed, [numRelations]Ability{KS, KS, None, KS, None, KS, None}},
	{Contract, ContractCancelled, [numRelations]Ability{KS, KS, None, KS, None, KS, None}},
	// Referrals name clients (by opaque reference): the running buyer and
	// the winner only, and the auditors. Referring and recording starts and
	// ends need an active contract.
	{Referral, ContractAwarded, [numRelations]Ability{KS, None, None, KS, None, KS, None}},
	{Referral, ContractConcluded, [numRelations]Ability{KS, None, None, KS, None, KS, None}},
	{Referral, ContractActive, [numRelations]Ability{KSA, None, None, KSA, None, KS, None}},
	{Referral, ContractLapsed, [numRelations]Ability{KS, None, None, KS, None, KS, None}},
	{Referral, ContractCancelled, [numRelations]Ability{KS, None, None, KS, None, KS, None}},
	// Claims: the winner claims, the running buyer verifies. After a
	// cancellation outcomes achieved before it are still claimed and
	// verified.
	{Claim, ContractAwarded, [numRelations]Ability{KS, None, None, KS, None, KS, None}},
	{Claim, ContractConcluded, [numRelations]Ability{KS, None, None, KS, None, KS, None}},
	{Claim, ContractActive, [numRelations]Ability{KSA, None, None, KSA, None, KS, None}},
	{Claim, ContractCancelled, [numRelations]Ability{KSA, None, None, KSA, None, KS, None}},
	{Claim, ContractLapsed, [numRelations]Ability{KS, None, None, KS, None, KS, None}},
	// The ledger: the running buyer books adjustments, clawbacks and
	// payments; the winner reads its own.
	{Ledger, ContractAwarded, [numRelations]Ability{KS, None, None, KS, None, KS, None}},
	{Ledger, ContractActive, [numRelations]Ability{KSA, None, None, KS, None, KS, None}},
	{Ledger, ContractCancelled, [numRelations]Ability{KSA, None, None, KS, None, KS, None}},
	{Ledger, ContractLapsed, [numRelations]Ability{KS, None, None, KS, None, KS, None}},
	{Ledger, ContractConcluded, [numRelations]Ability{KS, None, None, KS, None, KS, None}},
	// Statistics in full are for the running buyer's officers and the
	// auditors; everyone else who may know of the contract reads them with
	// cells under five clients suppressed (see outcomes.Table).
	{OutcomeStats, Any, [numRelations]Ability{KS, None, None, None, None, KS, None}},

	// Open data is published to everyone: what it holds is cut to the
	// public view of each competition.
	{OpenData, Any, [numRelations]Ability{KS, KS, KS, KS, KS, KS, KS}},

	// Uploaded files. By its own id a file is its uploader's alone: it
	// may confirm the upload and read the file back (never one carrying
	// malware). Nobody else learns that an unattached file exists.
	{File, FileAwaiting, [numRelations]Ability{None, None, None, KSA, None, None, None}},
	{File, FileRefused, [numRelations]Ability{None, None, None, KS, None, None, None}},
	{File, ScanPending, [numRelations]Ability{None, None, None, KS, None, None, None}},
	{File, ScanClean, [numRelations]Ability{None, None, None, KS, None, None, None}},
	{File, NotScanned, [numRelations]Ability{None, None, None, KS, None, None, None}},
	{File, ScanFailed, [numRelations]Ability{None, None, None, KS, None, None, None}},
	{File, ScanThreat, [numRelations]Ability{None, None, None, K, None, None, None}},
	// A file attached to a record the caller may see (the record's rules
	// come first: e.g. a bid's attachments only after opening). Its
	// content is readable once the scan found no threats (locally: not
	// scanned, said so). Until then, or when a threat or a failed scan is
	// reported, the buyer, the uploader and the auditors see its status
	// but not its content.
	{Attachment, ScanClean, [numRelations]Ability{KS, None, None, KS, None, KS, None}},
	{Attachment, NotScanned, [numRelations]Ability{KS, None, None, KS, None, KS, None}},
	{Attachment, ScanPending, [numRelations]Ability{K, None, None, KS, None, K, None}},
	{Attachment, ScanFailed, [numRelations]Ability{K, None, None, KS, None, K, None}},
	{Attachment, ScanThreat, [numRelations]Ability{K, None, None, K, None, K, None}},
	// OCDS releases are published to everyone from the first public change
	// on; a draft has none, and one cancelled before publication never has.
	{Release, Draft, [numRelations]Ability{None, None, None, None, None, None, None}},
	{Release, CancelledUnpublished, [numRelations]Ability{None, None, None, None, None, None, None}},
	{Release, Published, [numRelations]Ability{KS, KS, KS, KS, KS, KS, KS}},
	{Release, Closed, [numRelations]Ability{KS, KS, KS, KS, KS, KS, KS}},
	{Release, InEvaluation, [numRelations]Ability{KS, KS, KS, KS, KS, KS, KS}},
	{Release, Awarded, [numRelations]Ability{KS, KS, KS, KS, KS, KS, KS}},
	{Release, Cancelled, [numRelations]Ability{KS, KS, KS, KS, KS, KS, KS}},
	{Release, CancelledOpened, [numRelations]Ability{KS, KS, KS, KS, KS, KS, KS}},

	// The audit trail is the auditors'.
	{Chain, Any, [numRelations]Ability{None, None, None, None, None, KS, None}},
	// Anchors name chains, sequence numbers and hashes only (never a sealed
	// bid's chain before its opening): they are published as open data;
	// verifying them against the table is the auditors'.
	{Anchor, Any, [numRelations]Ability{None, None, None, None, None, KS, None}},
}

// rules indexes the table.
var rules = func() map[[2]string]Rule {
	m := map[[2]string]Rule{}
	for _, r := range Rules {
		k := [2]string{string(r.Entity), string(r.State)}
		if _, dup := m[k]; dup {
			panic("access: two rules for " + string(r.Entity) + " in state " + string(r.State))
		}
		m[k] = r
	}
	return m
}()

// Allowed returns what the relation may do with the entity in the state.
func Allowed(e Entity, s State, r Relation) Ability {
	if rule, ok := rules[[2]string{string(e), string(s)}]; ok {
		return rule.Allow[r]
	}
	if rule, ok := rules[[2]string{string(e), string(Any)}]; ok {
		return rule.Allow[r]
	}
	return None
}
