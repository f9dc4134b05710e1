package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rengas/rengas/shared/ocds"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/workdays"
)

// ScheduleReport says what one run of the scheduled job did.
type ScheduleReport struct {
	Opened     int `json:"competitionsOpened"`
	Dispatched int `json:"fanoutsDispatched"`
	Overdue    int `json:"overdueApplicationsFlagged"`
	// Erased is the number of referrals whose client reference was erased
	// after its retention period.
	Erased int `json:"referralsErased"`
	// Contracts is what the outcome-contract jobs did (RunContractJobs).
	Contracts ContractJobsReport `json:"contracts"`
	// Anchoring is what the anchoring step did (nothing when no anchor is due).
	Anchoring AnchorReport `json:"anchoring"`
	// Ended is the number of DPSs whose end of validity was published.
	Ended int `json:"dpsEnded"`
}

// RunSchedule is the scheduled job: it opens competitions past their
// deadline, finishes interrupted notification fan-outs and flags overdue
// application decisions to the DPS's buyers, publishes the end of DPSs
// whose validity is over, and anchors the audit chains
// when an anchor is due. Running it twice changes nothing more: openings
// are conditional on the version, each overdue flag is written once and
// each anchor number is taken once.
func (s *Store) RunSchedule(ctx context.Context) (ScheduleReport, error) {
	var r ScheduleReport
	var err error
	if r.Opened, err = s.OpenDue(ctx); err != nil {
		return r, fmt.Errorf("open due competitions: %w", err)
	}
	if r.Dispatched, err = s.DispatchPending(ctx); err != nil {
		return r, fmt.Errorf("dispatch fan-outs: %w", err)
	}
	if r.Overdue, err = s.flagOverdue(ctx); err != nil {
		return r, fmt.Errorf("flag overdue applications: %w", err)
	}
	if r.Erased, err = s.EraseReferrals(ctx); err != nil {
		return r, fmt.Errorf("erase referral references: %w", err)
	}
	if r.Contracts, err = s.RunContractJobs(ctx); err != nil {
		return r, err
	}
	if r.Ended, err = s.EndDPSs(ctx); err != nil {
		return r, fmt.Errorf("publish the end of DPSs: %w", err)
	}
	if r.Anchoring, err = s.AnchorIfDue(ctx); err != nil {
		return r, fmt.Errorf("anchor the audit chains: %w", err)
	}
	return r, nil
}

func (s *Store) flagOverdue(ctx context.Context) (int, error) {
	flagged := 0
	yesterday := workdays.DateString(s.Now().AddDate(0, 0, -1))
	dpss, err := All(func(cur string) (Page[procurement.DPS], error) { return s.ListDPS(ctx, cur, 100) })
	if err != nil {
		return 0, err
	}
	for _, d := range dpss {
		// Decisions due before today: the index sorts by due date.
		overdue, err := All(func(cur string) (Page[procurement.Application], error) {
			return queryPage[procurement.Application](ctx, s, query{index: &GSI1, pk: applicationsByStatus(d.ID, string(procurement.StatusReceived)), skTo: yesterday + "#~", cursor: cur})
		})
		if err != nil {
			return flagged, err
		}
		for _, a := range overdue {
			for _, buyer := range d.Buyers {
				ok, err := s.notifyOnce(ctx, buyer, "application.overdue", a.ID, a.DueOn,
					fmt.Sprintf("The decision on the application of %s (%s) was due on %s.", a.Applicant.Name, a.ID, a.DueOn))
				if err != nil {
					return flagged, err
				}
				if ok {
					flagged++
				}
			}
		}
	}
	return flagged, nil
}

// notifyOnce writes a notification with a key derived from its subject, so
// that repeating it is a no-op. It reports whether it wrote.
func (s *Store) notifyOnce(ctx context.Context, org, kind, ref, day, message string) (bool, error) {
	id := kind + "-" + ref
	nt := Notification{ID: id, To: org, Kind: kind, Ref: ref, Message: message, At: s.Now().UTC().Format("2006-01-02T15:04:05.000000Z")}
	it := queueMail(entity(key{outboxPartition(org), day + "T23:59:59.999999Z#" + id}, "notification", 1, nt), nt)
	if s.ReadOnly {
		return false, errReadOnly
	}
	s.calls.Add(1)
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: it.av(), ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if _, dup := errors.AsType[*types.ConditionalCheckFailedException](err); dup {
		return false, nil
	}
	if err != nil {
		return false, procurement.Internal(err)
	}
	return true, nil
}

// dpsEndKey marks that a DPS's end is published: in the partition of its
// OCDS releases (the releases are read by their R# prefix only).
func dpsEndKey(dps string) key { return key{releasePartition(ocds.DPSOCID(dps)), "END"} }

// EndDPSs publishes the end of every DPS whose validity ended before
// today (Europe/Helsinki): its OCDS process leaves "active" with a
// tenderUpdate release (ocds.DPSEnd), written once, in one transaction
// with a marker item (attribute_not_exists) and the dps.ended event on
// the DPS's audit chain. Running it twice, or two runs at once, publishes
// each end once: the second finds the marker (one BatchGetItem for all
// ended DPSs) or loses the transaction on it. Round trips: the DPS list
// (one Query per 100), one BatchGetItem per 100 ended DPSs, and for each
// end still to publish one chain-head read and one TransactWriteItems.
func (s *Store) EndDPSs(ctx context.Context) (int, error) {
	today := workdays.DateString(s.Now())
	dpss, err := All(func(cur string) (Page[procurement.DPS], error) { return s.ListDPS(ctx, cur, 100) })
	if err != nil {
		return 0, err
	}
	var over []procurement.DPS
	var keys []key
	for _, d := range dpss {
		if d.ValidUntil != "" && d.ValidUntil < today {
			over = append(over, d)
			keys = append(keys, dpsEndKey(d.ID))
		}
	}
	if len(over) == 0 {
		return 0, nil
	}
	done, err := s.getChunked(ctx, keys)
	if err != nil {
		return 0, err
	}
	ended := 0
	system := procurement.Actor{UserID: "scheduler", Role: "system", Org: "rengas"}
	for _, d := range over {
		if done[dpsEndKey(d.ID)] != nil {
			continue
		}
		at := s.Now()
		marker := item{key: dpsEndKey(d.ID), Type: "dpsEnd", Ver: 1, Data: []byte(`{"at":"` + ocds.Stamp(at) + `"}`)}
		writes := []write{
			s.putNew(marker, "the end of DPS "+d.ID+" is published already"),
			s.ReleaseWrite(ocds.DPSEnd(&d, at), at),
		}
		_, err := s.commit(ctx, nil, Change{Actor: system, Chain: DPSChain(d.ID), Action: "dps.ended", EntityType: "dps", EntityID: d.ID,
			State: d, Summary: "The validity of the DPS ended on " + d.ValidUntil + "; its call for participation is complete."}, writes...)
		if pe, ok := errors.AsType[*procurement.Error](err); ok && pe.Code == procurement.ECONFLICT {
			continue // another run published it (or the chain is busy: the next run tries again)
		}
		if err != nil {
			return ended, err
		}
		ended++
	}
	return ended, nil
}
