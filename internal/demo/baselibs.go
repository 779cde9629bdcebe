package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"xiangyun/internal/catalog"
	"xiangyun/internal/ingest"
	"xiangyun/internal/org"
)

// The base libraries (基础库) of 吉政发〔2019〕4号 §21 — population, legal
// entities, e-licences, social credit, spatial geography and the macro
// economy — are the six 项 of the base class (类 1) of the catalog
// (catalog.BaseCatalogs). The demo publishes one entry that holds records
// in each: the police population entry (records.go) for 人口, and the ones
// below for the other five, each loaded by its provider's chief data
// officer from a generated file with a few invalid rows.

// baseLib is a demo entry of a base library with the rows it is loaded with.
type baseLib struct {
	provider string
	content  catalog.Content
	rows     func(r *rand.Rand, n int) [][]string // n rows of values in item order
}

var baseLibs = []baseLib{
	{provider: "吉林省市场监督管理厅", content: catalog.Content{
		Name: "吉林省市场主体登记基本信息", Class: "1/02/001", FormatClass: "database", FormatType: "oracle",
		Abstract: "全省企业、个体工商户和农民专业合作社的统一社会信用代码、名称、法定代表人、住所、成立日期和注册资本，法人单位基础库的主要来源。",
		Items: []catalog.Item{
			{Name: "统一社会信用代码", EnName: "tyshxydm", DataType: "C", Length: 18, Key: true},
			{Name: "企业名称", EnName: "qymc", DataType: "C", Length: 200, Required: true},
			{Name: "法定代表人", EnName: "fddbr", DataType: "C", Length: 50, Sensitive: true, Mask: "name"},
			{Name: "住所", EnName: "zs", DataType: "C", Length: 200},
			{Name: "行政区划代码", EnName: "xzqhdm", DataType: "C", Length: 6},
			{Name: "成立日期", EnName: "clrq", DataType: "D"},
			{Name: "注册资本", EnName: "zczb", DataType: "N", Length: 18},
		},
		ShareType: catalog.ShareUnconditional, ShareMethod: catalog.MethodAPI, ShareChannel: "platform",
		OpenType: catalog.OpenConditional, OpenCondition: "法定代表人等个人信息脱敏后开放", Cycle: "daily", Grade: "L2",
	}},
	{provider: "吉林省自然资源厅", content: catalog.Content{
		Name: "吉林省标准地址信息", Class: "1/03/001", FormatClass: "database", FormatType: "oracle",
		Abstract: "全省标准地址的地址编码、标准地址名称、所属行政区划和经纬度坐标，空间地理基础库的门牌地址图层。",
		Items: []catalog.Item{
			{Name: "地址编码", EnName: "dzbm", DataType: "C", Length: 20, Key: true},
			{Name: "标准地址", EnName: "bzdz", DataType: "C", Length: 200, Required: true},
			{Name: "行政区划代码", EnName: "xzqhdm", DataType: "C", Length: 6},
			{Name: "经度", EnName: "jd", DataType: "N", Length: 12},
			{Name: "纬度", EnName: "wd", DataType: "N", Length: 12},
		},
		ShareType: catalog.ShareUnconditional, ShareMethod: catalog.MethodTable, ShareChannel: "platform",
		OpenType: catalog.OpenUnconditional, Cycle: "monthly", Grade: "L1",
	}},
	{provider: "吉林省发展和改革委员会", content: catalog.Content{
		Name: "吉林省行政许可信用信息", Class: "1/04/001", FormatClass: "database", FormatType: "oracle",
		Abstract: "各级行政机关作出的行政许可决定（双公示），含许可文书号、行政相对人及其统一社会信用代码、许可内容和决定日期，社会信用基础库的主要内容。",
		Items: []catalog.Item{
			{Name: "行政许可决定文书号", EnName: "xkwsh", DataType: "C", Length: 64, Key: true},
			{Name: "行政相对人名称", EnName: "xdrmc", DataType: "C", Length: 200, Required: true},
			{Name: "统一社会信用代码", EnName: "tyshxydm", DataType: "C", Length: 18},
			{Name: "许可内容", EnName: "xknr", DataType: "C", Length: 500},
			{Name: "许可决定日期", EnName: "xkjdrq", DataType: "D"},
		},
		ShareType: catalog.ShareUnconditional, ShareMethod: catalog.MethodAPI, ShareChannel: "platform",
		OpenType: catalog.OpenUnconditional, Cycle: "daily", Grade: "L1",
	}},
	{provider: "吉林省市场监督管理厅", content: catalog.Content{
		Name: "吉林省市场主体电子证照信息", Class: "1/05/001", FormatClass: "database", FormatType: "oracle",
		Abstract: "市场监管部门签发的电子营业执照、食品经营许可证等电子证照的证照编号、证照类型、持证主体及其代码、发证日期和有效期，汇入电子证照基础库。",
		Items: []catalog.Item{
			{Name: "证照编号", EnName: "zzbh", DataType: "C", Length: 64, Key: true},
			{Name: "证照类型", EnName: "zzlx", DataType: "C", Length: 50, Required: true},
			{Name: "持证主体", EnName: "czzt", DataType: "C", Length: 200, Required: true},
			{Name: "持证主体统一社会信用代码", EnName: "czzttyshxydm", DataType: "C", Length: 18},
			{Name: "发证日期", EnName: "fzrq", DataType: "D"},
			{Name: "有效期至", EnName: "yxqz", DataType: "D"},
		},
		ShareType: catalog.ShareConditional, ShareCondition: "仅限政务服务事项办理中核验证照", ShareMethod: catalog.MethodAPI, ShareChannel: "platform",
		OpenType: catalog.OpenNone, OpenCondition: "证照信息仅供政务使用，不予开放", Cycle: "daily", Grade: "L2",
	}},
	{provider: "吉林省统计局", content: catalog.Content{
		Name: "吉林省地区生产总值季度数据", Class: "1/06/001", FormatClass: "database", FormatType: "oracle",
		Abstract: "全省及各市（州）分季度的地区生产总值和同比增速，宏观经济基础库的核心指标。",
		Items: []catalog.Item{
			{Name: "统计期", EnName: "tjq", DataType: "C", Length: 7, Key: true},
			{Name: "行政区划代码", EnName: "xzqhdm", DataType: "C", Length: 6, Key: true},
			{Name: "地区名称", EnName: "dqmc", DataType: "C", Length: 50, Required: true},
			{Name: "地区生产总值", EnName: "dqsczz", DataType: "N", Length: 18},
			{Name: "同比增长", EnName: "tbzz", DataType: "N", Length: 8},
		},
		ShareType: catalog.ShareUnconditional, ShareMethod: catalog.MethodTable, ShareChannel: "platform",
		OpenType: catalog.OpenUnconditional, Cycle: "quarterly", Grade: "L1",
	}},
}

var (
	firmNames = []string{"长白山", "松花江", "吉祥", "盛达", "宏图", "华信", "北方", "东北亚", "查干湖", "鹿乡", "净月", "汇通", "鼎盛", "瑞丰", "黑土地"}
	firmKinds = []string{"农业科技有限公司", "商贸有限公司", "建筑工程有限公司", "物流有限公司", "食品有限责任公司", "信息技术有限公司", "汽车零部件有限公司", "人参种植专业合作社"}
	permits   = []string{"食品经营许可", "建筑工程施工许可", "排污许可", "道路运输经营许可", "药品经营许可", "取水许可", "林木采伐许可"}
	licences  = []string{"营业执照", "食品经营许可证", "药品经营许可证", "特种设备使用登记证", "计量器具型式批准证书"}
	cityGDP   = []struct{ code, name string }{{"220100", "长春市"}, {"220200", "吉林市"}, {"220300", "四平市"}, {"220400", "辽源市"},
		{"220500", "通化市"}, {"220600", "白山市"}, {"220700", "松原市"}, {"220800", "白城市"}, {"222400", "延边朝鲜族自治州"}}
)

// baseRows generates n rows for a base-library entry; about one in thirty
// has an invalid value that its quality rules reject.
func baseRows(r *rand.Rand, e catalog.Entry, n int) [][]string {
	out := make([][]string, 0, n)
	if e.Class == "1/06/001" { // GDP by quarter and city: the key is the pair
		for y := 2023; y <= 2026; y++ {
			for q := 1; q <= 4 && len(out) < n; q++ {
				if y == 2026 && q > 3 {
					break
				}
				for _, c := range cityGDP {
					gdp := fmt.Sprintf("%.2f", 80+r.Float64()*1900)
					if r.IntN(40) == 0 {
						gdp = "约" + gdp // not a number: rejected
					}
					out = append(out, []string{fmt.Sprintf("%dQ%d", y, q), c.code, c.name, gdp, fmt.Sprintf("%.1f", -2+r.Float64()*9)})
				}
			}
		}
		return out
	}
	for i := range n {
		bad := r.IntN(30) == 0
		firm := "吉林省" + firmNames[r.IntN(len(firmNames))] + firmKinds[r.IntN(len(firmKinds))]
		row := make([]string, len(e.Items))
		for k, it := range e.Items {
			switch it.Name {
			case "企业名称", "行政相对人名称", "持证主体":
				row[k] = firm
			case "地址编码":
				row[k] = fmt.Sprintf("2201%02d%010d", 2+r.IntN(5), 1000000+i)
			case "标准地址":
				row[k] = RecordValue(r, catalog.Item{Name: "地址", DataType: "C"}, i, false)
			case "经度":
				row[k] = fmt.Sprintf("%.6f", 124.5+r.Float64()*2)
			case "纬度":
				row[k] = fmt.Sprintf("%.6f", 43.3+r.Float64()*1.5)
			case "行政区划代码":
				row[k] = RecordValue(r, it, i, bad && k == 2)
			case "行政许可决定文书号":
				row[k] = fmt.Sprintf("吉审批许字〔2026〕第%05d号", i+1)
			case "许可内容":
				row[k] = permits[r.IntN(len(permits))]
			case "证照编号":
				row[k] = fmt.Sprintf("22%04d%06d%08d", 2020+r.IntN(7), 220100+r.IntN(9)*100, i+1)
			case "证照类型":
				row[k] = licences[r.IntN(len(licences))]
			case "有效期至":
				row[k] = time.Date(2027+r.IntN(10), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC).Format("2006-01-02")
			default:
				row[k] = RecordValue(r, it, i, bad && (it.Name == "统一社会信用代码" || strings.HasSuffix(it.Name, "统一社会信用代码")))
			}
		}
		out = append(out, row)
	}
	return out
}

// loadBaseLibraries publishes the base-library entries and loads their
// records; it returns how many records were published.
func loadBaseLibraries(ctx context.Context, s Services, st *staff) (int, error) {
	if s.Ingest == nil {
		return 0, nil
	}
	r := rand.New(rand.NewPCG(2026, 21))
	total := 0
	for _, lib := range baseLibs {
		bodies, _, err := s.Orgs.Bodies(ctx, org.BodyFilter{Q: lib.provider, Limit: 10})
		if err != nil {
			return total, err
		}
		var provider int64
		for _, b := range bodies {
			if b.Name == lib.provider {
				provider = b.ID
			}
		}
		uploader := st.cdo[provider]
		if provider == 0 || uploader == nil {
			return total, fmt.Errorf("base library %s: no provider %s or its chief data officer", lib.content.Name, lib.provider)
		}
		es, err := s.Catalog.CreatePublished(ctx, catalog.System, []catalog.EntryInput{{ProviderID: provider, Content: lib.content}}, "基础库数据资源")
		if err != nil {
			return total, fmt.Errorf("base library %s: %w", lib.content.Name, err)
		}
		e, err := s.Catalog.Get(ctx, catalog.System, es[0].ID)
		if err != nil {
			return total, err
		}
		var b strings.Builder
		header := make([]string, len(e.Items))
		for i, it := range e.Items {
			header[i] = it.Name
		}
		b.WriteString(strings.Join(header, ",") + "\r\n")
		for _, row := range baseRows(r, e, 240) {
			for i, v := range row {
				if strings.ContainsAny(v, ",\"\r\n") {
					row[i] = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
				}
			}
			b.WriteString(strings.Join(row, ",") + "\r\n")
		}
		data := []byte(b.String())
		tmp, err := os.CreateTemp("", "xiangyun-demo-*.csv")
		if err != nil {
			return total, err
		}
		_, err = tmp.Write(data)
		tmp.Close()
		if err != nil {
			return total, err
		}
		bt, err := s.Ingest.Start(ctx, uploader, e.ID, ingest.Upload{Path: tmp.Name(), Name: e.Name + "-2026年11月.csv", Size: int64(len(data)),
			SHA256: fmt.Sprintf("%x", sha256Sum(data)), Mode: ingest.ModeUpsert, OnError: ingest.PublishValid})
		if err != nil {
			return total, fmt.Errorf("records of %s: %w", e.Name, err)
		}
		s.Ingest.Wait(ctx, bt.ID, 5*time.Minute)
		if bt, err = s.Ingest.Batch(ctx, uploader, bt.ID); err != nil {
			return total, err
		}
		if bt.Status != ingest.StatusPublished || bt.Accepted == 0 {
			return total, fmt.Errorf("records of %s: batch %d %s: %s", e.Name, bt.ID, bt.Status, bt.MessageEN)
		}
		total += int(bt.Accepted)
	}
	return total, nil
}
