// Package errs is the platform's one error type: a stable machine code with a
// Chinese and an English message, and the kind of failure that decides the
// HTTP status. Domain packages return *Error; the API turns it into an RFC
// 9457 problem, the console into an inline message in the user's language.
package errs

import (
	"errors"
	"strings"
)

// Kind classifies an error for transport.
type Kind int

const (
	KindInternal Kind = iota
	KindInvalid
	KindNotFound
	KindConflict
	KindForbidden
	KindUnauthenticated
	KindTooMany
	KindTooLarge
	KindUnavailable // the storage (or another dependency) cannot answer now: 503, never the user's fault
)

// FieldError is one problem with one input field.
type FieldError struct {
	Field string `json:"field"`
	Code  string `json:"code"`
	ZH    string `json:"message_zh"`
	EN    string `json:"message_en"`
}

// Error is a domain error.
type Error struct {
	Kind   Kind
	Code   string
	ZH, EN string
	Fields []FieldError // per-field problems, for validation errors
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.EN
	}
	parts := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		parts = append(parts, f.Field+": "+f.EN)
	}
	return e.EN + ": " + strings.Join(parts, "; ")
}

// Message returns the message in lang ("zh" or "en").
func (e *Error) Message(lang string) string {
	if lang == "en" {
		return e.EN
	}
	return e.ZH
}

// New makes an error of kind k.
func New(k Kind, code, zh, en string) *Error { return &Error{Kind: k, Code: code, ZH: zh, EN: en} }

// NotFound, Conflict, Forbidden … are shorthands for New.
func NotFound(code, zh, en string) *Error  { return New(KindNotFound, code, zh, en) }
func Conflict(code, zh, en string) *Error  { return New(KindConflict, code, zh, en) }
func Forbidden(code, zh, en string) *Error { return New(KindForbidden, code, zh, en) }
func Invalid(code, zh, en string) *Error   { return New(KindInvalid, code, zh, en) }

// ErrForbidden is the generic refusal for a missing permission.
var ErrForbidden = Forbidden("forbidden", "无权执行此操作", "you are not allowed to do this")

// ErrUnauthenticated asks the caller to sign in.
var ErrUnauthenticated = New(KindUnauthenticated, "unauthenticated", "请先登录", "sign in first")

// ErrUnavailable is the storage being out of reach: the request may succeed
// later and the user did nothing wrong.
var ErrUnavailable = New(KindUnavailable, "unavailable", "服务暂时不可用（数据库无法访问），请稍后再试", "the service is unavailable right now (the database cannot be reached); try again shortly")

// Unavailable wraps cause (kept for logs) as ErrUnavailable.
func Unavailable(cause error) error { return &unavailable{cause} }

type unavailable struct{ cause error }

func (u *unavailable) Error() string   { return ErrUnavailable.EN + ": " + u.cause.Error() }
func (u *unavailable) Unwrap() []error { return []error{ErrUnavailable, u.cause} }

// Fields collects field errors; its Err is nil when none were added.
type Fields []FieldError

// Add records a problem with field.
func (fs *Fields) Add(field, code, zh, en string) {
	*fs = append(*fs, FieldError{Field: field, Code: code, ZH: zh, EN: en})
}

// Has reports whether field already has a problem.
func (fs Fields) Has(field string) bool {
	for _, f := range fs {
		if f.Field == field {
			return true
		}
	}
	return false
}

// Err returns a validation error holding the fields, or nil.
func (fs Fields) Err() error {
	if len(fs) == 0 {
		return nil
	}
	return &Error{Kind: KindInvalid, Code: "validation", ZH: "输入有误，请检查标出的字段", EN: "the input is not valid; check the marked fields", Fields: fs}
}

// As returns err as *Error when it is one.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// KindOf returns the kind of err (KindInternal for foreign errors).
func KindOf(err error) Kind {
	if e, ok := As(err); ok {
		return e.Kind
	}
	return KindInternal
}
