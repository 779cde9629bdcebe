package ingest

// File resources (文件): versioned file attachments of a published entry.
// An entry shared as 文件 delivers its data this way; any other published
// entry may carry attachments too (a data dictionary, a methodology note).
// The bytes go to the blob store (internal/blob), keyed by their SHA-256,
// computed while the upload streams; a version row is written only after
// the blob is stored, so a broken or oversized upload leaves no version.
// The provider's data specialists and chief data officer upload (data.upload);
// the provider's users and the platform list and download (data.read), and
// every download is audited as a data access by the HTTP layer.

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"xiangyun/internal/auth"
	"xiangyun/internal/blob"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/valid"
)

// DefaultMaxFileBytes bounds one file version when Options.MaxFileBytes is 0.
const DefaultMaxFileBytes int64 = 1 << 30

// MaxFileName is the longest file name kept, in characters; longer names
// are shortened, keeping their extension.
const MaxFileName = 200

// MaxFileNote bounds a version's note, in characters.
const MaxFileNote = 500

// FileVersion is one version of an entry's file attachment.
type FileVersion struct {
	EntryID   int64     `json:"entry_id"`
	Version   int       `json:"version" doc:"1, 2, … per entry, without gaps"`
	Name      string    `json:"name" doc:"the file name as uploaded (folders removed, shortened past 200 characters)"`
	Size      int64     `json:"size" doc:"bytes"`
	MediaType string    `json:"media_type" doc:"sniffed from the content (and refined by the extension within that family), never taken from the uploader"`
	SHA256    string    `json:"sha256" doc:"SHA-256 of the content, hex"`
	SameAs    int       `json:"same_as,omitempty" doc:"the earliest version with identical content, when this one restores it"`
	UserID    int64     `json:"user_id"`
	User      string    `json:"user"`
	Note      string    `json:"note,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// FileUpload is a file being uploaded: Body streams it.
type FileUpload struct {
	Name string    // the name the user's browser or client sent
	Note string    // optional: what changed
	Body io.Reader // the content
	Size int64     // bytes, or -1 when unknown
}

var (
	errNoBlobs = errs.New(errs.KindUnavailable, "ingest.files_unavailable", "文件存储未配置或暂不可用", "the file store is not configured or unavailable")
	errBlobs   = errs.New(errs.KindUnavailable, "ingest.files_store", "文件存储暂不可用，未保存任何内容，请稍后重试",
		"the file store is unavailable; nothing was saved, please retry later")
	errFilesUnpublished = errs.Invalid("ingest.files_unpublished", "只有已发布的目录才能附加文件", "only published entries carry files")
	errNoFileVersion    = errs.NotFound("ingest.file", "文件版本不存在", "no such file version")
	errFileNotProvider  = errs.Forbidden("ingest.not_provider", "只有提供方的数据专员和首席数据官可以上传本目录的文件",
		"only the provider's data specialists and chief data officers may upload this entry's files")
	errFileNotReader = errs.Forbidden("ingest.not_reader", "只有提供方和平台可以查看本目录的文件，其他部门请通过共享申请获取",
		"only the provider and the platform may read these files; other bodies get them through sharing")
	errUploadBroken = errs.Invalid("upload.read", "上传中断，未保存任何内容，请重试", "the upload was interrupted; nothing was saved, try again")
)

// FileTooLarge is the refusal of a file over the limit.
func FileTooLarge(max int64) error {
	lim := strconv.FormatInt(max>>20, 10) + " MiB"
	if max < 1<<20 {
		lim = strconv.FormatInt(max, 10) + " B"
	}
	return errs.New(errs.KindTooLarge, "ingest.file_too_large", "文件过大，不能超过 "+lim+"，未保存任何内容",
		"the file is too large (limit "+lim+"); nothing was saved")
}

// MaxFileBytes is the limit on one file version.
func (s *Service) MaxFileBytes() int64 {
	if s.opts.MaxFileBytes > 0 {
		return s.opts.MaxFileBytes
	}
	return DefaultMaxFileBytes
}

// FilesEnabled reports whether a blob store is configured.
func (s *Service) FilesEnabled() bool { return s.opts.Blobs != nil }

// fileEntry returns a published entry.
func (s *Service) fileEntry(ctx context.Context, id int64) (catalog.Entry, error) {
	if s.opts.Blobs == nil {
		return catalog.Entry{}, errNoBlobs
	}
	e, err := s.catalog.Get(ctx, catalog.System, id)
	if err != nil {
		if errs.KindOf(err) == errs.KindNotFound {
			return e, errNoEntry
		}
		return e, err
	}
	if e.Status != catalog.StatusPublished {
		return e, errFilesUnpublished
	}
	return e, nil
}

// FileName makes an uploaded file's name safe to keep and show: folders
// (either slash) are removed, and names with control or text-direction
// characters, invalid UTF-8, or nothing left are refused; a name longer
// than MaxFileName characters is shortened, keeping its extension.
func FileName(name string) (string, error) {
	bad := func(zh, en string) (string, error) {
		return "", errs.Invalid("ingest.file_name", "文件名无效："+zh, "invalid file name: "+en)
	}
	if !utf8.ValidString(name) {
		return bad("不是有效的 UTF-8 文本", "not valid UTF-8")
	}
	for _, r := range name {
		if unicode.IsControl(r) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0xFEFF {
			return bad("包含控制字符或改变文字方向的不可见字符", "it contains control characters or invisible direction marks")
		}
	}
	name = strings.ReplaceAll(name, `\`, "/")
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimSpace(name)
	if strings.Trim(name, ".") == "" {
		return bad("没有文件名", "no name is left")
	}
	if utf8.RuneCountInString(name) > MaxFileName {
		ext := path.Ext(name)
		if utf8.RuneCountInString(ext) > 16 {
			ext = ""
		}
		runes := []rune(strings.TrimSuffix(name, ext))
		name = string(runes[:MaxFileName-1-utf8.RuneCountInString(ext)]) + "…" + ext
	}
	return name, nil
}

// sniff decides a file's media type from its first bytes. The extension
// only refines a sniffed family (a ZIP named .xlsx is a spreadsheet, plain
// text named .csv is CSV); it never turns one family into another.
func sniff(name string, head []byte) string {
	mt := http.DetectContentType(head)
	ext := strings.ToLower(path.Ext(name))
	switch {
	case mt == "application/zip":
		if t, ok := zipTypes[ext]; ok {
			return t
		}
	case strings.HasPrefix(mt, "text/plain"):
		if !utf8.Valid(trimPartialRune(head)) {
			mt = "text/plain"
		}
		charset := ""
		if strings.HasSuffix(mt, "utf-8") {
			charset = "; charset=utf-8"
		}
		switch ext {
		case ".csv":
			return "text/csv" + charset
		case ".json":
			if t := bytes.TrimLeft(head, " \t\r\n\ufeff"); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
				return "application/json"
			}
		case ".ndjson", ".jsonl":
			return "application/x-ndjson"
		case ".md":
			return "text/markdown" + charset
		}
	}
	return mt
}

var zipTypes = map[string]string{
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".ofd":  "application/ofd",
	".odt":  "application/vnd.oasis.opendocument.text",
	".ods":  "application/vnd.oasis.opendocument.spreadsheet",
}

// trimPartialRune drops a UTF-8 sequence cut off at the end of b.
func trimPartialRune(b []byte) []byte {
	for i := 1; i <= 3 && i <= len(b); i++ {
		if r, _ := utf8.DecodeLastRune(b[:len(b)-i+1]); r != utf8.RuneError {
			return b[:len(b)-i+1]
		}
	}
	return b
}

// sizeLimit fails a read past max bytes.
type sizeLimit struct {
	r   io.Reader
	max int64
	n   int64
	err error // the underlying reader's failure, if any
}

var errFileTooLarge = errors.New("file over the limit")

func (l *sizeLimit) Read(p []byte) (int, error) {
	if l.n > l.max {
		return 0, errFileTooLarge
	}
	if int64(len(p)) > l.max-l.n+1 {
		p = p[:l.max-l.n+1]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		return n, errFileTooLarge
	}
	if err != nil && !errors.Is(err, io.EOF) {
		l.err = err
	}
	return n, err
}

// StoredFile is a file whose content is stored and checked, waiting for
// RecordFile to make it a version.
type StoredFile struct {
	v     FileVersion
	entry catalog.Entry
}

// Name, Size and SHA256 describe the stored content.
func (f *StoredFile) Name() string   { return f.v.Name }
func (f *StoredFile) Size() int64    { return f.v.Size }
func (f *StoredFile) SHA256() string { return f.v.SHA256 }

// AddFile stores an uploaded file as the entry's next version (StoreFile,
// then RecordFile). Nothing is written when the upload breaks or exceeds
// the limit.
func (s *Service) AddFile(ctx context.Context, p *auth.Principal, entryID int64, up FileUpload) (FileVersion, error) {
	var fs errs.Fields
	valid.Text(&fs, "note", up.Note, 0, MaxFileNote)
	if err := fs.Err(); err != nil {
		return FileVersion{}, err // before anything is stored
	}
	sf, err := s.StoreFile(ctx, p, entryID, up)
	if err != nil {
		return FileVersion{}, err
	}
	return s.RecordFile(ctx, p, sf, up.Note)
}

// StoreFile checks an upload (entry, permission, name, size) and streams
// its content into the blob store, hashing it and sniffing its media type.
// A form may send the note after the file: RecordFile takes it.
func (s *Service) StoreFile(ctx context.Context, p *auth.Principal, entryID int64, up FileUpload) (*StoredFile, error) {
	e, err := s.fileEntry(ctx, entryID)
	if err != nil {
		return nil, err
	}
	if !p.HasAt(auth.PermDataUpload, e.ProviderID) {
		return nil, errFileNotProvider
	}
	name, err := FileName(up.Name)
	if err != nil {
		return nil, err
	}
	max := s.MaxFileBytes()
	if up.Size > max {
		return nil, FileTooLarge(max)
	}
	br := bufio.NewReaderSize(up.Body, 4096)
	head, _ := br.Peek(512)
	media := sniff(name, head)
	src := &sizeLimit{r: br, max: max}
	size := up.Size
	if size < 0 {
		size = -1
	}
	info, err := s.opts.Blobs.Put(ctx, src, size)
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.Is(err, errFileTooLarge) || errors.As(err, &mbe):
			return nil, FileTooLarge(max)
		case src.err != nil || errors.Is(err, blob.ErrSize):
			return nil, errUploadBroken
		case ctx.Err() != nil:
			return nil, ctx.Err()
		}
		s.log.Error("ingest: storing a file", "entry", entryID, "store", s.opts.Blobs.String(), "err", err)
		return nil, errBlobs
	}
	return &StoredFile{entry: e, v: FileVersion{EntryID: e.ID, Name: name, Size: info.Size, MediaType: media, SHA256: info.Key,
		UserID: p.User.ID, User: p.User.DisplayName}}, nil
}

// RecordFile makes stored content the entry's next version, with an
// optional note. Content identical to the current version is recognised
// and refused (nothing new); identical to an older version, it is a new
// version that says which one it restores.
func (s *Service) RecordFile(ctx context.Context, p *auth.Principal, sf *StoredFile, note string) (FileVersion, error) {
	if p == nil || sf == nil || p.User.ID != sf.v.UserID {
		return FileVersion{}, errFileNotProvider
	}
	var fs errs.Fields
	v := sf.v
	v.Note = valid.Text(&fs, "note", note, 0, MaxFileNote)
	if err := fs.Err(); err != nil {
		return FileVersion{}, err
	}
	err := s.db.Tx(ctx, func(tx *db.Tx) error {
		if err := tx.Run(`INSERT INTO ingest_file_heads (entry_id, version, sha256) VALUES ($1, 0, '') ON CONFLICT (entry_id) DO NOTHING`, v.EntryID); err != nil {
			return err
		}
		// One conditional statement: concurrent uploads get distinct,
		// consecutive numbers, and content equal to the current version's
		// is refused however the uploads interleave.
		err := tx.QueryRow(`UPDATE ingest_file_heads SET version = version + 1, sha256 = $1 WHERE entry_id = $2 AND sha256 <> $1 RETURNING version`,
			v.SHA256, v.EntryID).Scan(&v.Version)
		if errors.Is(err, sql.ErrNoRows) {
			var cur int
			if err := tx.QueryRow(`SELECT version FROM ingest_file_heads WHERE entry_id = $1`, v.EntryID).Scan(&cur); err != nil {
				return err
			}
			return errs.Conflict("ingest.file_duplicate", fmt.Sprintf("与当前版本 %d 的内容完全相同（SHA-256 一致），未新增版本", cur),
				fmt.Sprintf("identical to the current version %d (same SHA-256); no new version was added", cur))
		}
		if err != nil {
			return err
		}
		var same sql.NullInt64
		if err := tx.QueryRow(`SELECT MIN(version) FROM ingest_files WHERE entry_id = $1 AND sha256 = $2`, v.EntryID, v.SHA256).Scan(&same); err != nil {
			return err
		}
		v.SameAs = int(same.Int64)
		v.CreatedAt = tx.Now.Time
		return tx.Run(`INSERT INTO ingest_files (entry_id, version, name, size, media_type, sha256, same_as, user_id, user_name, note, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			v.EntryID, v.Version, v.Name, v.Size, v.MediaType, v.SHA256, v.SameAs, v.UserID, v.User, v.Note, tx.Now)
	})
	if err != nil {
		// The blob stays: it is content-addressed, so the next upload of the
		// same bytes reuses it.
		return FileVersion{}, err
	}
	return v, nil
}

const fileCols = `entry_id, version, name, size, media_type, sha256, same_as, user_id, user_name, note, created_at`

func scanFile(sc interface{ Scan(...any) error }) (FileVersion, error) {
	var (
		v  FileVersion
		at db.Time
	)
	err := sc.Scan(&v.EntryID, &v.Version, &v.Name, &v.Size, &v.MediaType, &v.SHA256, &v.SameAs, &v.UserID, &v.User, &v.Note, &at)
	v.CreatedAt = at.Time
	return v, err
}

// readableEntry returns an entry whose files p may read.
func (s *Service) readableEntry(ctx context.Context, p *auth.Principal, entryID int64) (catalog.Entry, error) {
	if s.opts.Blobs == nil {
		return catalog.Entry{}, errNoBlobs
	}
	e, err := s.catalog.Get(ctx, catalog.System, entryID)
	if err != nil {
		if errs.KindOf(err) == errs.KindNotFound {
			return e, errNoEntry
		}
		return e, err
	}
	if ok, _ := mayRead(p, &e); !ok {
		return e, errFileNotReader
	}
	return e, nil
}

// Files lists an entry's file versions, newest first.
func (s *Service) Files(ctx context.Context, p *auth.Principal, entryID int64) ([]FileVersion, error) {
	if _, err := s.readableEntry(ctx, p, entryID); err != nil {
		return nil, err
	}
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+fileCols+` FROM ingest_files WHERE entry_id = $1 ORDER BY version DESC`, entryID)
	if err != nil {
		return nil, db.Check(err)
	}
	defer rows.Close()
	out := []FileVersion{}
	for rows.Next() {
		v, err := scanFile(rows)
		if err != nil {
			return nil, db.Check(err)
		}
		out = append(out, v)
	}
	return out, db.Check(rows.Err())
}

// File returns one version's description.
func (s *Service) File(ctx context.Context, p *auth.Principal, entryID int64, version int) (FileVersion, error) {
	if _, err := s.readableEntry(ctx, p, entryID); err != nil {
		return FileVersion{}, err
	}
	return s.file(ctx, entryID, version)
}

func (s *Service) file(ctx context.Context, entryID int64, version int) (FileVersion, error) {
	ctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	v, err := scanFile(s.db.R.QueryRowContext(ctx, `SELECT `+fileCols+` FROM ingest_files WHERE entry_id = $1 AND version = $2`, entryID, version))
	if errors.Is(err, sql.ErrNoRows) {
		return v, errNoFileVersion
	}
	return v, db.Check(err)
}

// OpenFile opens a version's content for download; the caller closes it
// and records the access. The reader fails at its end if the stored bytes
// no longer match the version's SHA-256.
func (s *Service) OpenFile(ctx context.Context, p *auth.Principal, entryID int64, version int) (FileVersion, io.ReadCloser, error) {
	v, err := s.File(ctx, p, entryID, version)
	if err != nil {
		return v, nil, err
	}
	rc, info, err := s.opts.Blobs.Get(ctx, v.SHA256)
	if err != nil {
		if errors.Is(err, blob.ErrNotFound) {
			// A version whose bytes are gone is a loss to report, not the
			// reader's mistake.
			s.log.Error("ingest: the content of a file version is missing from the blob store", "entry", entryID, "version", version,
				"sha256", v.SHA256, "store", s.opts.Blobs.String())
			return v, nil, fmt.Errorf("file version %d of entry %d: content %s missing", version, entryID, v.SHA256)
		}
		s.log.Error("ingest: opening a file", "entry", entryID, "version", version, "err", err)
		return v, nil, errBlobs
	}
	if info.Size != v.Size {
		rc.Close()
		return v, nil, fmt.Errorf("file version %d of entry %d: stored size %d, recorded %d", version, entryID, info.Size, v.Size)
	}
	return v, rc, nil
}
