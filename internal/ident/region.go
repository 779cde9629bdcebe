package ident

// provinces holds the province-level prefixes (省级) of GB/T 2260.
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true, // 京 津 冀 晋 蒙
	"21": true, "22": true, "23": true, // 辽 吉 黑
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true, // 沪 苏 浙 皖 闽 赣 鲁
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true, // 豫 鄂 湘 粤 桂 琼
	"50": true, "51": true, "52": true, "53": true, "54": true, // 渝 川 黔 滇 藏
	"61": true, "62": true, "63": true, "64": true, "65": true, // 陕 甘 青 宁 新
	"71": true, "81": true, "82": true, // 台 港 澳
}

// RegionCode checks that s is a structurally valid six-digit administrative
// division code (行政区划代码, GB/T 2260):
//
//   - digits 1–2: a province-level code (11–15, 21–23, 31–37, 41–46, 50–54,
//     61–65, 71, 81, 82);
//   - digits 3–4: 00 (the province itself), 01–20 and 51–70 cities (市),
//     21–50 prefectures, autonomous prefectures and leagues (地区/自治州/盟),
//     90 counties administered by the province (省直辖县级);
//   - digits 5–6: 00 (the city or prefecture itself), 01–20 districts (市辖区),
//     21–80 counties and banners (县/旗), 81–99 county-level cities (县级市);
//   - a code with 00 at digits 3–4 has 00 at digits 5–6.
func RegionCode(s string) error {
	if len(s) != 6 {
		return newError("region.length", "行政区划代码应为6位数字", "administrative division code must be 6 digits")
	}
	for i := 0; i < 6; i++ {
		if s[i] < '0' || s[i] > '9' {
			return newError("region.charset", "行政区划代码只能包含数字", "administrative division code must contain digits only")
		}
	}
	if !provinces[s[:2]] {
		return newError("region.province", "行政区划代码的省级代码不存在", "administrative division code has no such province")
	}
	city := atoi2(s[2:4])
	county := atoi2(s[4:6])
	cityOK := city <= 70 || city == 90 // 00, 01–20, 21–50, 51–70, 90; 71–89 and 91–99 are unused
	if !cityOK || (city == 0 && county != 0) {
		return newError("region.structure", "行政区划代码结构不正确", "administrative division code is malformed")
	}
	return nil
}

// RegionLevel returns 1 for a province (xx0000), 2 for a city, prefecture or
// league (xxyy00), 3 for a county-level division (xxyyzz), and 0 when code
// is not a valid region code.
func RegionLevel(code string) int {
	switch {
	case RegionCode(code) != nil:
		return 0
	case code[2:] == "0000":
		return 1
	case code[4:] == "00":
		return 2
	default:
		return 3
	}
}

// RegionParent returns the code of the division one level up: "" for a
// province or an invalid code, the province for a city (220100 → 220000), the
// city or prefecture for a county (220102 → 220100), and the province for a
// county administered by the province (429004 → 420000).
func RegionParent(code string) string {
	switch RegionLevel(code) {
	case 2:
		return code[:2] + "0000"
	case 3:
		if code[2:4] == "90" {
			return code[:2] + "0000"
		}
		return code[:4] + "00"
	default:
		return ""
	}
}

// atoi2 converts two ASCII digits, already checked, to an int.
func atoi2(s string) int {
	return int(s[0]-'0')*10 + int(s[1]-'0')
}
