package dynamo

// The scheduled jobs of outcome contracts: concluded contracts the
// provider did not accept in time lapse, and the per-month fixed fees of
// contracts on the per-client-month basis are booked once each month is
// over.
//
//	entity               PK                 SK                          GSI3 (PK / SK)
//	concluded contract   CON#<contract>     META                        OCONLAPSE / <accept by>#<c>   (while concluded)
//	fee plan             CON#<contract>     FEEPLAN                     FEEPLAN / <next month>#<c>     (until every month is booked)
//	monthly fee marker   CON#<contract>     PFEE#<YYYY-MM>#<referral>   (one per referral and month: the deterministic id of its entry)

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rengas/rengas/shared/outcomes"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/workdays"
)

const (
	lapsePartition   = "OCONLAPSE"
	feePlanPartition = "FEEPLAN"
	// feeBooked is the conflict of a monthly fee booked already.
	feeBooked = "the monthly fixed fee of this client and month is already booked"
)

func feePlanKey(c string) key                { return key{"CON#" + c, "FEEPLAN"} }
func monthlyFeeKey(c, month, ref string) key { return key{"CON#" + c, "PFEE#" + month + "#" + ref} }

// feePlan is where the monthly fixed fees of a contract stand: Next is the
// first month not yet booked in full.
type feePlan struct {
	ContractID    string `json:"contractId"`
	CompetitionID string `json:"competitionId"`
	ProviderID    string `json:"providerId"`
	Next          string `json:"next"`
}

func feePlanItem(k *outcomes.Contract) item {
	p := feePlan{ContractID: k.ID, CompetitionID: k.CompetitionID, ProviderID: k.ProviderID, Next: k.Terms.Start[:7]}
	it := entity(feePlanKey(k.ID), "feeplan", 1, p)
	it.GSI[2] = key{feePlanPartition, p.Next + "#" + k.ID}
	return it
}

// schedulerActor is the system's own actor for scheduled changes.
var schedulerActor = procurement.Actor{UserID: "scheduler", Role: procurement.RoleAuditor, Org: "rengas"}

// ContractJobsReport says what the outcome-contract jobs did.
type ContractJobsReport struct {
	// Lapsed is the number of concluded contracts that lapsed because the
	// provider did not accept them in time.
	Lapsed int `json:"contractsLapsed"`
	// MonthlyFees is the number of per-month fixed fees booked.
	MonthlyFees int `json:"monthlyFixedFeesBooked"`
}

// RunContractJobs lets unaccepted contracts lapse and books the monthly
// fixed fees of the months that are over. Running it again, or twice at
// once, changes nothing more: a lapse is conditional on the contract's
// version and status, and each client-month's fee has a marker item
// written with its entry on condition that it does not exist.
func (s *Store) RunContractJobs(ctx context.Context) (ContractJobsReport, error) {
	var r ContractJobsReport
	var err error
	if r.Lapsed, err = s.LapseUnaccepted(ctx); err != nil {
		return r, fmt.Errorf("lapse unaccepted contracts: %w", err)
	}
	if r.MonthlyFees, err = s.BookMonthlyFees(ctx); err != nil {
		return r, fmt.Errorf("book monthly fixed fees: %w", err)
	}
	return r, nil
}

// LapseUnaccepted lets every concluded contract whose acceptance day has
// passed (Finnish time) lapse, with the audit event and the OCDS release
// of ContractStep. A contract accepted or ended meanwhile is left alone.
func (s *Store) LapseUnaccepted(ctx context.Context) (int, error) {
	today := workdays.DateString(s.Now())
	due, err := All(func(cur string) (Page[outcomes.Contract], error) {
		return queryPage[outcomes.Contract](ctx, s, query{index: &GSI3, pk: lapsePartition, skTo: today + "#", cursor: cur})
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range due {
		if k.Status != outcomes.Concluded || k.AcceptBy == "" || k.AcceptBy >= today {
			continue
		}
		acceptBy := k.AcceptBy
		_, err := s.ContractStep(ctx, schedulerActor, k.CompetitionID, k.ProviderID, k.Version, func(k *outcomes.Contract) (string, error) {
			if k.AcceptBy != acceptBy {
				return "", procurement.Errorf(procurement.ECONFLICT, "the contract changed")
			}
			return "contract.lapsed", k.End(outcomes.Lapsed, schedulerActor,
				fmt.Sprintf("The provider did not accept the contract by %s (%d calendar days after its conclusion, a setting of the DPS).", acceptBy, k.Terms.AcceptanceDays), s.Now())
		}, func(*outcomes.Contract) error { return nil })
		switch {
		case err == nil:
			n++
		case procurement.ErrorCode(err) == procurement.ECONFLICT:
			// Accepted, ended or lapsed by another run meanwhile.
		default:
			return n, err
		}
	}
	return n, nil
}

// BookMonthlyFees books, for every contract on the per-client-month basis,
// the fixed fee of each client in service in each month that is over
// (Finnish time), up to the contract's last fee month. A fee plan moves on
// to the next month only once every fee of the month is booked, so a run
// that fails part-way is completed by the next.
func (s *Store) BookMonthlyFees(ctx context.Context) (int, error) {
	lastOver := workdays.DateString(s.Now())[:7]
	plans, err := All(func(cur string) (Page[feePlan], error) {
		return queryPage[feePlan](ctx, s, query{index: &GSI3, pk: feePlanPartition, skTo: lastOver + "#", cursor: cur})
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range plans {
		booked, err := s.bookPlan(ctx, p, lastOver)
		n += booked
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// bookPlan books the months of one plan before the month current.
func (s *Store) bookPlan(ctx context.Context, p feePlan, current string) (int, error) {
	r, err := s.loadContract(ctx, p.CompetitionID, p.ProviderID)
	if err != nil {
		return 0, err
	}
	k := r.Contract
	if k.Terms == nil || (k.Status != outcomes.Active && k.Status != outcomes.Cancelled) {
		return 0, nil
	}
	refs, err := All(func(cur string) (Page[outcomes.Referral], error) { return s.ListReferrals(ctx, k.ID, cur, 100) })
	if err != nil {
		return 0, err
	}
	n := 0
	for month := p.Next; month < current; month = outcomes.NextMonth(month) {
		if month > k.LastFeeMonth() {
			return n, s.movePlan(ctx, p, month, "")
		}
		complete := true
		for i := range refs {
			if !k.InServiceIn(&refs[i], month) {
				continue
			}
			ok, err := s.bookMonthlyFee(ctx, p, &refs[i], month)
			switch {
			case ok:
				n++
			case err != nil && procurement.ErrorCode(err) == procurement.ECONFLICT:
				complete = false // another run holds the chain; the next run completes the month
			case err != nil:
				return n, err
			}
		}
		if !complete {
			return n, nil
		}
		next := outcomes.NextMonth(month)
		if next > k.LastFeeMonth() {
			next = ""
		}
		if err := s.movePlan(ctx, p, month, next); err != nil {
			return n, err
		}
	}
	return n, nil
}

// bookMonthlyFee books one client's fixed fee for one month under the
// caps, with its marker, the balance, the statistics and the audit event
// in one transaction. It reports false if the fee was booked already.
func (s *Store) bookMonthlyFee(ctx context.Context, p feePlan, rf *outcomes.Referral, month string) (bool, error) {
	mk := monthlyFeeKey(p.ContractID, month, rf.ID)
	return retryLedger(func() (bool, error) {
		r, err := s.loadContract(ctx, p.CompetitionID, p.ProviderID, mk)
		if err != nil {
			return false, err
		}
		if r.got[mk] != nil {
			return false, nil
		}
		k := r.Contract
		if r.Balance == nil || k.Terms == nil {
			return false, procurement.Errorf(procurement.ECONFLICT, "the contract has no ledger")
		}
		e, d := outcomes.NewEntry(*r.Balance, k, outcomes.FixedFee, k.Terms.FixedFeeCents, schedulerActor, s.Now())
		e.ReferralID, e.Segment, e.Period, e.Reason = rf.ID, rf.Segment, month, outcomes.MonthlyFixedFeeReason(month)
		marker := entity(mk, "monthlyfee", 1, map[string]string{"entry": e.ID, "referralId": rf.ID, "month": month})
		writes := append(s.entryWrites(e, d, r.Balance.Entries), s.putNew(marker, feeBooked))
		writes = append(writes, s.statsWrites(k, month, outcomes.FeeCounts(e, 0, 1))...)
		_, err = s.commit(ctx, &r.head, s.contractChange(schedulerActor, k, "ledger.fixed_fee", "ledgerentry", k.ID+"/"+e.ID,
			fmt.Sprintf("%s, referral %s: payable %d withheld %d", e.Reason, rf.ID, e.PayableCents, e.WithheldCents), e), writes...)
		if err != nil && strings.Contains(err.Error(), feeBooked) {
			return false, nil
		}
		return err == nil, err
	})
}

// movePlan moves a fee plan from a month to the next (or, with next "",
// takes it out of the job's index: every month is booked), on condition
// that no other run moved it.
func (s *Store) movePlan(ctx context.Context, p feePlan, from, next string) error {
	c := p.ContractID
	p.Next = next
	if s.ReadOnly {
		return errReadOnly
	}
	in := &dynamodb.UpdateItemInput{TableName: &s.table, Key: feePlanKey(c).av(),
		ConditionExpression:       aws.String("#g = :from"),
		ExpressionAttributeNames:  map[string]string{"#g": GSI3.SK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":from": str(from + "#" + c)},
	}
	if next == "" {
		in.UpdateExpression = aws.String("REMOVE #g, #p")
		in.ExpressionAttributeNames["#p"] = GSI3.PK
	} else {
		in.UpdateExpression = aws.String("SET #g = :next, #d = :d")
		in.ExpressionAttributeNames["#d"] = "data"
		in.ExpressionAttributeValues[":next"] = str(next + "#" + c)
		in.ExpressionAttributeValues[":d"] = str(string(entity(feePlanKey(c), "feeplan", 1, p).Data))
	}
	s.calls.Add(1)
	_, err := s.db.UpdateItem(ctx, in)
	if _, moved := errors.AsType[*types.ConditionalCheckFailedException](err); moved {
		return nil
	}
	if err != nil {
		return procurement.Internal(err)
	}
	return nil
}
