//go:build unix

package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockDataDir takes an exclusive lock on the data directory, so that a second
// serve or demo on the same directory says so plainly instead of timing out
// on the search index. The lock ends with the process, even on kill -9.
func lockDataDir(dir string) (release func(), err error) {
	path := filepath.Join(dir, "xiangyun.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		pid, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := "another xiangyun process"
			if p := strings.TrimSpace(string(pid)); p != "" {
				who += " (pid " + p + ")"
			}
			return nil, fmt.Errorf("the data directory %s is in use by %s: stop it first, or give this one its own --data / --db", dir, who)
		}
		return nil, fmt.Errorf("data directory lock: %w", err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { f.Close() }, nil
}
