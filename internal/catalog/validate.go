package catalog

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/org"
	"xiangyun/internal/valid"
)

// Limits of an entry.
const (
	MaxItems   = 500
	MaxRelated = 50
)

var (
	classRE  = regexp.MustCompile(`^([123])/(\d{2})/(\d{3})(/\d{1,6})?$`)
	enNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
)

// structured formats hold records, which need a key item.
var structured = []string{"database", "spreadsheet", "selfdescribing", "service"}

// ValidateInput checks in against every catalog rule without writing
// anything; the error is an *errs.Error whose Fields name each problem. The
// field names are stable (name, class, provider_id, provider_code,
// abstract, format_class, format_type, items, items[i].name,
// items[i].data_type …, share_type, share_condition, share_method,
// share_channel, open_type, open_condition, cycle, grade, related[i],
// classified) so that an importer can map them to its columns.
//
// Coded fields accept the code, the Chinese or the English label (see
// Parse); Create and Update store the code.
func (s *Service) ValidateInput(ctx context.Context, in EntryInput) error {
	var fs errs.Fields
	if _, err := s.newChecker().check(ctx, &in, "", "", &fs); err != nil {
		return err
	}
	return fs.Err()
}

// checker validates inputs, remembering the bodies and codes it looked up
// so that a batch costs one lookup per provider. A lookup that fails for
// any reason but "no such row" is a storage failure, kept in err and
// returned by check: it must answer 503, never "the provider does not
// exist".
type checker struct {
	s      *Service
	bodies map[int64]*org.Body
	byCode map[string]*org.Body
	codes  map[string]bool
	err    error
}

// fail keeps the first storage failure.
func (c *checker) fail(err error) {
	if c.err == nil {
		c.err = db.Check(err)
	}
}

func (s *Service) newChecker() *checker {
	return &checker{s: s, bodies: map[int64]*org.Body{}, byCode: map[string]*org.Body{}, codes: map[string]bool{}}
}

func (c *checker) body(ctx context.Context, id int64) *org.Body {
	if b, ok := c.bodies[id]; ok {
		return b
	}
	b, err := c.s.orgs.Body(ctx, id)
	switch {
	case errors.Is(err, org.ErrBodyNotFound):
		c.bodies[id] = nil
		return nil
	case err != nil:
		c.fail(err)
		return nil // not remembered: unknown, not absent
	}
	c.bodies[id] = &b
	return &b
}

func (c *checker) bodyByCode(ctx context.Context, code string) *org.Body {
	if b, ok := c.byCode[code]; ok {
		return b
	}
	bs, _, err := c.s.orgs.Bodies(ctx, org.BodyFilter{Q: code})
	if err != nil {
		c.fail(err)
		return nil
	}
	var bp *org.Body
	for _, b := range bs {
		if b.CreditCode == code {
			bp = &b
			break
		}
	}
	c.byCode[code] = bp
	return bp
}

// exists reports which of codes are entry codes.
func (c *checker) exists(ctx context.Context, codes []string) map[string]bool {
	var ask []string
	for _, code := range codes {
		if _, ok := c.codes[code]; !ok {
			ask = append(ask, code)
		}
	}
	if len(ask) > 0 {
		if err := c.lookupCodes(ctx, ask); err != nil {
			c.fail(err)
			return map[string]bool{} // unknown; the caller reports c.err
		}
	}
	return c.codes
}

func (c *checker) lookupCodes(ctx context.Context, ask []string) error {
	q, args := db.InList(`SELECT code FROM entries WHERE code IN `, ask)
	rows, err := c.s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	found := map[string]bool{}
	for rows.Next() {
		var code string
		if err := rows.Scan(&code); err != nil {
			return err
		}
		found[code] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, code := range ask {
		c.codes[code] = found[code]
	}
	return nil
}

// check normalises in (trimmed text, codes for labels, defaults) and adds
// every problem to fs, each field name prefixed with prefix. self is the
// entry's own code when revising. It returns the provider when found, and
// an error when a lookup failed (then fs may hold spurious problems).
func (c *checker) check(ctx context.Context, in *EntryInput, prefix, self string, fs *errs.Fields) (*org.Body, error) {
	f := func(name string) string { return prefix + name }
	add := func(field, code, zh, en string) { fs.Add(f(field), code, zh, en) }

	if in.Classified {
		add("classified", "catalog.classified", "涉密信息资源不得在本平台编目", "classified (涉密) resources may not be catalogued on this platform")
	}
	in.Name = valid.Line(fs, f("name"), "信息资源名称", in.Name, 2, 100)
	in.Abstract = valid.Text(fs, f("abstract"), in.Abstract, 1, 2000)

	// Classification (信息资源分类).
	in.Class = strings.ReplaceAll(strings.TrimSpace(in.Class), "／", "/")
	if in.Class == "" {
		add("class", "required", "必填", "is required")
	} else if m := classRE.FindStringSubmatch(in.Class); m == nil {
		add("class", "catalog.class_format", "信息资源分类须为 类/项/目[/细目]，如 1/01/001（类：1 基础、2 主题、3 部门；项 2 位；目 3 位）",
			"the classification must be class/item/category[/subcategory], e.g. 1/01/001 (class 1 base, 2 theme, 3 department; item 2 digits; category 3 digits)")
	} else if a, _ := attributeOf(m[1]); len(a.Items) > 0 && !has(a.Items, m[2]) {
		add("class", "catalog.class_item", "资源属性「"+a.ZH+"」下没有项 "+m[2]+"（可选："+codes(a.Items)+"）",
			"the "+a.EN+" attribute has no item "+m[2]+" (allowed: "+codes(a.Items)+")")
	}

	// Provider (信息资源提供方).
	in.ProviderCode = strings.ToUpper(strings.TrimSpace(in.ProviderCode))
	var provider *org.Body
	switch {
	case in.ProviderID != 0:
		if provider = c.body(ctx, in.ProviderID); provider == nil {
			add("provider_id", "catalog.provider_not_found", "提供方机构不存在", "the provider body does not exist")
		} else if in.ProviderCode != "" && in.ProviderCode != provider.CreditCode {
			add("provider_code", "catalog.provider_code_mismatch", "提供方代码与提供方机构的统一社会信用代码不一致",
				"the provider code does not match the provider's unified social credit code")
		}
	case in.ProviderCode != "":
		if provider = c.bodyByCode(ctx, in.ProviderCode); provider == nil {
			add("provider_code", "catalog.provider_not_found", "没有该统一社会信用代码的机构", "no body has this unified social credit code")
		} else {
			in.ProviderID = provider.ID
		}
	default:
		add("provider_id", "required", "必填", "is required")
	}
	if provider != nil && !provider.Enabled {
		add("provider_id", "catalog.provider_disabled", "提供方机构已停用", "the provider body is disabled")
	}

	// Format (信息资源格式).
	var format *FormatClass
	if t, ok := parseCode(Parse(FormatClasses(), in.FormatClass)); ok {
		in.FormatClass = t
		fc, _ := formatOf(t)
		format = &fc
		if t, ok := parseCode(Parse(fc.Types, in.FormatType)); ok {
			in.FormatType = t
		} else if strings.TrimSpace(in.FormatType) == "" {
			add("format_type", "required", "必填", "is required")
		} else {
			add("format_type", "catalog.format_type", "「"+fc.ZH+"」的格式类型须为："+labels(fc.Types), "the format type of "+fc.EN+" must be one of: "+codes(fc.Types))
		}
	} else {
		c.badCode(fs, f("format_class"), in.FormatClass, "信息资源格式", FormatClasses())
	}

	var grade GradeRule
	var gradeOK bool
	if t, ok := parseCode(Parse(c.gradeTerms(), in.Grade)); ok {
		in.Grade = t
		grade, gradeOK = c.s.grades.Rule(t)
	} else {
		c.badCode(fs, f("grade"), in.Grade, "数据分级", c.s.grades.Terms())
	}

	// Share (共享属性).
	in.ShareCondition = valid.Text(fs, f("share_condition"), in.ShareCondition, 0, 1000)
	if t, ok := parseCode(Parse(ShareTypes, in.ShareType)); ok {
		in.ShareType = t
		switch t {
		case ShareUnconditional:
			if in.ShareCondition == "" {
				in.ShareCondition = "无条件"
			}
		case ShareConditional:
			if in.ShareCondition == "" && !fs.Has(f("share_condition")) {
				add("share_condition", "catalog.share_condition_required", "有条件共享须写明共享条件", "conditional sharing needs its conditions")
			}
		case ShareNone:
			if in.ShareCondition == "" && !fs.Has(f("share_condition")) {
				add("share_condition", "catalog.share_basis_required", "不予共享须写明法律、行政法规或政策依据",
					"a resource that is not shared needs its legal or policy basis")
			}
			in.ShareMethod, in.ShareChannel = "", ""
		}
		if t != ShareNone {
			c.shareMethod(in, format, prefix, fs)
		}
		if gradeOK && !slices.Contains(grade.Share, t) {
			add("share_type", "catalog.grade_share", "数据分级 "+grade.Code+" 不允许「"+label(ShareTypes, t)+"」（允许："+labelList(ShareTypes, grade.Share)+"）",
				"grade "+grade.Code+" does not allow "+t+" sharing (allowed: "+strings.Join(grade.Share, ", ")+")")
		}
	} else {
		c.badCode(fs, f("share_type"), in.ShareType, "共享类型", ShareTypes)
	}

	// Open (开放属性).
	in.OpenCondition = valid.Text(fs, f("open_condition"), in.OpenCondition, 0, 1000)
	if t, ok := parseCode(Parse(OpenTypes, in.OpenType)); ok {
		in.OpenType = t
		switch t {
		case OpenConditional:
			if in.OpenCondition == "" && !fs.Has(f("open_condition")) {
				add("open_condition", "catalog.open_condition_required", "有条件开放须写明开放条件", "conditional opening needs its conditions")
			}
		case OpenNone:
			if in.OpenCondition == "" && !fs.Has(f("open_condition")) {
				add("open_condition", "catalog.open_basis_required", "不予开放须写明依据", "a resource that is not opened needs its basis")
			}
		}
		if gradeOK && !slices.Contains(grade.Open, t) {
			add("open_type", "catalog.grade_open", "数据分级 "+grade.Code+" 不允许「"+label(OpenTypes, t)+"」（允许："+labelList(OpenTypes, grade.Open)+"）",
				"grade "+grade.Code+" does not allow "+t+" opening (allowed: "+strings.Join(grade.Open, ", ")+")")
		}
	} else {
		c.badCode(fs, f("open_type"), in.OpenType, "开放属性", OpenTypes)
	}

	if t, ok := parseCode(Parse(Cycles, in.Cycle)); ok {
		in.Cycle = t
	} else {
		c.badCode(fs, f("cycle"), in.Cycle, "更新周期", Cycles)
	}

	maskRequired := gradeOK && grade.MaskRequired && in.OpenType != OpenNone && has(OpenTypes, in.OpenType)
	c.items(in, format, maskRequired, prefix, fs)
	c.related(ctx, in, prefix, self, fs)
	return provider, c.err
}

func (c *checker) gradeTerms() []Term {
	ts := c.s.grades.Terms()
	for i, t := range ts {
		if d, ok := Lookup(Grades, t.Code); ok && len(t.Alt) == 0 {
			ts[i].Alt = d.Alt
		}
	}
	return ts
}

func (c *checker) badCode(fs *errs.Fields, field, v, zh string, set []Term) {
	if strings.TrimSpace(v) == "" {
		fs.Add(field, "required", "必填", "is required")
		return
	}
	fs.Add(field, "catalog.unknown_value", zh+"须为："+labels(set), "must be one of: "+codes(set))
}

func (c *checker) shareMethod(in *EntryInput, format *FormatClass, prefix string, fs *errs.Fields) {
	if t, ok := parseCode(Parse(ShareMethods, in.ShareMethod)); ok {
		in.ShareMethod = t
		if format != nil && !slices.Contains(format.Methods, t) {
			fs.Add(prefix+"share_method", "catalog.share_method_format",
				"「"+format.ZH+"」格式的资源须以"+labelList(ShareMethods, format.Methods)+"方式共享",
				"a "+format.EN+" resource must be shared by "+strings.Join(format.Methods, " or "))
		}
	} else if strings.TrimSpace(in.ShareMethod) == "" {
		fs.Add(prefix+"share_method", "catalog.share_method_required", "共享的资源须选择共享方式（接口、库表或文件）", "a shared resource needs a share method (api, table or file)")
	} else {
		c.badCode(fs, prefix+"share_method", in.ShareMethod, "共享方式", ShareMethods)
	}
	if strings.TrimSpace(in.ShareChannel) == "" {
		in.ShareChannel = "platform"
	} else if t, ok := parseCode(Parse(ShareChannels, in.ShareChannel)); ok {
		in.ShareChannel = t
	} else {
		c.badCode(fs, prefix+"share_channel", in.ShareChannel, "共享渠道", ShareChannels)
	}
}

func (c *checker) items(in *EntryInput, format *FormatClass, maskRequired bool, prefix string, fs *errs.Fields) {
	switch {
	case len(in.Items) == 0:
		fs.Add(prefix+"items", "catalog.items_required", "须至少有一个信息项", "at least one data item is required")
		return
	case len(in.Items) > MaxItems:
		fs.Add(prefix+"items", "catalog.items_too_many", "信息项不能超过 "+strconv.Itoa(MaxItems)+" 个", "at most "+strconv.Itoa(MaxItems)+" data items")
		return
	}
	names, enNames := map[string]bool{}, map[string]bool{}
	keys := 0
	for i := range in.Items {
		it := &in.Items[i]
		f := prefix + "items[" + strconv.Itoa(i) + "]."
		it.Name = valid.Line(fs, f+"name", "信息项名称", it.Name, 1, 50)
		if k := strings.ToLower(it.Name); it.Name != "" && names[k] {
			fs.Add(f+"name", "catalog.item_duplicate", "信息项名称「"+it.Name+"」重复", "the data item name "+it.Name+" is repeated")
		} else {
			names[k] = true
		}
		if it.EnName = strings.TrimSpace(it.EnName); it.EnName != "" {
			if !enNameRE.MatchString(it.EnName) {
				fs.Add(f+"en_name", "catalog.item_en_name", "英文名称须以字母开头，只含字母、数字和下划线，不超过 64 个字符",
					"the English name must start with a letter and hold only letters, digits and _ (at most 64)")
			} else if k := strings.ToLower(it.EnName); enNames[k] {
				fs.Add(f+"en_name", "catalog.item_duplicate", "英文名称「"+it.EnName+"」重复", "the English name "+it.EnName+" is repeated")
			} else {
				enNames[k] = true
			}
		}
		if t, ok := parseCode(Parse(DataTypes, it.DataType)); ok {
			it.DataType = t
			if it.Length == 0 && slices.Contains(lengthTypes, t) {
				fs.Add(f+"length", "catalog.item_length_required", "字符型和数值型信息项须填写数据长度", "character and numeric items need a length")
			}
		} else {
			c.badCode(fs, f+"data_type", it.DataType, "数据类型", DataTypes)
		}
		if it.Length < 0 || it.Length > 1_000_000 {
			fs.Add(f+"length", "catalog.item_length", "数据长度须在 0 到 1000000 之间", "the length must be between 0 and 1000000")
		}
		if strings.TrimSpace(it.Mask) == "" {
			it.Mask = "none"
		} else if t, ok := parseCode(Parse(MaskRules, it.Mask)); ok {
			it.Mask = t
		} else {
			c.badCode(fs, f+"mask", it.Mask, "脱敏规则", MaskRules)
		}
		it.CodeList = valid.Line(fs, f+"code_list", "代码表", it.CodeList, 0, 100)
		if it.Key {
			it.Required = true
			keys++
		}
		if maskRequired && it.Sensitive && it.Mask == "none" {
			fs.Add(f+"mask", "catalog.mask_required", "该等级的资源开放时，敏感信息项须设置脱敏规则",
				"a sensitive item of a resource of this grade needs a masking rule when the resource is opened")
		}
	}
	if keys == 0 && format != nil && slices.Contains(structured, format.Code) {
		fs.Add(prefix+"items", "catalog.key_required", "「"+format.ZH+"」格式的资源须至少有一个主键（唯一标识）信息项",
			"a "+format.EN+" resource needs at least one key data item")
	}
}

func (c *checker) related(ctx context.Context, in *EntryInput, prefix, self string, fs *errs.Fields) {
	var out []string
	for _, r := range in.Related {
		if r = strings.TrimSpace(r); r != "" && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	in.Related = out
	if len(out) > MaxRelated {
		fs.Add(prefix+"related", "catalog.related_too_many", "关联资源不能超过 "+strconv.Itoa(MaxRelated)+" 个", "at most "+strconv.Itoa(MaxRelated)+" related entries")
		return
	}
	known := c.exists(ctx, out)
	for i, r := range out {
		f := prefix + "related[" + strconv.Itoa(i) + "]"
		switch {
		case r == self:
			fs.Add(f, "catalog.related_self", "不能关联自身", "an entry cannot relate to itself")
		case !known[r]:
			fs.Add(f, "catalog.related_not_found", "关联资源代码 "+r+" 不存在", "no entry has the code "+r)
		}
	}
}

func parseCode(t Term, ok bool) (string, bool) { return t.Code, ok }

func label(set []Term, code string) string {
	if t, ok := Lookup(set, code); ok {
		return t.ZH
	}
	return code
}

func labelList(set []Term, cs []string) string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = label(set, c)
	}
	return strings.Join(out, "、")
}

func labels(set []Term) string {
	out := make([]string, len(set))
	for i, t := range set {
		out[i] = t.ZH
	}
	return strings.Join(out, "、")
}
