package ingest

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"xiangyun/internal/blob"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
)

// withFiles gives the fixture's service a local blob store and a limit.
func (f *fixture) withFiles(t *testing.T, max int64) *blob.Local {
	t.Helper()
	b, err := blob.OpenLocal(filepath.Join(f.dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	f.s.opts.Blobs, f.s.opts.MaxFileBytes = b, max
	return b
}

// publishFile publishes an entry shared as 文件 (a PDF document).
func (f *fixture) publishFile(name string) int64 {
	f.t.Helper()
	in := catalog.EntryInput{ProviderID: f.police.ID, Content: catalog.Content{
		Name: name, Class: "1/01/001", Abstract: "全省公安机关年度统计公报，按年度发布的文件。",
		FormatClass: "document", FormatType: "pdf", Items: []catalog.Item{{Name: "公报正文", EnName: "zw", DataType: "C", Length: 200}},
		ShareType: catalog.ShareUnconditional, ShareMethod: catalog.MethodFile, ShareChannel: "platform",
		OpenType: catalog.OpenUnconditional, Cycle: "yearly", Grade: "L1",
	}}
	es, err := f.cat.CreatePublished(f.ctx, catalog.System, []catalog.EntryInput{in}, "")
	if err != nil {
		f.t.Fatal(err)
	}
	return es[0].ID
}

func sum(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

func xlsxLike(t *testing.T, sheet string) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for name, body := range map[string]string{"[Content_Types].xml": `<?xml version="1.0"?><Types/>`, "xl/worksheets/sheet1.xml": sheet} {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func (f *fixture) addFile(who string, entry int64, name, note string, data []byte) (FileVersion, error) {
	return f.s.AddFile(f.ctx, f.p[who], entry, FileUpload{Name: name, Note: note, Body: bytes.NewReader(data), Size: -1})
}

func download(t *testing.T, f *fixture, who string, entry int64, version int) ([]byte, FileVersion) {
	t.Helper()
	v, rc, err := f.s.OpenFile(f.ctx, f.p[who], entry, version)
	if err != nil {
		t.Fatalf("%s downloads version %d: %v", who, version, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b, v
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Code != code {
		t.Fatalf("error %v, want code %s", err, code)
	}
	if e.ZH == "" || e.EN == "" {
		t.Fatalf("error %s lacks a message in both languages: %+v", code, e)
	}
}

func TestFiles(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		store := f.withFiles(t, 1<<20)
		entry := f.publishFile("吉林省公安机关年度统计公报")
		sheet := xlsxLike(t, "<sheet>2025</sheet>")

		v1, err := f.addFile("police_spec", entry, "统计公报2025.xlsx", "首次发布", sheet)
		if err != nil {
			t.Fatal(err)
		}
		if v1.Version != 1 || v1.Size != int64(len(sheet)) || v1.SHA256 != sum(sheet) || v1.SameAs != 0 ||
			v1.MediaType != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" || v1.User != "police_spec" || v1.Note != "首次发布" {
			t.Fatalf("version 1: %+v", v1)
		}
		// Identical content again: recognised, nothing added.
		_, err = f.addFile("police_cdo", entry, "copy.xlsx", "", sheet)
		wantCode(t, err, "ingest.file_duplicate")
		if e, _ := errs.As(err); !strings.Contains(e.ZH, "版本 1") || e.Kind != errs.KindConflict {
			t.Fatalf("duplicate: %+v", e)
		}
		// The media type is sniffed: text named .pdf is text, HTML is HTML.
		text := []byte("2025年全省公安机关统计公报（文字版）\n")
		v2, err := f.addFile("police_cdo", entry, "公报.pdf", "", text)
		if err != nil {
			t.Fatal(err)
		}
		if v2.Version != 2 || v2.MediaType != "text/plain; charset=utf-8" {
			t.Fatalf("version 2: %+v", v2)
		}
		// Back to the first content: a new version that restores version 1.
		v3, err := f.addFile("police_spec", entry, "统计公报2025.xlsx", "恢复第 1 版", sheet)
		if err != nil {
			t.Fatal(err)
		}
		if v3.Version != 3 || v3.SameAs != 1 || v3.SHA256 != v1.SHA256 {
			t.Fatalf("version 3: %+v", v3)
		}
		var blobs []string
		store.List(f.ctx, "", func(i blob.Info) error { blobs = append(blobs, i.Key); return nil })
		if len(blobs) != 2 {
			t.Fatalf("%d blobs for two distinct contents: %v", len(blobs), blobs)
		}

		list, err := f.s.Files(f.ctx, f.p["reviewer"], entry)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 3 || list[0].Version != 3 || list[2].Version != 1 || list[2].Note != "首次发布" || list[1].CreatedAt.IsZero() {
			t.Fatalf("list: %+v", list)
		}
		for _, who := range []string{"police_spec", "police_cdo", "reviewer", "admin"} {
			got, v := download(t, f, who, entry, 2)
			if !bytes.Equal(got, text) || v.Name != "公报.pdf" {
				t.Fatalf("%s downloaded %q (%+v)", who, got, v)
			}
		}

		// Others: no upload, no listing, no download.
		_, err = f.addFile("market_cdo", entry, "x.txt", "", []byte("x"))
		wantCode(t, err, "ingest.not_provider")
		_, err = f.addFile("reviewer", entry, "x.txt", "", []byte("x"))
		wantCode(t, err, "ingest.not_provider")
		for _, who := range []string{"market_cdo", "auditor"} {
			_, err = f.s.Files(f.ctx, f.p[who], entry)
			wantCode(t, err, "ingest.not_reader")
			_, _, err = f.s.OpenFile(f.ctx, f.p[who], entry, 1)
			wantCode(t, err, "ingest.not_reader")
		}
		_, _, err = f.s.OpenFile(f.ctx, f.p["police_spec"], entry, 9)
		wantCode(t, err, "ingest.file")
		_, err = f.addFile("police_spec", 999999, "x.txt", "", []byte("x"))
		wantCode(t, err, "ingest.entry")

		// Any published entry may carry attachments, not only 文件 entries.
		if _, err := f.addFile("police_spec", f.entryID, "数据字典.csv", "信息项说明", []byte("信息项,说明\n公民身份号码,18位\n")); err != nil {
			t.Fatal(err)
		}
		if l, _ := f.s.Files(f.ctx, f.p["police_spec"], f.entryID); len(l) != 1 || l[0].Version != 1 || l[0].MediaType != "text/csv; charset=utf-8" {
			t.Fatalf("attachment of a table entry: %+v", l)
		}
	})
}

func TestFilesRefused(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		store := f.withFiles(t, 1000)
		entry := f.publishFile("吉林省公安机关年度统计公报")
		nothing := func(what string) {
			t.Helper()
			n := 0
			store.List(f.ctx, "", func(blob.Info) error { n++; return nil })
			if n != 0 {
				t.Fatalf("%s: %d blobs stored", what, n)
			}
			if l, err := f.s.Files(f.ctx, f.p["police_spec"], entry); err != nil || len(l) != 0 {
				t.Fatalf("%s: versions %+v %v", what, l, err)
			}
			tmp, _ := os.ReadDir(filepath.Join(f.dir, "blobs", "tmp"))
			if len(tmp) != 0 {
				t.Fatalf("%s: temporary files left: %v", what, tmp)
			}
		}
		// Over the limit, announced or found while streaming.
		big := bytes.Repeat([]byte("x"), 1001)
		_, err := f.addFile("police_spec", entry, "big.txt", "", big)
		wantCode(t, err, "ingest.file_too_large")
		if e, _ := errs.As(err); e.Kind != errs.KindTooLarge || !strings.Contains(e.ZH, "未保存任何内容") || !strings.Contains(e.EN, "nothing was saved") {
			t.Fatalf("oversize: %+v", e)
		}
		_, err = f.s.AddFile(f.ctx, f.p["police_spec"], entry, FileUpload{Name: "big.txt", Body: bytes.NewReader(big), Size: 1001})
		wantCode(t, err, "ingest.file_too_large")
		if _, err := f.addFile("police_spec", entry, "exact.txt", "", big[:1000]); err != nil {
			t.Fatalf("a file of exactly the limit: %v", err)
		}
		if err := store.Delete(f.ctx, sum(big[:1000])); err != nil {
			t.Fatal(err)
		}
		// A connection that breaks in the middle.
		_, err = f.s.AddFile(f.ctx, f.p["police_spec"], entry, FileUpload{Name: "broken.txt", Body: io.MultiReader(bytes.NewReader(big[:600]), errReader{}), Size: -1})
		wantCode(t, err, "upload.read")
		// Fewer bytes than announced.
		_, err = f.s.AddFile(f.ctx, f.p["police_spec"], entry, FileUpload{Name: "short.txt", Body: bytes.NewReader(big[:10]), Size: 20})
		wantCode(t, err, "upload.read")

		// Reset the one version written above, then check nothing else is.
		if err := f.data.Tx(f.ctx, func(tx *db.Tx) error {
			if err := tx.Run(`DELETE FROM ingest_files`); err != nil {
				return err
			}
			return tx.Run(`DELETE FROM ingest_file_heads`)
		}); err != nil {
			t.Fatal(err)
		}
		// Hostile names: control characters and direction marks are refused.
		for _, name := range []string{"a\x00b.txt", "report\x1b[31m.txt", "line\nbreak.txt", "invoice\u202Efdp.exe", "", "..", "../", "  ", "\xff\xfe.txt"} {
			_, err := f.addFile("police_spec", entry, name, "", []byte("x"))
			wantCode(t, err, "ingest.file_name")
		}
		_, err = f.addFile("police_spec", entry, "ok.txt", strings.Repeat("长", MaxFileNote+1), []byte("x"))
		if e, ok := errs.As(err); !ok || e.Kind != errs.KindInvalid {
			t.Fatalf("an overlong note: %v", err)
		}
		nothing("refused uploads")

		// Folders are dropped and long names shortened with their extension.
		for i, c := range []struct{ in, want string }{
			{"../../../etc/passwd", "passwd"},
			{`C:\Users\张三\Desktop\统计公报.pdf`, "统计公报.pdf"},
			{"/var/lib/xiangyun/blobs/tmp/x.txt", "x.txt"},
		} {
			v, err := f.addFile("police_spec", entry, c.in, "", []byte{byte('a' + i)})
			if err != nil || v.Name != c.want {
				t.Fatalf("name %q: %q %v, want %q", c.in, v.Name, err, c.want)
			}
		}
		long := strings.Repeat("很长的文件名", 100) + ".xlsx"
		v, err := f.addFile("police_spec", entry, long, "", []byte("long"))
		if err != nil {
			t.Fatal(err)
		}
		if utf8.RuneCountInString(v.Name) != MaxFileName || !strings.HasSuffix(v.Name, "….xlsx") || !strings.HasPrefix(v.Name, "很长的文件名") {
			t.Fatalf("long name kept as %q (%d characters)", v.Name, utf8.RuneCountInString(v.Name))
		}

		// Unpublished entries carry no files.
		in := catalog.EntryInput{ProviderID: f.police.ID, Content: catalog.Content{Name: "草稿目录", Class: "1/01/001", Abstract: "草稿",
			FormatClass: "document", FormatType: "pdf", Items: []catalog.Item{{Name: "正文", DataType: "C", Length: 10}},
			ShareType: catalog.ShareUnconditional, ShareMethod: catalog.MethodFile, OpenType: catalog.OpenUnconditional, Cycle: "yearly", Grade: "L1"}}
		draft, err := f.cat.Create(f.ctx, f.p["police_cdo"], in)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.addFile("police_spec", draft.ID, "x.txt", "", []byte("x"))
		wantCode(t, err, "ingest.files_unpublished")

		// Without a blob store the feature says so.
		f.s.opts.Blobs = nil
		_, err = f.addFile("police_spec", entry, "x.txt", "", []byte("x"))
		wantCode(t, err, "ingest.files_unavailable")
	})
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset by peer") }

// TestFilesConcurrent: uploads of the same content at once make exactly one
// version; uploads of different content get consecutive numbers.
func TestFilesConcurrent(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		f.withFiles(t, 1<<20)
		entry := f.publishFile("吉林省公安机关年度统计公报")
		const n = 8
		var wg sync.WaitGroup
		res := make([]error, n)
		data := bytes.Repeat([]byte("同一份文件 "), 5000)
		for i := range n {
			wg.Go(func() { _, res[i] = f.addFile([]string{"police_spec", "police_cdo"}[i%2], entry, "same.txt", "", data) })
		}
		wg.Wait()
		ok := 0
		for _, err := range res {
			if err == nil {
				ok++
			} else if e, _ := errs.As(err); e == nil || e.Code != "ingest.file_duplicate" {
				t.Fatalf("concurrent duplicate: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of %d identical concurrent uploads made a version, want 1", ok, n)
		}
		for i := range n {
			wg.Go(func() {
				_, res[i] = f.addFile("police_spec", entry, "v.txt", "", []byte(strings.Repeat("版本", 100+i)))
			})
		}
		wg.Wait()
		for _, err := range res {
			if err != nil {
				t.Fatal(err)
			}
		}
		list, err := f.s.Files(f.ctx, f.p["police_spec"], entry)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != n+1 {
			t.Fatalf("%d versions, want %d", len(list), n+1)
		}
		for i, v := range list {
			if v.Version != n+1-i {
				t.Fatalf("versions not consecutive: %d at %d", v.Version, i)
			}
		}
	})
}

// TestFilesCorruption: bytes changed behind the platform's back fail the
// download at its end instead of being served as the version.
func TestFilesCorruption(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		f.withFiles(t, 1<<20)
		entry := f.publishFile("吉林省公安机关年度统计公报")
		data := bytes.Repeat([]byte("原始内容 "), 1000)
		v, err := f.addFile("police_spec", entry, "a.txt", "", data)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(f.dir, "blobs", v.SHA256[:2], v.SHA256)
		b, _ := os.ReadFile(p)
		b[10] ^= 1
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		_, rc, err := f.s.OpenFile(f.ctx, f.p["reviewer"], entry, v.Version)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		if _, err := io.ReadAll(rc); !errors.Is(err, blob.ErrCorrupt) {
			t.Fatalf("reading tampered content: %v", err)
		}
		// Content removed from the store is an internal error, not "not found".
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		_, _, err = f.s.OpenFile(f.ctx, f.p["reviewer"], entry, v.Version)
		if err == nil || errs.KindOf(err) == errs.KindNotFound {
			t.Fatalf("missing content: %v", err)
		}
	})
}

func TestSniff(t *testing.T) {
	for _, c := range []struct {
		name string
		head []byte
		want string
	}{
		{"a.xlsx", []byte("PK\x03\x04rest"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
		{"a.zip", []byte("PK\x03\x04rest"), "application/zip"},
		{"a.xlsx", []byte("<html><script>alert(1)</script>"), "text/html; charset=utf-8"},
		{"a.pdf", []byte("%PDF-1.7\n"), "application/pdf"},
		{"a.png", []byte("%PDF-1.7\n"), "application/pdf"},
		{"a.csv", []byte("a,b\n1,2\n"), "text/csv; charset=utf-8"},
		{"a.csv", []byte("\xc3\xfb\xb3\xc6,b\n"), "text/csv"},
		{"a.json", []byte(` {"a":1}`), "application/json"},
		{"a.json", []byte("not json"), "text/plain; charset=utf-8"},
		{"a.txt", []byte("全省统计"[:7]), "text/plain; charset=utf-8"},
		{"a.exe", []byte("MZ\x90\x00\x03\x00\x00\x00"), "application/octet-stream"},
	} {
		if got := sniff(c.name, c.head); got != c.want {
			t.Errorf("sniff(%q, %q) = %q, want %q", c.name, c.head, got, c.want)
		}
	}
}
