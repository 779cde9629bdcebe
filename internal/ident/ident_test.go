package ident

import (
	"errors"
	"strings"
	"testing"
)

// code returns the machine code of err, or "" for nil; it fails the test when
// err is not an *Error or lacks a message.
func code(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *ident.Error", err, err)
	}
	if e.ZH == "" || e.EN == "" || e.Error() != e.EN {
		t.Errorf("error %q: missing message or Error() != EN: %+v", e.Code, e)
	}
	return e.Code
}

// withCheck appends the check character computed by f to body.
func withCheck(t *testing.T, f func(string) (byte, error), body string) string {
	t.Helper()
	c, err := f(body)
	if err != nil {
		t.Fatalf("check char of %q: %v", body, err)
	}
	return body + string(c)
}

func TestCreditCode(t *testing.T) {
	tests := []struct {
		in   string
		want string // error code, "" when valid
	}{
		{"91350100M000100Y43", ""},
		{"91512081MA62K0260E", ""},
		{"11100000000019713D", ""}, // national authority, region part 100000
		{"91350100M000100Y4Z", "credit_code.charset"},
		{"91350100M000100Y44", "credit_code.checksum"},
		{"91512081MA62K0260F", "credit_code.checksum"},
		{"91350100M000100Y4", "credit_code.length"},
		{"91350100M000100Y433", "credit_code.length"},
		{"", "credit_code.length"},
		{"91350100m000100Y43", "credit_code.charset"},
		{"91350100M0001O0Y43", "credit_code.charset"}, // letter O
		{"91350100M000100Y4 ", "credit_code.charset"},
		{withCheck(t, CreditCodeCheckChar, "91990000M000100Y4"), "credit_code.region"},
		{withCheck(t, CreditCodeCheckChar, "91220099M000100Y4"), "credit_code.region"},
		{withCheck(t, CreditCodeCheckChar, "91350100M000100Y5"), "credit_code.org_code"},
		{withCheck(t, CreditCodeCheckChar, "91220100MA62K0260"), ""},
	}
	for _, tt := range tests {
		if got := code(t, CreditCode(tt.in)); got != tt.want {
			t.Errorf("CreditCode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCreditCodeCheckChar(t *testing.T) {
	tests := []struct {
		in   string
		want byte
		err  string
	}{
		{"91350100M000100Y4", '3', ""},
		{"91512081MA62K0260", 'E', ""},
		{"11100000000019713", 'D', ""},
		{"91350100M000100Y43", 0, "credit_code.length"},
		{"91350100M000100YI", 0, "credit_code.charset"},
	}
	for _, tt := range tests {
		got, err := CreditCodeCheckChar(tt.in)
		if got != tt.want || code(t, err) != tt.err {
			t.Errorf("CreditCodeCheckChar(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestOrgCode(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"M000100Y4", ""},
		{"MA62K0260", ""},
		{"M000100Y-4", ""}, // printed form
		{"000019713", ""},
		{"40000000X", ""}, // check value 10 → X
		{"000000000", ""}, // check value 11 → 0
		{"M000100Y5", "org_code.checksum"},
		{"40000000-0", "org_code.checksum"},
		{"M000100YA", "org_code.charset"},
		{"m000100Y4", "org_code.charset"},
		{"M000100Y", "org_code.length"},
		{"M000100Y44", "org_code.length"},
		{"M000100Y-44", "org_code.length"},
	}
	for _, tt := range tests {
		if got := code(t, OrgCode(tt.in)); got != tt.want {
			t.Errorf("OrgCode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if _, err := OrgCodeCheckChar("M000100"); code(t, err) != "org_code.length" {
		t.Errorf("OrgCodeCheckChar(short) = %v", err)
	}
}

func TestIDCard(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"11010519491231002X", ""},
		{"370101190102039973", ""},
		{"51343620000320711X", ""},
		{"110105194912310021", "id_card.checksum"},
		{"11010519491231002x", "id_card.charset"}, // callers upper-case first
		{"1101051949123100A2", "id_card.charset"},
		{"1101051949123100", "id_card.length"},
		{"110105491231002", "id_card.length"}, // first-generation 15-digit numbers are not accepted
		{"11010519491231002X1", "id_card.length"},
		{withCheck(t, IDCardCheckChar, "11010519490230002"), "id_card.birth_date"}, // 30 February
		{withCheck(t, IDCardCheckChar, "11010519491301002"), "id_card.birth_date"}, // month 13
		{withCheck(t, IDCardCheckChar, "11010517991231002"), "id_card.birth_date"}, // before 1800
		{withCheck(t, IDCardCheckChar, "11010529990101002"), "id_card.birth_date"}, // future
		{withCheck(t, IDCardCheckChar, "11010520000229002"), ""},                   // leap day
		{withCheck(t, IDCardCheckChar, "99010519491231002"), "id_card.region"},
		{withCheck(t, IDCardCheckChar, "22000119491231002"), "id_card.region"},
		{withCheck(t, IDCardCheckChar, "22240119491231002"), ""}, // 延吉市
		{withCheck(t, IDCardCheckChar, "83000019900101001"), ""}, // 台湾居民居住证
		{withCheck(t, IDCardCheckChar, "81000019900101001"), ""}, // 香港居民居住证
		{withCheck(t, IDCardCheckChar, "83010119900101001"), "id_card.region"},
	}
	for _, tt := range tests {
		if got := code(t, IDCard(tt.in)); got != tt.want {
			t.Errorf("IDCard(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRegionCode(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		level  int
		parent string
	}{
		{"220000", "", 1, ""},                 // 吉林省
		{"220100", "", 2, "220000"},           // 长春市
		{"220102", "", 3, "220100"},           // 长春市南关区
		{"222400", "", 2, "220000"},           // 延边朝鲜族自治州
		{"222401", "", 3, "222400"},           // 延吉市
		{"220581", "", 3, "220500"},           // 梅河口市 (county-level city)
		{"220821", "", 3, "220800"},           // 镇赉县
		{"429004", "", 3, "420000"},           // 仙桃市, administered by the province
		{"429000", "", 2, "420000"},           // 省直辖县级行政区划 (grouping code)
		{"110101", "", 3, "110100"},           // 北京市东城区
		{"152900", "", 2, "150000"},           // 阿拉善盟
		{"227000", "", 2, "220000"},           // 70: last city number
		{"225100", "", 2, "220000"},           // 51: first city number of the second range
		{"220199", "", 3, "220100"},           // 99: last county-level city number
		{"810000", "", 1, ""},                 // 香港
		{"820000", "", 1, ""},                 // 澳门
		{"710000", "", 1, ""},                 // 台湾
		{"220099", "region.structure", 0, ""}, // 00 city part requires 00 county part
		{"220001", "region.structure", 0, ""},
		{"227100", "region.structure", 0, ""}, // 71–89 unused
		{"228900", "region.structure", 0, ""},
		{"229100", "region.structure", 0, ""}, // 91–99 unused
		{"990000", "region.province", 0, ""},
		{"100000", "region.province", 0, ""},
		{"160000", "region.province", 0, ""},
		{"830000", "region.province", 0, ""},
		{"000000", "region.province", 0, ""},
		{"22010", "region.length", 0, ""},
		{"2201000", "region.length", 0, ""},
		{"", "region.length", 0, ""},
		{"2201AA", "region.charset", 0, ""},
		{"-20100", "region.charset", 0, ""},
	}
	for _, tt := range tests {
		if got := code(t, RegionCode(tt.in)); got != tt.want {
			t.Errorf("RegionCode(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := RegionLevel(tt.in); got != tt.level {
			t.Errorf("RegionLevel(%q) = %d, want %d", tt.in, got, tt.level)
		}
		if got := RegionParent(tt.in); got != tt.parent {
			t.Errorf("RegionParent(%q) = %q, want %q", tt.in, got, tt.parent)
		}
	}
}

func TestErrorIs(t *testing.T) {
	err := CreditCode("91350100M000100Y44")
	if !errors.Is(err, &Error{Code: "credit_code.checksum"}) {
		t.Errorf("errors.Is(%v, checksum) = false", err)
	}
	if errors.Is(err, &Error{Code: "credit_code.length"}) {
		t.Errorf("errors.Is(%v, length) = true", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.ZH != "统一社会信用代码校验位错误" ||
		e.EN != "unified social credit code check character is wrong" {
		t.Errorf("unexpected error %+v", e)
	}
}

// FuzzCreditCode checks that CreditCode never panics and that a 17-character
// prefix from the alphabet plus its computed check character validates
// whenever its region and organisation parts are valid.
func FuzzCreditCode(f *testing.F) {
	for _, s := range []string{
		"91350100M000100Y43", "91512081MA62K0260E", "91350100M000100Y4Z", "11100000000019713D",
		"", "9", "0000000000000000000", "ZZZZZZZZZZZZZZZZZZ", "\xff\xfe",
	} {
		f.Add(s)
	}
	provinceList := make([]string, 0, len(provinces))
	for p := range provinces {
		provinceList = append(provinceList, p)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = CreditCode(s) // must not panic
		_, _ = CreditCodeCheckChar(s)
		_ = OrgCode(s)
		_ = IDCard(s)
		_ = RegionCode(s)
		_ = RegionParent(s)

		// Build a prefix from the fuzz bytes: any alphabet characters, but a
		// region part of digits from a real province (so it is often
		// valid) and an organisation part with its own check character.
		b := []byte(s)
		for len(b) < 17 {
			b = append(b, byte(len(b)*7))
		}
		p := make([]byte, 17)
		for i := range p {
			p[i] = creditAlphabet[int(b[i])%len(creditAlphabet)]
		}
		prov := provinceList[int(b[0])%len(provinceList)]
		p[2], p[3] = prov[0], prov[1]
		for i := 4; i < 8; i++ {
			p[i] = '0' + b[i]%10
		}
		oc, err := OrgCodeCheckChar(string(p[8:16]))
		if err != nil {
			t.Fatalf("OrgCodeCheckChar(%q): %v", p[8:16], err)
		}
		p[16] = oc // 0–9 or X, all in the credit code alphabet
		prefix := string(p)

		c, err := CreditCodeCheckChar(prefix)
		if err != nil {
			t.Fatalf("CreditCodeCheckChar(%q): %v", prefix, err)
		}
		full := prefix + string(c)
		regionOK := RegionCode(prefix[2:8]) == nil
		orgOK := OrgCode(prefix[8:17]) == nil
		if !orgOK {
			t.Fatalf("OrgCode(%q) invalid after adding its check character", prefix[8:17])
		}
		err = CreditCode(full)
		if regionOK && err != nil {
			t.Fatalf("CreditCode(%q) = %v, want valid", full, err)
		}
		if !regionOK && code(t, err) != "credit_code.region" {
			t.Fatalf("CreditCode(%q) = %v, want credit_code.region", full, err)
		}
		// Any other check character is a checksum error.
		other := creditAlphabet[(strings.IndexByte(creditAlphabet, c)+1+int(b[1])%30)%31]
		if got := code(t, CreditCode(prefix+string(other))); got != "credit_code.checksum" {
			t.Fatalf("CreditCode(%q) = %q, want credit_code.checksum", prefix+string(other), got)
		}
	})
}

func FuzzIDCard(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "370101190102039973", "110105194912310021", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := IDCard(s)
		if err == nil {
			if c, _ := IDCardCheckChar(s[:17]); c != s[17] {
				t.Fatalf("IDCard(%q) valid with wrong check character", s)
			}
			if RegionLevel(s[:6]) == 0 && !residencePermitRegions[s[:6]] {
				t.Fatalf("IDCard(%q) valid with invalid region", s)
			}
		}
	})
}
