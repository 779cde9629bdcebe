package ident

import "strings"

// creditAlphabet lists the characters of a unified social credit code in
// value order 0–30; I, O, S, V and Z are not used.
const creditAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var creditWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// nationalRegion is the region part used by codes that national authorities
// (国家机关, 国家市场监督管理总局 …) issue, e.g. 11100000000019713D; it is not a
// GB/T 2260 division but is valid in a credit code.
const nationalRegion = "100000"

// CreditCodeCheckChar returns the check character (position 18) of a unified
// social credit code (统一社会信用代码, GB 32100-2015) from its first 17
// characters: 31 − (Σ value×weight mod 31), where 31 is written 0. It checks
// only the length and the alphabet, not the region or organisation parts.
func CreditCodeCheckChar(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, newError("credit_code.length", "统一社会信用代码本体应为17位", "unified social credit code body must be 17 characters")
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(creditAlphabet, first17[i])
		if v < 0 {
			return 0, errCreditCharset()
		}
		sum += v * creditWeights[i]
	}
	return creditAlphabet[(31-sum%31)%31], nil
}

// CreditCode checks a unified social credit code (统一社会信用代码, GB 32100-2015):
// 18 characters from 0123456789ABCDEFGHJKLMNPQRTUWXY, a correct check
// character, a structurally valid region code at positions 3–8 (or 100000
// for national authorities) and a valid organisation code (组织机构代码) at
// positions 9–17.
func CreditCode(s string) error {
	if len(s) != 18 {
		return newError("credit_code.length", "统一社会信用代码应为18位", "unified social credit code must be 18 characters")
	}
	want, err := CreditCodeCheckChar(s[:17])
	if err != nil {
		return err
	}
	if s[17] != want {
		if strings.IndexByte(creditAlphabet, s[17]) < 0 {
			return errCreditCharset()
		}
		return newError("credit_code.checksum", "统一社会信用代码校验位错误", "unified social credit code check character is wrong")
	}
	if region := s[2:8]; region != nationalRegion && RegionCode(region) != nil {
		return newError("credit_code.region", "统一社会信用代码中的行政区划码不正确", "unified social credit code has an invalid region code")
	}
	if OrgCode(s[8:17]) != nil {
		return newError("credit_code.org_code", "统一社会信用代码中的组织机构代码不正确", "unified social credit code has an invalid organisation code")
	}
	return nil
}

func errCreditCharset() *Error {
	return newError("credit_code.charset", "统一社会信用代码含有非法字符", "unified social credit code contains an invalid character")
}
