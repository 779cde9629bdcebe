package ident

var orgWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// orgValue returns the value of an organisation code body character:
// 0–9 for digits, 10–35 for A–Z, -1 otherwise.
func orgValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	default:
		return -1
	}
}

// OrgCodeCheckChar returns the check character of an organisation code
// (组织机构代码, GB 11714-1997) from its first 8 characters (digits or upper-case
// letters): 11 − (Σ value×weight mod 11) with weights 3 7 9 10 5 8 4 2, where
// 10 is written X and 11 is written 0.
func OrgCodeCheckChar(first8 string) (byte, error) {
	if len(first8) != 8 {
		return 0, newError("org_code.length", "组织机构代码本体应为8位", "organisation code body must be 8 characters")
	}
	sum := 0
	for i := 0; i < 8; i++ {
		v := orgValue(first8[i])
		if v < 0 {
			return 0, errOrgCharset()
		}
		sum += v * orgWeights[i]
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 'X', nil
	case 11:
		return '0', nil
	default:
		return byte('0' + c), nil
	}
}

// OrgCode checks an organisation code (组织机构代码, GB 11714-1997): 8 digits or
// upper-case letters and a check character (digit or X). The printed form
// with a hyphen before the check character ("M000100Y-4") is accepted too.
func OrgCode(s string) error {
	if len(s) == 10 && s[8] == '-' {
		s = s[:8] + s[9:]
	}
	if len(s) != 9 {
		return newError("org_code.length", "组织机构代码应为9位", "organisation code must be 9 characters")
	}
	want, err := OrgCodeCheckChar(s[:8])
	if err != nil {
		return err
	}
	if got := s[8]; got != want {
		if (got < '0' || got > '9') && got != 'X' {
			return errOrgCharset()
		}
		return newError("org_code.checksum", "组织机构代码校验位错误", "organisation code check character is wrong")
	}
	return nil
}

func errOrgCharset() *Error {
	return newError("org_code.charset", "组织机构代码含有非法字符", "organisation code contains an invalid character")
}
