package auth

import (
	"database/sql"
	"errors"
	"slices"

	"xiangyun/internal/db"
	"xiangyun/internal/errs"
)

// 三员分立 against takeover. Holding two of the three roles is refused at
// grant time (GrantRole); guard also refuses the other way to combine them:
// the administrator resetting the auditor's password, disabling the security
// officer or editing either, and then signing in as them. An account that
// holds one of the three roles is changed (details, password, status, roles)
// only by its owner, by another holder of the same role, or by the
// platform's own command line (actor 0), which runs with the operating
// system's authority and is audited.

// takeoverErr is the refusal for an actor acting on a 三员 account of role r.
func takeoverErr(r Role) error {
	return errs.Forbidden("role.separation_account",
		"三员分立：不能修改"+r.Name("zh")+"的账号、密码、状态或角色，须由其本人或同一角色人员办理",
		"separation of duties (三员分立): you may not change the account, password, status or roles of the "+
			r.Name("en")+"; only its owner or another holder of that role may")
}

// guard locks user target's row until the end of tx (FOR UPDATE on
// PostgreSQL; SQLite's one writer serialises anyway), reads the roles it
// holds, and refuses when actor may not act on the account. It returns the
// roles, read in tx, for the caller's own checks.
func guard(tx *db.Tx, actor, target int64) ([]Role, error) {
	held, err := lockUser(tx, target)
	if err != nil {
		return nil, err
	}
	return held, checkActor(tx, actor, target, held)
}

// lockUser locks user id's row for the rest of tx and returns the roles the
// user holds (each once), or ErrUserNotFound.
func lockUser(tx *db.Tx, id int64) ([]Role, error) {
	var x int64
	err := tx.QueryRow(`SELECT id FROM users WHERE id=$1`+tx.ForUpdate(), id).Scan(&x)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrUserNotFound
	}
	if err != nil {
		return nil, err
	}
	return heldRoles(tx, id)
}

func heldRoles(tx *db.Tx, id int64) ([]Role, error) {
	rows, err := tx.Query(`SELECT DISTINCT role FROM user_roles WHERE user_id=$1`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Role
	for rows.Next() {
		var r Role
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// checkActor refuses actor acting on target, who holds held, when target
// holds one of the 三员 roles that actor does not.
func checkActor(tx *db.Tx, actor, target int64, held []Role) error {
	if actor == 0 || actor == target {
		return nil
	}
	var mine []Role
	for _, r := range held {
		if !slices.Contains(threeRoles, r) {
			continue
		}
		if mine == nil {
			var err error
			if mine, err = heldRoles(tx, actor); err != nil {
				return err
			}
			mine = append(mine, "") // read once, even when empty
		}
		if !slices.Contains(mine, r) {
			return takeoverErr(r)
		}
	}
	return nil
}

// MayChange reports whether p may change target's account under the 三员
// rule guard enforces (the console hides what it would refuse). It is a
// hint for display only; guard decides, inside the write transaction.
func (p *Principal) MayChange(target User) bool {
	if p == nil {
		return false
	}
	if p.User.ID == target.ID {
		return true
	}
	for _, g := range target.Roles {
		if slices.Contains(threeRoles, g.Role) && !p.HasRole(g.Role) {
			return false
		}
	}
	return true
}
