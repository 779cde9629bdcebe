package demo

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/ingest"
	"xiangyun/internal/org"
	"xiangyun/internal/tabular"
)

// Demo file resources (文件): two published entries shared as files, each
// with real attachments generated here — the market regulator's annual
// report as a text document in two versions (the second corrects the
// first), and Changchun's list of government services as an XLSX workbook.

// FileEntries are the names of the demo's file entries.
var FileEntries = []string{"吉林省市场主体发展年度报告", "长春市政务服务事项目录清单"}

// loadFiles publishes the file entries and uploads their versions as the
// bodies' data specialists and chief data officers would.
func loadFiles(ctx context.Context, s Services) error {
	if s.Ingest == nil || !s.Ingest.FilesEnabled() {
		return nil
	}
	principal := func(username string) (*auth.Principal, error) {
		u, err := s.Auth.UserByName(ctx, username)
		if err != nil {
			return nil, fmt.Errorf("user %s: %w", username, err)
		}
		return &auth.Principal{User: u}, nil
	}
	upload := func(e catalog.Entry, username, name, note string, data []byte) error {
		p, err := principal(username)
		if err != nil {
			return err
		}
		if _, err := s.Ingest.AddFile(ctx, p, e.ID, ingest.FileUpload{Name: name, Note: note, Body: bytes.NewReader(data), Size: int64(len(data))}); err != nil {
			return fmt.Errorf("file %s of %s: %w", name, e.Name, err)
		}
		return nil
	}

	report, err := publishFileEntry(ctx, s, "吉林省市场监督管理厅", catalog.Content{
		Name: FileEntries[0], Class: "1/05/001", FormatClass: "document", FormatType: "txt",
		Abstract:  "全省市场主体总量、新设、注销和结构变化的年度分析报告，由省市场监督管理厅每年一季度发布。",
		Items:     []catalog.Item{{Name: "报告年度", EnName: "bgnd", DataType: "C", Length: 4}, {Name: "报告正文", EnName: "bgzw", DataType: "C", Length: 4000}},
		ShareType: catalog.ShareUnconditional, ShareMethod: catalog.MethodFile, ShareChannel: "platform",
		OpenType: catalog.OpenUnconditional, Cycle: "yearly", Grade: "L1",
	})
	if err != nil {
		return err
	}
	if err := upload(report, "market_spec", "吉林省市场主体发展年度报告（2025年度）.txt", "2025 年度报告首次发布", marketReport(false)); err != nil {
		return err
	}
	if err := upload(report, "market_cdo", "吉林省市场主体发展年度报告（2025年度）.txt", "更正第三部分个体工商户注销数", marketReport(true)); err != nil {
		return err
	}

	list, err := publishFileEntry(ctx, s, "长春市政务服务和数字化建设管理局", catalog.Content{
		Name: FileEntries[1], Class: "1/01/002", FormatClass: "spreadsheet", FormatType: "xlsx",
		Abstract: "长春市各部门依申请政务服务事项的名称、实施主体、办理时限和办理地点，随事项调整更新。",
		Items: []catalog.Item{{Name: "事项编码", EnName: "sxbm", DataType: "C", Length: 30, Key: true}, {Name: "事项名称", EnName: "sxmc", DataType: "C", Length: 200},
			{Name: "实施主体", EnName: "sszt", DataType: "C", Length: 100}, {Name: "承诺时限", EnName: "cnsx", DataType: "N", Length: 4}},
		ShareType: catalog.ShareUnconditional, ShareMethod: catalog.MethodFile, ShareChannel: "platform",
		OpenType: catalog.OpenUnconditional, Cycle: "monthly", Grade: "L1",
	})
	if err != nil {
		return err
	}
	book, err := servicesWorkbook()
	if err != nil {
		return err
	}
	return upload(list, "cc_spec", "长春市政务服务事项目录清单（2026年11月）.xlsx", "11 月事项调整后的清单", book)
}

func publishFileEntry(ctx context.Context, s Services, provider string, c catalog.Content) (catalog.Entry, error) {
	bodies, _, err := s.Orgs.Bodies(ctx, org.BodyFilter{Q: provider, Limit: 10})
	if err != nil {
		return catalog.Entry{}, err
	}
	var id int64
	for _, b := range bodies {
		if b.Name == provider {
			id = b.ID
		}
	}
	if id == 0 {
		return catalog.Entry{}, fmt.Errorf("no body %s", provider)
	}
	es, err := s.Catalog.CreatePublished(ctx, catalog.System, []catalog.EntryInput{{ProviderID: id, Content: c}}, "文件资源")
	if err != nil {
		return catalog.Entry{}, fmt.Errorf("entry %s: %w", c.Name, err)
	}
	return s.Catalog.Get(ctx, catalog.System, es[0].ID)
}

// marketReport is the text of the annual report; corrected fixes one
// figure, as a second version would.
func marketReport(corrected bool) []byte {
	closed := "4.12"
	if corrected {
		closed = "4.21"
	}
	var b strings.Builder
	b.WriteString("吉林省市场主体发展年度报告（2025年度）\n")
	b.WriteString("吉林省市场监督管理厅\n\n")
	b.WriteString("一、总体情况\n截至2025年12月31日，全省实有市场主体312.6万户，同比增长6.8%。其中企业68.4万户，个体工商户238.9万户，农民专业合作社5.3万户。\n\n")
	b.WriteString("二、新设情况\n全年新设市场主体41.7万户，同比增长3.2%。新设企业9.6万户，其中第三产业占比82.4%。\n\n")
	b.WriteString("三、注销情况\n全年注销市场主体12.9万户，其中个体工商户注销" + closed + "万户（以登记系统2026年1月15日数据为准）。\n\n")
	b.WriteString("四、区域分布\n")
	for _, r := range []struct {
		name  string
		count float64
	}{{"长春市", 118.3}, {"吉林市", 52.7}, {"四平市", 24.1}, {"辽源市", 11.6}, {"通化市", 23.8}, {"白山市", 13.2}, {"松原市", 25.4}, {"白城市", 17.9}, {"延边朝鲜族自治州", 25.6}} {
		fmt.Fprintf(&b, "%s：%.1f万户\n", r.name, r.count)
	}
	b.WriteString("\n说明：本报告数据来源于吉林省市场主体登记管理系统。\n")
	return []byte(b.String())
}

// servicesWorkbook is the list of services as an XLSX workbook.
func servicesWorkbook() ([]byte, error) {
	var buf bytes.Buffer
	w, err := tabular.NewWriter(&buf, tabular.XLSX)
	if err != nil {
		return nil, err
	}
	if err := w.WriteHeader([]string{"事项编码", "事项名称", "实施主体", "承诺时限（工作日）", "办理地点"}); err != nil {
		return nil, err
	}
	rows := []struct {
		code, name, dept string
		days             int
	}{
		{"220100-XK-001", "食品经营许可", "长春市市场监督管理局", 10},
		{"220100-XK-002", "建设工程规划许可证核发", "长春市自然资源局", 15},
		{"220100-XK-003", "排水许可", "长春市城市管理局", 12},
		{"220100-XK-004", "民办学校设立审批", "长春市教育局", 20},
		{"220100-XK-005", "医疗机构执业登记", "长春市卫生健康委员会", 15},
		{"220100-QR-001", "城乡居民基本养老保险参保登记", "长春市社会保险事业管理局", 1},
		{"220100-QR-002", "机动车驾驶证换证", "长春市公安局交通警察支队", 1},
		{"220100-GG-001", "公共租赁住房资格申请", "长春市住房保障和房屋管理局", 20},
		{"220100-GG-002", "就业困难人员认定", "长春市人力资源和社会保障局", 5},
		{"220100-QT-001", "户外广告设施设置审批", "长春市城市管理局", 10},
	}
	for _, r := range rows {
		if err := w.WriteRow([]any{r.code, r.name, r.dept, r.days, "长春市政务服务中心"}); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
