package dynamo

// Outcome contracts after the award (package outcomes): the contract, its
// balance, referrals, claims and ledger live in the contract's own
// partition; every change goes with its audit event onto the contract's
// chain in one transaction.
//
//	entity               PK                 SK                   GSI1 (PK / SK)                           GSI2 (PK / SK)                 GSI3 (PK / SK)
//	outcome contract     CON#<contract>     META                 BUYER#<buyer>#CONTRACTS / <awarded>#<c>  PROV#<provider> / OCON#<awarded>#<c>
//	balance              CON#<contract>     BALANCE              (counters: places, active, entries, totals in cents)
//	referral             CON#<contract>     REF#<referral>                                                                               ERASE / <erase after>#<c>#<referral>
//	claim                CON#<contract>     CLAIM#<claim>        CLAIMS#<buyer>#<status> / <due>#<c>#<claim>  (pending and more-information only)
//	ledger entry         CON#<contract>     LEDGER#<seq, 12 d>
//	statistics           OSTATS#<scope>     <YYYY-MM>            (scope: contract.<c> or dps.<dps>; counters, see outcomes.Counts)

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rengas/rengas/shared/audit"
	"github.com/rengas/rengas/shared/ocds"
	"github.com/rengas/rengas/shared/outcomes"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/workdays"
)

// ContractChain is the audit chain of one outcome contract: conclusion,
// acceptance, referrals, claims, verifications and every ledger entry.
func ContractChain(contract string) string { return "contract." + contract }

func oconKey(c string) key               { return key{"CON#" + c, meta} }
func balanceKey(c string) key            { return key{"CON#" + c, "BALANCE"} }
func referralKey(c, r string) key        { return key{"CON#" + c, "REF#" + r} }
func claimKey(c, id string) key          { return key{"CON#" + c, "CLAIM#" + id} }
func entryKey(c, id string) key          { return key{"CON#" + c, "LEDGER#" + id} }
func ostatsKey(scope, month string) key  { return key{"OSTATS#" + scope, month} }
func claimQueue(buyer, st string) string { return "CLAIMS#" + buyer + "#" + st }

const erasePartition = "ERASE"

// StatsScopeContract and StatsScopeDPS name the statistics of a contract
// and of a DPS.
func StatsScopeContract(c string) string { return "contract." + c }
func StatsScopeDPS(d string) string      { return "dps." + d }

// balance attributes, in the order of outcomes.Balance.
var balanceAttrs = []string{"places", "active", "referrals", "entries", "fixed", "outcome", "adjustment", "clawback", "payable", "withheld", "paid", "shareUsed", "ceiling", "outcomeCap"}

func balanceFrom(m map[string]types.AttributeValue) *outcomes.Balance {
	if m == nil {
		return nil
	}
	a := func(n string) int64 { return attrInt(m, n) }
	return &outcomes.Balance{Places: a("places"), Active: a("active"), Referrals: a("referrals"), Entries: a("entries"),
		FixedCents: a("fixed"), OutcomeCents: a("outcome"), AdjustmentCents: a("adjustment"), ClawbackCents: a("clawback"),
		PayableCents: a("payable"), WithheldCents: a("withheld"), PaidCents: a("paid"), OutcomeShareUsedCents: a("shareUsed"),
		CeilingCents: a("ceiling"), OutcomeCapCents: a("outcomeCap")}
}

func (s *Store) oconItem(k *outcomes.Contract) item {
	it := entity(oconKey(k.ID), "outcomecontract", 0, k)
	at := deadlineKey(k.AwardedAt) + "#" + k.ID
	it.GSI[0] = key{"BUYER#" + k.Buyer + "#CONTRACTS", at}
	it.GSI[1] = key{providerPartition(k.ProviderID), "OCON#" + at}
	it.Extras = map[string]types.AttributeValue{"status": str(string(k.Status))}
	if k.Status == outcomes.Concluded && k.AcceptBy != "" {
		it.GSI[2] = key{lapsePartition, k.AcceptBy + "#" + k.ID}
	}
	return it
}

func referralItem(r *outcomes.Referral) item {
	it := entity(referralKey(r.ContractID, r.ID), "referral", 0, r)
	if r.EraseAfter != "" && r.ErasedAt == nil {
		it.GSI[2] = key{erasePartition, r.EraseAfter + "#" + r.ContractID + "#" + r.ID}
	}
	return it
}

func claimItem(k *outcomes.Contract, c *outcomes.Claim) item {
	it := entity(claimKey(c.ContractID, c.ID), "claim", 0, c)
	if c.Status == outcomes.ClaimPending || c.Status == outcomes.ClaimMoreInfo {
		it.GSI[0] = key{claimQueue(k.Buyer, string(c.Status)), c.DueOn + "#" + c.ContractID + "#" + c.ID}
	}
	return it
}

func entryItem(e *outcomes.Entry) item {
	return entity(entryKey(e.ContractID, e.ID), "ledgerentry", 0, e)
}

// ContractRead is a contract with what was read with it.
type ContractRead struct {
	Contract *outcomes.Contract
	Balance  *outcomes.Balance
	head     audit.Head
	got      map[key]map[string]types.AttributeValue
}

// loadContract reads the contract, its balance, its chain head and the
// extra items in one BatchGetItem. A contract not yet concluded, cancelled
// or lapsed has no item of its own: it is made from the award record
// (one more BatchGetItem).
func (s *Store) loadContract(ctx context.Context, comp, prov string, extra ...key) (*ContractRead, error) {
	id := outcomes.ContractID(comp, prov)
	got, err := s.getMany(ctx, append([]key{oconKey(id), balanceKey(id), chainHeadKey(ContractChain(id))}, extra...)...)
	if err != nil {
		return nil, err
	}
	r := &ContractRead{Balance: balanceFrom(got[balanceKey(id)]), head: headFrom(got[chainHeadKey(ContractChain(id))]), got: got}
	if m := got[oconKey(id)]; m != nil {
		r.Contract, err = decodeAs[outcomes.Contract](m, "contract "+id)
		return r, err
	}
	aw, err := s.getMany(ctx, competitionKey(comp), contractKey(comp, prov))
	if err != nil {
		return nil, err
	}
	rec := aw[contractKey(comp, prov)]
	c, err := decodeAs[procurement.Competition](aw[competitionKey(comp)], "contract "+id)
	if err != nil || rec == nil {
		return nil, procurement.Errorf(procurement.ENOTFOUND, "contract %s not found", id)
	}
	k, err := decodeAs[procurement.Contract](rec, "contract "+id)
	if err != nil {
		return nil, err
	}
	r.Contract = outcomes.FromAward(c, k)
	return r, nil
}

// ReadContract returns a contract and its balance (nil before conclusion):
// one BatchGetItem once concluded, whatever its history. may is asked
// first. Errors: ENOTFOUND.
func (s *Store) ReadContract(ctx context.Context, comp, prov string, may func(*outcomes.Contract) error) (*outcomes.Contract, *outcomes.Balance, error) {
	r, err := s.loadContract(ctx, comp, prov)
	if err != nil {
		return nil, nil, err
	}
	if err := may(r.Contract); err != nil {
		return nil, nil, err
	}
	return r.Contract, r.Balance, nil
}

// putContract writes the contract's new state at its next version.
func (s *Store) putContract(k *outcomes.Contract) write {
	prev := k.Version
	k.Version++
	return s.putVersion(s.oconItem(k), prev, staleVersion("the contract"))
}

func (s *Store) contractChange(a procurement.Actor, k *outcomes.Contract, action, etype, eid, summary string, state any) Change {
	return Change{Actor: a, Chain: ContractChain(k.ID), Action: action, EntityType: etype, EntityID: eid, State: state, Summary: summary, Subject: k.CompetitionID}
}

// ConcludeContract concludes a contract after the standstill, freezing its
// terms from the competition, the winner's bid and the DPS settings.
func (s *Store) ConcludeContract(ctx context.Context, a procurement.Actor, comp, prov string, may func(*outcomes.Contract) error) (*outcomes.Contract, error) {
	r, err := s.loadContract(ctx, comp, prov)
	if err != nil {
		return nil, err
	}
	if err := may(r.Contract); err != nil {
		return nil, err
	}
	k := r.Contract
	got, err := s.getMany(ctx, competitionKey(comp), contractKey(comp, prov), dpsKey(k.DPSID))
	if err != nil {
		return nil, err
	}
	c, err := decodeAs[procurement.Competition](got[competitionKey(comp)], "competition")
	if err != nil {
		return nil, err
	}
	rec, err := decodeAs[procurement.Contract](got[contractKey(comp, prov)], "award")
	if err != nil {
		return nil, err
	}
	d, err := decodeAs[procurement.DPS](got[dpsKey(k.DPSID)], "DPS")
	if err != nil {
		return nil, err
	}
	terms := outcomes.FreezeTerms(c, rec, d.Settings)
	if err := k.Conclude(a, terms, s.Now()); err != nil {
		return nil, err
	}
	bal := item{key: balanceKey(k.ID), Type: "balance", Data: []byte("{}"), Extras: map[string]types.AttributeValue{}}
	for _, n := range balanceAttrs {
		bal.Extras[n] = num(0)
	}
	bal.Extras["places"], bal.Extras["ceiling"], bal.Extras["outcomeCap"] = num(terms.Places), num(terms.CeilingCents), num(terms.OutcomeCapCents)
	put := s.putContract(k)
	_, err = s.commit(ctx, &r.head, s.contractChange(a, k, "contract.concluded", "contract", k.ID, "terms frozen", k),
		put, s.putNew(bal, "the contract was already concluded"), s.contractRelease(k, concludedChange(k), *k.ConcludedAt))
	return k, err
}

// concludedChange is the public change of a contract's conclusion: still
// pending (the provider has not accepted), with its period frozen.
func concludedChange(k *outcomes.Contract) ocds.Contract {
	return ocds.Contract{Status: "pending", Period: ocds.DayPeriod(k.Terms.Start, k.Terms.End)}
}

// contractRelease publishes a change of an outcome contract in its
// competition's OCDS process, in the change's own transaction: the
// contract <competition>-<provider> with only what changed, under a
// release id made unique by the contract's new version.
func (s *Store) contractRelease(k *outcomes.Contract, change ocds.Contract, at time.Time) write {
	tag := "contractUpdate"
	switch {
	case change.Implementation != nil:
		tag = "implementation"
	case change.Status == "terminated":
		tag = "contractTermination"
	}
	seq := k.ProviderID + "." + strconv.Itoa(k.Version)
	if change.Implementation != nil {
		seq = k.ProviderID + ".tx." + change.Implementation.Transactions[0].ID
	}
	return s.ReleaseWrite(ocds.ContractRelease(k.CompetitionID, k.ProviderID, tag, seq, at, change), at)
}

// stageChange is the public change of a contract's new stage, from the
// stage it was in: accepted (active, signed), lapsed or cancelled before
// it was in force (cancelled), or ended while in force (terminated).
func stageChange(k *outcomes.Contract, from outcomes.Status, at time.Time) ocds.Contract {
	switch {
	case k.Status == outcomes.Active:
		return ocds.Contract{Status: "active", DateSigned: ocds.Stamp(at)}
	case k.Status == outcomes.Cancelled && from == outcomes.Active:
		return ocds.Contract{Status: "terminated"}
	default:
		return ocds.Contract{Status: "cancelled"}
	}
}

// ContractStep accepts, cancels or lets a contract lapse.
func (s *Store) ContractStep(ctx context.Context, a procurement.Actor, comp, prov string, version int, step func(*outcomes.Contract) (string, error), may func(*outcomes.Contract) error) (*outcomes.Contract, error) {
	r, err := s.loadContract(ctx, comp, prov)
	if err != nil {
		return nil, err
	}
	if err := may(r.Contract); err != nil {
		return nil, err
	}
	k := r.Contract
	if k.Version != version {
		return nil, procurement.Errorf(procurement.ECONFLICT, "%s (it is at version %d)", staleVersion("the contract"), k.Version)
	}
	from := k.Status
	action, err := step(k)
	if err != nil {
		return nil, err
	}
	put, at := s.putContract(k), s.Now()
	writes := []write{put, s.contractRelease(k, stageChange(k, from, at), at)}
	if k.Status == outcomes.Active && from == outcomes.Concluded && k.Terms.FixedFeeBasis == outcomes.FixedPerClientMonth {
		writes = append(writes, s.putNew(feePlanItem(k), "the contract's fee plan exists already"))
	}
	_, err = s.commit(ctx, &r.head, s.contractChange(a, k, action, "contract", k.ID, string(k.Status), k), writes...)
	return k, err
}

// balanceUpdate adds to the balance's counters, on the condition given.
func (s *Store) balanceUpdate(c string, add map[string]int64, cond string, vals map[string]types.AttributeValue, conflict string) write {
	var parts []string
	names := map[string]string{}
	if vals == nil {
		vals = map[string]types.AttributeValue{}
	}
	for i, n := range slices.Sorted(maps.Keys(add)) {
		parts = append(parts, fmt.Sprintf("#b%d :b%d", i, i))
		names[fmt.Sprintf("#b%d", i)] = n
		vals[fmt.Sprintf(":b%d", i)] = num(add[n])
	}
	for _, n := range balanceAttrs {
		if strings.Contains(cond, "#"+n) {
			names["#"+n] = n
		}
	}
	u := &types.Update{TableName: &s.table, Key: balanceKey(c).av(), UpdateExpression: aws.String("ADD " + strings.Join(parts, ", ")),
		ExpressionAttributeNames: names, ExpressionAttributeValues: vals}
	if cond != "" {
		u.ConditionExpression = &cond
	}
	return write{tw: types.TransactWriteItem{Update: u}, conflict: conflict}
}

// statsWrites add counts to the month's statistics of the contract and of
// its DPS.
func (s *Store) statsWrites(k *outcomes.Contract, month string, c outcomes.Counts) []write {
	var parts []string
	names := map[string]string{}
	vals := map[string]types.AttributeValue{}
	i := 0
	for _, n := range slices.Sorted(maps.Keys(c)) {
		if c[n] == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("#s%d :s%d", i, i))
		names[fmt.Sprintf("#s%d", i)] = n
		vals[fmt.Sprintf(":s%d", i)] = num(c[n])
		i++
	}
	if len(parts) == 0 {
		return nil
	}
	var out []write
	for _, scope := range []string{StatsScopeContract(k.ID), StatsScopeDPS(k.DPSID)} {
		out = append(out, write{tw: types.TransactWriteItem{Update: &types.Update{
			TableName: &s.table, Key: ostatsKey(scope, month).av(), UpdateExpression: aws.String("ADD " + strings.Join(parts, ", ")),
			ExpressionAttributeNames: names, ExpressionAttributeValues: vals,
		}}})
	}
	return out
}

const ledgerMoved = "the contract's ledger moved on while the entry was computed"

// entryWrites appends an entry and updates the balance on condition that
// no other entry was appended since the balance was read.
func (s *Store) entryWrites(e *outcomes.Entry, d outcomes.Delta, prevEntries int64) []write {
	e.Version = 1
	add := map[string]int64{"entries": 1}
	for n, v := range map[string]int64{"fixed": d.Fixed, "outcome": d.Outcome, "adjustment": d.Adjustment, "clawback": d.Clawback,
		"payable": d.Payable, "withheld": d.Withheld, "paid": d.Paid, "shareUsed": d.ShareUsed} {
		if v != 0 {
			add[n] = v
		}
	}
	return []write{
		s.putVersion(entryItem(e), 0, ledgerMoved),
		s.balanceUpdate(e.ContractID, add, "#entries = :n", map[string]types.AttributeValue{":n": num(prevEntries)}, ledgerMoved),
	}
}

// retryLedger runs a change up to three times while other entries win the
// race for the ledger's next number.
func retryLedger[T any](f func() (T, error)) (T, error) {
	for i := 0; ; i++ {
		v, err := f()
		if err == nil || i == 2 || !strings.Contains(fmt.Sprint(err), ledgerMoved) {
			return v, err
		}
	}
}

// Refer refers a client to an active contract. Places are enforced by the
// balance's counter in the same transaction. Two round trips.
func (s *Store) Refer(ctx context.Context, a procurement.Actor, comp, prov, ref, segment, on string, may func(*outcomes.Contract) error) (*outcomes.Referral, error) {
	r, err := s.loadContract(ctx, comp, prov)
	if err != nil {
		return nil, err
	}
	if err := may(r.Contract); err != nil {
		return nil, err
	}
	k := r.Contract
	rf, err := k.Refer(a, ref, segment, on, s.Now())
	if err != nil {
		return nil, err
	}
	rf.ID, rf.Version = s.NewID(), 1
	writes := []write{
		s.putVersion(referralItem(rf), 0, "referral exists"),
		s.balanceUpdate(k.ID, map[string]int64{"active": 1, "referrals": 1}, "#active < #places", nil,
			fmt.Sprintf("all %d places of the contract are taken by active referrals; end a referral before referring another client", k.Terms.Places)),
		s.check(oconKey(k.ID), "#st = :a", map[string]types.AttributeValue{":a": str(string(outcomes.Active))}, "the contract is no longer active"),
	}
	writes = append(writes, s.statsWrites(k, on[:7], outcomes.ReferralCounts(k.Terms, segment))...)
	_, err = s.commit(ctx, &r.head, s.contractChange(a, k, "referral.created", "referral", k.ID+"/"+rf.ID, "segment "+segment, rf), writes...)
	return rf, err
}

// evidenceKeys are the keys of the uploaded files that evidence names, read
// with the contract in its one BatchGetItem.
func evidenceKeys(evidence []outcomes.Evidence) []key {
	var keys []key
	for _, e := range evidence {
		if e.FileID != "" && !slices.Contains(keys, fileKey(e.FileID)) {
			keys = append(keys, fileKey(e.FileID))
		}
	}
	return keys
}

// evidenceFiles binds evidence to its uploaded files, read with the
// contract: each must be the claimant's own, arrived and free of malware,
// with the digest verified on arrival; media type and size come from it.
func evidenceFiles(r *ContractRead, org string, evidence []outcomes.Evidence) error {
	var p procurement.Problems
	for i := range evidence {
		e := &evidence[i]
		if e.FileID == "" {
			continue
		}
		field := fmt.Sprintf("evidence[%d]", i)
		var f *procurement.File
		if m := r.got[fileKey(e.FileID)]; m != nil {
			var err error
			if f, err = decodeAs[procurement.File](m, "file "+e.FileID); err != nil {
				return err
			}
		}
		if err := f.CheckAttachable(field+".fileId", org); err != nil {
			return err
		}
		if !strings.EqualFold(e.SHA256, f.SHA256) {
			p.Add(field+".sha256", "is not the digest of file %s as it arrived (%s); send the file's digest", f.ID, f.SHA256)
			continue
		}
		e.SHA256, e.MediaType, e.Bytes = f.SHA256, f.MediaType, f.Size
	}
	return p.Err()
}

// ReadClaim reads a contract with one of its claims, if may allows the
// caller to see the contract's claims (one round trip).
func (s *Store) ReadClaim(ctx context.Context, comp, prov, id string, may func(*outcomes.Contract) error) (*outcomes.Contract, *outcomes.Claim, error) {
	cid := outcomes.ContractID(comp, prov)
	r, err := s.loadContract(ctx, comp, prov, claimKey(cid, id))
	if err != nil {
		return nil, nil, err
	}
	if err := may(r.Contract); err != nil {
		return nil, nil, err
	}
	c, err := decodeAs[outcomes.Claim](r.got[claimKey(cid, id)], "claim "+id)
	return r.Contract, c, err
}

// loadClaim reads the contract with one claim, at the version the caller
// saw.
func (s *Store) loadClaim(ctx context.Context, comp, prov, id string, version int, may func(*outcomes.Contract) error, extra ...key) (*ContractRead, *outcomes.Claim, error) {
	cid := outcomes.ContractID(comp, prov)
	r, err := s.loadContract(ctx, comp, prov, append(extra, claimKey(cid, id))...)
	if err != nil {
		return nil, nil, err
	}
	if err := may(r.Contract); err != nil {
		return nil, nil, err
	}
	c, err := decodeAs[outcomes.Claim](r.got[claimKey(cid, id)], "claim "+id)
	if err != nil {
		return nil, nil, err
	}
	if c.Version != version {
		return nil, nil, procurement.Errorf(procurement.ECONFLICT, "%s", staleVersion("the claim"))
	}
	return r, c, nil
}

// loadReferral reads the contract with one referral.
func (s *Store) loadReferral(ctx context.Context, comp, prov, id string, may func(*outcomes.Contract) error, extra ...key) (*ContractRead, *outcomes.Referral, error) {
	cid := outcomes.ContractID(comp, prov)
	r, err := s.loadContract(ctx, comp, prov, append(extra, referralKey(cid, id))...)
	if err != nil {
		return nil, nil, err
	}
	if err := may(r.Contract); err != nil {
		return nil, nil, err
	}
	rf, err := decodeAs[outcomes.Referral](r.got[referralKey(cid, id)], "referral "+id)
	return r, rf, err
}

// StartReferral records a client's start and books the fixed fee under
// the caps. Two round trips.
func (s *Store) StartReferral(ctx context.Context, a procurement.Actor, comp, prov, id string, version int, on string, may func(*outcomes.Contract) error) (*outcomes.Referral, error) {
	return retryLedger(func() (*outcomes.Referral, error) {
		r, rf, err := s.loadReferral(ctx, comp, prov, id, may)
		if err != nil {
			return nil, err
		}
		if rf.Version != version {
			return nil, procurement.Errorf(procurement.ECONFLICT, "%s", staleVersion("the referral"))
		}
		k := r.Contract
		if err := rf.Start(k, on, s.Now()); err != nil {
			return nil, err
		}
		if r.Balance == nil {
			return nil, procurement.Errorf(procurement.ECONFLICT, "the contract has no ledger yet")
		}
		if k.Terms.FixedFeeBasis == outcomes.FixedPerClientMonth {
			// The fixed fee is earned per month in service: the scheduled job books it.
			rf.Version++
			_, err = s.commit(ctx, &r.head, s.contractChange(a, k, "referral.started", "referral", k.ID+"/"+rf.ID, "fixed fee per month in service", rf),
				s.putVersion(referralItem(rf), version, staleVersion("the referral")))
			return rf, err
		}
		e, d := outcomes.NewEntry(*r.Balance, k, outcomes.FixedFee, k.Terms.FixedFeeCents, a, s.Now())
		e.ReferralID, e.Segment, e.Period = rf.ID, rf.Segment, on[:7]
		rf.Version++
		writes := append([]write{s.putVersion(referralItem(rf), version, staleVersion("the referral"))}, s.entryWrites(e, d, r.Balance.Entries)...)
		writes = append(writes, s.statsWrites(k, e.Period, outcomes.FeeCounts(e, 0, 1))...)
		_, err = s.commit(ctx, &r.head, s.contractChange(a, k, "referral.started", "referral", k.ID+"/"+rf.ID, "fixed fee entry "+e.ID, rf), writes...)
		return rf, err
	})
}

// EndReferral records the end of a client's service; the place is freed.
func (s *Store) EndReferral(ctx context.Context, a procurement.Actor, comp, prov, id string, version int, on, reason string, may func(*outcomes.Contract) error) (*outcomes.Referral, error) {
	r, rf, err := s.loadReferral(ctx, comp, prov, id, may)
	if err != nil {
		return nil, err
	}
	if rf.Version != version {
		return nil, procurement.Errorf(procurement.ECONFLICT, "%s", staleVersion("the referral"))
	}
	k := r.Contract
	if err := rf.End(k, on, reason, s.Now()); err != nil {
		return nil, err
	}
	rf.Version++
	_, err = s.commit(ctx, &r.head, s.contractChange(a, k, "referral.ended", "referral", k.ID+"/"+rf.ID, "ended", rf),
		s.putVersion(referralItem(rf), version, staleVersion("the referral")),
		s.balanceUpdate(k.ID, map[string]int64{"active": -1}, "", nil, ""))
	return rf, err
}

// SubmitClaim stores a provider's claim of a milestone for a referral: one
// per referral and milestone. Two round trips.
func (s *Store) SubmitClaim(ctx context.Context, a procurement.Actor, comp, prov, refID, milestone, achievedOn string, evidence []outcomes.Evidence, may func(*outcomes.Contract) error) (*outcomes.Claim, error) {
	r, rf, err := s.loadReferral(ctx, comp, prov, refID, may, evidenceKeys(evidence)...)
	if err != nil {
		return nil, err
	}
	if err := evidenceFiles(r, a.Org, evidence); err != nil {
		return nil, err
	}
	k := r.Contract
	c, err := k.NewClaim(a, rf, milestone, achievedOn, evidence, s.Now())
	if err != nil {
		return nil, err
	}
	c.Version = 1
	_, err = s.commit(ctx, &r.head, s.contractChange(a, k, "claim.submitted", "claim", k.ID+"/"+c.ID, fmt.Sprintf("%s, %d cents", milestone, c.AmountCents), c),
		s.putVersion(claimItem(k, c), 0, fmt.Sprintf("the milestone %q was already claimed for this referral; one claim per referral and milestone", milestone)))
	return c, err
}

// VerifyClaim records a verification step; a verified claim's outcome fee
// is booked under the caps in the same transaction. Two round trips.
func (s *Store) VerifyClaim(ctx context.Context, a procurement.Actor, comp, prov, id string, version int, outcome, method, reason string, may func(*outcomes.Contract) error) (*outcomes.Claim, error) {
	return retryLedger(func() (*outcomes.Claim, error) {
		r, c, err := s.loadClaim(ctx, comp, prov, id, version, may)
		if err != nil {
			return nil, err
		}
		k := r.Contract
		payable, err := c.Verify(a, outcome, method, reason, s.Now())
		if err != nil {
			return nil, err
		}
		var writes []write
		summary := outcome + " by " + method
		if payable {
			if r.Balance == nil {
				return nil, procurement.Errorf(procurement.ECONFLICT, "the contract has no ledger")
			}
			e, d := outcomes.NewEntry(*r.Balance, k, outcomes.OutcomeFee, c.AmountCents, a, s.Now())
			e.ReferralID, e.ClaimID, e.Segment, e.Milestone, e.Period, e.DaysToOutcome = c.ReferralID, c.ID, c.Segment, c.Milestone, c.AchievedOn[:7], c.DaysToResult
			c.Entry = e.ID
			writes = append(s.entryWrites(e, d, r.Balance.Entries), s.statsWrites(k, e.Period, outcomes.FeeCounts(e, c.DaysToResult, 1))...)
			summary += fmt.Sprintf("; entry %s payable %d withheld %d", e.ID, e.PayableCents, e.WithheldCents)
		}
		c.Version++
		writes = append([]write{s.putVersion(claimItem(k, c), version, staleVersion("the claim"))}, writes...)
		_, err = s.commit(ctx, &r.head, s.contractChange(a, k, "claim.verification", "claim", k.ID+"/"+c.ID, summary, c), writes...)
		return c, err
	})
}

// AddEvidence answers a request for more information on a claim.
func (s *Store) AddEvidence(ctx context.Context, a procurement.Actor, comp, prov, id string, version int, evidence []outcomes.Evidence, may func(*outcomes.Contract) error) (*outcomes.Claim, error) {
	r, c, err := s.loadClaim(ctx, comp, prov, id, version, may, evidenceKeys(evidence)...)
	if err != nil {
		return nil, err
	}
	if err := evidenceFiles(r, a.Org, evidence); err != nil {
		return nil, err
	}
	if err := c.AddEvidence(r.Contract, evidence, s.Now()); err != nil {
		return nil, err
	}
	c.Version++
	_, err = s.commit(ctx, &r.head, s.contractChange(a, r.Contract, "claim.evidence_added", "claim", r.Contract.ID+"/"+c.ID, fmt.Sprintf("%d documents", len(evidence)), c),
		s.putVersion(claimItem(r.Contract, c), version, staleVersion("the claim")))
	return c, err
}

// Adjust books an adjustment (positive under the caps, or negative) with
// its reason.
func (s *Store) Adjust(ctx context.Context, a procurement.Actor, comp, prov string, cents int64, reason string, may func(*outcomes.Contract) error) (*outcomes.Entry, error) {
	return retryLedger(func() (*outcomes.Entry, error) {
		r, err := s.loadContract(ctx, comp, prov)
		if err != nil {
			return nil, err
		}
		if err := may(r.Contract); err != nil {
			return nil, err
		}
		if r.Balance == nil || r.Contract.Terms == nil {
			return nil, procurement.Errorf(procurement.ECONFLICT, "the contract is %s; it has no ledger", r.Contract.Status)
		}
		if cents == 0 {
			return nil, procurement.Invalid("amountCents", "must not be 0")
		}
		e, d := outcomes.NewEntry(*r.Balance, r.Contract, outcomes.Adjustment, cents, a, s.Now())
		e.Reason = reason
		_, err = s.commit(ctx, &r.head, s.contractChange(a, r.Contract, "ledger.adjustment", "ledgerentry", r.Contract.ID+"/"+e.ID, reason, e),
			s.entryWrites(e, d, r.Balance.Entries)...)
		return e, err
	})
}

// loadEntry reads the contract with one ledger entry.
func (s *Store) loadEntry(ctx context.Context, comp, prov, id string, may func(*outcomes.Contract) error) (*ContractRead, *outcomes.Entry, error) {
	cid := outcomes.ContractID(comp, prov)
	r, err := s.loadContract(ctx, comp, prov, entryKey(cid, id))
	if err != nil {
		return nil, nil, err
	}
	if err := may(r.Contract); err != nil {
		return nil, nil, err
	}
	e, err := decodeAs[outcomes.Entry](r.got[entryKey(cid, id)], "ledger entry "+id)
	return r, e, err
}

// Clawback reverses a ledger entry; the claim it paid is marked clawed back.
func (s *Store) Clawback(ctx context.Context, a procurement.Actor, comp, prov, entryID, reason string, may func(*outcomes.Contract) error) (*outcomes.Entry, error) {
	return retryLedger(func() (*outcomes.Entry, error) {
		cid := outcomes.ContractID(comp, prov)
		r, of, err := s.loadEntry(ctx, comp, prov, entryID, may)
		if err != nil {
			return nil, err
		}
		if of.ReversedBy != "" {
			return nil, procurement.Errorf(procurement.ECONFLICT, "entry %s was already clawed back by entry %s", of.ID, of.ReversedBy)
		}
		k := r.Contract
		e, d, err := outcomes.Reverse(*r.Balance, k, of, reason, a, s.Now())
		if err != nil {
			return nil, err
		}
		e.Period, e.DaysToOutcome = of.Period, of.DaysToOutcome
		prev := of.Version
		of.ReversedBy, of.Version = e.ID, prev+1
		writes := append(s.entryWrites(e, d, r.Balance.Entries), s.updateData(entryItem(of), prev, "the entry was already clawed back"))
		if of.ClaimID != "" {
			m, err := s.get(ctx, claimKey(cid, of.ClaimID))
			if err != nil {
				return nil, err
			}
			c, err := decodeAs[outcomes.Claim](m, "claim")
			if err != nil {
				return nil, err
			}
			cv := c.Version
			c.Status, c.Version = outcomes.ClaimClawedBack, cv+1
			writes = append(writes, s.updateData(claimItem(k, c), cv, staleVersion("the claim")))
		}
		if of.Kind == outcomes.OutcomeFee || of.Kind == outcomes.FixedFee {
			writes = append(writes, s.statsWrites(k, of.Period, outcomes.FeeCounts(of, of.DaysToOutcome, -1))...)
		}
		if of.PaidOn != "" && e.PayableCents != 0 {
			// Money paid back is a negative transaction on the day booked.
			pub, err := s.paymentRelease(ctx, k, e.ID, e.Day, e.PayableCents)
			if err != nil {
				return nil, err
			}
			writes = append(writes, pub)
		}
		_, err = s.commit(ctx, &r.head, s.contractChange(a, k, "ledger.clawback", "ledgerentry", cid+"/"+e.ID, "reverses "+of.ID, e), writes...)
		return e, err
	})
}

// updateData rewrites an entity's data and index keys at the next version
// without a Put (so that an idempotency record holds only the answer's
// own entity).
func (s *Store) updateData(it item, prev int, conflict string) write {
	set := []string{"#d = :d", "version = :nv"}
	names := map[string]string{"#d": "data"}
	vals := map[string]types.AttributeValue{":d": str(string(it.Data)), ":nv": num(int64(prev + 1)), ":v": num(int64(prev))}
	var remove []string
	for i, ix := range Indexes {
		if it.GSI[i].PK != "" {
			set = append(set, fmt.Sprintf("%s = :g%dp, %s = :g%ds", ix.PK, i, ix.SK, i))
			vals[fmt.Sprintf(":g%dp", i)], vals[fmt.Sprintf(":g%ds", i)] = str(it.GSI[i].PK), str(it.GSI[i].SK)
		} else {
			remove = append(remove, ix.PK, ix.SK)
		}
	}
	expr := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	return write{tw: types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: it.key.av(), UpdateExpression: &expr,
		ConditionExpression: aws.String("version = :v"), ExpressionAttributeNames: names, ExpressionAttributeValues: vals}}, conflict: conflict}
}

// RecordPayment records the invoice and paid day of an entry.
func (s *Store) RecordPayment(ctx context.Context, a procurement.Actor, comp, prov, entryID string, version int, invoice, paidOn string, may func(*outcomes.Contract) error) (*outcomes.Entry, error) {
	cid := outcomes.ContractID(comp, prov)
	r, e, err := s.loadEntry(ctx, comp, prov, entryID, may)
	if err != nil {
		return nil, err
	}
	if e.Version != version {
		return nil, procurement.Errorf(procurement.ECONFLICT, "%s", staleVersion("the ledger entry"))
	}
	if err := e.Pay(invoice, paidOn); err != nil {
		return nil, err
	}
	e.Version++
	writes := []write{s.putVersion(entryItem(e), version, staleVersion("the ledger entry")),
		s.balanceUpdate(cid, map[string]int64{"paid": e.PayableCents}, "", nil, "")}
	if e.PayableCents != 0 {
		pub, err := s.paymentRelease(ctx, r.Contract, e.ID, e.PaidOn, e.PayableCents)
		if err != nil {
			return nil, err
		}
		writes = append(writes, pub)
	}
	_, err = s.commit(ctx, &r.head, s.contractChange(a, r.Contract, "ledger.paid", "ledgerentry", cid+"/"+e.ID, "invoice "+invoice, e), writes...)
	return e, err
}

// paymentRelease publishes a payment (or a repayment) of a contract's
// ledger entry as a transaction of its implementation; the payer is named
// as in the award, from the DPS's buyer details (one read).
func (s *Store) paymentRelease(ctx context.Context, k *outcomes.Contract, entry, day string, cents int64) (write, error) {
	m, err := s.get(ctx, dpsKey(k.DPSID))
	if err != nil {
		return write{}, err
	}
	d, err := decodeAs[procurement.DPS](m, "DPS")
	if err != nil {
		return write{}, err
	}
	tx := ocds.Payment(d, k.Buyer, k.Supplier, k.ID+"-"+entry, day, cents)
	return s.contractRelease(k, ocds.Contract{Implementation: &ocds.Implementation{Transactions: []ocds.Transaction{tx}}}, s.Now()), nil
}

// ListReferrals, ListClaims and ListLedger page through a contract's
// partition in key order.
func (s *Store) ListReferrals(ctx context.Context, cid, cursor string, limit int) (Page[outcomes.Referral], error) {
	return queryPage[outcomes.Referral](ctx, s, query{pk: oconKey(cid).PK, skBegin: "REF#", cursor: cursor, limit: limit})
}

// ListClaims pages through a contract's claims.
func (s *Store) ListClaims(ctx context.Context, cid, cursor string, limit int) (Page[outcomes.Claim], error) {
	return queryPage[outcomes.Claim](ctx, s, query{pk: oconKey(cid).PK, skBegin: "CLAIM#", cursor: cursor, limit: limit})
}

// ListLedger pages through a contract's ledger, oldest entry first.
func (s *Store) ListLedger(ctx context.Context, cid, cursor string, limit int) (Page[outcomes.Entry], error) {
	return queryPage[outcomes.Entry](ctx, s, query{pk: oconKey(cid).PK, skBegin: "LEDGER#", cursor: cursor, limit: limit})
}

// VerificationQueue pages through a buyer's claims in a status (pending or
// more-information), the earliest verification deadline (the overdue)
// first.
func (s *Store) VerificationQueue(ctx context.Context, buyer, status, cursor string, limit int) (Page[outcomes.Claim], error) {
	return queryPage[outcomes.Claim](ctx, s, query{index: &GSI1, pk: claimQueue(buyer, status), cursor: cursor, limit: limit})
}

// ListContracts pages through a buyer's outcome contracts (concluded,
// cancelled or lapsed), newest award first.
func (s *Store) ListContracts(ctx context.Context, buyer, cursor string, limit int) (Page[outcomes.Contract], error) {
	return queryPage[outcomes.Contract](ctx, s, query{index: &GSI1, pk: "BUYER#" + buyer + "#CONTRACTS", desc: true, cursor: cursor, limit: limit})
}

// ProviderContracts pages through a provider's outcome contracts.
func (s *Store) ProviderContracts(ctx context.Context, prov, cursor string, limit int) (Page[outcomes.Contract], error) {
	return queryPage[outcomes.Contract](ctx, s, query{index: &GSI2, pk: providerPartition(prov), skBegin: "OCON#", desc: true, cursor: cursor, limit: limit})
}

// MaxStatsMonths bounds a statistics period.
const MaxStatsMonths = 60

// StatsCounts sums the counts of a scope over the months from..to
// (YYYY-MM): one BatchGetItem whatever the number of claims.
func (s *Store) StatsCounts(ctx context.Context, scope, from, to string) (outcomes.Counts, int, error) {
	months, err := monthsBetween(from, to)
	if err != nil {
		return nil, 0, err
	}
	keys := make([]key, len(months))
	for i, m := range months {
		keys[i] = ostatsKey(scope, m)
	}
	got, err := s.getMany(ctx, keys...)
	if err != nil {
		return nil, 0, err
	}
	c := outcomes.Counts{}
	for _, m := range got {
		c.Add(countsOf(m))
	}
	return c, len(months), nil
}

// StatsByMonth returns the counts of a scope per month from..to, in one
// BatchGetItem.
func (s *Store) StatsByMonth(ctx context.Context, scope, from, to string) (map[string]outcomes.Counts, error) {
	months, err := monthsBetween(from, to)
	if err != nil {
		return nil, err
	}
	keys := make([]key, len(months))
	for i, m := range months {
		keys[i] = ostatsKey(scope, m)
	}
	got, err := s.getMany(ctx, keys...)
	if err != nil {
		return nil, err
	}
	out := map[string]outcomes.Counts{}
	for i, m := range months {
		out[m] = countsOf(got[keys[i]])
	}
	return out, nil
}

func countsOf(m map[string]types.AttributeValue) outcomes.Counts {
	c := outcomes.Counts{}
	for n, v := range m {
		if n == AttrPK || n == AttrSK {
			continue
		}
		if nv, ok := v.(*types.AttributeValueMemberN); ok {
			x, err := strconv.ParseInt(nv.Value, 10, 64)
			if err == nil {
				c[n] += x
			}
		}
	}
	return c
}

func monthsBetween(from, to string) ([]string, error) {
	f, err1 := time.Parse("2006-01", from)
	t, err2 := time.Parse("2006-01", to)
	switch {
	case err1 != nil:
		return nil, procurement.Invalid("from", "give a month as YYYY-MM")
	case err2 != nil:
		return nil, procurement.Invalid("to", "give a month as YYYY-MM")
	case t.Before(f):
		return nil, procurement.Invalid("to", "must not be before from")
	}
	var out []string
	for m := f; !m.After(t); m = m.AddDate(0, 1, 0) {
		out = append(out, m.Format("2006-01"))
		if len(out) > MaxStatsMonths {
			return nil, procurement.Invalid("to", "a period spans at most %d months", MaxStatsMonths)
		}
	}
	return out, nil
}

// EraseReferrals erases the client references of referrals past their
// retention (the scheduled job): only the aggregates remain. Each erasure
// is recorded on the contract's chain. Running it twice erases nothing more.
func (s *Store) EraseReferrals(ctx context.Context) (int, error) {
	today := workdays.DateString(s.Now())
	due, err := All(func(cur string) (Page[outcomes.Referral], error) {
		return queryPage[outcomes.Referral](ctx, s, query{index: &GSI3, pk: erasePartition, skTo: today + "#~", cursor: cur})
	})
	if err != nil {
		return 0, err
	}
	system := procurement.Actor{UserID: "scheduler", Role: procurement.RoleAuditor, Org: "rengas"}
	n := 0
	for _, rf := range due {
		if rf.ErasedAt != nil || rf.EraseAfter >= today {
			continue
		}
		prev := rf.Version
		now := s.Now()
		rf.ClientRef, rf.ErasedAt, rf.Version = "", &now, prev+1
		k := &outcomes.Contract{ID: rf.ContractID}
		_, err := s.commit(ctx, nil, Change{Actor: system, Chain: ContractChain(k.ID), Action: "referral.erased", EntityType: "referral",
			EntityID: k.ID + "/" + rf.ID, State: rf, Summary: "client reference erased after retention"},
			s.putVersion(referralItem(&rf), prev, "the referral changed"))
		if err != nil && procurement.ErrorCode(err) != procurement.ECONFLICT {
			return n, err
		}
		if err == nil {
			n++
		}
	}
	return n, nil
}
