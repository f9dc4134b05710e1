package procurement

import "time"

// Question is a clarification question. The asker is known only to the
// officers; the answer is published to every invitee without it.
type Question struct {
	ID            string     `json:"id"`
	CompetitionID string     `json:"competitionId"`
	AskedBy       string     `json:"askedBy,omitempty"` // provider id; hidden from providers
	Text          string     `json:"question"`
	AskedAt       time.Time  `json:"askedAt"`
	Answer        string     `json:"answer,omitempty"`
	AnsweredAt    *time.Time `json:"answeredAt,omitempty"`
	AnsweredBy    string     `json:"answeredBy,omitempty"`
	Version       int        `json:"version"`
}

// Ask checks that an invitee may ask now.
func (c *Competition) Ask(provider, text string, now time.Time) error {
	if !c.Invited(provider) {
		return Errorf(ENOTFOUND, "mini-competition %s not found", c.ID)
	}
	if c.Status != CompPublished || !now.Before(c.QuestionDeadline) {
		return Errorf(ECONFLICT, "questions closed at %s (server time)", c.QuestionDeadline.UTC().Format(time.RFC3339))
	}
	if text == "" {
		return Invalid("question", "write the question")
	}
	return nil
}

// AnswerQuestion publishes the answer to a question.
func (c *Competition) AnswerQuestion(by Actor, q *Question, answer string, now time.Time) error {
	if c.Status != CompPublished || c.DeadlinePassed(now) {
		return Errorf(ECONFLICT, "answers can be published only before the bid deadline")
	}
	if q.AnsweredAt != nil {
		return Errorf(ECONFLICT, "the question was already answered; amend the competition if the answer must change")
	}
	if answer == "" {
		return Invalid("answer", "write the answer")
	}
	q.Answer, q.AnsweredAt, q.AnsweredBy = answer, &now, by.UserID
	return nil
}

// ForProvider hides the asker from providers.
func (q Question) ForProvider() Question {
	q.AskedBy = ""
	return q
}
