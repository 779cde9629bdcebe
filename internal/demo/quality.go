package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/ident"
	"xiangyun/internal/quality"
)

// Demo data quality. The records themselves belong to ingest, whose demo
// (records.go) loads real batches into the police population entry. For the
// other published 库表/接口 entries this generates realistic rows for their
// data items (ID numbers, credit codes, region codes, dates, names and
// addresses, some invalid), runs them through each entry's real checker and
// records each batch with RecordBatch, as ingest does, without storing the
// rows. These batches are synthetic: their ids start at demoBatchBase so
// that they never meet ingest's own batch ids. The result is a month of score
// history, open and closed incidents, and an overdue entry or two.

const demoBatchBase = 900_000_000

// demoQualityEntries is how many entries get a longer batch history.
const demoQualityEntries = 60

// demoRows is the size of each synthetic batch.
const demoRows = 120

var (
	recordSurnames = []rune("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文")
	givenRune      = []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红娥玲芬建国志强海燕春梅晓东雪梅淑珍凤兰德福")
	streets        = []string{"人民大街", "解放大路", "自由大路", "东盛大街", "亚泰大街", "西安大路", "重庆路", "同志街", "长白山路", "延安大街"}
	districts      = []struct{ code, name string }{{"220102", "长春市南关区"}, {"220104", "长春市朝阳区"}, {"220122", "长春市农安县"},
		{"220202", "吉林市昌邑区"}, {"220303", "四平市铁东区"}, {"222401", "延吉市"}, {"220702", "松原市宁江区"}}
)

// demoValue generates a value for a data item; bad asks for an invalid one.
func demoValue(rng *rand.Rand, it catalog.Item, row int, bad bool) string {
	switch {
	case strings.Contains(it.Name, "身份证号") || strings.Contains(it.Name, "身份号码"):
		d := districts[rng.IntN(len(districts))]
		birth := time.Date(1940+rng.IntN(65), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
		first := d.code + birth.Format("20060102") + fmt.Sprintf("%03d", row%1000)
		c, _ := ident.IDCardCheckChar(first)
		if bad {
			if c == '0' {
				c = '1'
			} else {
				c = '0'
			}
		}
		return first + string(c)
	case strings.Contains(it.Name, "统一社会信用代码") || strings.Contains(it.Name, "信用代码"):
		d := districts[rng.IntN(len(districts))]
		oc := fmt.Sprintf("%08d", 10000000+rng.IntN(89999999))
		c1, _ := ident.OrgCodeCheckChar(oc)
		first := "91" + d.code + oc + string(c1)
		c2, _ := ident.CreditCodeCheckChar(first)
		if bad {
			return first + "Z" // Z is not in the alphabet
		}
		return first + string(c2)
	case strings.Contains(it.Name, "行政区划代码"):
		if bad {
			return "990101"
		}
		return districts[rng.IntN(len(districts))].code
	case strings.Contains(it.Name, "电话") || strings.Contains(it.Name, "手机"):
		if bad {
			return "1234"
		}
		if strings.Contains(it.Name, "办公") || strings.Contains(it.Name, "固定") || strings.Contains(it.Name, "传真") {
			return fmt.Sprintf("0431-8%07d", rng.IntN(10000000))
		}
		return fmt.Sprintf("13%d%08d", 5+rng.IntN(5), rng.IntN(100000000))
	case strings.Contains(it.Name, "姓名") || strings.Contains(it.Name, "法定代表人") || strings.Contains(it.Name, "经办人") || it.Mask == "name":
		if bad && it.Required {
			return ""
		}
		n := string(recordSurnames[rng.IntN(len(recordSurnames))]) + string(givenRune[rng.IntN(len(givenRune))])
		if rng.IntN(2) == 0 {
			n += string(givenRune[rng.IntN(len(givenRune))])
		}
		return n
	case strings.Contains(it.Name, "地址") || strings.Contains(it.Name, "住所") || strings.Contains(it.Name, "地点"):
		d := districts[rng.IntN(len(districts))]
		return fmt.Sprintf("吉林省%s%s%d号", d.name, streets[rng.IntN(len(streets))], 1+rng.IntN(2000))
	}
	switch it.DataType {
	case "D":
		if bad {
			return "2025-02-30"
		}
		return time.Date(2000+rng.IntN(26), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC).Format("2006-01-02")
	case "T":
		return time.Date(2026, time.Month(1+rng.IntN(10)), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), 0, 0, time.UTC).Format("2006-01-02 15:04:05")
	case "N", "Y", "I", "F", "B":
		if bad {
			return "约" + strconv.Itoa(rng.IntN(100))
		}
		return strconv.FormatFloat(float64(rng.IntN(1000000))/100, 'f', 2, 64)
	}
	if it.Key {
		return fmt.Sprintf("JL%s%06d", time.Now().Format("2006"), row)
	}
	if it.Required && bad {
		return ""
	}
	if it.Length > 0 && it.Length < 4 {
		return strconv.Itoa(1 + rng.IntN(min(9, it.Length*9)))
	}
	return "已登记"
}

// demoBatch generates rows for an entry, checks them and records the batch
// at the given time; badRate is the share of rows with an invalid value.
func demoBatch(ctx context.Context, s Services, e catalog.Entry, batchID int64, at time.Time, rng *rand.Rand, badRate float64) error {
	c, err := s.Quality.Checker(ctx, e.ID, e.Items)
	if err != nil {
		return err
	}
	per := map[string]int{}
	rejected := 0
	for row := 1; row <= demoRows; row++ {
		values := make(map[string]string, len(e.Items))
		bad := rng.Float64() < badRate
		// An entry's problems sit in the same one or two items batch after
		// batch, as they do when a source system has a defect.
		badItem := (int(e.ID) + row%2*(1+int(e.ID)%3)) % len(e.Items)
		for i, it := range e.Items {
			values[it.Name] = demoValue(rng, it, row+int(batchID%1000)*demoRows, bad && i == badItem)
		}
		if badRate > 0 && row%50 == 0 {
			// a key repeated in every batch
			for _, it := range e.Items {
				if it.Key {
					values[it.Name] = demoValue(rand.New(rand.NewPCG(uint64(e.ID), 7)), it, 1, false)
				}
			}
		}
		vs := c.Row(values)
		if len(vs) > 0 {
			rejected++
		}
		quality.Tally(per, vs, nil)
	}
	quality.Tally(per, nil, c.Finish())
	return s.Control.Tx(ctx, func(tx *db.Tx) error {
		tx.Now = db.Time{Time: at.UTC().Truncate(time.Microsecond)} // the batch happened then
		return s.Quality.RecordBatch(tx, e.ID, batchID, demoRows, rejected, per)
	})
}

// loadQuality gives published 库表/接口 entries a month of checked batches.
func loadQuality(ctx context.Context, s Services) error {
	if s.Quality == nil || s.Control == nil {
		return nil
	}
	var entries []catalog.Entry
	err := s.Catalog.Filtered(ctx, catalog.System, catalog.SearchQuery{Filters: map[string][]string{"status": {catalog.StatusPublished}}},
		func(e catalog.Entry) error {
			if (e.ShareMethod == catalog.MethodTable || e.ShareMethod == catalog.MethodAPI) && len(e.Items) > 0 {
				entries = append(entries, e)
			}
			return nil
		})
	if err != nil {
		return err
	}
	// The departments with demo users come first, so that their people see
	// scores, incidents and overdue data when they sign in.
	mine := map[int64]bool{}
	for _, u := range users {
		if du, err := s.Auth.UserByName(ctx, u.username); err == nil && !u.role.Platform() {
			for _, g := range du.Roles {
				mine[g.BodyID] = true
			}
		}
	}
	slices.SortStableFunc(entries, func(a, b catalog.Entry) int {
		switch {
		case mine[a.ProviderID] == mine[b.ProviderID]:
			return 0
		case mine[a.ProviderID]:
			return -1
		}
		return 1
	})
	// Entries that hold real demo records (ingest's demo, records.go) keep
	// their real batches only.
	entries = slices.DeleteFunc(entries, func(e catalog.Entry) bool {
		_, _, real, err := s.Quality.LastBatch(ctx, e.ID)
		return err == nil && real
	})
	rng := rand.New(rand.NewPCG(2026, 7))
	now := time.Now()
	const day = 24 * time.Hour
	batch := int64(demoBatchBase)
	overdue := 0
	for i, e := range entries {
		// The first demoQualityEntries entries have a history of six batches:
		// every fourth has problems and every other of those fixed them in its
		// last batch (its incidents closed by themselves). The rest have two
		// clean batches.
		n, problem, fixed := 6, i%4 == 1, i%8 == 5
		if i >= demoQualityEntries {
			n, problem = 2, false
		}
		step := map[string]time.Duration{"realtime": day, "daily": day, "weekly": 7 * day}[e.Cycle]
		if step == 0 {
			step = 10 * day
		}
		// The last batch is recent, except for two daily entries that stopped
		// loading: they are overdue.
		last := now.Add(-time.Duration(2+rng.IntN(10)) * time.Hour)
		if (e.Cycle == "daily" || e.Cycle == "realtime") && overdue < 2 && i%5 == 3 {
			last = now.Add(-6 * day)
			overdue++
		}
		for k := n - 1; k >= 0; k-- {
			at := last.Add(-time.Duration(k) * step)
			rate := 0.0
			if problem && !(fixed && k == 0) {
				rate = 0.15 + 0.2*rng.Float64()
			}
			batch++
			if err := demoBatch(ctx, s, e, batch, at, rng, rate); err != nil {
				return fmt.Errorf("entry %s batch %d: %w", e.Code, batch, err)
			}
		}
	}
	// One department's chief data officer has taken an incident in hand.
	for _, name := range []string{"police_cdo", "market_cdo", "hrss_cdo", "health_cdo"} {
		u, err := s.Auth.UserByName(ctx, name)
		if err != nil {
			continue
		}
		p := &auth.Principal{User: u}
		incs, _, err := s.Quality.Incidents(ctx, p, quality.IncidentFilter{Status: quality.IncidentNew, Limit: 1})
		if err != nil || len(incs) == 0 {
			continue
		}
		_, err = s.Quality.Acknowledge(ctx, p, incs[0].ID, "已通知源系统核查")
		return err
	}
	return nil
}

// RecordValue generates a realistic value for a data item by its name and
// type (ID numbers, credit codes, region codes, phones, names, addresses,
// dates, amounts); bad asks for an invalid one. row numbers key items. The
// ingest benchmark (internal/bench) generates its files with it.
func RecordValue(rng *rand.Rand, it catalog.Item, row int, bad bool) string {
	return demoValue(rng, it, row, bad)
}
