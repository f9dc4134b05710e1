package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rengas/rengas/shared/ocds"
)

// WriteReleasesForTest stores n releases of a process, one every step
// from start, through the same write a change uses, 50 per transaction.
func WriteReleasesForTest(ctx context.Context, s *Store, ocid string, n int, start time.Time, step time.Duration) error {
	var items []types.TransactWriteItem
	flush := func() error {
		if len(items) == 0 {
			return nil
		}
		err := s.transact(ctx, items)
		items = nil
		return err
	}
	for i := range n {
		at := start.Add(time.Duration(i) * step)
		tags := []string{ocds.TagUpdate}
		r := ocds.Release{OCID: ocid, ID: ocds.ReleaseID(ocid, fmt.Sprintf("%04d", i+1), tags), Date: ocds.Stamp(at), Tag: tags, InitiationType: "tender",
			Tender: &ocds.Tender{ID: ocid, Title: fmt.Sprintf("Release %d of a long procedure", i+1), Status: "active", ProcurementMethod: "selective",
				ProcurementMethodDetails: "test", MainProcurementCategory: "services", SubmissionMethod: []string{"electronicSubmission"}}}
		items = append(items, s.ReleaseWrite(r, at).tw)
		if len(items) == 50 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}
