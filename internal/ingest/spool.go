package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"xiangyun/internal/errs"
)

// TooLarge is the refusal of a file over the upload limit.
func TooLarge(max int64) error {
	mb := strconv.FormatInt(max>>20, 10)
	return errs.New(errs.KindTooLarge, "tabular.oversize", "文件过大，不能超过 "+mb+" MiB，未写入任何记录",
		"the file is too large (limit "+mb+" MiB); nothing was written")
}

// Spool copies an uploaded file to a new file in dir, hashing it on the
// way, and refuses it (removing the copy) when it exceeds max bytes. name
// is the file name the user's browser sent.
func Spool(dir, name string, r io.Reader, max int64) (Upload, error) {
	up := Upload{Name: filepath.Base(strings.ReplaceAll(name, `\`, "/"))}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return up, err
	}
	f, err := os.CreateTemp(dir, "upload-*")
	if err != nil {
		return up, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, max+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil || n > max {
		os.Remove(f.Name())
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok || n > max {
			return up, TooLarge(max)
		}
		return up, errs.Invalid("upload.read", "上传中断，请重试", "the upload was interrupted; try again")
	}
	up.Path, up.Size, up.SHA256 = f.Name(), n, hex.EncodeToString(h.Sum(nil))
	return up, nil
}
