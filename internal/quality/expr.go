package quality

import (
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"

	"xiangyun/internal/catalog"
	"xiangyun/internal/ident"
)

// Custom expression rules run user-written expr-lang expressions once per
// row. They are bounded by construction: at most exprMaxNodes syntax nodes,
// no ranges, no closures, no variables (each value is used where it is
// written, so a string can grow only by what the expression spells out),
// and only builtins that do a fixed amount of work per call (no
// map/filter/reduce, no repeat, no JSON), so evaluation costs at most a few
// thousand operations; the VM's memory budget bounds the rest.
const exprMaxNodes = 300

var exprBuiltins = []string{"len", "abs", "ceil", "floor", "round", "int", "float", "string", "trim",
	"trimPrefix", "trimSuffix", "upper", "lower", "indexOf", "lastIndexOf", "hasPrefix", "hasSuffix",
	"max", "min", "date", "duration", "now"}

// exprValue converts a value as read into the type its item declares:
// numbers as float64 (nil when empty or not a number), everything else as
// trimmed text.
func exprValue(dataType, v string) any {
	v = strings.TrimSpace(v)
	switch dataType {
	case "N", "Y", "I", "F", "B":
		if v == "" {
			return nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil
		}
		return f
	}
	return v
}

// exprEnv is the environment an expression is compiled against: every item
// by its Chinese name and by its English name, typed by a sample value.
func exprEnv(items []catalog.Item) map[string]any {
	env := map[string]any{}
	for _, it := range items {
		var sample any = ""
		switch it.DataType {
		case "N", "Y", "I", "F", "B":
			sample = 0.0
		}
		env[it.Name] = sample
		if it.EnName != "" {
			if _, taken := env[it.EnName]; !taken {
				env[it.EnName] = sample
			}
		}
	}
	return env
}

// identifier checks available to expressions, e.g. 证件类型 != "身份证" || idcard(证件号码).
var exprFuncs = []expr.Option{
	expr.Function("idcard", func(p ...any) (any, error) { return identOK(p[0], ident.IDCard), nil }, new(func(string) bool)),
	expr.Function("creditcode", func(p ...any) (any, error) { return identOK(p[0], ident.CreditCode), nil }, new(func(string) bool)),
	expr.Function("orgcode", func(p ...any) (any, error) { return identOK(p[0], ident.OrgCode), nil }, new(func(string) bool)),
	expr.Function("regioncode", func(p ...any) (any, error) { return identOK(p[0], ident.RegionCode), nil }, new(func(string) bool)),
	expr.Function("isdate", func(p ...any) (any, error) { s, _ := p[0].(string); return validDate(s), nil }, new(func(string) bool)),
}

func identOK(v any, check func(string) error) bool {
	s, _ := v.(string)
	return check(s) == nil
}

// boundVisitor rejects the constructs that could loop or allocate without
// bound.
type boundVisitor struct{ bad string }

func (b *boundVisitor) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.BinaryNode:
		if n.Operator == ".." {
			b.bad = ".."
		}
	case *ast.PredicateNode:
		b.bad = "predicate"
	case *ast.VariableDeclaratorNode:
		// let x = s + s; let y = x + x; … doubles a string per node.
		b.bad = "let"
	case *ast.BuiltinNode:
		if !contains(exprBuiltins, n.Name) {
			b.bad = n.Name
		}
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// compileExpr compiles a row expression once; it must yield a boolean.
func compileExpr(src string, items []catalog.Item) (*vm.Program, error) {
	src = strings.TrimSpace(src)
	if src == "" || len(src) > maxExprLen {
		return nil, ruleErr("an expression of 1 to %d bytes is needed", "须提供 1 至 %d 字节的表达式", maxExprLen)
	}
	bv := &boundVisitor{}
	opts := []expr.Option{expr.Env(exprEnv(items)), expr.AsBool(), expr.MaxNodes(exprMaxNodes), expr.DisableAllBuiltins()}
	for _, b := range exprBuiltins {
		opts = append(opts, expr.EnableBuiltin(b))
	}
	opts = append(opts, exprFuncs...)
	opts = append(opts, expr.Patch(bv))
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		msg := err.Error()
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return nil, ruleErr("the expression does not compile: %s", "表达式无法编译：%s", msg)
	}
	if bv.bad != "" {
		return nil, ruleErr("the expression uses %q, which is not allowed in a row rule (no loops, ranges or unbounded functions)",
			"表达式使用了不允许的 %q（行规则中不可使用循环、区间或无界函数）", bv.bad)
	}
	return prog, nil
}
