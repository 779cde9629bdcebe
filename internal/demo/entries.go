package demo

import (
	"math/rand/v2"
	"strconv"
	"strings"

	"xiangyun/internal/catalog"
	"xiangyun/internal/ident"
	"xiangyun/internal/org"
)

// Demo data: realistic entries of Jilin's departments, for the demo
// installation and the 150,000-entry benchmark. Every generated entry
// passes ValidateInput under the default grade policy.

// demoItemSpecs is the data item dictionary: name|en_name|type|length|mask|code list.
// An item with a masking rule is sensitive.
var demoItemSpecs = []string{
	// people
	"姓名|xm|C|50|name", "公民身份号码|gmsfhm|C|18|id_card", "性别|xb|C|1||GB/T 2261.1", "民族|mz|C|2||GB/T 3304",
	"出生日期|csrq|D", "户籍地址|hjdz|C|200|address", "现住址|xzz|C|200|address", "联系电话|lxdh|C|20|mobile",
	"婚姻状况|hyzk|C|2||GB/T 2261.2", "文化程度|whcd|C|2||GB/T 4658", "籍贯|jg|C|6||GB/T 2260", "户号|hh|C|20",
	"与户主关系|yhzgx|C|2||GB/T 4761", "死亡日期|swrq|D", "迁入日期|qrrq|D", "迁出日期|qcrq|D", "迁入原因|qryy|C|2",
	"居住证编号|jzzbh|C|30", "签发日期|qfrq|D", "有效期至|yxqz|D", "电子邮箱|dzyx|C|100|email", "银行账号|yhzh|C|30|bank_card",
	// vehicles and traffic
	"机动车号牌|jdchp|C|10|plate", "号牌种类|hpzl|C|2||GA 24.7", "机动车所有人|jdcsyr|C|100|name", "车辆类型|cllx|C|3||GA 24.4",
	"车辆识别代号|clsbdh|C|17", "驾驶证号|jszh|C|18|id_card", "准驾车型|zjcx|C|10", "违法时间|wfsj|T", "违法地点|wfdd|C|200",
	"违法行为|wfxw|C|100", "罚款金额|fkje|Y", "记分|jf|I",
	// legal entities
	"统一社会信用代码|tyshxydm|C|18", "企业名称|qymc|C|200", "法定代表人|fddbr|C|50|name", "注册资本|zczb|Y", "成立日期|clrq|D",
	"企业类型|qylx|C|4", "经营范围|jyfw|M", "住所|zs|C|200", "登记机关|djjg|C|100", "登记状态|djzt|C|2", "核准日期|hzrq|D",
	"营业期限自|yyqxq|D", "营业期限至|yyqxz|D", "行业代码|hydm|C|5||GB/T 4754", "从业人数|cyrs|I", "经营者姓名|jyzxm|C|50|name",
	"字号名称|zhmc|C|200", "组成形式|zcxs|C|2", "行政相对人名称|xzxdrmc|C|200", "行政许可决定书文号|xzxkjdswh|C|50", "许可内容|xknr|M",
	"许可机关|xkjg|C|100", "许可决定日期|xkjdrq|D", "行政处罚决定书文号|xzcfjdswh|C|50", "违法行为类型|wfxwlx|C|100",
	"处罚内容|cfnr|M", "处罚决定日期|cfjdrq|D", "抽查事项|ccsx|C|200", "抽查结果|ccjg|C|100", "食品经营许可证编号|spjyxkzbh|C|30",
	"设备类别|sblb|C|20", "使用登记证号|sydjzh|C|30", "设备使用地点|sbsydd|C|200",
	// social insurance and employment
	"个人编号|grbh|C|20", "参保单位编号|cbdwbh|C|20", "单位名称|dwmc|C|200", "参保险种|cbxz|C|3", "参保状态|cbzt|C|2",
	"缴费基数|jfjs|Y", "缴费月数|jfys|I", "参保日期|cbrq|D", "缴费年月|jfny|C|6", "个人缴费金额|grjfje|Y", "单位缴费金额|dwjfje|Y",
	"社会保障卡号|shbzkh|C|20|redact", "待遇享受状态|dyxszt|C|2", "养老金月领取额|yljylqe|Y", "失业保险金领取金额|syjlqje|Y",
	"领取起始年月|lqqsny|C|6", "发卡日期|fkrq|D", "发卡银行|fkyh|C|100", "就业登记日期|jydjrq|D", "就业形式|jyxs|C|2",
	"职业工种|zygz|C|100", "证书编号|zsbh|C|30", "技能等级|jndj|C|2", "发证机构|fzjgmc|C|100",
	// health
	"出生医学证明编号|csyxzmbh|C|20", "新生儿姓名|xsexm|C|50|name", "出生时间|cssj|T", "出生地点|csdd|C|200",
	"母亲姓名|mqxm|C|50|name", "母亲身份证号|mqsfzh|C|18|id_card", "父亲姓名|fqxm|C|50|name", "父亲身份证号|fqsfzh|C|18|id_card",
	"出生体重|cstz|N|5", "医疗机构名称|yljgmc|C|200", "医疗机构代码|yljgdm|C|22", "诊疗科目|zlkm|C|200", "床位数|cws|I",
	"医师执业证书编码|yszyzsbm|C|30", "执业类别|zylb|C|2", "执业范围|zyfw|C|100", "执业地点|zydd|C|200",
	"疫苗名称|ymmc|C|100", "疫苗批号|ympc|C|30", "接种日期|jzrq|D", "接种剂次|jzjc|I", "接种单位|jzdw|C|200",
	"死亡原因|swyy|C|200|redact", "死亡地点|swdd|C|200",
	// education
	"学校名称|xxmc|C|200", "学校标识码|xxbsm|C|10", "学籍号|xjh|C|20", "学生姓名|xsxm|C|50|name", "入学年月|rxny|C|6",
	"年级|nj|C|2", "班级|bj|C|20", "学历层次|xlcc|C|2", "毕业证书编号|byzsbh|C|30", "毕业日期|byrq|D", "专业名称|zymc|C|100",
	"办学类型|bxlx|C|3", "在校生数|zxss|I", "教职工数|jzgs|I", "资格种类|zgzl|C|20", "任教学科|rjxk|C|50",
	// civil affairs
	"婚姻登记类别|hydjlb|C|2", "登记日期|djrq|D", "结婚证字号|jhzzh|C|30", "男方姓名|nfxm|C|50|name",
	"男方身份证号|nfsfzh|C|18|id_card", "女方姓名|vfxm|C|50|name", "女方身份证号|vfsfzh|C|18|id_card", "低保证号|dbzh|C|30",
	"保障人数|bzrs|I", "保障金额|bzje|Y", "社会组织名称|shzzmc|C|200", "社会组织类型|shzzlx|C|2", "业务主管单位|ywzgdw|C|200",
	"火化日期|hhrq|D", "殡仪馆名称|bygmc|C|200",
	// land, housing, real estate
	"宗地代码|zddm|C|19", "坐落|zl|C|200|address", "宗地面积|zdmj|N|15", "土地用途|tdyt|C|4||GB/T 21010", "权利类型|qllx|C|2",
	"权利人名称|qlrmc|C|200|name", "权利人证件号码|qlrzjhm|C|30|id_card", "不动产单元号|bdcdyh|C|28", "不动产权证号|bdcqzh|C|50",
	"建筑面积|jzmj|N|15", "房屋用途|fwyt|C|4", "登记时间|djsj|T", "抵押权人|dyqr|C|200", "抵押金额|dyje|Y", "债务履行期限|zwlxqx|C|50",
	"出让面积|crmj|N|15", "出让价款|crjk|Y", "受让人|srr|C|200", "合同签订日期|htqdrq|D", "规划许可证号|ghxkzh|C|50",
	"用地单位|yddw|C|200", "建设规模|jsgm|C|200", "矿业权人|kyqr|C|200", "矿种|kz|C|20", "矿区面积|kqmj|N|15", "有效期限|yxqx|C|50",
	"图斑编号|tbbh|C|20", "地类编码|dlbm|C|4||GB/T 21010", "图斑面积|tbmj|N|15",
	"项目名称|xmmc|C|200", "施工许可证编号|sgxkzbh|C|30", "建设单位|jsdw|C|200", "施工单位|sgdw|C|200", "合同价格|htjg|Y",
	"开工日期|kgrq|D", "竣工日期|jgrq|D", "预售许可证号|ysxkzh|C|50", "预售面积|ysmj|N|15", "公积金账号|gjjzh|C|20|redact",
	"缴存基数|jcjs|Y", "缴存余额|jcye|Y", "资质证书编号|zzzsbh|C|30", "资质等级|zzdj|C|20",
	// transport
	"经营许可证号|jyxkzh|C|30", "道路运输证号|dlyszh|C|20", "从业资格证号|cyzgzh|C|30", "线路名称|xlmc|C|100", "站点名称|zdmc|C|100",
	"首班时间|sbsj|C|5", "末班时间|mbsj|C|5", "票价|pj|Y", "经度|jd|B", "纬度|wd|B", "营运里程|yylc|N|10",
	// tax and medical insurance
	"纳税人识别号|nsrsbh|C|20", "纳税人名称|nsrmc|C|200", "纳税信用等级|nsxydj|C|1", "评价年度|pjnd|C|4", "税种|sz|C|10",
	"应纳税额|ynse|Y", "实缴税额|sjse|Y", "所属期起|ssqq|D", "所属期止|ssqz|D", "主管税务机关|zgswjg|C|100", "发票代码|fpdm|C|12",
	"发票号码|fphm|C|8", "开票日期|kprq|D", "价税合计|jshj|Y", "医保编码|ybbm|C|30", "参保人员类别|cbrylb|C|2",
	"定点医药机构编码|dddyjgbm|C|20", "定点医药机构名称|dddyjgmc|C|200", "结算日期|jsrq|D", "医疗费用总额|ylfyze|Y",
	"统筹基金支付|tcjjzf|Y", "个人自付金额|grzfje|Y", "就诊类型|jzlx|C|2", "诊断名称|zdmc2|C|200|redact",
	// statistics and environment
	"指标名称|zbmc|C|100", "指标代码|zbdm|C|20", "统计时期|tjsq|C|10", "计量单位|jldw|C|20", "指标值|zbz|N|20",
	"地区名称|dqmc|C|50", "同比增长|tbzz|F", "排污单位名称|pwdwmc|C|200", "排污许可证编号|pwxkzbh|C|30", "监测点位名称|jcdwmc|C|100",
	"监测时间|jcsj|T", "监测项目|jcxm|C|50", "监测值|jcz|F", "排放标准|pfbz|C|50", "是否超标|sfcb|L", "空气质量指数|kqzlzs|I",
	"首要污染物|sywrw|C|20",
	// utilities
	"用户编号|yhbh|C|20", "户名|hm|C|100|name", "用户地址|yhdz|C|200|address", "抄表日期|cbrq2|D", "用量|yl|N|12",
	"应缴金额|yjje|Y", "缴费状态|jfzt|C|2", "欠费金额|qfje|Y", "表计编号|bjbh|C|30", "基站编号|jzbh|C|30", "覆盖区域|fgqy|C|200",
	// services, licences, others
	"事项名称|sxmc|C|200", "事项编码|sxbm|C|40", "申请人名称|sqrmc|C|200|name", "申请人证件号码|sqrzjhm|C|30|id_card",
	"受理日期|slrq|D", "办结日期|bjrq|D", "办理结果|bljg|C|20", "办理部门|blbm|C|100", "职权名称|zqmc|C|200", "职权类型|zqlx|C|20",
	"实施依据|ssyj|M", "信息名称|xxmc2|C|200", "公开方式|gkfs|C|50", "公开时限|gksx|C|50", "发布日期|fbrq|D", "预算科目|yskm|C|50", "预算金额|ysje|Y",
	"执法类别|zflb|C|20", "执法对象|zfdx|C|200", "执法结果|zfjg|C|200", "律师姓名|lsxm|C|50|name", "执业证号|zyzh|C|30",
	"执业机构|zyjg|C|200", "公证机构名称|gzjgmc|C|200", "景区名称|jqmc|C|200", "景区等级|jqdj|C|2", "旅行社名称|lxsmc|C|200",
	"许可证编号|xkzbh|C|30", "承包方代表|cbfdb|C|50|name", "承包地块面积|cbdkmj|N|12", "退役时间|tysj|D", "服役部队|fybd|C|200|redact",
	"采购项目名称|cgxmmc|C|200", "供应商名称|gysmc|C|200", "合同金额|htje|Y", "项目代码|xmdm|C|24", "总投资|ztz|Y", "建设地点|jsdd|C|200",
	"形象进度|xxjd|C|200",
	// extras that pad any entry
	"数据来源|sjly|C|100", "数据更新时间|sjgxsj|T", "记录创建时间|jlcjsj|T", "记录状态|jlzt|C|2", "经办机构|jbjg|C|100",
	"经办人|jbr|C|50|name", "办理日期|blrq|D", "业务流水号|ywlsh|C|32", "备注|bz|M", "行政区划代码|xzqhdm|C|6||GB/T 2260",
	"所属区域|ssqy|C|50", "审核人|shr|C|50|name", "审核日期|shrq|D", "审核意见|shyj|C|500", "有效标志|yxbz|L", "附件|fj|G",
	"版本号|bbh|I", "源系统标识|yxtbs|C|20", "统计年度|tjnd|C|4", "信息采集单位|xxcjdw|C|100", "采集日期|cjrq|D",
	"联系人|lxr|C|50|name", "单位地址|dwdz|C|200", "邮政编码|yzbm|C|6", "传真号码|czhm|C|20|landline", "办公电话|bgdh|C|20|landline",
	"网址|wz|C|200", "外文名称|wwmc|C|200", "批准文号|pzwh|C|50", "发证机关|fzjg|C|100", "发证日期|fzrq|D",
	"有效期起始日期|yxqqsrq|D", "有效期截止日期|yxqjzrq|D", "证照状态|zzzt|C|2", "注销日期|zxrq|D", "注销原因|zxyy|C|200",
	"变更事项|bgsx|C|100", "变更前内容|bgqnr|M", "变更后内容|bghnr|M", "变更日期|bgrq|D", "数据校验码|sjjym|C|64",
	"登记机构|djjgou|C|100", "处理状态|clzt|C|2",
}

// demoPad lists the items that pad entries up to their size.
var demoPad = []string{"数据来源", "数据更新时间", "记录创建时间", "记录状态", "经办机构", "经办人", "办理日期", "备注", "行政区划代码",
	"所属区域", "审核人", "审核日期", "审核意见", "有效标志", "附件", "版本号", "源系统标识", "统计年度", "信息采集单位", "采集日期",
	"联系人", "单位地址", "邮政编码", "传真号码", "办公电话", "网址", "外文名称", "批准文号", "发证机关", "发证日期", "有效期起始日期",
	"有效期截止日期", "证照状态", "注销日期", "注销原因", "变更事项", "变更前内容", "变更后内容", "变更日期", "数据校验码", "登记机构",
	"处理状态"}

var demoItems = func() map[string]catalog.Item {
	m := make(map[string]catalog.Item, len(demoItemSpecs))
	for _, spec := range demoItemSpecs {
		f := strings.Split(spec, "|")
		for len(f) < 6 {
			f = append(f, "")
		}
		n, _ := strconv.Atoi(f[3])
		it := catalog.Item{Name: f[0], EnName: f[1], DataType: f[2], Length: n, Mask: "none", CodeList: f[5]}
		if f[4] != "" {
			it.Mask, it.Sensitive = f[4], true
		}
		m[it.Name] = it
	}
	return m
}()

// demoTemplate is one kind of resource a department provides. In names,
// {r} stands for the provider's region and {p} for the provider.
type demoTemplate struct {
	name   string
	class  string // 类/项/目; "" for the department's own class
	grade  string
	cycle  string
	format string // class/type
	items  string // space-separated; * marks a key item
}

// demoDept is a kind of department, recognised by words of its name (or a
// utility by its sector).
type demoDept struct {
	code    string // 项 of its department class (3/code/…)
	words   []string
	purpose string
	tpls    []demoTemplate
}

var demoDepts = []demoDept{
	{"01", []string{"公安"}, "户籍管理、身份核验、交通管理和人口统计", []demoTemplate{
		{"{r}常住人口基本信息", "1/01/001", "L3", "daily", "database/oracle", "*公民身份号码 姓名 性别 民族 出生日期 户籍地址 现住址 婚姻状况 文化程度 籍贯 户号 与户主关系"},
		{"{r}户籍迁移登记信息", "1/01/002", "L3", "daily", "database/oracle", "*业务流水号 公民身份号码 姓名 迁入日期 迁出日期 迁入原因 户籍地址"},
		{"{r}居住证办理信息", "1/01/003", "L3", "daily", "database/dm", "*居住证编号 公民身份号码 姓名 现住址 签发日期 有效期至 联系电话"},
		{"机动车登记信息", "", "L3", "daily", "database/oracle", "*车辆识别代号 机动车号牌 号牌种类 车辆类型 机动车所有人 登记日期"},
		{"机动车驾驶证信息", "", "L3", "daily", "database/oracle", "*驾驶证号 姓名 准驾车型 发证日期 有效期截止日期 证照状态"},
		{"道路交通违法信息", "", "L2", "realtime", "service/rest", "*业务流水号 机动车号牌 违法时间 违法地点 违法行为 罚款金额 记分"},
		{"{r}人口死亡注销信息", "1/01/004", "L4", "daily", "database/oracle", "*公民身份号码 姓名 死亡日期 注销日期 注销原因"},
	}},
	{"02", []string{"市场监督", "市场监管"}, "市场主体登记、信用监管和政务服务", []demoTemplate{
		{"企业法人登记信息", "1/02/001", "L1", "daily", "database/oracle", "*统一社会信用代码 企业名称 法定代表人 注册资本 成立日期 企业类型 经营范围 住所 登记机关 登记状态 核准日期 营业期限自 营业期限至 行业代码"},
		{"个体工商户登记信息", "1/02/002", "L2", "daily", "database/oracle", "*统一社会信用代码 字号名称 经营者姓名 组成形式 经营范围 住所 登记机关 成立日期"},
		{"企业变更登记信息", "1/02/003", "L1", "daily", "database/oracle", "*业务流水号 统一社会信用代码 企业名称 变更事项 变更前内容 变更后内容 变更日期"},
		{"行政许可信息", "1/04/001", "L1", "daily", "service/rest", "*行政许可决定书文号 行政相对人名称 统一社会信用代码 许可内容 许可机关 许可决定日期"},
		{"行政处罚信息", "1/04/002", "L1", "daily", "service/rest", "*行政处罚决定书文号 行政相对人名称 统一社会信用代码 违法行为类型 处罚内容 处罚决定日期"},
		{"食品经营许可信息", "", "L1", "daily", "database/kingbase", "*食品经营许可证编号 企业名称 统一社会信用代码 法定代表人 住所 有效期截止日期"},
		{"特种设备使用登记信息", "", "L2", "monthly", "database/kingbase", "*使用登记证号 设备类别 单位名称 设备使用地点 登记日期"},
		{"双随机抽查结果信息", "", "L1", "monthly", "spreadsheet/xlsx", "*业务流水号 企业名称 统一社会信用代码 抽查事项 抽查结果"},
	}},
	{"03", []string{"人力资源和社会保障", "社会保险"}, "社会保险经办、就业服务和待遇资格认证", []demoTemplate{
		{"社会保险参保缴费信息", "2/01/001", "L3", "monthly", "database/oracle", "*个人编号 公民身份号码 姓名 参保单位编号 单位名称 参保险种 参保状态 缴费基数 缴费月数 缴费年月 个人缴费金额 单位缴费金额"},
		{"城镇职工基本养老保险待遇发放信息", "2/01/002", "L3", "monthly", "database/oracle", "*个人编号 公民身份号码 姓名 待遇享受状态 养老金月领取额 领取起始年月"},
		{"失业保险金申领信息", "2/01/003", "L3", "monthly", "database/dm", "*业务流水号 公民身份号码 姓名 失业保险金领取金额 领取起始年月 经办机构"},
		{"社会保障卡发放信息", "2/01/004", "L3", "daily", "database/oracle", "*社会保障卡号 公民身份号码 姓名 发卡日期 发卡银行"},
		{"就业登记信息", "", "L2", "daily", "database/kingbase", "*业务流水号 公民身份号码 姓名 单位名称 就业登记日期 就业形式"},
		{"职业技能等级证书信息", "1/05/001", "L2", "daily", "service/rest", "*证书编号 姓名 公民身份号码 职业工种 技能等级 发证机构 发证日期"},
	}},
	{"04", []string{"卫生健康"}, "出生登记、医疗服务监管和公共卫生", []demoTemplate{
		{"出生医学证明信息", "1/05/002", "L3", "daily", "database/oracle", "*出生医学证明编号 新生儿姓名 性别 出生时间 出生地点 出生体重 母亲姓名 母亲身份证号 父亲姓名 父亲身份证号 医疗机构名称"},
		{"医疗机构执业登记信息", "", "L1", "monthly", "database/kingbase", "*医疗机构代码 医疗机构名称 法定代表人 诊疗科目 床位数 住所 有效期截止日期"},
		{"医师执业注册信息", "", "L1", "monthly", "database/kingbase", "*医师执业证书编码 姓名 执业类别 执业范围 执业地点 发证日期"},
		{"预防接种记录信息", "2/02/001", "L4", "daily", "database/oracle", "*业务流水号 公民身份号码 姓名 疫苗名称 疫苗批号 接种日期 接种剂次 接种单位"},
		{"居民死亡医学证明信息", "2/02/002", "L4", "daily", "database/oracle", "*业务流水号 公民身份号码 姓名 死亡日期 死亡原因 死亡地点"},
	}},
	{"05", []string{"教育"}, "学籍管理、学历查询和教育统计", []demoTemplate{
		{"中小学生学籍信息", "", "L3", "monthly", "database/oracle", "*学籍号 学生姓名 公民身份号码 性别 学校名称 入学年月 年级 班级"},
		{"高等教育学历信息", "1/05/003", "L2", "yearly", "service/rest", "*毕业证书编号 姓名 公民身份号码 学校名称 专业名称 学历层次 毕业日期"},
		{"学校基本信息", "", "L1", "yearly", "spreadsheet/xlsx", "*学校标识码 学校名称 办学类型 住所 在校生数 教职工数"},
		{"教师资格证书信息", "1/05/004", "L2", "monthly", "database/dm", "*证书编号 姓名 公民身份号码 资格种类 任教学科 发证日期"},
	}},
	{"06", []string{"民政"}, "婚姻登记、社会救助和社会组织管理", []demoTemplate{
		{"婚姻登记信息", "1/01/005", "L4", "daily", "database/oracle", "*结婚证字号 婚姻登记类别 男方姓名 男方身份证号 女方姓名 女方身份证号 登记日期 登记机构"},
		{"最低生活保障对象信息", "2/01/005", "L4", "monthly", "database/dm", "*低保证号 公民身份号码 姓名 保障人数 保障金额 现住址"},
		{"社会组织登记信息", "1/02/004", "L1", "monthly", "database/kingbase", "*统一社会信用代码 社会组织名称 社会组织类型 法定代表人 业务主管单位 住所 成立日期"},
		{"殡葬服务火化信息", "", "L3", "daily", "database/dm", "*业务流水号 公民身份号码 姓名 火化日期 殡仪馆名称"},
	}},
	{"07", []string{"自然资源"}, "国土空间规划、用地审批和矿产资源管理", []demoTemplate{
		{"国有建设用地使用权出让信息", "1/03/001", "L1", "monthly", "database/oracle", "*宗地代码 坐落 出让面积 土地用途 出让价款 受让人 合同签订日期"},
		{"建设用地规划许可信息", "1/03/002", "L1", "monthly", "database/oracle", "*规划许可证号 用地单位 项目名称 坐落 宗地面积 建设规模"},
		{"采矿权登记信息", "1/03/003", "L2", "monthly", "database/oracle", "*许可证编号 矿业权人 矿种 矿区面积 有效期限"},
		{"{r}土地利用现状信息", "1/03/004", "L2", "yearly", "database/oracle", "*图斑编号 地类编码 图斑面积 坐落 行政区划代码"},
	}},
	{"08", []string{"住房和城乡建设", "住房城乡建设"}, "工程建设审批、房地产市场监管和住房保障", []demoTemplate{
		{"建筑工程施工许可信息", "2/06/001", "L1", "daily", "database/kingbase", "*施工许可证编号 项目名称 建设单位 施工单位 合同价格 建设地点 开工日期"},
		{"商品房预售许可信息", "2/06/002", "L1", "daily", "database/kingbase", "*预售许可证号 项目名称 建设单位 预售面积 坐落 发证日期"},
		{"住房公积金缴存信息", "2/06/003", "L3", "monthly", "database/oracle", "*公积金账号 公民身份号码 姓名 单位名称 缴存基数 缴存余额"},
		{"建筑业企业资质信息", "", "L1", "monthly", "service/rest", "*资质证书编号 企业名称 统一社会信用代码 资质等级 有效期截止日期"},
	}},
	{"09", []string{"交通运输", "公共交通"}, "道路运输管理和出行服务", []demoTemplate{
		{"道路运输经营许可信息", "2/07/001", "L1", "daily", "database/oracle", "*经营许可证号 企业名称 统一社会信用代码 经营范围 有效期截止日期"},
		{"道路运输车辆营运证信息", "2/07/002", "L2", "daily", "database/oracle", "*道路运输证号 机动车号牌 车辆类型 企业名称 有效期截止日期"},
		{"{r}公共交通线路站点信息", "2/07/003", "L1", "weekly", "selfdescribing/json", "*线路名称 站点名称 首班时间 末班时间 票价 经度 纬度"},
		{"道路运输从业人员资格信息", "2/07/004", "L2", "monthly", "database/dm", "*从业资格证号 姓名 公民身份号码 发证日期 有效期截止日期"},
	}},
	{"10", []string{"税务"}, "税收征管、纳税信用管理和发票管理", []demoTemplate{
		{"纳税信用等级评价信息", "1/04/003", "L1", "yearly", "service/rest", "*纳税人识别号 纳税人名称 纳税信用等级 评价年度"},
		{"企业纳税申报信息", "", "L4", "monthly", "database/oracle", "*业务流水号 纳税人识别号 纳税人名称 税种 所属期起 所属期止 应纳税额 实缴税额 主管税务机关"},
		{"增值税发票开具信息", "", "L4", "daily", "database/oracle", "*发票代码 发票号码 纳税人识别号 开票日期 价税合计"},
	}},
	{"11", []string{"医疗保障"}, "医保经办、基金监管和医药服务管理", []demoTemplate{
		{"基本医疗保险参保信息", "2/02/003", "L3", "daily", "database/oracle", "*医保编码 公民身份号码 姓名 参保人员类别 参保状态 参保日期"},
		{"医疗保障定点医药机构信息", "2/02/004", "L1", "monthly", "spreadsheet/xlsx", "*定点医药机构编码 定点医药机构名称 住所 联系电话"},
		{"医疗费用结算信息", "2/02/005", "L4", "daily", "database/oracle", "*业务流水号 医保编码 姓名 定点医药机构名称 就诊类型 诊断名称 结算日期 医疗费用总额 统筹基金支付 个人自付金额"},
	}},
	{"12", []string{"不动产"}, "不动产登记和交易监管", []demoTemplate{
		{"不动产登记信息", "1/03/005", "L3", "daily", "database/oracle", "*不动产单元号 不动产权证号 权利人名称 权利人证件号码 坐落 权利类型 建筑面积 房屋用途 登记时间"},
		{"不动产抵押登记信息", "1/03/006", "L3", "daily", "database/oracle", "*业务流水号 不动产单元号 抵押权人 抵押金额 债务履行期限 登记时间"},
	}},
	{"13", []string{"统计"}, "统计调查、经济分析和统计信息发布", []demoTemplate{
		{"{r}地区生产总值统计数据", "1/06/001", "L1", "quarterly", "spreadsheet/xlsx", "*指标代码 指标名称 统计时期 计量单位 指标值 同比增长 地区名称"},
		{"{r}居民消费价格指数", "1/06/002", "L1", "monthly", "spreadsheet/xlsx", "*指标代码 指标名称 统计时期 指标值 同比增长"},
		{"规模以上工业企业主要经济指标", "1/06/003", "L2", "monthly", "database/oracle", "*统一社会信用代码 企业名称 统计时期 指标名称 指标值"},
	}},
	{"14", []string{"生态环境"}, "污染防治、环境监测和排污许可管理", []demoTemplate{
		{"排污许可证信息", "2/05/001", "L1", "monthly", "database/kingbase", "*排污许可证编号 排污单位名称 统一社会信用代码 行业代码 有效期截止日期"},
		{"{r}空气质量监测数据", "2/05/002", "L1", "realtime", "service/rest", "*业务流水号 监测点位名称 监测时间 空气质量指数 首要污染物"},
		{"重点排污单位自动监测数据", "2/05/003", "L2", "realtime", "service/rest", "*业务流水号 排污单位名称 监测时间 监测项目 监测值 排放标准 是否超标"},
	}},
	{"15", []string{"电力", "供电", "水务", "供水", "燃气", "供热", "热力", "电信", "通信"}, "公用事业服务、缴费和用能统计", []demoTemplate{
		{"{p}用户基本信息", "", "L3", "daily", "database/oracle", "*用户编号 户名 用户地址 联系电话 表计编号"},
		{"{p}用户缴费信息", "", "L3", "daily", "database/oracle", "*业务流水号 用户编号 户名 抄表日期 用量 应缴金额 缴费状态 欠费金额"},
		{"{r}用能统计信息", "", "L1", "monthly", "spreadsheet/xlsx", "*指标代码 统计时期 指标名称 指标值 地区名称"},
	}},
	{"16", []string{"司法"}, "律师公证管理和法律服务", []demoTemplate{
		{"律师执业证信息", "", "L1", "monthly", "database/kingbase", "*执业证号 律师姓名 执业机构 发证日期 证照状态"},
		{"公证机构信息", "", "L1", "yearly", "spreadsheet/xlsx", "*统一社会信用代码 公证机构名称 住所 办公电话"},
	}},
	{"17", []string{"农业农村"}, "农村土地承包管理和农资监管", []demoTemplate{
		{"农村土地承包经营权登记信息", "", "L3", "yearly", "database/dm", "*业务流水号 承包方代表 公民身份号码 承包地块面积 坐落"},
		{"农药经营许可信息", "", "L1", "monthly", "database/kingbase", "*许可证编号 企业名称 统一社会信用代码 住所 有效期截止日期"},
	}},
	{"18", []string{"文化和旅游"}, "文化市场和旅游行业管理", []demoTemplate{
		{"A级旅游景区信息", "2/11/001", "L1", "monthly", "spreadsheet/xlsx", "*景区名称 景区等级 住所 办公电话 网址"},
		{"旅行社经营许可信息", "2/11/002", "L1", "monthly", "database/kingbase", "*许可证编号 旅行社名称 统一社会信用代码 法定代表人 住所"},
	}},
	{"19", []string{"应急管理"}, "安全生产监管和应急处置", []demoTemplate{
		{"安全生产许可证信息", "2/09/001", "L1", "monthly", "database/kingbase", "*许可证编号 企业名称 统一社会信用代码 许可内容 有效期截止日期"},
		{"危险化学品经营许可信息", "2/09/002", "L2", "monthly", "database/kingbase", "*许可证编号 企业名称 统一社会信用代码 经营范围 住所"},
	}},
	{"20", []string{"发展和改革"}, "投资项目管理和宏观经济分析", []demoTemplate{
		{"{r}企业投资项目备案信息", "1/06/004", "L1", "daily", "service/rest", "*项目代码 项目名称 建设单位 建设地点 总投资 建设规模"},
		{"{r}重大项目建设进度信息", "1/06/005", "L1", "monthly", "spreadsheet/xlsx", "*项目代码 项目名称 总投资 形象进度 统计时期"},
	}},
	{"21", []string{"退役军人"}, "退役军人服务保障", []demoTemplate{
		{"退役军人基本信息", "", "L4", "monthly", "database/dm", "*公民身份号码 姓名 性别 出生日期 退役时间 服役部队 现住址"},
	}},
	{"22", []string{"财政"}, "预算管理和政府采购", []demoTemplate{
		{"{r}政府采购合同信息", "", "L1", "daily", "service/rest", "*业务流水号 采购项目名称 供应商名称 合同金额 合同签订日期"},
		{"{p}部门预算公开信息", "", "L1", "yearly", "document/pdf", "*业务流水号 预算科目 预算金额 统计年度"},
	}},
	{"90", nil, "政务服务、政务公开和行政管理", []demoTemplate{
		{"{p}政务服务事项办件信息", "", "L2", "daily", "database/kingbase", "*业务流水号 事项名称 事项编码 申请人名称 申请人证件号码 受理日期 办结日期 办理结果 办理部门"},
		{"{p}权责清单信息", "", "L1", "yearly", "document/pdf", "*事项编码 职权名称 职权类型 实施依据"},
		{"{p}政府信息公开目录", "", "L1", "monthly", "document/html", "*业务流水号 信息名称 公开方式 公开时限 发布日期"},
		{"{p}行政执法公示信息", "", "L1", "daily", "service/rest", "*业务流水号 执法类别 执法对象 执法结果 办理日期"},
	}},
}

// Condition texts, by kind.
var (
	demoShareConditions = []string{
		"仅用于政务服务事项办理中的身份核验，使用部门须遵守数据安全管理规定",
		"供有关部门依法履行职责使用，须经提供部门审核同意",
		"按照最小必要原则提供，仅限核验类接口调用，不得留存原始数据",
		"用于行政审批和监管执法，需提交申请并说明用途和使用期限",
	}
	demoShareBases = []string{
		"依据《中华人民共和国个人信息保护法》第二十八条，涉及敏感个人信息，不予共享",
		"依据《中华人民共和国数据安全法》第三十八条，涉及个人隐私和商业秘密，不予共享",
		"依据《政务数据共享条例》第十四条，法律、行政法规明确规定不得共享",
	}
	demoTaxBasis       = "依据《中华人民共和国税收征收管理法》第八条，纳税人的商业秘密和个人隐私依法保密，不予共享"
	demoOpenConditions = []string{
		"向经实名认证的法人和其他组织开放，使用单位须签署数据安全承诺书",
		"经审核后以脱敏方式通过开放接口提供，限用于科学研究和公益用途",
		"在数据沙箱中提供统计分析服务，不提供原始明细数据",
	}
	demoOpenBases = []string{
		"涉及个人信息，依据《中华人民共和国个人信息保护法》不予开放",
		"涉及商业秘密，依据《中华人民共和国数据安全法》不予开放",
		"涉及公共安全和社会稳定，不予向社会开放",
	}
	demoSuffixes = []string{"", "变更记录", "历史数据", "年度汇总", "统计分析数据", "核验接口", "月度报表", "明细数据", "专题库", "共享版"}
)

var cycleWords = map[string]string{"realtime": "实时", "daily": "每日", "weekly": "每周", "monthly": "每月", "quarterly": "每季度",
	"halfyearly": "每半年", "yearly": "每年", "other": "不定期"}

// deptOf finds the kind of department a body is.
func deptOf(b org.Body) *demoDept {
	for i := range demoDepts {
		d := &demoDepts[i]
		for _, w := range d.words {
			if strings.Contains(b.Name, w) {
				return d
			}
		}
	}
	if b.Kind == org.KindUtility {
		if b.Sector == "transport" {
			return deptByCode("09")
		}
		return deptByCode("15")
	}
	return deptByCode("90")
}

func deptByCode(code string) *demoDept {
	for i := range demoDepts {
		if demoDepts[i].code == code {
			return &demoDepts[i]
		}
	}
	panic("demo: no department " + code)
}

// Entries returns n realistic entries provided by bodies, the same for
// the same arguments. The i-th entry is Entry(bodies, seed, i), so a
// large set can be generated in chunks.
func Entries(bodies []org.Body, n int, seed int64) []catalog.EntryInput {
	out := make([]catalog.EntryInput, n)
	for i := range out {
		out[i] = Entry(bodies, seed, i)
	}
	return out
}

// Entry returns the i-th demo entry: bodies take turns, each body
// going through the resources of its kind of department, then through
// variants of them (变更记录, 历史数据 …, and years).
func Entry(bodies []org.Body, seed int64, i int) catalog.EntryInput {
	if len(bodies) == 0 {
		return catalog.EntryInput{}
	}
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(i)))
	b := bodies[i%len(bodies)]
	d := deptOf(b)
	round := i / len(bodies)
	t := d.tpls[round%len(d.tpls)]
	variant := round / len(d.tpls)

	region := b.RegionName
	if region == "" && ident.RegionLevel(b.RegionCode) == 1 {
		region = "吉林省"
	}
	name := strings.NewReplacer("{r}", region, "{p}", b.Name).Replace(t.name)
	if variant > 0 {
		suffix := demoSuffixes[variant%len(demoSuffixes)]
		if year := variant / len(demoSuffixes); year > 0 || suffix == "" {
			suffix = "（" + strconv.Itoa(2025-year%30) + "年）" + suffix
		}
		name += suffix
	}
	if n := []rune(name); len(n) > 100 {
		name = string(n[:100])
	}

	class := t.class
	if class == "" {
		class = "3/" + d.code + "/" + strconv.Itoa(1001 + round%len(d.tpls))[1:]
	}
	if variant > 0 && len(class) == 8 {
		class += "/" + strconv.Itoa(1+variant%99)
	}

	fc, ft, _ := strings.Cut(t.format, "/")
	if fc == "database" {
		ft = []string{"oracle", "dm", "kingbase", ft}[rng.IntN(4)]
	}

	grade := t.grade
	if rng.IntN(5) == 0 { // a fifth of the entries are graded one step off
		g := int(grade[1]-'0') + []int{-1, 1}[rng.IntN(2)]
		grade = "L" + strconv.Itoa(min(max(g, 1), 4))
	}

	in := catalog.EntryInput{ProviderID: b.ID, Content: catalog.Content{Name: name, Class: class, FormatClass: fc, FormatType: ft, Cycle: t.cycle, Grade: grade}}
	in.Items = demoItemList(t.items, rng)
	in.ShareType, in.OpenType = demoAttributes(grade, rng)
	switch in.ShareType {
	case catalog.ShareConditional:
		in.ShareCondition = demoShareConditions[rng.IntN(len(demoShareConditions))]
	case catalog.ShareNone:
		in.ShareCondition = demoShareBases[rng.IntN(len(demoShareBases))]
		if d.code == "10" {
			in.ShareCondition = demoTaxBasis
		}
	}
	if in.ShareType != catalog.ShareNone {
		methods := []string{catalog.MethodFile}
		for _, f := range catalog.Formats {
			if f.Code == fc {
				methods = f.Methods
			}
		}
		in.ShareMethod = methods[rng.IntN(len(methods))]
		in.ShareChannel = "platform"
		if in.ShareMethod == catalog.MethodFile && rng.IntN(6) == 0 {
			in.ShareChannel = []string{"email", "media"}[rng.IntN(2)]
		}
	}
	switch in.OpenType {
	case catalog.OpenConditional:
		in.OpenCondition = demoOpenConditions[rng.IntN(len(demoOpenConditions))]
	case catalog.OpenNone:
		in.OpenCondition = demoOpenBases[rng.IntN(len(demoOpenBases))]
	}
	var itemNames []string
	for _, it := range in.Items[:min(5, len(in.Items))] {
		itemNames = append(itemNames, it.Name)
	}
	in.Abstract = b.Name + "在" + d.purpose + "工作中产生的" + name + "，包括" + strings.Join(itemNames, "、") + "等 " +
		strconv.Itoa(len(in.Items)) + " 个信息项，" + cycleWords[t.cycle] + "更新，用于" + d.purpose + "等政务服务和监管业务。"
	return in
}

// demoItemList returns the template's items padded to 5–40 items (not
// padded without rng).
func demoItemList(spec string, rng *rand.Rand) []catalog.Item {
	core := strings.Fields(spec)
	want := len(core)
	if rng != nil {
		want = max(5+rng.IntN(36), len(core))
	}
	items := make([]catalog.Item, 0, want)
	have := map[string]bool{}
	for j, n := range core {
		key := strings.HasPrefix(n, "*")
		n = strings.TrimPrefix(n, "*")
		it, ok := demoItems[n]
		if !ok {
			it = catalog.Item{Name: n, DataType: "C", Length: 100, Mask: "none"}
		}
		it.Key, it.Required = key, key || j < 3
		items = append(items, it)
		have[n] = true
	}
	if len(items) >= want {
		return items
	}
	for _, k := range rng.Perm(len(demoPad)) {
		if len(items) >= want {
			break
		}
		if n := demoPad[k]; !have[n] {
			items = append(items, demoItems[n])
			have[n] = true
		}
	}
	return items
}

// demoAttributes picks share and open types allowed for grade by the
// default policy, in proportions like those of a real catalog.
func demoAttributes(grade string, rng *rand.Rand) (share, open string) {
	r := rng.IntN(100)
	switch grade {
	case "L1":
		share = pick(r, 70, catalog.ShareUnconditional, catalog.ShareConditional)
		open = pick3(rng.IntN(100), 50, 70, catalog.OpenUnconditional, catalog.OpenConditional, catalog.OpenNone)
	case "L2":
		share = pick(r, 40, catalog.ShareUnconditional, catalog.ShareConditional)
		open = pick(rng.IntN(100), 40, catalog.OpenConditional, catalog.OpenNone)
	case "L3":
		share = pick(r, 85, catalog.ShareConditional, catalog.ShareNone)
		open = pick(rng.IntN(100), 20, catalog.OpenConditional, catalog.OpenNone)
	default:
		share = pick(r, 60, catalog.ShareConditional, catalog.ShareNone)
		open = catalog.OpenNone
	}
	return share, open
}

func pick(r, below int, a, b string) string {
	if r < below {
		return a
	}
	return b
}

func pick3(r, below1, below2 int, a, b, c string) string {
	switch {
	case r < below1:
		return a
	case r < below2:
		return b
	}
	return c
}
