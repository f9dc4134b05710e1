package localdb

import (
	"encoding/json"
	"sort"
	"strings"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/truora/minidyn/server"
)

// keySchema is a partition key and an optional sort key.
type keySchema struct{ hash, rng string }

func (k keySchema) names() []string {
	if k.rng == "" {
		return []string{k.hash}
	}
	return []string{k.hash, k.rng}
}

// tableSchema is what the layer knows of a table: its keys, its indexes'
// keys, and the definition it was created with (for the scratch engine).
type tableSchema struct {
	key     keySchema
	indexes map[string]keySchema
	create  server.CreateTableInput
}

func keysOf(elems []ddbtypes.KeySchemaElement) keySchema {
	var k keySchema
	for _, e := range elems {
		if e.AttributeName == nil {
			continue
		}
		if e.KeyType == ddbtypes.KeyTypeHash {
			k.hash = *e.AttributeName
		} else {
			k.rng = *e.AttributeName
		}
	}
	return k
}

func schemaOf(in server.CreateTableInput) *tableSchema {
	s := &tableSchema{key: keysOf(in.KeySchema), indexes: map[string]keySchema{}, create: in}
	for _, g := range in.GlobalSecondaryIndexes {
		if g.IndexName != nil {
			s.indexes[*g.IndexName] = keysOf(g.KeySchema)
		}
	}
	for _, l := range in.LocalSecondaryIndexes {
		if l.IndexName != nil {
			s.indexes[*l.IndexName] = keysOf(l.KeySchema)
		}
	}
	return s
}

// updated applies an UpdateTable to the schema: new attribute definitions
// and created or deleted indexes.
func (s *tableSchema) updated(in server.UpdateTableInput) *tableSchema {
	c := s.create
	c.AttributeDefinitions = append(append([]ddbtypes.AttributeDefinition(nil), c.AttributeDefinitions...), in.AttributeDefinitions...)
	gsis := append([]ddbtypes.GlobalSecondaryIndex(nil), c.GlobalSecondaryIndexes...)
	for _, u := range in.GlobalSecondaryIndexUpdates {
		switch {
		case u.Create != nil:
			gsis = append(gsis, ddbtypes.GlobalSecondaryIndex{IndexName: u.Create.IndexName, KeySchema: u.Create.KeySchema})
		case u.Delete != nil && u.Delete.IndexName != nil:
			for i, g := range gsis {
				if g.IndexName != nil && *g.IndexName == *u.Delete.IndexName {
					gsis = append(gsis[:i], gsis[i+1:]...)
					break
				}
			}
		}
	}
	c.GlobalSecondaryIndexes = gsis
	return schemaOf(c)
}

// indexNames lists the table's indexes in a stable order.
func (s *tableSchema) indexNames() []string {
	names := make([]string, 0, len(s.indexes))
	for n := range s.indexes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// checkKey validates the primary key of a request: exactly the key
// attributes, of key types, non-empty and within DynamoDB's size limits.
func (s *tableSchema) checkKey(key item) *apiError {
	if len(key) != len(s.key.names()) {
		return validation("The provided key element does not match the schema")
	}
	for _, n := range s.key.names() {
		if key[n] == nil {
			return validation("The provided key element does not match the schema")
		}
	}
	return s.checkKeyValues(key)
}

// checkKeyValues validates the values of the primary key attributes in an
// item or key.
func (s *tableSchema) checkKeyValues(it item) *apiError {
	return checkKeyAttrs(it, s.key, "")
}

// checkItem validates the keys of an item to be written: its primary key
// and, for every index whose key attributes it carries, the index key
// values.
func (s *tableSchema) checkItem(it item) *apiError {
	for _, n := range s.key.names() {
		if it[n] == nil {
			return validation("One or more parameter values were invalid: Missing the key %s in the item", n)
		}
	}
	if err := s.checkKeyValues(it); err != nil {
		return err
	}
	for _, name := range s.indexNames() {
		if err := checkKeyAttrs(it, s.indexes[name], name); err != nil {
			return err
		}
	}
	return nil
}

// checkKeyAttrs checks the key attributes of k present in it. index names
// the secondary index, or is empty for the table's own key.
func checkKeyAttrs(it item, k keySchema, index string) *apiError {
	for i, n := range k.names() {
		v, ok := it[n]
		if !ok {
			continue
		}
		size, keyType := keyValueSize(v)
		if !keyType {
			if index != "" {
				return validation("One or more parameter values were invalid: Type mismatch for Index Key %s Expected: S Actual: other IndexName: %s", n, index)
			}
			return validation("One or more parameter values were invalid: Type mismatch for key %s", n)
		}
		if size == 0 {
			if index != "" {
				return validation("One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: %s, IndexKey: %s", index, n)
			}
			return validation("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty value. Key: %s", n)
		}
		if i == 0 && size > maxPartitionKey {
			return validation("One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of %d bytes", maxPartitionKey)
		}
		if i == 1 && size > maxSortKey {
			return validation("One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of %d bytes", maxSortKey)
		}
	}
	return nil
}

// itemID identifies an item of a table by its primary key values.
func (s *tableSchema) itemID(table string, it item) string {
	var b strings.Builder
	b.WriteString(table)
	for _, n := range s.key.names() {
		v, _ := json.Marshal(it[n])
		b.WriteByte(0)
		b.Write(v)
	}
	return b.String()
}

// keyOf extracts the primary key attributes of an item.
func (s *tableSchema) keyOf(it item) item {
	k := item{}
	for _, n := range s.key.names() {
		if v, ok := it[n]; ok {
			k[n] = v
		}
	}
	return k
}

// checkStartKey validates an ExclusiveStartKey: exactly the table's key
// attributes, plus the index's when reading an index.
func (s *tableSchema) checkStartKey(esk item, index string) *apiError {
	want := map[string]bool{}
	for _, n := range s.key.names() {
		want[n] = true
	}
	if index != "" {
		ix, ok := s.indexes[index]
		if !ok {
			return nil // the engine reports the unknown index
		}
		for _, n := range ix.names() {
			want[n] = true
		}
	}
	if len(esk) != len(want) {
		return validation("The provided starting key is invalid: The provided key element does not match the schema")
	}
	for n := range want {
		if esk[n] == nil {
			return validation("The provided starting key is invalid: The provided key element does not match the schema")
		}
	}
	if err := s.checkKeyValues(esk); err != nil {
		return validation("The provided starting key is invalid: %s", err.msg)
	}
	if index != "" {
		if err := checkKeyAttrs(esk, s.indexes[index], index); err != nil {
			return validation("The provided starting key is invalid: %s", err.msg)
		}
	}
	return nil
}
