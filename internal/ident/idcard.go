package ident

import "time"

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheckChars = "10X98765432"

// chinaTime is UTC+8, used to decide whether a birth date lies in the future.
var chinaTime = time.FixedZone("UTC+8", 8*60*60)

// residencePermitRegions are the region parts of the numbers on residence
// permits for Hong Kong, Macao and Taiwan residents (港澳台居民居住证): 810000,
// 820000 and 830000. 830000 is not a GB/T 2260 code.
var residencePermitRegions = map[string]bool{"810000": true, "820000": true, "830000": true}

// IDCardCheckChar returns the check character of a resident identity card
// number (居民身份证号, GB 11643-1999) from its first 17 digits:
// "10X98765432"[Σ digit×weight mod 11].
func IDCardCheckChar(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, newError("id_card.length", "身份证号码本体应为17位数字", "identity card number body must be 17 digits")
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, errIDCharset()
		}
		sum += int(c-'0') * idWeights[i]
	}
	return idCheckChars[sum%11], nil
}

// IDCard checks an 18-character resident identity card number (居民身份证号,
// GB 11643-1999): 6-digit region code (structurally valid, see [RegionCode];
// 810000, 820000 and 830000 of residence permits for Hong Kong, Macao and
// Taiwan residents are accepted), 8-digit birth date (a real date from 1800
// on, not in the future), 3-digit sequence and a check character (digit or
// upper-case X).
func IDCard(s string) error {
	if len(s) != 18 {
		return newError("id_card.length", "身份证号码应为18位", "identity card number must be 18 characters")
	}
	want, err := IDCardCheckChar(s[:17])
	if err != nil {
		return err
	}
	if got := s[17]; got != want {
		if (got < '0' || got > '9') && got != 'X' {
			return errIDCharset()
		}
		return newError("id_card.checksum", "身份证号码校验位错误", "identity card number check character is wrong")
	}
	if region := s[:6]; !residencePermitRegions[region] && RegionCode(region) != nil {
		return newError("id_card.region", "身份证号码中的行政区划码不正确", "identity card number has an invalid region code")
	}
	birth, err := time.ParseInLocation("20060102", s[6:14], chinaTime)
	if err != nil || birth.Year() < 1800 || birth.After(time.Now()) {
		return newError("id_card.birth_date", "身份证号码中的出生日期不正确", "identity card number has an invalid birth date")
	}
	return nil
}

func errIDCharset() *Error {
	return newError("id_card.charset", "身份证号码含有非法字符", "identity card number contains an invalid character")
}
