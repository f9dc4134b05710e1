package main

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/rengas/rengas/shared/httpapi"
)

// GuardDuty Malware Protection for S3 scans the documents bucket's
// uploads, tags them, with a role of its own; objects tagged with a
// threat cannot be read.
func TestMalwareProtectionPlan(t *testing.T) {
	plans := resources("stateful", "AWS::GuardDuty::MalwareProtectionPlan")
	if len(plans) != 1 {
		t.Fatalf("got %d malware protection plans, want 1", len(plans))
	}
	var docs string
	for id := range resources("stateful", "AWS::S3::Bucket") {
		if strings.HasPrefix(id, "Documents") && !strings.Contains(id, "AccessLogs") {
			docs = id
		}
	}
	for _, p := range plans {
		raw, _ := json.Marshal(props(p))
		pr := props(p)
		b := pr["ProtectedResource"].(map[string]any)["S3Bucket"].(map[string]any)
		if ref, _ := json.Marshal(b["BucketName"]); !strings.Contains(string(ref), docs) {
			t.Errorf("the plan protects %s, want the documents bucket %s", ref, docs)
		}
		if pre := b["ObjectPrefixes"].([]any); len(pre) != 1 || pre[0] != "files/" {
			t.Errorf("the plan scans %v, want files/", pre)
		}
		if pr["Actions"].(map[string]any)["Tagging"].(map[string]any)["Status"] != "ENABLED" {
			t.Errorf("the plan does not tag scanned objects: %s", raw)
		}
		role := pr["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
		r := resources("stateful", "AWS::IAM::Role")[role]
		trust, _ := json.Marshal(props(r)["AssumeRolePolicyDocument"])
		if !strings.Contains(string(trust), "malware-protection-plan.guardduty.amazonaws.com") {
			t.Errorf("the plan's role is not GuardDuty's: %s", trust)
		}
		var actions []string
		for _, st := range statementsOf("stateful", role) {
			actions = append(actions, actionsOf(st)...)
		}
		for _, want := range []string{"s3:GetObject", "s3:PutObjectTagging", "s3:PutBucketNotification", "events:PutRule"} {
			if !slices.Contains(actions, want) {
				t.Errorf("GuardDuty's role lacks %s: %v", want, actions)
			}
		}
	}
	pol, _ := json.Marshal(resources("stateful", "AWS::S3::BucketPolicy"))
	if !strings.Contains(string(pol), `"s3:ExistingObjectTag/GuardDutyMalwareScanStatus":"THREATS_FOUND"`) {
		t.Errorf("objects with threats can be read: %s", pol)
	}
	notif, _ := json.Marshal(resources("stateful", "Custom::S3BucketNotifications"))
	if !strings.Contains(string(notif), `"EventBridgeConfiguration":{}`) || !strings.Contains(string(notif), docs) {
		t.Errorf("the documents bucket does not send its events to EventBridge: %s", notif)
	}
}

// Functions touch uploaded files only as they must: presigned uploads
// (s3:PutObject: the qualification function, and the web function, which
// runs the qualification routes for the pages), reads of an arrival's
// headers and first bytes and presigned downloads (s3:GetObject), and the
// deletion of refused uploads; all on files/* only. The documents
// function takes the bucket's Object Created events and GuardDuty's
// results.
func TestDocumentsBucketGrants(t *testing.T) {
	for _, fn := range Functions {
		role := roleOf(fn.Name)
		var got []string
		for _, st := range statementsOf("app", role) {
			res, _ := json.Marshal(st["Resource"])
			if !strings.Contains(string(res), "ImportValue") || !strings.Contains(string(res), "Documents") || st["Effect"] == "Deny" {
				continue
			}
			if st["Action"] == "s3:ListBucket" && !strings.Contains(string(res), `/files/*`) {
				// Telling a missing object (404) from a forbidden one (403).
				if !slices.Contains(documentGrants[fn.Name], "s3:DeleteObject") {
					t.Errorf("%s may list the documents bucket", fn.Name)
				}
				continue
			}
			if !strings.Contains(string(res), `/files/*`) {
				t.Errorf("%s: a grant on the documents bucket beyond files/*: %s", fn.Name, res)
			}
			got = append(got, actionsOf(st)...)
		}
		want := slices.Clone(documentGrants[fn.Name])
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s may %v on the uploaded files, want exactly %v", fn.Name, got, want)
		}
		if slices.Contains(got, "s3:PutObject") && fn.Name != httpapi.FnQualification && fn.Name != WebFunction {
			t.Errorf("%s may put objects in the documents bucket", fn.Name)
		}
	}
	rules, _ := json.Marshal(resources("app", "AWS::Events::Rule"))
	for _, want := range []string{`"detail-type":["Object Created"]`, `"detail-type":["` + httpapi.ScanResultDetailType + `"]`, `"prefix":"files/"`} {
		if !strings.Contains(string(rules), want) {
			t.Errorf("no EventBridge rule with %s", want)
		}
	}
	if !strings.Contains(string(rules), "Fn"+DocumentsFunction) {
		t.Errorf("the rules do not target the documents function")
	}
}

// The pages' script may PUT a file straight to its presigned URL from the
// pages' origin, and only PUT: the documents bucket's CORS.
func TestDocumentsBucketTakesThePagesPut(t *testing.T) {
	for id, b := range resources("stateful", "AWS::S3::Bucket") {
		if !strings.HasPrefix(id, "Documents") || strings.Contains(id, "AccessLogs") {
			continue
		}
		raw, _ := json.Marshal(props(b)["CorsConfiguration"])
		for _, want := range []string{`"AllowedMethods":["PUT"]`, `.amazonaws.com`, `"x-amz-checksum-sha256"`, `"x-amz-meta-rengas-*"`} {
			if !strings.Contains(string(raw), want) {
				t.Errorf("the documents bucket's CORS %s lacks %s", raw, want)
			}
		}
		return
	}
	t.Fatal("no documents bucket")
}
