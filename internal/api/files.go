package api

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"

	"xiangyun/internal/audit"
	"xiangyun/internal/auth"
	"xiangyun/internal/errs"
	"xiangyun/internal/httpx"
	"xiangyun/internal/ingest"
)

// File resources (文件): versioned attachments of an entry.

type fileUploadIn struct {
	IDPath
	rawIn
}

type fileOut struct {
	Status int
	Body   ingest.FileVersion
}

type fileIn struct {
	IDPath
	Version int `path:"version" minimum:"1" doc:"version number"`
}

func (a *API) fileRoutes() {
	if a.Ingest == nil || !a.Ingest.FilesEnabled() {
		return
	}
	op(a, http.MethodPost, "/catalog/entries/{id}/files", "data.file.upload", auth.PermDataUpload,
		"Upload a new version of an entry's file (multipart: file, optional note); identical content to the current version is refused (409)",
		func(ctx context.Context, in *fileUploadIn) (*fileOut, error) {
			v, err := UploadFile(ctx, a.Ingest, in.ID, in.req, in.w)
			httpx.Note(ctx, "entry:"+strconv.FormatInt(in.ID, 10), "version", strconv.Itoa(v.Version), "sha256", v.SHA256, "size", strconv.FormatInt(v.Size, 10))
			if err != nil {
				return nil, err
			}
			return &fileOut{Status: http.StatusCreated, Body: v}, nil
		})
	if o := a.h.OpenAPI().Paths["/api/v1/catalog/entries/{id}/files"]; o != nil && o.Post != nil {
		o.Post.RequestBody = &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
			"multipart/form-data": {Schema: &huma.Schema{Type: "object", Required: []string{"file"}, Properties: map[string]*huma.Schema{
				"file": {Type: "string", Format: "binary", Description: "any file up to the server's limit (--max-file-mb); its media type is sniffed"},
				"note": {Type: "string", Description: "what this version changes (at most 500 characters)"},
			}}},
		}}
	}
	op(a, http.MethodGet, "/catalog/entries/{id}/files", "data.files", auth.PermDataRead, "List an entry's file versions, newest first",
		func(ctx context.Context, in *IDPath) (*List[ingest.FileVersion], error) {
			items, err := a.Ingest.Files(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return list(items, len(items)), nil
		})
	op(a, http.MethodGet, "/catalog/entries/{id}/files/{version}", "data.file.download", auth.PermDataRead,
		"Download one version of an entry's file (ETag and Repr-Digest carry its SHA-256); every download is audited",
		func(ctx context.Context, in *fileIn) (*huma.StreamResponse, error) {
			v, rc, err := a.Ingest.OpenFile(ctx, principal(ctx), in.ID, in.Version)
			if err != nil {
				AuditFileDownload(ctx, a.Authn, in.ID, in.Version, v, 0, err)
				return nil, err
			}
			return &huma.StreamResponse{Body: func(hc huma.Context) {
				defer rc.Close()
				for k, vals := range FileHeaders(v) {
					hc.SetHeader(k, vals[0])
				}
				hc.SetStatus(http.StatusOK)
				n, err := io.Copy(hc.BodyWriter(), rc)
				AuditFileDownload(ctx, a.Authn, in.ID, in.Version, v, n, err)
			}}, nil
		})
}

// FileHeaders are the headers of a file download: its sniffed type, the
// name (RFC 6266 / RFC 5987 filename* for non-ASCII names, with an ASCII
// fallback), the SHA-256 as ETag, Repr-Digest (RFC 9530) and the older
// Digest (RFC 3230).
func FileHeaders(v ingest.FileVersion) http.Header {
	h := http.Header{}
	h.Set("Content-Type", v.MediaType)
	h.Set("Content-Length", strconv.FormatInt(v.Size, 10))
	h.Set("Content-Disposition", attachment(v.Name, asciiName(v.Name, v.Version)))
	h.Set("ETag", `"`+v.SHA256+`"`)
	if raw, err := hex.DecodeString(v.SHA256); err == nil {
		b64 := base64.StdEncoding.EncodeToString(raw)
		h.Set("Repr-Digest", "sha-256=:"+b64+":")
		h.Set("Digest", "sha-256="+b64)
	}
	h.Set("Cache-Control", "private, no-cache")
	return h
}

// asciiName is the fallback name for clients without RFC 5987: the name's
// printable ASCII, or "file-vN" with its extension when little is left.
func asciiName(name string, version int) string {
	var b strings.Builder
	for _, r := range name {
		if r >= 0x20 && r < 0x7f && r != '"' && r != '\\' && r != '/' {
			b.WriteRune(r)
		}
	}
	s := strings.TrimSpace(b.String())
	if i := strings.LastIndexByte(s, '.'); i <= 0 || utf8.RuneCountInString(name) != len(s) {
		ext := ""
		if j := strings.LastIndexByte(name, '.'); j >= 0 && isASCII(name[j:]) && len(name)-j <= 16 {
			ext = name[j:]
		}
		return "file-v" + strconv.Itoa(version) + ext
	}
	return s
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// AuditFileDownload records a file download (or its refusal) as a data
// access: who, which entry and version, its SHA-256 and the bytes sent.
func AuditFileDownload(ctx context.Context, authn *httpx.Authenticator, entryID int64, version int, v ingest.FileVersion, n int64, err error) {
	if authn == nil {
		return
	}
	out := audit.OutcomeSuccess
	d := map[string]string{"version": strconv.Itoa(version), "bytes": strconv.FormatInt(n, 10)}
	if v.SHA256 != "" {
		d["sha256"] = v.SHA256
	}
	if err != nil {
		out = audit.OutcomeFailure
		if errs.KindOf(err) == errs.KindForbidden {
			out = audit.OutcomeDenied
		}
		if e, ok := errs.As(err); ok {
			d["error"] = e.Code
		} else {
			d["error"] = err.Error()
		}
	}
	authn.Append(ctx, audit.Entry{Action: "data.file.download", Object: "entry:" + strconv.FormatInt(entryID, 10), Outcome: out, Detail: d})
}

// UploadFile reads a multipart upload (file, optional note in any order)
// and records the file as the entry's next version; the console uses it
// too. The body is limited to the file limit plus room for the form.
func UploadFile(ctx context.Context, svc *ingest.Service, id int64, r *http.Request, w http.ResponseWriter) (ingest.FileVersion, error) {
	if r == nil {
		return ingest.FileVersion{}, errNotMultipart
	}
	max := svc.MaxFileBytes()
	r.Body = http.MaxBytesReader(w, r.Body, max+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return ingest.FileVersion{}, errNotMultipart
	}
	p := principal(ctx)
	var (
		stored *ingest.StoredFile
		note   string
	)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return ingest.FileVersion{}, ingest.FileTooLarge(max)
			}
			if stored != nil {
				break // a broken trailer after a whole file: the file stands
			}
			return ingest.FileVersion{}, errNotMultipart
		}
		switch {
		case part.FormName() == "file" && stored == nil:
			if part.FileName() == "" {
				_ = part.Close()
				continue
			}
			if stored, err = svc.StoreFile(ctx, p, id, ingest.FileUpload{Name: part.FileName(), Body: part, Size: -1}); err != nil {
				return ingest.FileVersion{}, err
			}
		case part.FormName() == "note":
			b, _ := io.ReadAll(io.LimitReader(part, 4*ingest.MaxFileNote+1))
			if len(b) > 4*ingest.MaxFileNote {
				return ingest.FileVersion{}, errs.Invalid("text.too_long", "说明超过最大长度 "+strconv.Itoa(ingest.MaxFileNote)+" 个字符",
					"the note is longer than "+strconv.Itoa(ingest.MaxFileNote)+" characters")
			}
			note = string(b)
		}
		_ = part.Close()
	}
	if stored == nil {
		return ingest.FileVersion{}, errNoFile
	}
	return svc.RecordFile(ctx, p, stored, note)
}
