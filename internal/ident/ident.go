// Package ident validates Chinese public identifiers:
//
//   - 统一社会信用代码 (unified social credit code), GB 32100-2015: [CreditCode];
//   - 组织机构代码 (organisation code), GB 11714-1997: [OrgCode];
//   - 居民身份证号 (resident identity card number), GB 11643-1999: [IDCard];
//   - 行政区划代码 (administrative division code), GB/T 2260: [RegionCode].
//
// Validation is strict: callers normalise input first (trim spaces, upper-case
// letters). Region codes are checked for structure only (a real province
// prefix and well-formed city and county parts), not against the list of
// divisions in force, which changes every year.
//
// Every failure is an [*Error] carrying a stable machine code and a Chinese
// and an English message. The codes are:
//
//	credit_code.length credit_code.charset credit_code.checksum
//	credit_code.region credit_code.org_code
//	org_code.length org_code.charset org_code.checksum
//	id_card.length id_card.charset id_card.checksum id_card.region id_card.birth_date
//	region.length region.charset region.province region.structure
package ident

// Error is the only error type returned by this package.
type Error struct {
	Code string // stable machine-readable code, e.g. "credit_code.checksum"
	ZH   string // Chinese message
	EN   string // English message
}

// Error returns the English message.
func (e *Error) Error() string { return e.EN }

// Is reports whether target is an *Error with the same Code, so that
// errors.Is(err, &ident.Error{Code: "id_card.checksum"}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

func newError(code, zh, en string) *Error {
	return &Error{Code: code, ZH: zh, EN: en}
}
