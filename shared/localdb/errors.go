package localdb

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// apiError is an error answer in DynamoDB's JSON protocol.
type apiError struct {
	status  int
	typ     string // the shape name, without namespace
	msg     string
	reasons []reason // TransactionCanceledException only
}

// reason is one cancellation reason of a TransactionCanceledException.
type reason struct {
	Code    string `json:"Code"`
	Message string `json:"Message,omitempty"`
}

func validation(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "ValidationException", msg: fmt.Sprintf(format, args...)}
}

func canceled(reasons []reason) *apiError {
	codes := make([]string, len(reasons))
	for i, r := range reasons {
		codes[i] = r.Code
	}
	return &apiError{
		status: http.StatusBadRequest, typ: "TransactionCanceledException", reasons: reasons,
		msg: "Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]",
	}
}

// body encodes the error as DynamoDB does. The message member is
// "Message" on some shapes and "message" on others; the SDK's
// deserializers match the member name of the shape.
func (e *apiError) body() []byte {
	m := map[string]any{"__type": "com.amazonaws.dynamodb.v20120810#" + e.typ}
	switch e.typ {
	case "TransactionCanceledException":
		m["Message"] = e.msg
		m["CancellationReasons"] = e.reasons
	case "IdempotentParameterMismatchException", "TransactionInProgressException":
		m["Message"] = e.msg
	default:
		m["message"] = e.msg
	}
	b, _ := json.Marshal(m)
	return b
}

func (e *apiError) response() response {
	return response{status: e.status, body: e.body(), refused: e}
}
