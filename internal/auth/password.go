package auth

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"math/big"
	"runtime"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"xiangyun/internal/errs"
)

// argon2id parameters (OWASP: m=19 MiB, t=2, p=1).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// hashSlots bounds the argon2 computations running at once: each takes
// 19 MiB, so a burst of sign-ins must queue rather than exhaust memory.
var hashSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// HashPassword returns a PHC-format argon2id hash.
func HashPassword(pw string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	hashSlots <- struct{}{}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	<-hashSlots
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// CheckPassword compares pw with a stored hash in constant time.
func CheckPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	hashSlots <- struct{}{}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	<-hashSlots
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when a username is unknown, so that a failed
// login takes the same time whether or not the user exists.
var dummyHash = HashPassword("not-a-real-password-0")

// The password policy. The console shows PasswordPolicyZH/EN beside every
// password field; the README states the same rules.
const (
	PasswordMinLength = 12
	PasswordMaxLength = 128
	PasswordPolicyZH  = "至少 12 个字符，须同时包含字母和数字；不能包含用户名；不能是常见密码（或常见密码前后加数字、符号）"
	PasswordPolicyEN  = "at least 12 characters with both letters and digits; must not contain the username; must not be a common password (or one with digits or symbols added)"
)

//go:embed common_passwords.txt
var commonText string

var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(commonText))
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" && !strings.HasPrefix(w, "#") {
			m[w] = true
		}
	}
	return m
}()

// leet undoes the usual letter-for-symbol swaps (p@ssw0rd).
var leet = strings.NewReplacer("@", "a", "0", "o", "1", "l", "3", "e", "$", "s", "5", "s", "!", "i", "4", "a", "7", "t")

// IsCommonPassword reports whether pw is on the common-password list, also
// after lower-casing, after stripping the digits and symbols people add
// before or after a common word to pass a length rule (woaini1314520,
// Password2024!), and after undoing letter-for-symbol swaps.
func IsCommonPassword(pw string) bool {
	p := strings.ToLower(pw)
	if commonPasswords[p] || commonPasswords[leet.Replace(p)] {
		return true
	}
	core := strings.TrimFunc(p, func(r rune) bool {
		return unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r)
	})
	if utf8.RuneCountInString(core) < 4 {
		return false
	}
	return commonPasswords[core] || commonPasswords[leet.Replace(core)]
}

// CheckPasswordPolicy enforces the password policy (PasswordPolicyZH/EN):
// 12–128 characters with letters and digits, not containing the username,
// not a common password. The error names the rule that failed.
func CheckPasswordPolicy(username, pw string) error {
	n := utf8.RuneCountInString(pw)
	var letter, digit bool
	for _, r := range pw {
		letter = letter || unicode.IsLetter(r)
		digit = digit || unicode.IsDigit(r)
	}
	username = strings.ToLower(strings.TrimSpace(username))
	var fs errs.Fields
	switch {
	case n < PasswordMinLength || n > PasswordMaxLength:
		fs.Add("password", "password.length", fmt.Sprintf("密码长度须为 %d 到 %d 个字符", PasswordMinLength, PasswordMaxLength),
			fmt.Sprintf("the password must be %d to %d characters long", PasswordMinLength, PasswordMaxLength))
	case !letter || !digit:
		fs.Add("password", "password.classes", "密码须同时包含字母和数字", "the password must contain both letters and digits")
	case username != "" && strings.Contains(strings.ToLower(pw), username):
		fs.Add("password", "password.username", "密码不能包含用户名", "the password must not contain the username")
	case IsCommonPassword(pw):
		fs.Add("password", "password.common", "这是常见密码（或常见密码加数字、符号），很容易被猜中，请换一个",
			"this is a common password (or one with digits or symbols added) and easy to guess; choose another")
	}
	return fs.Err()
}

// GeneratePassword returns a random password that passes the policy for any
// username of five or more characters without '-': four groups of four
// letters and digits joined by '-' (e.g. for the demo users).
func GeneratePassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	for {
		var b strings.Builder
		for i := range 16 {
			if i > 0 && i%4 == 0 {
				b.WriteByte('-')
			}
			n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
			b.WriteByte(alphabet[n.Int64()])
		}
		if pw := b.String(); CheckPasswordPolicy("", pw) == nil {
			return pw
		}
	}
}
