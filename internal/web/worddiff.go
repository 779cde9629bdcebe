package web

import (
	"strings"
	"unicode"
)

// seg is a run of text in a word-level diff: unchanged, or removed (in the
// old text) or added (in the new text).
type seg struct {
	Text    string
	Changed bool
}

// maxDiffCells bounds the LCS table (tokens × tokens) after the common
// prefix and suffix are taken off; beyond it the whole middle is marked.
const maxDiffCells = 4 << 20

// diffTokens splits text into the units a reader compares: a run of Latin
// letters or digits is one word; every other character (a Chinese
// character, punctuation, a space) is a token of its own.
func diffTokens(s string) []string {
	var out []string
	rs := []rune(s)
	for i := 0; i < len(rs); {
		j := i + 1
		if isWordRune(rs[i]) {
			for j < len(rs) && isWordRune(rs[j]) {
				j++
			}
		}
		out = append(out, string(rs[i:j]))
		i = j
	}
	return out
}

func isWordRune(r rune) bool {
	return r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// wordDiff compares old and new text token by token (longest common
// subsequence) and returns both sides as segments, changed runs marked.
func wordDiff(oldText, newText string) (oldSegs, newSegs []seg) {
	a, b := diffTokens(oldText), diffTokens(newText)
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	am, bm := a[pre:len(a)-suf], b[pre:len(b)-suf]
	keepA, keepB := make([]bool, len(am)), make([]bool, len(bm))
	if len(am) > 0 && len(bm) > 0 && len(am)*len(bm) <= maxDiffCells {
		// lcs[i][j] is the LCS length of am[i:] and bm[j:].
		w := len(bm) + 1
		lcs := make([]int32, (len(am)+1)*w)
		for i := len(am) - 1; i >= 0; i-- {
			for j := len(bm) - 1; j >= 0; j-- {
				if am[i] == bm[j] {
					lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
				} else {
					lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
				}
			}
		}
		for i, j := 0, 0; i < len(am) && j < len(bm); {
			switch {
			case am[i] == bm[j]:
				keepA[i], keepB[j] = true, true
				i, j = i+1, j+1
			case lcs[(i+1)*w+j] >= lcs[i*w+j+1]:
				i++
			default:
				j++
			}
		}
	}
	return segments(a, pre, keepA), segments(b, pre, keepB)
}

// segments joins tokens into runs: the common prefix and suffix unchanged,
// the middle marked where keep is false.
func segments(toks []string, pre int, keep []bool) []seg {
	var out []seg
	add := func(t string, changed bool) {
		if n := len(out); n > 0 && out[n-1].Changed == changed {
			out[n-1].Text += t
			return
		}
		out = append(out, seg{Text: t, Changed: changed})
	}
	for i, t := range toks {
		changed := i >= pre && i < pre+len(keep) && !keep[i-pre]
		add(t, changed)
	}
	// A change that is only white space is not worth marking.
	for i := range out {
		if out[i].Changed && strings.TrimSpace(out[i].Text) == "" {
			out[i].Changed = false
		}
	}
	return out
}
