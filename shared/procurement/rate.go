package procurement

import (
	"fmt"
	"math/big"
	"strconv"
)

// Rate is a share or probability from 0 to 1, held exactly in basis points
// (1/10 000). In JSON it is a plain number such as 0.25.
type Rate int64

// RateOne is 100 %.
const RateOne Rate = 10000

// MarshalJSON writes the rate as a decimal number.
func (r Rate) MarshalJSON() ([]byte, error) {
	return []byte(big.NewRat(int64(r), int64(RateOne)).FloatString(4)), nil
}

// UnmarshalJSON reads a decimal number with at most four decimals.
func (r *Rate) UnmarshalJSON(b []byte) error {
	x, ok := new(big.Rat).SetString(string(b))
	if !ok {
		return fmt.Errorf("a rate must be a number from 0 to 1, such as 0.25")
	}
	x.Mul(x, big.NewRat(int64(RateOne), 1))
	if !x.IsInt() || !x.Num().IsInt64() {
		return fmt.Errorf("a rate may have at most four decimals, such as 0.2575")
	}
	*r = Rate(x.Num().Int64())
	return nil
}

func (r Rate) String() string { return strconv.FormatFloat(float64(r)/float64(RateOne), 'f', -1, 64) }

// Valid reports whether the rate is within 0..1.
func (r Rate) Valid() bool { return r >= 0 && r <= RateOne }

// JSONSchema states the rate's JSON form for the OpenAPI document: a number,
// not the int64 it is held in.
func (Rate) JSONSchema() map[string]any {
	return map[string]any{"type": "number", "minimum": 0, "maximum": 1, "description": "a share from 0 to 1 with at most four decimals, e.g. 0.25"}
}
