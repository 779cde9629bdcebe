// Package demo loads a realistic demonstration installation: the province of
// Jilin (吉林省, 220000) with its data bureau, provincial departments, the nine
// cities and prefectures with a few bodies each, utilities, users for every
// role, and a catalog in every state of the workflow. It runs once; later
// runs only reset the demo users' passwords so that the printed logins work.
package demo

import (
	"context"
	"fmt"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/ident"
	"xiangyun/internal/ingest"
	"xiangyun/internal/notify"
	"xiangyun/internal/org"
	"xiangyun/internal/quality"
)

// Services are what the demo fills.
type Services struct {
	Orgs    *org.Service
	Auth    *auth.Service
	Catalog *catalog.Service
	Audit   *audit.Log
	Ingest  *ingest.Service // records of the police identity entry; nil leaves them out
	Notify  *notify.Service // optional: the demo users' notices of the past year are marked read
	// Quality and Control, when set, get checked batches and scores (quality.go).
	Quality *quality.Service
	Control *db.DB
	// Progress, when set, is told what the first load is doing; it is not
	// called when the installation is already filled.
	Progress func(step string)
}

func (s Services) progress(format string, args ...any) {
	if s.Progress != nil {
		s.Progress(fmt.Sprintf(format, args...))
	}
}

// Login is one printed demo login.
type Login struct {
	Username, Password, Role string
}

// Bureau is the data bureau that runs the platform.
const Bureau = "吉林省政务服务和数字化建设管理局"

var regions = []struct{ code, name string }{
	{"220000", "吉林省"},
	{"220100", "长春市"}, {"220102", "南关区"}, {"220104", "朝阳区"}, {"220122", "农安县"}, {"220182", "榆树市"},
	{"220200", "吉林市"}, {"220202", "昌邑区"}, {"220281", "蛟河市"},
	{"220300", "四平市"}, {"220303", "铁东区"},
	{"220400", "辽源市"}, {"220402", "龙山区"},
	{"220500", "通化市"}, {"220502", "东昌区"},
	{"220600", "白山市"}, {"220602", "浑江区"},
	{"220700", "松原市"}, {"220702", "宁江区"},
	{"220800", "白城市"}, {"220802", "洮北区"},
	{"222400", "延边朝鲜族自治州"}, {"222401", "延吉市"}, {"222402", "图们市"}, {"222405", "龙井市"},
}

// Provincial departments (省直部门), after the data bureau.
var departments = []string{
	"吉林省发展和改革委员会", "吉林省教育厅", "吉林省科学技术厅", "吉林省工业和信息化厅", "吉林省公安厅",
	"吉林省民政厅", "吉林省司法厅", "吉林省财政厅", "吉林省人力资源和社会保障厅", "吉林省自然资源厅",
	"吉林省生态环境厅", "吉林省住房和城乡建设厅", "吉林省交通运输厅", "吉林省水利厅", "吉林省农业农村厅",
	"吉林省商务厅", "吉林省文化和旅游厅", "吉林省卫生健康委员会", "吉林省退役军人事务厅", "吉林省应急管理厅",
	"吉林省市场监督管理厅", "吉林省医疗保障局", "吉林省统计局", "吉林省林业和草原局", "吉林省体育局",
}

var institutions = []string{"吉林省信息技术应用和数据中心", "吉林省不动产登记中心", "吉林省社会保险事业管理局"}

// Per city or prefecture (市/州).
var cityBodies = []string{"政务服务和数字化建设管理局", "公安局", "市场监督管理局", "人力资源和社会保障局"}

var utilities = []struct{ name, sector, region string }{
	{"国网吉林省电力有限公司", "power", "220000"},
	{"长春水务集团有限公司", "water", "220100"},
	{"长春燃气股份有限公司", "gas", "220100"},
	{"长春市供热（集团）有限公司", "heat", "220100"},
	{"中国电信股份有限公司吉林分公司", "telecom", "220000"},
	{"长春市公共交通（集团）有限责任公司", "transport", "220100"},
	{"吉林市水务集团有限公司", "water", "220200"},
}

// creditCode builds a valid 统一社会信用代码 for the n-th demo body: authority
// and type (11 机关, 12 事业单位, 91 企业), region, organisation code.
func creditCode(prefix, region string, n int) string {
	oc := fmt.Sprintf("%08d", 11000000+n*37)
	ocCheck, err := ident.OrgCodeCheckChar(oc)
	if err != nil {
		panic(err)
	}
	first := prefix + region + oc + string(ocCheck)
	c, err := ident.CreditCodeCheckChar(first)
	if err != nil {
		panic(err)
	}
	return first + string(c)
}

type demoUser struct {
	username, name, body string
	role                 auth.Role
}

// users are the fixed demo logins, printed at start; their usernames are
// stable (tests and the README use them), their names are people's names.
var users = []demoUser{
	{"admin", "王建国", Bureau, auth.RoleAdmin},
	{"secofficer", "陈静", Bureau, auth.RoleSecurityOfficer},
	{"auditor", "赵敏", Bureau, auth.RoleAuditor},
	{"reviewer", "刘洋", Bureau, auth.RoleReviewer},
	{"police_cdo", "张伟", "吉林省公安厅", auth.RoleChiefDataOfficer},
	{"police_spec", "李娜", "吉林省公安厅", auth.RoleDataSpecialist},
	{"market_cdo", "孙丽华", "吉林省市场监督管理厅", auth.RoleChiefDataOfficer},
	{"market_spec", "周杰", "吉林省市场监督管理厅", auth.RoleDataSpecialist},
	{"hrss_cdo", "吴海燕", "吉林省人力资源和社会保障厅", auth.RoleChiefDataOfficer},
	{"health_cdo", "郑志刚", "吉林省卫生健康委员会", auth.RoleChiefDataOfficer},
	{"cc_cdo", "马晓东", "长春市政务服务和数字化建设管理局", auth.RoleChiefDataOfficer},
	{"cc_spec", "胡春雨", "长春市政务服务和数字化建设管理局", auth.RoleDataSpecialist},
}

// People's names for the staff of the other bodies: surname and given name
// with their pinyin, for the login. Combined by position, they give
// distinct names for far more bodies than the demo has.
var (
	surnames = [][2]string{{"王", "wang"}, {"李", "li"}, {"张", "zhang"}, {"刘", "liu"}, {"陈", "chen"}, {"杨", "yang"}, {"赵", "zhao"},
		{"黄", "huang"}, {"周", "zhou"}, {"吴", "wu"}, {"徐", "xu"}, {"孙", "sun"}, {"朱", "zhu"}, {"高", "gao"}, {"林", "lin"},
		{"何", "he"}, {"郭", "guo"}, {"罗", "luo"}, {"梁", "liang"}, {"宋", "song"}, {"金", "jin"}, {"韩", "han"}, {"崔", "cui"}}
	givenNames = [][2]string{{"秀英", "xiuying"}, {"桂兰", "guilan"}, {"建华", "jianhua"}, {"国庆", "guoqing"}, {"红梅", "hongmei"},
		{"志强", "zhiqiang"}, {"丽娟", "lijuan"}, {"文博", "wenbo"}, {"雪梅", "xuemei"}, {"玉兰", "yulan"}, {"宏伟", "hongwei"},
		{"晓燕", "xiaoyan"}, {"俊杰", "junjie"}, {"淑珍", "shuzhen"}, {"明", "ming"}, {"磊", "lei"}, {"婷", "ting"}, {"鑫", "xin"},
		{"凤兰", "fenglan"}, {"长春", "changchun"}, {"德胜", "desheng"}, {"春燕", "chunyan"}, {"立新", "lixin"}, {"海涛", "haitao"}}
)

// person returns the n-th generated person's name and login.
func person(n int) (name, username string) {
	s := surnames[n%len(surnames)]
	g := givenNames[(n/len(surnames)+n*7)%len(givenNames)]
	return s[0] + g[0], s[1] + "." + g[1]
}

// Load fills an empty installation, or resets the demo passwords of a filled
// one, and returns the logins to print.
func Load(ctx context.Context, s Services, password string) ([]Login, error) {
	// Refuse a weak demo password before anything is loaded, naming the rule.
	for _, u := range users {
		if err := auth.CheckPasswordPolicy(u.username, password); err != nil {
			e, _ := errs.As(err)
			msg := err.Error()
			if e != nil && len(e.Fields) > 0 {
				msg = e.Fields[0].EN + " (" + e.Fields[0].ZH + ")"
			}
			return nil, fmt.Errorf("the demo password (XIANGYUN_DEMO_PASSWORD) does not meet the password policy for user %s: %s; policy: %s", u.username, msg, auth.PasswordPolicyEN)
		}
	}
	var logins []Login
	for _, u := range users {
		logins = append(logins, Login{Username: u.username, Password: password, Role: u.role.Name("zh") + " / " + u.role.Name("en")})
	}
	if existing, err := s.Auth.UserByName(ctx, "admin"); err == nil {
		for _, u := range users {
			if du, err := s.Auth.UserByName(ctx, u.username); err == nil {
				if err := s.Auth.SetPassword(ctx, 0, du.ID, password); err != nil {
					return nil, err
				}
			}
		}
		_, _ = s.Audit.Append(ctx, audit.Entry{Action: "demo.passwords_reset", Actor: "system", Object: fmt.Sprintf("user:%d", existing.ID)})
		return logins, nil
	}
	s.progress("loading demo data (first run only)")
	s.progress("organisations: regions, provincial departments, cities and utilities")
	bodies, err := loadOrgs(ctx, s.Orgs)
	if err != nil {
		return nil, err
	}
	byName := map[string]org.Body{}
	for _, b := range bodies {
		byName[b.Name] = b
	}
	s.progress("users: %d bodies loaded; creating the demo logins and each body's staff", len(bodies))
	staff, err := loadUsers(ctx, s.Auth, bodies, byName, password)
	if err != nil {
		return nil, err
	}
	s.progress("catalog: %d users; drafting, submitting and reviewing the entries of a year", staff.count)
	n, err := loadCatalog(ctx, s, bodies, staff)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	s.progress("quality: checking a month of generated batches of the 库表/接口 entries")
	if err := loadQuality(ctx, s); err != nil {
		return nil, fmt.Errorf("quality: %w", err)
	}
	s.progress("files: the 文件 entries' attachments (a report in two versions, an XLSX list)")
	if err := loadFiles(ctx, s); err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	s.progress("done: %d bodies, %d users, %d catalog entries", len(bodies), staff.count, n)
	_, err = s.Audit.Append(ctx, audit.Entry{Action: "demo.load", Actor: "system",
		Detail: map[string]string{"bodies": fmt.Sprint(len(bodies)), "users": fmt.Sprint(staff.count), "entries": fmt.Sprint(n)}})
	return logins, err
}

// staff are the demo users who act on the catalog, by body: its chief data
// officer (submits, withdraws) and the specialist who drafts, if it has one.
type staff struct {
	cdo, spec map[int64]*auth.Principal
	reviewer  *auth.Principal
	count     int
}

// drafter is who drafts a body's entries: its specialist, else its CDO.
func (st *staff) drafter(body int64) *auth.Principal {
	if p := st.spec[body]; p != nil {
		return p
	}
	return st.cdo[body]
}

// loadUsers creates the fixed demo logins and a chief data officer with a
// person's name for every other body that provides entries.
func loadUsers(ctx context.Context, a *auth.Service, bodies []org.Body, byName map[string]org.Body, password string) (*staff, error) {
	st := &staff{cdo: map[int64]*auth.Principal{}, spec: map[int64]*auth.Principal{}}
	add := func(username, name string, b org.Body, role auth.Role) error {
		du, err := a.CreateUser(ctx, auth.UserInput{Username: username, DisplayName: name, BodyID: b.ID, Password: password})
		if err != nil {
			return fmt.Errorf("user %s: %w", username, err)
		}
		if err := a.GrantRole(ctx, 0, du.ID, role, b.ID); err != nil {
			return fmt.Errorf("role for %s: %w", username, err)
		}
		if du, err = a.User(ctx, du.ID); err != nil {
			return err
		}
		p := &auth.Principal{User: du}
		switch role {
		case auth.RoleChiefDataOfficer:
			st.cdo[b.ID] = p
		case auth.RoleDataSpecialist:
			st.spec[b.ID] = p
		case auth.RoleReviewer:
			st.reviewer = p
		}
		st.count++
		return nil
	}
	for _, u := range users {
		if err := add(u.username, u.name, byName[u.body], u.role); err != nil {
			return nil, err
		}
	}
	n := 0
	for _, b := range bodies {
		if b.Name == Bureau || st.cdo[b.ID] != nil {
			continue
		}
		name, login := person(n)
		n++
		if err := add(login, name, b, auth.RoleChiefDataOfficer); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func loadOrgs(ctx context.Context, o *org.Service) ([]org.Body, error) {
	for _, r := range regions {
		if _, err := o.CreateRegion(ctx, org.Region{Code: r.code, Name: r.name}); err != nil && errs.KindOf(err) != errs.KindConflict {
			return nil, fmt.Errorf("region %s: %w", r.code, err)
		}
	}
	var out []org.Body
	n := 0
	add := func(name string, kind org.Kind, sector, region, prefix string, parent int64) (org.Body, error) {
		n++
		b, err := o.CreateBody(ctx, org.BodyInput{Name: name, CreditCode: creditCode(prefix, region, n), Kind: kind, Sector: sector, RegionCode: region, ParentID: parent})
		if err != nil {
			return b, fmt.Errorf("body %s: %w", name, err)
		}
		out = append(out, b)
		return b, nil
	}
	bureau, err := add(Bureau, org.KindAgency, "", "220000", "11", 0)
	if err != nil {
		return nil, err
	}
	for _, d := range departments {
		if _, err := add(d, org.KindAgency, "", "220000", "11", 0); err != nil {
			return nil, err
		}
	}
	for _, d := range institutions {
		if _, err := add(d, org.KindInstitution, "", "220000", "12", bureau.ID); err != nil {
			return nil, err
		}
	}
	for _, r := range regions {
		if r.code == "220000" || r.code[4:] != "00" {
			continue
		}
		var cityBureau org.Body
		for i, suffix := range cityBodies {
			parent := int64(0)
			if i > 0 {
				parent = cityBureau.ID
			}
			b, err := add(r.name+suffix, org.KindAgency, "", r.code, "11", parent)
			if err != nil {
				return nil, err
			}
			if i == 0 {
				cityBureau = b
			}
		}
	}
	// Two county-level bodies, for supplementary catalogs below city level.
	for _, c := range []struct{ region, name string }{{"222401", "延吉市政务服务和数字化建设管理局"}, {"220182", "榆树市政务服务和数字化建设管理局"}} {
		if _, err := add(c.name, org.KindAgency, "", c.region, "11", 0); err != nil {
			return nil, err
		}
	}
	for _, u := range utilities {
		if _, err := add(u.name, org.KindUtility, u.sector, u.region, "91", 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}
