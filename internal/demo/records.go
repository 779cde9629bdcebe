package demo

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/ident"
	"xiangyun/internal/ingest"
	"xiangyun/internal/org"
)

// Demo records: the police department's published, conditionally shared
// population entry (the fixed point with 姓名 and 公民身份号码) holds a few
// hundred generated people, loaded as its data specialist would: one clean
// file, then a correction file with some bad ID numbers that are rejected.

var (
	given = []string{"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞",
		"平", "刚", "桂英", "志强", "建华", "海燕", "春梅", "国庆", "晓东", "雪松", "长春", "吉祥", "玉兰", "德胜", "凤霞", "宏伟", "淑珍", "立新"}
	cities = []struct{ code, name string }{{"220102", "长春市南关区"}, {"220104", "长春市朝阳区"}, {"220202", "吉林市昌邑区"},
		{"220303", "四平市铁东区"}, {"222401", "延吉市"}, {"220502", "通化市东昌区"}}
)

// resident is one generated person.
type resident struct{ id, name, sex, birth, addr, region string }

func newResident(r *rand.Rand, n int) resident {
	c := cities[r.IntN(len(cities))]
	birth := time.Date(1940+r.IntN(65), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
	seq := 100 + n%900
	first := c.code + birth.Format("20060102") + fmt.Sprintf("%03d", seq)
	check, err := ident.IDCardCheckChar(first)
	if err != nil {
		panic(err)
	}
	sex := "2"
	if seq%2 == 1 {
		sex = "1" // an odd sequence number is a man (GB 11643)
	}
	return resident{id: first + string(check), name: string(recordSurnames[r.IntN(len(recordSurnames))]) + given[r.IntN(len(given))], sex: sex,
		birth: birth.Format("2006-01-02"), region: c.code,
		addr: fmt.Sprintf("吉林省%s%s%d号%d栋%d单元%d室", c.name, streets[r.IntN(len(streets))], 1+r.IntN(2000), 1+r.IntN(30), 1+r.IntN(6), 101+r.IntN(1800))}
}

// value is a resident's value for an item, by its name; "" for items the
// demo does not fill.
func (p resident) value(it catalog.Item) string {
	switch it.Name {
	case "公民身份号码":
		return p.id
	case "姓名":
		return p.name
	case "性别":
		return p.sex
	case "民族":
		return "01"
	case "出生日期":
		return p.birth
	case "户籍地址", "现住址":
		return p.addr
	case "籍贯":
		return p.region
	case "婚姻状况":
		return "20"
	case "户号":
		return "H" + p.id[:12]
	case "联系电话":
		return "139" + p.id[10:18]
	}
	return ""
}

// loadRecords publishes the police identity entry and fills it with records.
func loadRecords(ctx context.Context, s Services) (int, error) {
	if s.Ingest == nil {
		return 0, nil
	}
	// The generated catalog's attributes are random: the fixed point is an
	// entry of its own, so that it always exists.
	e, err := publishPoliceEntry(ctx, s)
	if err != nil {
		return 0, err
	}
	u, err := s.Auth.UserByName(ctx, "police_spec")
	if err != nil {
		return 0, err
	}
	p := &auth.Principal{User: u}
	r := rand.New(rand.NewPCG(2026, 11))
	people := make([]resident, 320)
	for i := range people {
		people[i] = newResident(r, i)
	}
	header := make([]string, len(e.Items))
	for i, it := range e.Items {
		header[i] = it.Name
	}
	file := func(rows []resident, broken map[int]bool) []byte {
		var b strings.Builder
		b.WriteString(strings.Join(header, ",") + "\r\n")
		for i, pp := range rows {
			cells := make([]string, len(e.Items))
			for k, it := range e.Items {
				cells[k] = pp.value(it)
				if broken[i] && it.Name == "公民身份号码" {
					// A typing error: the check character no longer matches.
					last := cells[k][17]
					cells[k] = cells[k][:17] + string("0123456789X"[(strings.IndexByte("0123456789X", last)+1)%11])
				}
			}
			b.WriteString(strings.Join(cells, ",") + "\r\n")
		}
		return []byte(b.String())
	}
	total := 0
	for _, f := range []struct {
		name string
		data []byte
		mode string
	}{
		{"常住人口基本信息-2026年10月.csv", file(people[:300], nil), ingest.ModeAppend},
		{"常住人口基本信息-2026年11月更正.csv", file(append(slices.Clone(people[280:300]), people[300:]...), map[int]bool{3: true, 11: true, 25: true, 31: true}), ingest.ModeUpsert},
	} {
		tmp, err := os.CreateTemp("", "xiangyun-demo-*.csv")
		if err != nil {
			return total, err
		}
		_, err = tmp.Write(f.data)
		tmp.Close()
		if err != nil {
			return total, err
		}
		b, err := s.Ingest.Start(ctx, p, e.ID, ingest.Upload{Path: tmp.Name(), Name: f.name, Size: int64(len(f.data)),
			SHA256: fmt.Sprintf("%x", sha256Sum(f.data)), Mode: f.mode, OnError: ingest.PublishValid})
		if err != nil {
			return total, fmt.Errorf("records of %s: %w", e.Name, err)
		}
		s.Ingest.Wait(ctx, b.ID, 5*time.Minute)
		if b, err = s.Ingest.Batch(ctx, p, b.ID); err != nil {
			return total, err
		}
		if b.Status != ingest.StatusPublished || b.Accepted == 0 {
			return total, fmt.Errorf("records of %s: batch %d %s: %s", e.Name, b.ID, b.Status, b.MessageEN)
		}
		total += int(b.Accepted)
	}
	return total, nil
}

// publishPoliceEntry publishes the police population entry that holds the
// demo's records.
func publishPoliceEntry(ctx context.Context, s Services) (catalog.Entry, error) {
	bodies, _, err := s.Orgs.Bodies(ctx, org.BodyFilter{Q: "吉林省公安厅", Limit: 10})
	if err != nil {
		return catalog.Entry{}, err
	}
	var police int64
	for _, b := range bodies {
		if b.Name == "吉林省公安厅" {
			police = b.ID
		}
	}
	in := catalog.EntryInput{ProviderID: police, Content: catalog.Content{
		Name: "吉林省居民身份核验信息", Class: "1/01/001", FormatClass: "database", FormatType: "oracle",
		Abstract: "全省常住人口的公民身份号码、姓名、性别、出生日期和户籍地址，供政务服务办理时核验申请人身份。",
		Items: []catalog.Item{
			{Name: "公民身份号码", EnName: "gmsfhm", DataType: "C", Length: 18, Key: true, Sensitive: true, Mask: "id_card"},
			{Name: "姓名", EnName: "xm", DataType: "C", Length: 50, Required: true, Sensitive: true, Mask: "name"},
			{Name: "性别", EnName: "xb", DataType: "C", Length: 1, CodeList: "GB/T 2261.1"},
			{Name: "出生日期", EnName: "csrq", DataType: "D"},
			{Name: "户籍地址", EnName: "hjdz", DataType: "C", Length: 200, Sensitive: true, Mask: "address"},
		},
		ShareType: catalog.ShareConditional, ShareCondition: "仅限政务服务事项办理中核验申请人身份，须经省公安厅审批",
		ShareMethod: catalog.MethodAPI, ShareChannel: "platform", OpenType: catalog.OpenNone, OpenCondition: "涉及个人信息，依法不予开放",
		Cycle: "daily", Grade: "L3",
	}}
	es, err := s.Catalog.CreatePublished(ctx, catalog.System, []catalog.EntryInput{in}, "身份核验基础数据")
	if err != nil {
		return catalog.Entry{}, err
	}
	return s.Catalog.Get(ctx, catalog.System, es[0].ID)
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
