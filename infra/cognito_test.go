package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// Cognito calls the cognito function after every authentication and
// confirmation, and that function may only UpdateItem the organisations'
// mail directories (ORG#* partitions).
func TestCognitoTriggersRecordUsersWithLeastPrivilege(t *testing.T) {
	pools := resources("app", "AWS::Cognito::UserPool")
	if len(pools) != 1 {
		t.Fatalf("%d user pools", len(pools))
	}
	var fnID string
	for id := range resources("app", "AWS::Lambda::Function") {
		if strings.HasPrefix(id, "Fn"+CognitoFunction) {
			fnID = id
		}
	}
	if fnID == "" {
		t.Fatal("no cognito function")
	}
	for _, p := range pools {
		cfg, _ := props(p)["LambdaConfig"].(map[string]any)
		for _, op := range []string{"PostAuthentication", "PostConfirmation"} {
			if raw, _ := json.Marshal(cfg[op]); !strings.Contains(string(raw), `"`+fnID+`"`) {
				t.Errorf("the user pool's %s trigger is %s, want the function %s", op, raw, fnID)
			}
		}
		if len(cfg) != 2 {
			t.Errorf("the user pool has triggers %v, want exactly the two", cfg)
		}
	}
	invokers := 0
	for _, perm := range resources("app", "AWS::Lambda::Permission") {
		p := props(perm)
		if raw, _ := json.Marshal(p["FunctionName"]); strings.Contains(string(raw), `"`+fnID+`"`) {
			if p["Principal"] != "cognito-idp.amazonaws.com" || p["SourceArn"] == nil {
				t.Errorf("the function may be invoked by %v from %v; want the user pool only", p["Principal"], p["SourceArn"])
			}
			invokers++
		}
	}
	if invokers == 0 {
		t.Error("Cognito has no permission to invoke the function")
	}
	role := roleOf(CognitoFunction)
	allows := 0
	for _, st := range statementsOf("app", role) {
		raw, _ := json.Marshal(st)
		if st["Effect"] != "Allow" || !strings.Contains(string(raw), "dynamodb:") {
			continue
		}
		allows++
		if st["Action"] != "dynamodb:UpdateItem" || !strings.Contains(string(raw), `"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["ORG#*"]}`) || strings.Contains(string(raw), "/index/") {
			t.Errorf("the cognito function's table grant is %s; want UpdateItem on ORG#* partitions only", raw)
		}
	}
	if allows != 1 {
		t.Errorf("the cognito function has %d table grants, want 1", allows)
	}
}
