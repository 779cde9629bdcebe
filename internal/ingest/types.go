package ingest

import (
	"encoding/base64"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"xiangyun/internal/db"
)

// sqlType is the column type of a data item type (信息项数据类型) on each
// backend. SQLite keeps decimals, dates and times as text so that values
// read back exactly as they were sent.
func sqlType(d db.Dialect, dataType string, length int) string {
	pg := d == db.Postgres
	switch dataType {
	case "C":
		if length > 0 && length <= 10485760 {
			return "VARCHAR(" + strconv.Itoa(length) + ")"
		}
		return "TEXT"
	case "N", "Y":
		if pg {
			return "NUMERIC"
		}
		return "TEXT"
	case "D":
		if pg {
			return "DATE"
		}
		return "TEXT"
	case "T":
		if pg {
			return "TIMESTAMP"
		}
		return "TEXT"
	case "L":
		return "BOOLEAN"
	case "G":
		if pg {
			return "BYTEA"
		}
		return "BLOB"
	case "B", "F":
		if pg {
			return "DOUBLE PRECISION"
		}
		return "REAL"
	case "I":
		return "BIGINT"
	}
	return "TEXT" // M 备注型 and anything unknown
}

// widens reports whether a column of type from/fromLen can take the values
// of type to/toLen without losing any, so that a new entry version may
// change the item that way.
func widens(from string, fromLen int, to string, toLen int) bool {
	if from == to {
		switch from {
		case "C", "N":
			return toLen == 0 || (fromLen != 0 && toLen >= fromLen)
		}
		return true
	}
	switch from + to {
	case "CM", "IN", "IB", "IF", "FB", "BF", "NY", "YN", "DT":
		return true
	}
	return false
}

// typeError is a value that does not fit its item's type.
type typeError struct{ rule, zh, en string }

var (
	decimalRe = regexp.MustCompile(`^[+-]?(\d+)(?:\.(\d+))?$`)
	dateForms = []string{"2006-01-02", "2006/01/02", "20060102", "2006年1月2日", "2006-1-2", "2006/1/2", "2006.01.02"}
	timeForms = []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006/01/02 15:04:05", "2006/1/2 15:04:05",
		"2006/1/2 15:04", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999", "20060102150405"}
)

// China keeps one time zone; a time sent with an offset is stored as the
// local time it names.
var china = time.FixedZone("CST", 8*3600)

// convert turns text as read from a file into the value bound for the
// item's column; "" is NULL.
func convert(dataType string, length int, s string) (any, *typeError) {
	if s == "" {
		return nil, nil
	}
	switch dataType {
	case "C", "M":
		if !utf8.ValidString(s) {
			return nil, &typeError{"type", "不是有效的文本", "not valid text"}
		}
		if dataType == "C" && length > 0 && utf8.RuneCountInString(s) > length {
			return nil, &typeError{"length", fmt.Sprintf("长度超过 %d 个字符", length), fmt.Sprintf("longer than %d characters", length)}
		}
		return s, nil
	case "N", "Y":
		t := strings.ReplaceAll(s, ",", "")
		m := decimalRe.FindStringSubmatch(t)
		if m == nil {
			return nil, &typeError{"type", "不是数值", "not a number"}
		}
		if length > 0 && len(strings.TrimLeft(m[1], "0"))+len(m[2]) > length {
			return nil, &typeError{"length", fmt.Sprintf("数值超过 %d 位", length), fmt.Sprintf("more than %d digits", length)}
		}
		return t, nil
	case "I":
		v, err := strconv.ParseInt(strings.ReplaceAll(s, ",", ""), 10, 64)
		if err != nil {
			return nil, &typeError{"type", "不是整数", "not an integer"}
		}
		return v, nil
	case "B", "F":
		v, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
		if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
			return nil, &typeError{"type", "不是数值", "not a number"}
		}
		return v, nil
	case "L":
		switch strings.ToLower(s) {
		case "1", "true", "t", "y", "yes", "是", "真":
			return true, nil
		case "0", "false", "f", "n", "no", "否", "假":
			return false, nil
		}
		return nil, &typeError{"type", "不是逻辑值（是/否）", "not a logical value (true/false)"}
	case "D":
		if t, ok := parseTime(s, dateForms); ok {
			return t.Format("2006-01-02"), nil
		}
		// A date-time whose time is midnight is a date as saved by spreadsheets.
		if t, ok := parseTime(s, timeForms); ok && t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
			return t.Format("2006-01-02"), nil
		}
		return nil, &typeError{"date", "不是有效日期（如 2024-05-01）", "not a valid date (e.g. 2024-05-01)"}
	case "T":
		if t, ok := parseTime(s, timeForms); ok {
			return t.Format("2006-01-02 15:04:05"), nil
		}
		if t, ok := parseTime(s, dateForms); ok {
			return t.Format("2006-01-02 15:04:05"), nil
		}
		return nil, &typeError{"datetime", "不是有效日期时间（如 2024-05-01 08:30:00）", "not a valid date and time (e.g. 2024-05-01 08:30:00)"}
	case "G":
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, &typeError{"type", "不是 Base64 编码的内容", "not Base64-encoded content"}
		}
		return b, nil
	}
	return s, nil
}

func parseTime(s string, forms []string) (time.Time, bool) {
	for _, f := range forms {
		if t, err := time.ParseInLocation(f, s, china); err == nil {
			if t.Year() < 1 || t.Year() > 9999 {
				return time.Time{}, false
			}
			return t.In(china), true
		}
	}
	return time.Time{}, false
}

// output turns a stored value, as the driver scanned it, into its JSON form:
// numbers for I, B and F, booleans for L, Base64 for G, text otherwise.
func output(dataType string, v any) any {
	if v == nil {
		return nil
	}
	switch dataType {
	case "L":
		switch x := v.(type) {
		case bool:
			return x
		case int64:
			return x != 0
		case string:
			return x == "true" || x == "1" || x == "t"
		}
	case "I":
		switch x := v.(type) {
		case int64:
			return x
		case float64:
			return int64(x)
		case string:
			if n, err := strconv.ParseInt(x, 10, 64); err == nil {
				return n
			}
		}
	case "B", "F":
		switch x := v.(type) {
		case float64:
			return x
		case int64:
			return float64(x)
		case string:
			if f, err := strconv.ParseFloat(x, 64); err == nil {
				return f
			}
		}
	case "G":
		if b, ok := v.([]byte); ok {
			return base64.StdEncoding.EncodeToString(b)
		}
	case "D":
		if t, ok := v.(time.Time); ok {
			return t.Format("2006-01-02")
		}
	case "T":
		if t, ok := v.(time.Time); ok {
			return t.Format("2006-01-02 15:04:05")
		}
	}
	switch x := v.(type) {
	case []byte:
		return string(x)
	case string:
		return x
	case time.Time:
		return x.Format("2006-01-02 15:04:05")
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// serialDate turns a spreadsheet's date serial number (days since
// 1899-12-30, as XLSX stores dates) into the text form of a D or T item;
// other text is returned unchanged.
func serialDate(dataType, s string) string {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 1 || f > 2958465 || !strings.ContainsAny(s[:1], "0123456789") {
		return s
	}
	t, err := excelize.ExcelDateToTime(f, false)
	if err != nil {
		return s
	}
	if dataType == "D" {
		return t.Format("2006-01-02")
	}
	return t.Round(time.Second).Format("2006-01-02 15:04:05")
}
