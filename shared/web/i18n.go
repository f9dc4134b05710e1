package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Langs are the languages of the pages, Finnish first: it is the default.
var Langs = []string{"fi", "sv", "en"}

//go:embed messages/*.json
var messageFiles embed.FS

// catalog holds the message catalogs of every language.
type catalog struct {
	bundle     *i18n.Bundle
	localizers map[string]*i18n.Localizer
	log        *slog.Logger
}

func newCatalog(log *slog.Logger) (*catalog, error) {
	b := i18n.NewBundle(language.Finnish)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	c := &catalog{bundle: b, localizers: map[string]*i18n.Localizer{}, log: log}
	for _, l := range Langs {
		if _, err := b.LoadMessageFileFS(messageFiles, "messages/"+l+".json"); err != nil {
			return nil, fmt.Errorf("message catalog %s: %w", l, err)
		}
		// No fallback to another language: a missing message shows as its
		// key, which the tests look for.
		c.localizers[l] = i18n.NewLocalizer(b, l)
	}
	return c, nil
}

// T translates a message id with optional template data. A missing
// message is logged and shows as its id.
func (c *catalog) T(lang, id string, data any) string {
	s, tag, err := c.localizers[lang].LocalizeWithTag(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil || tag.String() != lang {
		c.log.Error("missing message", "lang", lang, "id", id, "err", err)
		return id
	}
	return s
}

// has reports whether the language has the message.
func (c *catalog) has(lang, id string) bool {
	_, tag, err := c.localizers[lang].LocalizeWithTag(&i18n.LocalizeConfig{MessageID: id})
	return err == nil && tag.String() == lang
}

// openFamilies are code families whose codes are data (a DPS defines its
// own categories and criteria; the trail may gain actions): a code without
// a message shows as itself. The seeded codes all have messages.
var openFamilies = map[string]bool{"category": true, "criterion": true, "milestone": true, "action": true}

// codeKey is the message id of a domain code in a family, e.g. the legal
// form "association" is legalForm.association.
func codeKey(family, code string) string {
	return family + "." + strings.ReplaceAll(code, ".", "_")
}
