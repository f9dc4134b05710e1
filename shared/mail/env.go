package mail

import (
	"context"
	"errors"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/rengas/rengas/shared/dynamo"
)

// FromEnv returns the dispatcher a deployment configures:
//
//	MAIL_FROM              the sender, e.g. "Rengas <rengas@lahti.example.fi>" (required)
//	PUBLIC_BASE_URL        the pages' public address, for the links (required)
//	SMTP_ADDR ...          an SMTP relay (see SMTPFromEnv); when not set, SES:
//	SES_CONFIGURATION_SET  the SES configuration set whose events report bounces and complaints
//	MAIL_DIRECTORY_MAX_AGE_DAYS  how many days a user who does not sign in stays a recipient (default 365)
func FromEnv(ctx context.Context, st *dynamo.Store) (*Dispatcher, error) {
	from, base := os.Getenv("MAIL_FROM"), os.Getenv("PUBLIC_BASE_URL")
	if _, err := mail.ParseAddress(from); err != nil {
		return nil, errors.New("MAIL_FROM must be the sender's address, e.g. Rengas <rengas@lahti.example.fi>")
	}
	if u, err := url.Parse(base); err != nil || u.Scheme != "https" && u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" || u.Host == "" {
		return nil, errors.New("PUBLIC_BASE_URL must be the pages' https address, e.g. https://rengas.lahti.example.fi")
	}
	cat, err := NewCatalog()
	if err != nil {
		return nil, err
	}
	d := &Dispatcher{Store: st, Catalog: cat, From: from, BaseURL: base}
	if v := os.Getenv("MAIL_DIRECTORY_MAX_AGE_DAYS"); v != "" {
		days, err := strconv.Atoi(v)
		if err != nil || days < 1 {
			return nil, errors.New("MAIL_DIRECTORY_MAX_AGE_DAYS must be a whole number of days, at least 1, e.g. 365")
		}
		d.DirectoryMaxAge = time.Duration(days) * 24 * time.Hour
	}
	relay, err := SMTPFromEnv()
	if err != nil {
		return nil, err
	}
	if relay != nil {
		d.Sender = relay
		return d, nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	d.Sender = &SES{Client: sesv2.NewFromConfig(cfg), ConfigurationSet: os.Getenv("SES_CONFIGURATION_SET")}
	return d, nil
}
