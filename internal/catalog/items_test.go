package catalog

import (
	"strconv"
	"strings"
)

// testItemSpecs are the data items the tests' entries use:
// name|en_name|type|length|mask|code list (a masking rule marks a sensitive
// item). The demo's full dictionary lives in internal/demo.
var testItemSpecs = []string{
	"公民身份号码|gmsfhm|C|18|id_card", "姓名|xm|C|50|name", "性别|xb|C|1||GB/T 2261.1", "出生日期|csrq|D",
	"户籍地址|hjdz|C|200|address", "业务流水号|ywlsh|C|32", "迁入日期|qrrq|D", "驾驶证号|jszh|C|18|id_card", "准驾车型|zjcx|C|10",
	"发证日期|fzrq|D", "统一社会信用代码|tyshxydm|C|18", "企业名称|qymc|C|200", "法定代表人|fddbr|C|50|name",
	"注册资本|zczb|Y", "行政处罚决定书文号|xzcfjdswh|C|50", "行政相对人名称|xzxdrmc|C|200", "处罚内容|cfnr|M",
	"个人编号|grbh|C|20", "参保险种|cbxz|C|3", "缴费基数|jfjs|Y", "失业保险金领取金额|syjlqje|Y",
	"社会保障卡号|shbzkh|C|20|redact", "发卡日期|fkrq|D", "事项名称|sxmc|C|200", "受理日期|slrq|D", "办结日期|bjrq|D",
	"线路名称|xlmc|C|100", "站点名称|zdmc|C|100", "首班时间|sbsj|C|5", "末班时间|mbsj|C|5", "票价|pj|Y",
	"出生医学证明编号|csyxzmbh|C|20", "新生儿姓名|xsexm|C|50|name", "出生时间|cssj|T", "居住证编号|jzzbh|C|30",
}

// testItems returns the items named in spec (space-separated; * marks a
// key item); the first three are required.
func testItems(spec string) []Item {
	dict := map[string]Item{}
	for _, s := range testItemSpecs {
		f := strings.Split(s, "|")
		for len(f) < 6 {
			f = append(f, "")
		}
		n, _ := strconv.Atoi(f[3])
		it := Item{Name: f[0], EnName: f[1], DataType: f[2], Length: n, Mask: "none", CodeList: f[5]}
		if f[4] != "" {
			it.Mask, it.Sensitive = f[4], true
		}
		dict[it.Name] = it
	}
	var items []Item
	for j, n := range strings.Fields(spec) {
		key := strings.HasPrefix(n, "*")
		n = strings.TrimPrefix(n, "*")
		it, ok := dict[n]
		if !ok {
			it = Item{Name: n, DataType: "C", Length: 100, Mask: "none"}
		}
		it.Key, it.Required = key, key || j < 3
		items = append(items, it)
	}
	return items
}
