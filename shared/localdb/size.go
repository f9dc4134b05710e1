package localdb

import (
	"strings"

	"github.com/truora/minidyn/server"
)

// DynamoDB's documented limits.
const (
	maxItemSize        = 400 * 1024
	maxPartitionKey    = 2048
	maxSortKey         = 1024
	maxTransactItems   = 100
	maxTransactSize    = 4 * 1024 * 1024
	maxBatchGetKeys    = 100
	maxBatchWriteItems = 25
)

type item = map[string]*server.AttributeValue

// itemSize is the size of an item by DynamoDB's rule: the UTF-8 length of
// every attribute name plus the size of its value.
func itemSize(it item) int {
	n := 0
	for name, v := range it {
		n += len(name) + valueSize(v)
	}
	return n
}

// valueSize follows the sizes AWS documents: strings and binaries by their
// length, numbers by significant digits, 1 byte for booleans and nulls,
// and 3 bytes of overhead for a list or map plus 1 byte per element.
func valueSize(v *server.AttributeValue) int {
	if v == nil {
		return 0
	}
	switch {
	case v.S != nil:
		return len(*v.S)
	case v.N != nil:
		return numberSize(*v.N)
	case v.B != nil:
		return len(v.B)
	case v.BOOL != nil, v.NULL != nil:
		return 1
	case v.SS != nil:
		n := 0
		for _, s := range v.SS {
			if s != nil {
				n += len(*s)
			}
		}
		return n
	case v.NS != nil:
		n := 0
		for _, s := range v.NS {
			if s != nil {
				n += numberSize(*s)
			}
		}
		return n
	case v.BS != nil:
		n := 0
		for _, b := range v.BS {
			n += len(b)
		}
		return n
	case v.L != nil:
		n := 3
		for _, e := range v.L {
			n += 1 + valueSize(e)
		}
		return n
	case v.M != nil:
		n := 3
		for k, e := range v.M {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}

// numberSize is 1 byte per two significant digits plus 1, and 1 more for a
// negative number; leading and trailing zeros do not count.
func numberSize(s string) int {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	s = strings.ReplaceAll(s, ".", "")
	s = strings.Trim(s, "0")
	n := (len(s)+1)/2 + 1
	if neg {
		n++
	}
	return n
}

// keyValueSize is the size of a key attribute's value and whether it is
// of a key type (string, number or binary).
func keyValueSize(v *server.AttributeValue) (int, bool) {
	switch {
	case v == nil:
		return 0, false
	case v.S != nil:
		return len(*v.S), true
	case v.N != nil:
		return numberSize(*v.N), true
	case v.B != nil:
		return len(v.B), true
	}
	return 0, false
}
