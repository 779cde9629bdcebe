package mask

import "testing"

// The vectors are the examples of STANDARDS.md "Masking" (hutool's).
func TestApply(t *testing.T) {
	for _, c := range []struct{ rule, in, want string }{
		{Name, "段正淳", "段**"},
		{Name, "欧阳", "欧*"},
		{IDCard, "51343620000320711X", "5***************1X"},
		{IDCard6_4, "51343620000320711X", "513436********711X"},
		{IDCard, "12", ""},
		{Mobile, "18049531999", "180****1999"},
		{Landline, "09157518479", "0915*****79"},
		{Address, "北京市海淀区马连洼街道289号", "北京市海淀区马********"},
		{Address, "长春市", "***"},
		{Email, "duandazhi-jack@gmail.com.cn", "d*************@gmail.com.cn"},
		{Email, "d@x.cn", "d@x.cn"},
		{BankCard, "11011111222233333256", "1101 **** **** **** 3256"},
		{BankCard, "6227 0000 1234 5678 901", "6227 **** **** **** 901"},
		{BankCard, "12345678", "12345678"},
		{Plate, "苏D40000", "苏D4***0"},
		{Plate, "陕A12345D", "陕A1****D"},
		{Plate, "京A", "京A"},
		{IPv4, "192.168.1.1", "192.*.*.*"},
		{Redact, "𠀀𠀁x", "***"},
		{First4, "ABCDEFG", "ABCD***"},
		{Last4, "ABCDEFG", "***DEFG"},
		{YearOnly, "2024-05-01", "2024"},
		{Null, "x", ""},
		{None, "段正淳", "段正淳"},
		{"", "段正淳", "段正淳"},
		{"no-such-rule", "段正淳", "***"},
		{Name, "", ""},
	} {
		if got := Apply(c.rule, c.in); got != c.want {
			t.Errorf("Apply(%q, %q) = %q, want %q", c.rule, c.in, got, c.want)
		}
	}
	if h := Apply(Hash, "x"); len(h) != 64 || h == "x" {
		t.Errorf("hash: %q", h)
	}
}

func TestFor(t *testing.T) {
	for _, c := range []struct {
		rule, name string
		sensitive  bool
		grade      string
		want       string
	}{
		{"", "公民身份号码", true, "L2", IDCard},
		{None, "姓名", true, "L3", Name},
		{None, "姓名", false, "L3", None},
		{None, "备注", true, "L4", Redact},
		{None, "备注", true, "L1", None},
		{None, "备注", false, "L4", None},
		{Mobile, "备注", false, "L1", Mobile},
	} {
		if got := For(c.rule, c.name, c.sensitive, c.grade); got != c.want {
			t.Errorf("For(%q, %q, %v, %q) = %q, want %q", c.rule, c.name, c.sensitive, c.grade, got, c.want)
		}
	}
}
