package auth

import "xiangyun/internal/db"

// Contact is a user to tell about something: who they are, where they
// belong and their e-mail address ("" when none is on file).
type Contact struct {
	UserID int64
	BodyID int64 // the user's own body
	Email  string
}

// Holders lists the enabled users who hold role r at body bodyID, or
// anywhere for a platform role (bodyID is then ignored), ordered by id. It
// reads in tx so that notices written in a change's transaction go to the
// holders that transaction sees.
func Holders(tx *db.Tx, r Role, bodyID int64) ([]Contact, error) {
	q := `SELECT DISTINCT u.id, u.body_id, u.email FROM user_roles g JOIN users u ON u.id = g.user_id
		WHERE g.role = $1 AND NOT u.disabled AND (g.body_id = $2 OR $3) ORDER BY u.id`
	rows, err := tx.Query(q, r, bodyID, r.Platform())
	if err != nil {
		return nil, db.Check(err)
	}
	defer rows.Close()
	var out []Contact
	for rows.Next() {
		var c Contact
		if err := rows.Scan(&c.UserID, &c.BodyID, &c.Email); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, db.Check(rows.Err())
}
