package localdb

import (
	"bytes"
	"math/big"
	"strings"

	"github.com/truora/minidyn/server"
)

// keyCond is one condition of a KeyConditionExpression: an attribute, an
// operator and its operands.
type keyCond struct {
	name string
	op   string // "=", "<", "<=", ">", ">=", "between", "begins_with"
	vals []*server.AttributeValue
}

// tokens splits an expression into names, placeholders, operators and
// punctuation.
func tokens(expr string) []string {
	var out []string
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == ',':
			out = append(out, string(c))
			i++
		case c == '<' || c == '>' || c == '=':
			j := i + 1
			if j < len(expr) && (expr[j] == '=' || expr[j] == '>') {
				j++
			}
			out = append(out, expr[i:j])
			i = j
		default:
			j := i
			for j < len(expr) && !strings.ContainsRune(" \t\n\r(),<>=", rune(expr[j])) {
				j++
			}
			out = append(out, expr[i:j])
			i = j
		}
	}
	return out
}

// parseKeyConds parses a key condition: conditions joined by AND, each
// "name op :v", "name BETWEEN :a AND :b" or "begins_with(name, :v)".
// It reports false when the expression is not of that form; the engine
// then answers for it.
func parseKeyConds(expr string, names map[string]string, values map[string]*server.AttributeValue) ([]keyCond, bool) {
	var toks []string
	for _, t := range tokens(expr) {
		if t != "(" && t != ")" {
			toks = append(toks, t)
		}
	}
	name := func(t string) string {
		if strings.HasPrefix(t, "#") {
			return names[t]
		}
		return t
	}
	var out []keyCond
	for i := 0; i < len(toks); {
		var c keyCond
		switch {
		case strings.EqualFold(toks[i], "begins_with"):
			if i+3 >= len(toks) || toks[i+2] != "," {
				return nil, false
			}
			c = keyCond{name: name(toks[i+1]), op: "begins_with", vals: []*server.AttributeValue{values[toks[i+3]]}}
			i += 4
		case i+2 < len(toks) && strings.EqualFold(toks[i+1], "between"):
			if i+4 >= len(toks) || !strings.EqualFold(toks[i+3], "and") {
				return nil, false
			}
			c = keyCond{name: name(toks[i]), op: "between", vals: []*server.AttributeValue{values[toks[i+2]], values[toks[i+4]]}}
			i += 5
		case i+2 < len(toks):
			c = keyCond{name: name(toks[i]), op: toks[i+1], vals: []*server.AttributeValue{values[toks[i+2]]}}
			i += 3
		default:
			return nil, false
		}
		for _, v := range c.vals {
			if v == nil {
				return nil, false
			}
		}
		out = append(out, c)
		if i < len(toks) {
			if !strings.EqualFold(toks[i], "and") {
				return nil, false
			}
			i++
		}
	}
	return out, true
}

// compare orders two key values of the same type as DynamoDB does:
// strings and binaries by bytes, numbers by value. ok is false when they
// are not comparable.
func compare(a, b *server.AttributeValue) (int, bool) {
	switch {
	case a.S != nil && b.S != nil:
		return strings.Compare(*a.S, *b.S), true
	case a.B != nil && b.B != nil:
		return bytes.Compare(a.B, b.B), true
	case a.N != nil && b.N != nil:
		x, ok1 := new(big.Rat).SetString(*a.N)
		y, ok2 := new(big.Rat).SetString(*b.N)
		if !ok1 || !ok2 {
			return 0, false
		}
		return x.Cmp(y), true
	}
	return 0, false
}

// checkKeyConds validates a query's key conditions against the keys of the
// table or index read: key values non-empty and within the size limits
// (when keys is set), and BETWEEN bounds in order (when order is set).
func checkKeyConds(conds []keyCond, k keySchema, keys, order bool) *apiError {
	for _, c := range conds {
		limit := 0
		switch c.name {
		case k.hash:
			limit = maxPartitionKey
		case k.rng:
			limit = maxSortKey
		default:
			continue
		}
		for _, v := range c.vals {
			if !keys {
				break
			}
			size, keyType := keyValueSize(v)
			if !keyType {
				continue // the engine reports the type mismatch
			}
			if size == 0 {
				return validation("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty value. Key: %s", c.name)
			}
			if size > limit && limit == maxPartitionKey {
				return validation("One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of %d bytes", maxPartitionKey)
			}
			if size > limit {
				return validation("One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of %d bytes", maxSortKey)
			}
		}
		if order && c.op == "between" {
			if cmp, ok := compare(c.vals[0], c.vals[1]); ok && cmp > 0 {
				return validation("Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: %s, upper bound operand: %s", show(c.vals[0]), show(c.vals[1]))
			}
		}
	}
	return nil
}

func show(v *server.AttributeValue) string {
	switch {
	case v.S != nil:
		return "AttributeValue: {S:" + *v.S + "}"
	case v.N != nil:
		return "AttributeValue: {N:" + *v.N + "}"
	}
	return "AttributeValue: {B:...}"
}

// legacyKeyConds turns the legacy KeyConditions parameter into conditions.
func legacyKeyConds(kc map[string]server.Condition) []keyCond {
	var out []keyCond
	for name, c := range kc {
		op := strings.ToLower(string(c.ComparisonOperator))
		if op == "between" && len(c.AttributeValueList) != 2 {
			continue
		}
		kcond := keyCond{name: name, op: op}
		for _, v := range c.AttributeValueList {
			if v != nil {
				kcond.vals = append(kcond.vals, v)
			}
		}
		if len(kcond.vals) == len(c.AttributeValueList) {
			out = append(out, kcond)
		}
	}
	return out
}
