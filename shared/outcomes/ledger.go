package outcomes

import (
	"fmt"
	"time"

	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/workdays"
)

// EntryKind is the kind of a ledger entry.
type EntryKind string

// Ledger entry kinds.
const (
	FixedFee   EntryKind = "fixed-fee"
	OutcomeFee EntryKind = "outcome-fee"
	Adjustment EntryKind = "adjustment"
	Clawback   EntryKind = "clawback"
)

// Entry is one append-only ledger entry, in integer cents. Its amounts
// never change; only the payment (invoice reference and paid day) is
// recorded on it later, and a clawback names it.
type Entry struct {
	// ID is the entry's sequence number in the contract, 12 digits.
	ID         string    `json:"id"`
	Seq        int64     `json:"seq"`
	ContractID string    `json:"contractId"`
	Kind       EntryKind `json:"kind"`
	Day        string    `json:"day"`
	ReferralID string    `json:"referralId,omitempty"`
	ClaimID    string    `json:"claimId,omitempty"`
	Segment    string    `json:"segment,omitempty"`
	Milestone  string    `json:"milestone,omitempty"`
	// AmountCents is the fee by the terms (negative for a clawback).
	AmountCents int64 `json:"amountCents"`
	// PayableCents is the part within the caps; WithheldCents the part
	// recorded but not payable, for WithheldReason.
	PayableCents   int64  `json:"payableCents"`
	WithheldCents  int64  `json:"withheldCents"`
	WithheldReason string `json:"withheldReason,omitempty"`
	// Period is the month the entry counts in the statistics (the start's
	// or the outcome's); DaysToOutcome is an outcome fee's days from start.
	Period        string `json:"period,omitempty"`
	DaysToOutcome int    `json:"daysToOutcome,omitempty"`
	// Reverses is the entry a clawback reverses; ReversedBy the clawback
	// that reversed this one.
	Reverses   string    `json:"reverses,omitempty"`
	ReversedBy string    `json:"reversedBy,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	InvoiceRef string    `json:"invoiceRef,omitempty"`
	PaidOn     string    `json:"paidOn,omitempty"`
	By         string    `json:"by"`
	At         time.Time `json:"at"`
	Version    int       `json:"version"`
}

// EntryID formats a sequence number as an entry id.
func EntryID(seq int64) string { return fmt.Sprintf("%012d", seq) }

// Balance is the running state of a contract, kept in one item and
// updated in the same transaction as every referral and ledger entry.
type Balance struct {
	Places    int64 `json:"places"`
	Active    int64 `json:"activeReferrals"`
	Referrals int64 `json:"referrals"`
	Entries   int64 `json:"entries"`
	// Payable amounts per kind (clawbacks negative).
	FixedCents      int64 `json:"fixedPayableCents"`
	OutcomeCents    int64 `json:"outcomePayableCents"`
	AdjustmentCents int64 `json:"adjustmentPayableCents"`
	ClawbackCents   int64 `json:"clawbackCents"`
	PayableCents    int64 `json:"payableCents"`
	WithheldCents   int64 `json:"withheldCents"`
	PaidCents       int64 `json:"paidCents"`
	// OutcomeShareUsedCents is the payable outcome fees counted against the
	// outcome-share cap (clawbacks of outcome fees free it).
	OutcomeShareUsedCents int64 `json:"outcomeShareUsedCents"`
	CeilingCents          int64 `json:"ceilingCents"`
	OutcomeCapCents       int64 `json:"outcomeCapCents"`
}

// Delta is what an entry adds to the balance.
type Delta struct {
	Fixed, Outcome, Adjustment, Clawback, Payable, Withheld, Paid, ShareUsed int64
}

// Capped splits a new fee into its payable and withheld parts under the
// caps, cumulatively: the payable total never exceeds the contract's
// ceiling, and payable outcome fees never exceed the outcome-share cap.
// A negative amount (a downward adjustment) is payable in full.
func Capped(b Balance, kind EntryKind, amount int64) (payable, withheld int64, reason string) {
	if amount <= 0 {
		return amount, 0, ""
	}
	payable = amount
	if room := max(0, b.CeilingCents-b.PayableCents); payable > room {
		payable = room
		reason = fmt.Sprintf("the contract's ceiling is %s and %s is already payable: %s of this fee is over the ceiling",
			euros(b.CeilingCents), euros(b.PayableCents), euros(amount-room))
	}
	if kind == OutcomeFee {
		if room := max(0, b.OutcomeCapCents-b.OutcomeShareUsedCents); payable > room {
			payable = room
			reason = fmt.Sprintf("outcome fees may be at most %s (the outcome-share cap: the maximum outcome share × the contract's ceiling) and %s is already payable: %s of this fee is over the cap",
				euros(b.OutcomeCapCents), euros(b.OutcomeShareUsedCents), euros(amount-room))
		}
	}
	return payable, amount - payable, reason
}

// NewEntry makes the next entry of the balance: a fee split under the caps.
func NewEntry(b Balance, k *Contract, kind EntryKind, amount int64, by procurement.Actor, now time.Time) (*Entry, Delta) {
	pay, held, why := Capped(b, kind, amount)
	e := &Entry{
		ID: EntryID(b.Entries + 1), Seq: b.Entries + 1, ContractID: k.ID, Kind: kind, Day: dayOf(now),
		AmountCents: amount, PayableCents: pay, WithheldCents: held, WithheldReason: why, By: by.UserID, At: now,
	}
	d := Delta{Payable: pay, Withheld: held}
	switch kind {
	case FixedFee:
		d.Fixed = pay
	case OutcomeFee:
		d.Outcome, d.ShareUsed = pay, pay
	case Adjustment:
		d.Adjustment = pay
	}
	return e, d
}

// Reverse makes the clawback of an entry: its payable and withheld amounts
// reversed, freeing the caps they took.
func Reverse(b Balance, k *Contract, of *Entry, reason string, by procurement.Actor, now time.Time) (*Entry, Delta, error) {
	switch {
	case of.Kind == Clawback:
		return nil, Delta{}, procurement.Errorf(procurement.ECONFLICT, "entry %s is itself a clawback; it cannot be clawed back", of.ID)
	case of.PayableCents <= 0 && of.WithheldCents <= 0:
		return nil, Delta{}, procurement.Errorf(procurement.ECONFLICT, "entry %s pays nothing; there is nothing to claw back", of.ID)
	case reason == "":
		return nil, Delta{}, procurement.Invalid("reason", "state why the payment is clawed back (e.g. the employment did not last)")
	}
	e := &Entry{
		ID: EntryID(b.Entries + 1), Seq: b.Entries + 1, ContractID: k.ID, Kind: Clawback, Day: dayOf(now),
		ReferralID: of.ReferralID, ClaimID: of.ClaimID, Segment: of.Segment, Milestone: of.Milestone,
		AmountCents: -of.AmountCents, PayableCents: -of.PayableCents, WithheldCents: -of.WithheldCents,
		Reverses: of.ID, Reason: reason, By: by.UserID, At: now,
	}
	d := Delta{Clawback: -of.PayableCents, Payable: -of.PayableCents, Withheld: -of.WithheldCents}
	if of.Kind == OutcomeFee {
		d.ShareUsed = -of.PayableCents
	}
	return e, d, nil
}

// Pay records the invoice and the day an entry was paid.
func (e *Entry) Pay(invoice, paidOn string) error {
	if err := invalidDay("paidOn", paidOn); err != nil {
		return err
	}
	switch {
	case e.PaidOn != "":
		return procurement.Errorf(procurement.ECONFLICT, "entry %s was already paid on %s (invoice %s)", e.ID, e.PaidOn, e.InvoiceRef)
	case e.PayableCents <= 0:
		return procurement.Errorf(procurement.ECONFLICT, "entry %s has nothing payable", e.ID)
	case invoice == "":
		return procurement.Invalid("invoiceRef", "give the invoice reference")
	}
	e.InvoiceRef, e.PaidOn = invoice, paidOn
	return nil
}

func dayOf(t time.Time) string { return workdays.DateString(t) }
