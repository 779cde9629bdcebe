package catalog

import (
	"fmt"
	"slices"
	"strings"
)

// Term is one value of a value set: a stable code stored in the database and
// sent over the API, with its Chinese and English labels. Alt lists other
// spellings found in departments' spreadsheets, which Parse accepts.
type Term struct {
	Code string   `json:"code"`
	ZH   string   `json:"zh"`
	EN   string   `json:"en"`
	Alt  []string `json:"-"`
}

// Label returns the term's label in lang ("zh" or "en").
func (t Term) Label(lang string) string {
	if lang == "en" {
		return t.EN
	}
	return t.ZH
}

// Parse finds the term of set matching s by code, Chinese or English label
// or an alternative spelling (case- and space-insensitive), so that an
// importer can accept "有条件共享", "有条件" or "conditional" alike.
func Parse(set []Term, s string) (Term, bool) {
	norm := func(x string) string { return strings.ToLower(parens.Replace(strings.Join(strings.Fields(x), ""))) }
	if s = norm(s); s == "" {
		return Term{}, false
	}
	for _, t := range set {
		if norm(t.Code) == s || norm(t.ZH) == s || norm(t.EN) == s {
			return t, true
		}
		for _, a := range t.Alt {
			if norm(a) == s {
				return t, true
			}
		}
	}
	return Term{}, false
}

// parens makes half-width and full-width parentheses alike, so that
// "有条件共享(授权共享)" reads as the label "有条件共享（授权共享）".
var parens = strings.NewReplacer("(", "（", ")", "）")

// ParseFilter turns the values of a search filter on facet into codes: a
// coded facet (share_type, open_type, format, cycle, status, scope)
// accepts labels and other spellings as Parse does, so that
// share_type=授权共享 filters like share_type=conditional. Values it does
// not know are kept, and match nothing.
func ParseFilter(facet string, values []string) []string {
	set := map[string][]Term{"share_type": ShareTypes, "open_type": OpenTypes, "format": FormatClasses(), "cycle": Cycles,
		"status": Statuses, "scope": Scopes}[facet]
	if set == nil {
		return values
	}
	out := make([]string, 0, len(values))
	for _, v := range values {
		if t, ok := Parse(set, v); ok {
			v = t.Code
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// ParseFilters is ParseFilter over every facet of filters, in place.
func ParseFilters(filters map[string][]string) map[string][]string {
	for k, vs := range filters {
		filters[k] = ParseFilter(k, vs)
	}
	return filters
}

// Lookup returns the term of set with code.
func Lookup(set []Term, code string) (Term, bool) {
	for _, t := range set {
		if t.Code == code {
			return t, true
		}
	}
	return Term{}, false
}

func has(set []Term, code string) bool { _, ok := Lookup(set, code); return ok }

func codes(set []Term) string {
	cs := make([]string, len(set))
	for i, t := range set {
		cs[i] = t.Code
	}
	return strings.Join(cs, ", ")
}

// Share types (共享类型).
const (
	ShareUnconditional = "unconditional" // 无条件共享
	ShareConditional   = "conditional"   // 有条件共享
	ShareNone          = "none"          // 不予共享
)

// ShareTypes is the value set of share types. The national guide (发改高技
// 〔2017〕1272号) says 有条件共享 and 不予共享; the province's regulation
// (吉政发〔2019〕4号 §25) calls the same types 授权共享 and 非共享. Both are
// read everywhere a share type is (imports, filters, the API), and labels
// show the regulation's word beside the guide's.
var ShareTypes = []Term{
	{ShareUnconditional, "无条件共享", "shared unconditionally", []string{"无条件"}},
	{ShareConditional, "有条件共享（授权共享）", "shared on conditions (authorised sharing)",
		[]string{"有条件共享", "授权共享", "有条件", "授权", "shared on conditions", "authorised", "authorized", "authorised sharing", "authorized sharing"}},
	{ShareNone, "不予共享（非共享）", "not shared", []string{"不予共享", "非共享", "不共享", "不予", "non-shared", "unshared"}},
}

// Open types (开放属性).
const (
	OpenUnconditional = "unconditional" // 无条件开放
	OpenConditional   = "conditional"   // 有条件开放
	OpenNone          = "none"          // 不予开放
)

// OpenTypes is the value set of open types; the older form 是否向社会开放
// 是/否 is accepted as 无条件开放/不予开放.
var OpenTypes = []Term{
	{OpenUnconditional, "无条件开放", "open unconditionally", []string{"无条件", "是", "开放"}},
	{OpenConditional, "有条件开放", "open on conditions", []string{"有条件"}},
	{OpenNone, "不予开放", "not open", []string{"不开放", "否", "不予"}},
}

// Share methods (共享方式类型).
const (
	MethodAPI   = "api"   // 接口
	MethodTable = "table" // 库表
	MethodFile  = "file"  // 文件
)

// ShareMethods is the value set of share method types.
var ShareMethods = []Term{
	{MethodAPI, "接口", "API", []string{"服务接口", "接口方式"}},
	{MethodTable, "库表", "database table", []string{"数据库", "库表方式", "数据库方式"}},
	{MethodFile, "文件", "file", []string{"文件方式", "文件下载"}},
}

// ShareChannels is the value set of share channels (共享方式分类).
var ShareChannels = []Term{
	{"platform", "共享平台方式", "sharing platform", []string{"共享平台", "平台"}},
	{"email", "邮件方式", "e-mail", []string{"邮件", "电子邮件"}},
	{"media", "介质方式", "storage media", []string{"介质", "离线介质"}},
}

// Cycles is the value set of update cycles (更新周期).
var Cycles = []Term{
	{"realtime", "实时", "real time", nil},
	{"daily", "每日", "daily", []string{"每天", "日"}},
	{"weekly", "每周", "weekly", []string{"周"}},
	{"monthly", "每月", "monthly", []string{"月"}},
	{"quarterly", "每季度", "quarterly", []string{"季度", "每季"}},
	{"halfyearly", "每半年", "half-yearly", []string{"半年"}},
	{"yearly", "每年", "yearly", []string{"年", "每年度"}},
	{"other", "其他", "other", []string{"不定期"}},
}

// DataTypes is the value set of data item types (信息项数据类型).
var DataTypes = []Term{
	{"C", "字符型", "character", nil},
	{"N", "数值型", "numeric", nil},
	{"Y", "货币型", "currency", nil},
	{"D", "日期型", "date", nil},
	{"T", "日期时间型", "date and time", nil},
	{"L", "逻辑型", "logical", nil},
	{"M", "备注型", "memo", nil},
	{"G", "通用型", "general (binary)", nil},
	{"B", "双精度型", "double", nil},
	{"I", "整型", "integer", nil},
	{"F", "浮点型", "float", nil},
}

// lengthTypes need a length (字符型 and 数值型 are declared with one).
var lengthTypes = []string{"C", "N"}

// MaskRules is the value set of per-item masking rules (脱敏规则); the
// masking itself lives with the data plane.
var MaskRules = []Term{
	{"none", "不脱敏", "no masking", []string{"无"}},
	{"name", "姓名", "Chinese name: keep the first character", nil},
	{"id_card", "身份证号", "ID number: keep first 1 and last 2", []string{"身份证", "公民身份号码"}},
	{"mobile", "手机号", "mobile: keep first 3 and last 4", []string{"手机"}},
	{"landline", "固定电话", "landline: keep first 4 and last 2", []string{"座机"}},
	{"address", "地址", "address: hide the last 8 characters", nil},
	{"email", "电子邮箱", "e-mail: keep the first character", []string{"邮箱"}},
	{"bank_card", "银行卡号", "bank card: keep first 4 and last 4", []string{"银行卡"}},
	{"plate", "车牌号", "licence plate: hide the middle", []string{"车牌"}},
	{"ipv4", "IPv4 地址", "IPv4: keep the first octet", []string{"IP"}},
	{"redact", "全部遮盖", "redact all", []string{"遮盖"}},
	{"hash", "哈希", "hash", []string{"摘要"}},
}

// Version and entry statuses.
const (
	StatusDraft      = "draft"      // 草稿
	StatusSubmitted  = "submitted"  // 待审核
	StatusReturned   = "returned"   // 已退回
	StatusPublished  = "published"  // 已发布
	StatusSuperseded = "superseded" // 已被新版本替代 (versions only)
	StatusWithdrawn  = "withdrawn"  // 已撤销
	StatusDeprecated = "deprecated" // 已废止
)

// Statuses is the value set of statuses.
var Statuses = []Term{
	{StatusDraft, "草稿", "draft", nil},
	{StatusSubmitted, "待审核", "submitted", nil},
	{StatusReturned, "已退回", "returned", nil},
	{StatusPublished, "已发布", "published", nil},
	{StatusSuperseded, "已替代", "superseded", nil},
	{StatusWithdrawn, "已撤销", "withdrawn", nil},
	{StatusDeprecated, "已废止", "deprecated", nil},
}

// Scopes: the province-wide catalog, or a city's or county's supplementary
// catalog (补充目录).
const (
	ScopeProvince      = "province"
	ScopeSupplementary = "supplementary"
)

// Scopes is the value set of scopes.
var Scopes = []Term{
	{ScopeProvince, "省级目录", "province catalog", nil},
	{ScopeSupplementary, "补充目录", "supplementary catalog", nil},
}

// Attribute is a resource attribute (资源属性), the first level (类) of the
// classification, with the second-level values (项) it constrains.
type Attribute struct {
	Term
	Digit string `json:"digit"` // 类 code: 1, 2 or 3
	// Items lists the allowed 项 codes; empty means any two digits (a
	// department's own classification).
	Items []Term `json:"items,omitempty"`
}

// Base catalogs (基础信息资源, 类 1): the five of the national guide and the
// macro-economy library of the 2019 measures (seed 003 §21).
var BaseCatalogs = []Term{
	{"01", "人口", "population", nil},
	{"02", "法人单位", "legal entities", []string{"法人"}},
	{"03", "自然资源和空间地理", "natural resources and spatial geography", []string{"空间地理", "空间"}},
	{"04", "社会信用", "social credit", nil},
	{"05", "电子证照", "e-licences", nil},
	{"06", "宏观经济", "macro economy", nil},
}

// Themes (主题信息资源, 类 2). The national guide leaves the list to each
// catalog; these are the themes used in Jilin's catalog (confirm).
var Themes = []Term{
	{"01", "社会保障", "social security", nil},
	{"02", "健康保障", "health", nil},
	{"03", "公共安全", "public safety", nil},
	{"04", "教育文化", "education and culture", nil},
	{"05", "生态环境", "ecology and environment", nil},
	{"06", "城乡建设", "urban and rural construction", nil},
	{"07", "交通出行", "transport", nil},
	{"08", "市场监管", "market regulation", nil},
	{"09", "应急管理", "emergency management", nil},
	{"10", "农业农村", "agriculture and rural affairs", nil},
	{"11", "文化旅游", "culture and tourism", nil},
	{"12", "民生服务", "public services", nil},
}

// Attributes is the value set of resource attributes.
var Attributes = []Attribute{
	{Term{"base", "基础", "base", []string{"基础信息资源"}}, "1", BaseCatalogs},
	{Term{"theme", "主题", "theme", []string{"主题信息资源"}}, "2", Themes},
	{Term{"department", "部门", "department", []string{"部门信息资源"}}, "3", nil},
}

func attributeOf(digit string) (Attribute, bool) {
	for _, a := range Attributes {
		if a.Digit == digit {
			return a, true
		}
	}
	return Attribute{}, false
}

// FormatClass is a class of resource formats (信息资源格式分类) with its
// types and the share methods a resource of the class may use: a file
// resource is shared as a file, a database as tables or through an API.
type FormatClass struct {
	Term
	Types   []Term   `json:"types"`
	Methods []string `json:"methods"`
}

func other() Term { return Term{"other", "其他", "other", nil} }

// Formats is the value set of format classes and types.
var Formats = []FormatClass{
	{Term{"document", "电子文件", "electronic document", []string{"文件"}}, []Term{
		{"ofd", "OFD", "OFD", nil}, {"wps", "WPS", "WPS", nil}, {"xml", "XML", "XML", nil}, {"txt", "TXT", "TXT", nil},
		{"doc", "DOC", "DOC", nil}, {"docx", "DOCX", "DOCX", nil}, {"html", "HTML", "HTML", nil}, {"pdf", "PDF", "PDF", nil},
		{"ppt", "PPT", "PPT", nil}, other()}, []string{MethodFile}},
	{Term{"spreadsheet", "电子表格", "spreadsheet", []string{"表格"}}, []Term{
		{"et", "ET", "ET", nil}, {"xls", "XLS", "XLS", nil}, {"xlsx", "XLSX", "XLSX", nil}, other()}, []string{MethodFile}},
	{Term{"database", "数据库", "database", nil}, []Term{
		{"dm", "达梦 DM", "DM", []string{"dm", "达梦"}}, {"kingbase", "KingbaseES", "KingbaseES", []string{"人大金仓"}},
		{"access", "Access", "Access", nil}, {"dbf", "DBF", "DBF", nil}, {"dbase", "dBase", "dBase", nil},
		{"sybase", "Sybase", "Sybase", []string{"sysbase"}}, {"oracle", "Oracle", "Oracle", nil},
		{"sqlserver", "SQL Server", "SQL Server", nil}, {"db2", "DB2", "DB2", nil}, other()},
		[]string{MethodTable, MethodAPI}},
	{Term{"image", "图形图像", "image", []string{"图像"}}, []Term{
		{"jpg", "JPG", "JPG", []string{"jpeg"}}, {"gif", "GIF", "GIF", nil}, {"bmp", "BMP", "BMP", nil}, other()}, []string{MethodFile}},
	{Term{"media", "流媒体", "streaming media", nil}, []Term{
		{"swf", "SWF", "SWF", nil}, {"rm", "RM", "RM", nil}, {"mpg", "MPG", "MPG", nil}, other()}, []string{MethodFile}},
	{Term{"selfdescribing", "自描述格式", "self-describing", nil}, []Term{
		{"json", "JSON", "JSON", nil}, {"csv", "CSV", "CSV", nil}, other()}, []string{MethodFile, MethodAPI}},
	{Term{"service", "服务接口", "service interface", []string{"接口"}}, []Term{
		{"rest", "RESTful", "RESTful", []string{"http"}}, {"soap", "WebService", "WebService (SOAP)", []string{"webservice"}}, other()},
		[]string{MethodAPI}},
}

// FormatClasses returns the format classes as plain terms.
func FormatClasses() []Term {
	out := make([]Term, len(Formats))
	for i, f := range Formats {
		out[i] = f.Term
	}
	return out
}

func formatOf(code string) (FormatClass, bool) {
	for _, f := range Formats {
		if f.Code == code {
			return f, true
		}
	}
	return FormatClass{}, false
}

// Grades is the default value set of data grades (数据分级, DB33/T 2351-2021).
var Grades = []Term{
	{"L1", "L1 不敏感", "L1 not sensitive", []string{"一级", "1"}},
	{"L2", "L2 低敏感", "L2 low sensitivity", []string{"二级", "2"}},
	{"L3", "L3 较敏感", "L3 sensitive", []string{"三级", "3"}},
	{"L4", "L4 敏感", "L4 highly sensitive", []string{"四级", "4"}},
}

// GradeRule says what a grade allows: the share and open types an entry of
// the grade may have, and whether its sensitive data items must carry a
// masking rule when the entry is opened.
type GradeRule struct {
	Term
	Share        []string `json:"share" doc:"allowed share types"`
	Open         []string `json:"open" doc:"allowed open types"`
	MaskRequired bool     `json:"mask_required" doc:"sensitive items need a masking rule when the entry is opened"`
}

// GradePolicy is the grade → allowed share/open types → masking table. One
// installation may replace it through Options.Grades.
type GradePolicy struct {
	Rules []GradeRule `json:"rules"`
}

// DefaultGradePolicy returns the default policy: L1 may be shared and opened
// unconditionally; L2 and L3 open only on conditions, with masking; L3 and
// L4 are shared only on conditions (confirm); L4 is never opened.
func DefaultGradePolicy() *GradePolicy {
	all := []string{ShareUnconditional, ShareConditional, ShareNone}
	cond := []string{ShareConditional, ShareNone}
	return &GradePolicy{Rules: []GradeRule{
		{Term: Grades[0], Share: all, Open: []string{OpenUnconditional, OpenConditional, OpenNone}},
		{Term: Grades[1], Share: all, Open: []string{OpenConditional, OpenNone}, MaskRequired: true},
		{Term: Grades[2], Share: cond, Open: []string{OpenConditional, OpenNone}, MaskRequired: true},
		{Term: Grades[3], Share: cond, Open: []string{OpenNone}, MaskRequired: true},
	}}
}

// Rule returns the rule of grade.
func (g *GradePolicy) Rule(grade string) (GradeRule, bool) {
	for _, r := range g.Rules {
		if r.Code == grade {
			return r, true
		}
	}
	return GradeRule{}, false
}

// Terms lists the policy's grades as terms.
func (g *GradePolicy) Terms() []Term {
	out := make([]Term, len(g.Rules))
	for i, r := range g.Rules {
		out[i] = r.Term
	}
	return out
}

// check reports a policy that names unknown share or open types or repeats
// a grade.
func (g *GradePolicy) check() error {
	if len(g.Rules) == 0 {
		return fmt.Errorf("catalog: grade policy without grades")
	}
	seen := map[string]bool{}
	for _, r := range g.Rules {
		if r.Code == "" || seen[r.Code] {
			return fmt.Errorf("catalog: grade policy: empty or repeated grade %q", r.Code)
		}
		seen[r.Code] = true
		for _, s := range r.Share {
			if !has(ShareTypes, s) {
				return fmt.Errorf("catalog: grade policy %s: unknown share type %q", r.Code, s)
			}
		}
		for _, o := range r.Open {
			if !has(OpenTypes, o) {
				return fmt.Errorf("catalog: grade policy %s: unknown open type %q", r.Code, o)
			}
		}
	}
	return nil
}

// Vocabulary is every value set of the catalog, as the console, the importer
// and the spreadsheet template list them.
type Vocabulary struct {
	Attributes    []Attribute   `json:"attributes"`
	Formats       []FormatClass `json:"formats"`
	DataTypes     []Term        `json:"data_types"`
	ShareTypes    []Term        `json:"share_types"`
	ShareMethods  []Term        `json:"share_methods"`
	ShareChannels []Term        `json:"share_channels"`
	OpenTypes     []Term        `json:"open_types"`
	Cycles        []Term        `json:"cycles"`
	MaskRules     []Term        `json:"mask_rules"`
	Statuses      []Term        `json:"statuses"`
	Scopes        []Term        `json:"scopes"`
	Grades        []GradeRule   `json:"grades" doc:"the grade policy in force"`
}

// Vocabulary returns the value sets with the grade policy in force.
func (s *Service) Vocabulary() Vocabulary {
	return Vocabulary{
		Attributes: Attributes, Formats: Formats, DataTypes: DataTypes, ShareTypes: ShareTypes,
		ShareMethods: ShareMethods, ShareChannels: ShareChannels, OpenTypes: OpenTypes, Cycles: Cycles,
		MaskRules: MaskRules, Statuses: Statuses, Scopes: Scopes, Grades: slices.Clone(s.grades.Rules),
	}
}

// GradePolicy returns the grade policy in force.
func (s *Service) GradePolicy() GradePolicy {
	return GradePolicy{Rules: slices.Clone(s.grades.Rules)}
}
