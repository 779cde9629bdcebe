package blob

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func localImpl() impl {
	return impl{
		open: func(t *testing.T) Store {
			s, err := OpenLocal(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		corrupt: func(t *testing.T, s Store, key string) {
			p := s.(*Local).path(key)
			if err := os.Chmod(p, 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt([]byte("tampered"), 100); err != nil {
				t.Fatal(err)
			}
			f.Close()
		},
		leftovers: func(t *testing.T, s Store) []string {
			ents, err := os.ReadDir(s.(*Local).tmpDir())
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range ents {
				out = append(out, e.Name())
			}
			return out
		},
	}
}

func TestLocal(t *testing.T) { runSuite(t, localImpl()) }

// TestLocalKilledPut kills a process in the middle of a Put (SIGKILL, no
// deferred cleanup runs): nothing is visible afterwards, and the temporary
// file it left is removed once it is stale.
func TestLocalKilledPut(t *testing.T) {
	dir := t.TempDir()
	killedPut(t, "TestHelperLocalPut", []string{"BLOB_TEST_DIR=" + dir}, func() Store {
		s, err := OpenLocal(dir)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
	s, _ := OpenLocal(dir)
	tmp, _ := os.ReadDir(s.tmpDir())
	if len(tmp) != 1 {
		t.Fatalf("%d temporary files after the kill, want the one the killed put was writing", len(tmp))
	}
	old := time.Now().Add(-2 * staleTemp)
	if err := os.Chtimes(filepath.Join(s.tmpDir(), tmp[0].Name()), old, old); err != nil {
		t.Fatal(err)
	}
	s, err := OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tmp, _ := os.ReadDir(s.tmpDir()); len(tmp) != 0 {
		t.Fatalf("a stale temporary file survived reopening: %v", tmp)
	}
}

// TestHelperLocalPut is the process TestLocalKilledPut kills.
func TestHelperLocalPut(t *testing.T) {
	dir := os.Getenv("BLOB_TEST_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	s, err := OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	helperPut(t, s)
}

// helperPut stores standard input, telling the parent on standard output
// when it has started.
func helperPut(t *testing.T, s Store) {
	os.Stdout.WriteString("started\n")
	_, err := s.Put(context.Background(), os.Stdin, -1)
	t.Fatalf("the put was meant to be killed, it ended: %v", err)
}

// killedPut runs the helper test in a child process, feeds it 7 MiB of a
// longer stream, kills it with SIGKILL and checks that reopening the store
// shows no blob.
func killedPut(t *testing.T, helper string, env []string, reopen func() Store) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^"+helper+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	buf := make([]byte, 8)
	if _, err := io.ReadFull(out, buf); err != nil || string(buf) != "started\n" {
		t.Fatalf("helper did not start: %q %v", buf, err)
	}
	// Writes into a pipe return once the child has taken the bytes (less
	// the pipe's buffer), so the put is well under way when it is killed.
	data := randomBytes(9, 7<<20) // more than an S3 part (5 MiB in the tests): one part is sent
	if _, err := in.Write(data); err != nil {
		t.Fatalf("feeding the helper: %v", err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != -1 {
		t.Fatalf("helper was not killed: %v", err)
	}
	s := reopen()
	if got := keys(t, s, ""); len(got) != 0 {
		t.Fatalf("blobs visible after a killed put: %v", got)
	}
	for _, k := range []string{sum(data), sum(data[:1<<20])} {
		if _, err := s.Stat(context.Background(), k); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Stat after a killed put: %v", err)
		}
	}
}
