// Package dynamo stores Rengas in DynamoDB through aws-sdk-go-v2.
//
// This file is the one place where the table is defined: attribute names,
// key builders and indexes. The CDK stack (infra/) and the local server
// both read it.
//
// Single-table design. Items and their keys:
//
//	entity               PK                         SK                     GSI1 (PK / SK)                         GSI2 (PK / SK)                 GSI3 (PK / SK)
//	DPS                  DPS#<dps>                  META                   RING / DPS#<dps>
//	category membership  DPS#<dps>#CAT#<cat>        META
//	membership shard     DPS#<dps>#CAT#<cat>        MEMBERS#<00-63>
//	admission            DPS#<dps>#CAT#<cat>        ADM#<provider>                                                PROV#<provider> / ADM#<dps>#<cat>
//	provider             PROV#<provider>            META
//	business ID claim    BUSINESSID#<y-tunnus>      UNIQUE
//	application          APP#<app>                  META                   DPS#<dps>#APPS#<status> / <due>#<app>   PROV#<provider> / APP#<received>#<app>
//	document             APP#<app>                  DOC#<doc>                                                                                     DPS#<dps>#DOCEXP / <expires>#<app>#<doc>
//	declaration request  DECL#<req>                 META                   DPS#<dps>#DECL / <due>#<req>           PROV#<provider> / DECL#<at>#<req>
//	audit chain head     CHAIN#<chain>              HEAD                   HEADS#<shard> / <at of last event>#<chain>
//	audit event          CHAIN#<chain>              EV#<seq, 12 digits>                                           TRAIL#<subject> / <at>#<chain>#<seq>
//	anchored head        CHAIN#<chain>              ANCHOR#<anchor, 12 d>  ANCHOR#<anchor, 12 d> / <chain>
//	anchor               ANCHOR                     A#<anchor, 12 digits>
//	sealed bid chains    SEALED                     <comp>                 (a competition whose bid chains wait for its opening)
//	notification         OUTBOX#<org>               <at>#<id>                                                                                     MAILQ#<shard> / <due>#<org>#<id> (until mailed)
//	mail directory       ORG#<org>                  MAILDIR
//	address state        ADDR#<address>             STATE
//	mail dispatcher lease MAILLEASE                 LEASE
//	notification fan-out FANOUT                     <at>#<id>
//	competition          COMP#<comp>                META                   DPS#<dps>#COMPS / <created>#<comp>                                     COMPS#published / <deadline>#<comp>
//	decision             COMP#<comp>                DECISION
//	decision results     COMP#<comp>                RESULT#<decision>#<n>
//	invitation (gate)    COMP#<comp>                INV#<provider>
//	evaluation shard     COMP#<comp>                EVAL#<00-15>
//	bid                  COMP#<comp>                BID#<provider>
//	question             COMP#<comp>                Q#<question>
//	sent notice          COMP#<comp>                NOTICE#<at>#<id>
//	statistics           DPS#<dps>#STATS            <YYYY-MM>
//	contract             COMP#<comp>                CONTRACT#<provider>                                           PROV#<provider> / CONTRACT#<at>#<comp>   DPS#<dps>#AWARDS / <day>#<comp>#<provider>
//	idempotency record   IDEM#<org>#<key>           IDEM
//	uploaded file        FILE#<file>                META                                                          PROV#<owner> / FILE#<signed>#<file>
//	OCDS release         OCDS#<ocid>                R#<at>#<release id>    RELEASES#<yyyy-mm> / <at>#<ocid>#<id>   (releases.go; written once)
//
// Lists are Queries on a partition or on a GSI partition; nothing on a
// request path Scans.
package dynamo

import (
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names of the primary key.
const (
	AttrPK = "PK"
	AttrSK = "SK"
)

// Index is a global secondary index. All project every attribute.
type Index struct {
	Name string
	PK   string
	SK   string
}

// The global secondary indexes.
var (
	GSI1 = Index{Name: "GSI1", PK: "GSI1PK", SK: "GSI1SK"}
	GSI2 = Index{Name: "GSI2", PK: "GSI2PK", SK: "GSI2SK"}
	GSI3 = Index{Name: "GSI3", PK: "GSI3PK", SK: "GSI3SK"}
)

// Indexes lists every GSI of the table.
var Indexes = []Index{GSI1, GSI2, GSI3}

// DefaultTableName is the table name when TABLE_NAME is not set.
const DefaultTableName = "rengas"

// CreateTableInput returns the definition of the table, used by the local
// server and tests. The CDK stack builds the same table from AttrPK, AttrSK
// and Indexes.
func CreateTableInput(name string) *dynamodb.CreateTableInput {
	attrs := []types.AttributeDefinition{
		{AttributeName: aws.String(AttrPK), AttributeType: types.ScalarAttributeTypeS},
		{AttributeName: aws.String(AttrSK), AttributeType: types.ScalarAttributeTypeS},
	}
	var gsis []types.GlobalSecondaryIndex
	for _, ix := range Indexes {
		attrs = append(attrs,
			types.AttributeDefinition{AttributeName: aws.String(ix.PK), AttributeType: types.ScalarAttributeTypeS},
			types.AttributeDefinition{AttributeName: aws.String(ix.SK), AttributeType: types.ScalarAttributeTypeS})
		gsis = append(gsis, types.GlobalSecondaryIndex{
			IndexName: aws.String(ix.Name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(ix.PK), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(ix.SK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		})
	}
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: attrs,
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(AttrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(AttrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: gsis,
		BillingMode:            types.BillingModePayPerRequest,
	}
}

// key is a primary key.
type key struct{ PK, SK string }

const meta = "META"

func dpsKey(id string) key            { return key{"DPS#" + id, meta} }
func categoryKey(dps, cat string) key { return key{"DPS#" + dps + "#CAT#" + cat, meta} }
func membershipKey(dps, cat string, n int) key {
	return key{"DPS#" + dps + "#CAT#" + cat, fmt.Sprintf("MEMBERS#%02d", n)}
}
func admissionKey(dps, cat, prov string) key { return key{"DPS#" + dps + "#CAT#" + cat, "ADM#" + prov} }
func providerKey(id string) key              { return key{"PROV#" + id, meta} }
func businessIDKey(id string) key            { return key{"BUSINESSID#" + id, "UNIQUE"} }
func applicationKey(id string) key           { return key{"APP#" + id, meta} }
func documentKey(app, doc string) key        { return key{"APP#" + app, "DOC#" + doc} }
func declRequestKey(id string) key           { return key{"DECL#" + id, meta} }
func chainHeadKey(chain string) key          { return key{"CHAIN#" + chain, "HEAD"} }
func eventKey(chain string, seq int64) key {
	return key{"CHAIN#" + chain, fmt.Sprintf("EV#%012d", seq)}
}
func anchorKey(n int64) key { return key{anchorPartition, fmt.Sprintf("A#%012d", n)} }
func anchoredHeadKey(chain string, n int64) key {
	return key{"CHAIN#" + chain, fmt.Sprintf("ANCHOR#%012d", n)}
}
func sealedKey(comp string) key { return key{sealedPartition, comp} }

// HeadShards is the number of index partitions the chain heads are spread
// over (GSI1 HEADS#00 to HEADS#15).
const HeadShards = 16

// headShard is the index partition of a chain's head.
func headShard(chain string) string {
	sum := sha256.Sum256([]byte(chain))
	return fmt.Sprintf("HEADS#%02d", int(sum[0])%HeadShards)
}

// headIndexKey indexes a chain head by shard and the time of its last event.
func headIndexKey(chain string, at time.Time) key {
	return key{headShard(chain), deadlineKey(at) + "#" + chain}
}

func competitionKey(id string) key { return key{"COMP#" + id, meta} }
func bidKey(comp, prov string) key { return key{"COMP#" + comp, "BID#" + prov} }
func decisionKey(comp string) key  { return key{"COMP#" + comp, "DECISION"} }
func resultsKey(comp, decision string, n int) key {
	return key{"COMP#" + comp, fmt.Sprintf("RESULT#%s#%04d", decision, n)}
}
func invitationKey(comp, p string) key { return key{"COMP#" + comp, "INV#" + p} }
func evalShardKey(comp string, n int) key {
	return key{"COMP#" + comp, fmt.Sprintf("EVAL#%02d", n)}
}
func questionKey(comp, q string) key    { return key{"COMP#" + comp, "Q#" + q} }
func contractKey(comp, prov string) key { return key{"COMP#" + comp, "CONTRACT#" + prov} }
func idempotencyKey(org, k string) key  { return key{"IDEM#" + org + "#" + k, "IDEM"} }
func fanoutKey(at, id string) key       { return key{fanoutPartition, at + "#" + id} }

// Partitions queried by lists.
const ringPartition = "RING"

func applicationsByStatus(dps, status string) string { return "DPS#" + dps + "#APPS#" + status }
func providerPartition(prov string) string           { return "PROV#" + prov }
func expiringDocuments(dps string) string            { return "DPS#" + dps + "#DOCEXP" }
func declRequests(dps string) string                 { return "DPS#" + dps + "#DECL" }
func outboxPartition(org string) string              { return "OUTBOX#" + org }
func competitionsOf(dps string) string               { return "DPS#" + dps + "#COMPS" }
func awardsOf(dps string) string                     { return "DPS#" + dps + "#AWARDS" }
func statsKey(dps, month string) key                 { return key{"DPS#" + dps + "#STATS", month} }
func trailOf(subject string) string                  { return "TRAIL#" + subject }

const (
	fanoutPartition    = "FANOUT"
	publishedPartition = "COMPS#published"
	anchorPartition    = "ANCHOR"
	sealedPartition    = "SEALED"
)

// AppendOnlyPartitions are the leading keys of the items that no function
// may update or delete (the IAM roles deny it): the audit chains (events,
// heads, anchored heads) and the anchors.
var AppendOnlyPartitions = []string{"CHAIN#*", anchorPartition}

// Audit chains are per entity, so that no write touches a chain head that
// unrelated writes also touch: two applications, two bids or two
// registrations never queue on one item. The heads of all chains are
// anchored together periodically, and the bid chains at opening.

// DPSChain is the audit chain of the DPS itself (its creation and settings).
func DPSChain(dps string) string { return "dps." + dps }

// ApplicationChain is the audit chain of one application to a DPS: receipt,
// information requests and answers, extensions and the decisions.
func ApplicationChain(app string) string { return "app." + app }

// AdmissionChain is the audit chain of one provider's admission to one
// category: suspension, reinstatement and exclusion.
func AdmissionChain(dps, cat, prov string) string { return "adm." + dps + "." + cat + "." + prov }

// ProviderChain is the audit chain of one provider's registration.
func ProviderChain(prov string) string { return "prov." + prov }

// DeclarationChain is the audit chain of one declaration request.
func DeclarationChain(req string) string { return "decl." + req }

// CompetitionChain is the audit chain of a mini-competition's public steps:
// drafting, publication, amendments, answers, opening, declarations and award.
func CompetitionChain(comp string) string { return "comp." + comp }

// QuestionChain is the audit chain of one clarification question.
func QuestionChain(comp, q string) string { return "q." + comp + "." + q }

// BidChain is the audit chain of one sealed bid and, after opening, its
// evaluation. Bids have chains of their own so that no other chain reveals
// that a bid exists or how many there are before the deadline; opening
// anchors every bid chain's head in the competition's chain.
func BidChain(comp, provider string) string { return "bid." + comp + "." + provider }
