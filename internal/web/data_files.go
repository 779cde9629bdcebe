package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"xiangyun/internal/api"
	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/ingest"
)

// The 文件 section of an entry's data page: upload a new version (with
// progress), the versions with their SHA-256, and downloads, each audited
// as a data access.

func (c *Console) fileRoutes() {
	if c.Ingest == nil || !c.Ingest.FilesEnabled() {
		return
	}
	c.route(http.MethodPost, "/catalog/{id}/files", auth.PermDataUpload, "data.file.upload", c.fileUpload)
	c.route(http.MethodGet, "/catalog/{id}/files/{version}", auth.PermDataRead, "data.file.download", c.fileDownload)
}

// filesSection is what the data page shows of an entry's files.
type filesSection struct {
	EntryID   int64
	Primary   bool // the entry is shared as 文件: the files are its data
	Versions  []fileRow
	CanUpload bool
	MaxMB     int64
	Err       string // why the files cannot be shown
	FormErr   string // the last upload's refusal
	Note      string // the note typed with a refused upload
}

type fileRow struct {
	ingest.FileVersion
	SizeText string
	Current  bool
}

// files builds the section for entry e as p sees it; nil when the
// installation has no file store.
func (c *Console) files(ctx context.Context, p *auth.Principal, e *catalog.Entry, lang string) (*filesSection, error) {
	if c.Ingest == nil || !c.Ingest.FilesEnabled() {
		return nil, nil
	}
	fs := &filesSection{EntryID: e.ID, Primary: e.ShareMethod == catalog.MethodFile, MaxMB: c.Ingest.MaxFileBytes() >> 20,
		CanUpload: e.Status == catalog.StatusPublished && p.HasAt(auth.PermDataUpload, e.ProviderID)}
	vs, err := c.Ingest.Files(ctx, p, e.ID)
	if err != nil {
		if ae, ok := asErr(err); ok {
			fs.Err = ae.Message(lang)
			return fs, nil
		}
		return nil, err
	}
	for i, v := range vs {
		fs.Versions = append(fs.Versions, fileRow{FileVersion: v, SizeText: sizeText(v.Size), Current: i == 0})
	}
	return fs, nil
}

// sizeText shows a byte count as people read it.
func sizeText(n int64) string {
	switch {
	case n >= 1<<30:
		return strconv.FormatFloat(float64(n)/(1<<30), 'f', 1, 64) + " GiB"
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

// fileUpload takes the upload form. The browser's upload script asks with
// X-Upload-Progress and gets the form back with the refusal in place; a
// plain form post gets the whole data page.
func (c *Console) fileUpload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := pathID(r, "id")
	lang := httpxLang(r)
	v, err := api.UploadFile(ctx, c.Ingest, id, r, w)
	if err != nil {
		msg := errMessage(err, lang)
		if r.Header.Get("X-Upload-Progress") == "1" {
			e, gerr := c.Catalog.Get(ctx, auth.FromContext(ctx), id)
			if gerr != nil {
				c.fail(w, r, gerr)
				return
			}
			fs, ferr := c.files(ctx, auth.FromContext(ctx), &e, lang)
			if ferr != nil || fs == nil {
				c.fail(w, r, err)
				return
			}
			fs.FormErr = msg
			c.partial(w, statusOf(err), "data", "files-form", map[string]any{"P": c.page(r, "", "catalog"), "F": fs})
			return
		}
		c.renderData(w, r, statusOf(err), msg)
		return
	}
	// The version in the address makes it a new page even when the form
	// was on /data already (a change of #fragment alone loads nothing).
	to := "/catalog/" + strconv.FormatInt(id, 10) + "/data?file=" + strconv.Itoa(v.Version) + "#files"
	flash := pick(lang, "已上传第 "+strconv.Itoa(v.Version)+" 版："+v.Name, "Version "+strconv.Itoa(v.Version)+" uploaded: "+v.Name)
	if r.Header.Get("X-Upload-Progress") == "1" {
		// The upload script navigates there itself, so the one-time message
		// is shown by the page the browser opens, not spent on the script.
		http.SetCookie(w, &http.Cookie{Name: "xy_flash", Value: url.QueryEscape(flash), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 60})
		w.Header().Set("X-Location", to)
		w.WriteHeader(http.StatusCreated)
		return
	}
	c.redirect(w, r, to, flash)
}

// fileDownload sends one version with its name, type and checksums, and
// records the access.
func (c *Console) fileDownload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := pathID(r, "id")
	version, _ := strconv.Atoi(r.PathValue("version"))
	v, rc, err := c.Ingest.OpenFile(ctx, auth.FromContext(ctx), id, version)
	if err != nil {
		api.AuditFileDownload(ctx, c.Authn, id, version, v, 0, err)
		c.fail(w, r, err)
		return
	}
	defer rc.Close()
	for k, vals := range api.FileHeaders(v) {
		w.Header()[k] = vals
	}
	w.WriteHeader(http.StatusOK)
	n, err := io.Copy(w, rc)
	if err != nil {
		c.Log.Error("file download", "entry", id, "version", version, "err", err)
	}
	api.AuditFileDownload(ctx, c.Authn, id, version, v, n, err)
}
