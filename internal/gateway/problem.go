package gateway

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Problem is an RFC 9457 problem document (application/problem+json), the
// answer of every refusal, with a stable code and Chinese and English
// messages.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Code      string `json:"code"`
	MessageZH string `json:"message_zh"`
	MessageEN string `json:"message_en"`
	RequestID string `json:"request_id,omitempty"`

	retryAfter int // seconds, for 429 and 503
}

func (p *Problem) Error() string { return p.Code + ": " + p.MessageEN }

func problem(status int, code, zh, en string) *Problem {
	return &Problem{Type: "urn:xiangyun:problem:" + code, Title: http.StatusText(status), Status: status, Code: code, MessageZH: zh, MessageEN: en}
}

// with returns a copy with a detail (never personal data).
func (p *Problem) with(detail string) *Problem {
	c := *p
	c.Detail = detail
	return &c
}

func (p *Problem) after(seconds int) *Problem {
	c := *p
	c.retryAfter = max(seconds, 1)
	return &c
}

// The refusals of the gateway. Codes are fixed points: integrators match on them.
var (
	errNotFound      = problem(404, "gw.not_found", "网关没有这个地址（路径区分大小写）", "no such gateway path (paths are case-sensitive)")
	errBadPath       = problem(400, "gw.bad_path", "路径不规范：不得含编码的点、斜杠或反斜杠，连续斜杠，或 . 与 .. 段", "malformed path: encoded dots, slashes or backslashes, double slashes and . or .. segments are refused")
	errMethod        = problem(405, "gw.method_not_allowed", "该地址不支持此请求方法", "method not allowed on this path")
	errBadRequestID  = problem(400, "gw.bad_request_id", "X-Request-Id 格式不正确（1–128 个字母、数字或 ._:- ）", "malformed X-Request-Id (1–128 letters, digits or ._:-)")
	errBadHeader     = problem(400, "gw.bad_header", "请求头格式不正确", "malformed request header")
	errTooLarge      = problem(413, "gw.body_too_large", "请求体过大", "request body too large")
	errUnauth        = problem(401, "gw.unauthenticated", "应用身份认证失败：请提供正确的 X-Client-Id 与 Authorization: Bearer 密钥", "application authentication failed: send a valid X-Client-Id and Authorization: Bearer secret")
	errKeyExpired    = problem(401, "gw.key_expired", "该密钥已轮换且过渡期已结束，请使用新密钥", "this key was rotated and its overlap period has ended; use the new key")
	errBadSignature  = problem(401, "gw.bad_signature", "请求签名无效或缺失", "request signature missing or invalid")
	errSigExpired    = problem(401, "gw.signature_expired", "请求签名时间戳超出允许的时钟偏差（±5 分钟）", "request timestamp outside the allowed clock skew (±5 minutes)")
	errReplayed      = problem(401, "gw.replayed", "请求已被使用过（随机数重复），拒绝重放", "request replayed (nonce already used)")
	errNoGrant       = problem(403, "gw.no_grant", "该应用没有本目录的共享授权", "this application has no grant on this entry")
	errNotYet        = problem(403, "gw.grant_not_yet_valid", "共享授权尚未生效", "the grant is not yet in force")
	errGrantExpired  = problem(403, "gw.grant_expired", "共享授权已过期", "the grant has expired")
	errNotGranted    = problem(403, "gw.item_not_granted", "请求涉及未授权的信息项", "the request names a data item that is not granted")
	errBadFilter     = problem(400, "gw.bad_filter", "查询条件不正确", "malformed query condition")
	errBadBody       = problem(400, "gw.bad_body", "请求体应为 JSON 对象，值为文本", "the body must be a JSON object of text values")
	errNoEntry       = problem(404, "gw.no_entry", "目录不存在或未通过平台提供数据", "no such entry, or it holds no records on the platform")
	errNoService     = problem(404, "gw.no_service", "提供方没有为本目录注册服务接口", "the provider registered no service on this entry")
	errRateLimited   = problem(429, "gw.rate_limited", "调用过于频繁，请稍后重试", "rate limit reached; retry later")
	errQuota         = problem(429, "gw.quota_exhausted", "今日调用次数已用完", "the daily quota of this grant is used up")
	errAuditDown     = problem(503, "gw.audit_unavailable", "审计日志暂时无法写入，网关拒绝服务（失败即关闭）", "the audit log cannot be written, so the gateway refuses calls (fail closed)")
	errUnavailable   = problem(503, "gw.unavailable", "网关暂时不可用，请稍后重试", "the gateway is temporarily unavailable; retry later")
	errProvTimeout   = problem(504, "gw.provider_timeout", "提供方服务响应超时", "the provider's service did not answer in time")
	errProvBadAnswer = problem(502, "gw.provider_bad_answer", "提供方服务返回了无法识别的内容（不是 JSON）", "the provider's service answered something that is not JSON")
	errProvError     = problem(502, "gw.provider_error", "提供方服务出错或无法连接", "the provider's service failed or could not be reached")
	errBreakerOpen   = problem(503, "gw.breaker_open", "提供方服务连续失败，已暂时熔断，请稍后重试", "the provider's service failed repeatedly; calls are paused (circuit open), retry later")
	errInternal      = problem(500, "gw.internal", "网关内部错误", "internal gateway error")
)

// encodeProblem renders p with the request id.
func encodeProblem(p *Problem, requestID string) []byte {
	c := *p
	c.RequestID = requestID
	b, _ := json.Marshal(&c)
	return append(b, '\n')
}

func retryAfter(h http.Header, p *Problem) {
	if p.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(p.retryAfter))
	} else if p.Status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "5")
	}
}
