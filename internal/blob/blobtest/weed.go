// Package blobtest runs a real S3-compatible server for tests: SeaweedFS's
// `weed server -s3`, on 127.0.0.1 with free ports and a temporary
// directory, stopped when the test ends. The binary is not part of the
// repository: .ci/run builds it into a cache and names it in
// XIANGYUN_TEST_WEED. Without it the test is skipped, saying how to get it;
// under CI=true that is a failure.
package blobtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Env names the weed binary.
const Env = "XIANGYUN_TEST_WEED"

// Weed is a running SeaweedFS server with its S3 gateway.
type Weed struct {
	Endpoint  string // host:port of the S3 gateway (plain HTTP)
	AccessKey string // empty: anonymous access
	SecretKey string
	Dir       string // its data directory
	cmd       *exec.Cmd
}

// Options configure the server.
type Options struct {
	// AccessKey and SecretKey, when set, make the gateway require signed
	// requests with them (an admin identity); otherwise it is anonymous.
	AccessKey, SecretKey string
}

// Binary returns the weed binary from XIANGYUN_TEST_WEED, skipping (or, under
// CI=true, failing) the test without it.
func Binary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv(Env)
	if bin == "" {
		msg := "S3 test skipped: set " + Env + " to a SeaweedFS weed binary (.ci/run builds one: see build_weed there)"
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but " + msg)
		}
		t.Skip(msg)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s=%s: %v", Env, bin, err)
	}
	return bin
}

// freePorts returns n distinct free TCP ports on 127.0.0.1.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// syncBuffer is a log buffer weed writes to while tests read it.
type syncBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

// Start runs weed until the test ends and waits until its S3 gateway
// stores objects.
func Start(t testing.TB, opts Options) *Weed {
	t.Helper()
	w, stop := launch(t, opts)
	t.Cleanup(stop)
	return w
}

var shared struct {
	mu   sync.Mutex
	stop []func()
}

// StartShared is Start for a server shared by a package's tests: it runs
// until StopShared, which TestMain calls after m.Run.
func StartShared(t testing.TB, opts Options) *Weed {
	t.Helper()
	w, stop := launch(t, opts)
	shared.mu.Lock()
	shared.stop = append(shared.stop, stop)
	shared.mu.Unlock()
	return w
}

// StopShared stops the servers StartShared started.
func StopShared() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	for _, stop := range shared.stop {
		stop()
	}
	shared.stop = nil
}

// launch starts weed; a start that fails (a port taken meanwhile) is tried
// again with other ports.
func launch(t testing.TB, opts Options) (*Weed, func()) {
	t.Helper()
	bin := Binary(t)
	var last error
	for range 3 {
		w, stop, err := start(t, bin, opts)
		if err == nil {
			return w, stop
		}
		last = err
	}
	t.Fatalf("weed did not start: %v", last)
	return nil, nil
}

func start(t testing.TB, bin string, opts Options) (*Weed, func(), error) {
	dir, err := os.MkdirTemp("", "xiangyun-weed-*")
	if err != nil {
		return nil, nil, err
	}
	p := freePorts(t, 8)
	// Logs and the sockets it can be told about stay in its directory.
	args := []string{"-logdir=" + dir, "server", "-dir=" + dir,
		"-filer.localSocket=" + filepath.Join(dir, "filer.sock"), "-s3.localSocket=" + filepath.Join(dir, "s3.sock"), "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.port=" + strconv.Itoa(p[0]), "-master.port.grpc=" + strconv.Itoa(p[1]),
		"-volume.port=" + strconv.Itoa(p[2]), "-volume.port.grpc=" + strconv.Itoa(p[3]),
		"-filer", "-filer.port=" + strconv.Itoa(p[4]), "-filer.port.grpc=" + strconv.Itoa(p[5]),
		"-s3", "-s3.port=" + strconv.Itoa(p[6]), "-s3.port.grpc=" + strconv.Itoa(p[7]),
		"-s3.port.iceberg=0", "-s3.port.lance=0", "-master.volumeSizeLimitMB=64"}
	if opts.AccessKey != "" {
		cfg := map[string]any{"identities": []map[string]any{{
			"name":        "xiangyun",
			"credentials": []map[string]string{{"accessKey": opts.AccessKey, "secretKey": opts.SecretKey}},
			"actions":     []string{"Admin", "Read", "Write", "List", "Tagging"},
		}}}
		b, _ := json.Marshal(cfg)
		f := filepath.Join(dir, "s3.json")
		if err := os.WriteFile(f, b, 0o600); err != nil {
			return nil, nil, err
		}
		args = append(args, "-s3.config="+f)
	}
	log := &syncBuffer{}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group (stopped as a whole), and killed with the test
	// binary should that die first (a test timeout).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		// weed and anything it started: the process group.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
		}
		os.RemoveAll(dir)
		// The gRPC sockets are always /tmp/seaweedfs-<service>-grpc-<port>.sock
		// and outlive a killed weed: remove the ones of its ports.
		for _, port := range p {
			socks, _ := filepath.Glob("/tmp/seaweedfs-*-" + strconv.Itoa(port) + ".sock")
			for _, s := range socks {
				os.Remove(s)
			}
		}
	}
	w := &Weed{Endpoint: "127.0.0.1:" + strconv.Itoa(p[6]), AccessKey: opts.AccessKey, SecretKey: opts.SecretKey, Dir: dir, cmd: cmd}
	if err := w.waitReady(exited); err != nil {
		stop()
		log.mu.Lock()
		out := log.String()
		log.mu.Unlock()
		if len(out) > 4000 {
			out = out[len(out)-4000:]
		}
		return nil, nil, fmt.Errorf("%w\nweed log (end):\n%s", err, out)
	}
	return w, stop, nil
}

// waitReady waits until an object can be written and read back.
func (w *Weed) waitReady(exited chan error) error {
	c, err := w.Client()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(90 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("weed exited: %v", err)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		last = func() error {
			if ok, err := c.BucketExists(ctx, "ready"); err != nil {
				return err
			} else if !ok {
				if err := c.MakeBucket(ctx, "ready", minio.MakeBucketOptions{}); err != nil {
					return err
				}
			}
			if _, err := c.PutObject(ctx, "ready", "probe", bytes.NewReader([]byte("ok")), 2, minio.PutObjectOptions{}); err != nil {
				return err
			}
			return c.RemoveObject(ctx, "ready", "probe", minio.RemoveObjectOptions{})
		}()
		cancel()
		if last == nil {
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("weed's S3 gateway at %s was not ready in 90 s: %v", w.Endpoint, last)
}

// Client is a minio client of the gateway, for tests that look behind the
// store's back.
func (w *Weed) Client() (*minio.Client, error) {
	return minio.New(w.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(w.AccessKey, w.SecretKey, "")})
}
