package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"

	"xiangyun/internal/httpx"
	"xiangyun/internal/server"
)

type common struct {
	cfg       server.Config
	logFormat string
	proxies   string
	maxFileMB int64
}

// resolve checks the flags that need parsing after fs.Parse.
func (c *common) resolve() error {
	ps, err := httpx.ParseProxies(c.proxies)
	if err != nil {
		return err
	}
	c.cfg.TrustedProxies = ps
	if c.maxFileMB <= 0 {
		return fmt.Errorf("--max-file-mb must be positive, not %d", c.maxFileMB)
	}
	c.cfg.MaxFileBytes = c.maxFileMB << 20
	if c.cfg.BlobS3.Endpoint != "" && c.cfg.BlobS3.Bucket == "" {
		return fmt.Errorf("--blob-s3-endpoint needs --blob-s3-bucket")
	}
	return nil
}

// flags registers the common flags on fs, taking defaults from XIANGYUN_*.
func (c *common) flags(fs *flag.FlagSet) {
	env := func(k, def string) string {
		if v, ok := os.LookupEnv(k); ok {
			return v
		}
		return def
	}
	envBool := func(k string) bool { b, _ := strconv.ParseBool(os.Getenv(k)); return b }
	fs.StringVar(&c.cfg.DB, "db", env("XIANGYUN_DB", ""), "database: sqlite:DIR or postgres:// URL (default: SQLite in the data directory, ./xiangyun-data)")
	fs.StringVar(&c.cfg.Addr, "addr", env("XIANGYUN_ADDR", "127.0.0.1:8080"), "listen address")
	fs.StringVar(&c.cfg.DataDir, "data", env("XIANGYUN_DATA", ""), "directory for files (search index, audit key)")
	fs.StringVar(&c.cfg.AuditKeyFile, "audit-key", env("XIANGYUN_AUDIT_KEY", ""), "audit signing key file")
	fs.StringVar(&c.cfg.AuditAnchor, "audit-anchor", env("XIANGYUN_AUDIT_ANCHOR", ""), "file the audit log's signed checkpoints are appended to (default DATA/audit-checkpoints)")
	fs.StringVar(&c.cfg.AuditWitness, "audit-witness", env("XIANGYUN_AUDIT_WITNESS", ""), "URL of a tlog-witness that receives each audit checkpoint")
	fs.StringVar(&c.cfg.Brand, "brand", env("XIANGYUN_BRAND", ""), "platform name shown in the console")
	fs.BoolVar(&c.cfg.SecureCookies, "secure-cookies", envBool("XIANGYUN_SECURE_COOKIES"), "mark cookies Secure (behind TLS)")
	fs.StringVar(&c.cfg.SMTPURL, "smtp-url", env("XIANGYUN_SMTP_URL", ""), "SMTP server for notification e-mail: smtp://user:pass@host:port (STARTTLS when offered; ?starttls=required) or smtps://…; empty = no e-mail")
	fs.StringVar(&c.cfg.SMTPFrom, "smtp-from", env("XIANGYUN_SMTP_FROM", ""), "sender address of notification e-mail")
	fs.StringVar(&c.cfg.PublicURL, "public-url", env("XIANGYUN_PUBLIC_URL", ""), "the console's address as users reach it (https://host), for links in e-mail")
	fs.BoolVar(&c.cfg.TrustProxy, "trust-proxy", envBool("XIANGYUN_TRUST_PROXY"), "trust X-Forwarded-For from a proxy on loopback (same as --trusted-proxies 127.0.0.0/8,::1)")
	fs.StringVar(&c.cfg.ShareKeyFile, "share-key", env("XIANGYUN_SHARE_KEY", ""), "platform sharing key file that seals applications' signing keys (default DATA/share.key; the same file on every node)")
	envInt := func(k string) int { n, _ := strconv.Atoi(os.Getenv(k)); return n }
	fs.IntVar(&c.cfg.SharePlatformDays, "share-platform-days", envInt("XIANGYUN_SHARE_PLATFORM_DAYS"), "working days for the platform's check of a share request (0 = 2)")
	fs.IntVar(&c.cfg.ShareProviderDays, "share-provider-days", envInt("XIANGYUN_SHARE_PROVIDER_DAYS"), "working days for the provider's answer to a share request (0 = 5)")
	fs.IntVar(&c.cfg.ShareProviderDaysNoData, "share-provider-days-no-data", envInt("XIANGYUN_SHARE_PROVIDER_DAYS_NO_DATA"), "working days for the provider's answer when the entry holds no records on the platform yet (0 = 10)")
	c.proxies = env("XIANGYUN_TRUSTED_PROXIES", "")
	fs.Func("trusted-proxies", "comma-separated networks of reverse proxies whose X-Forwarded-For is trusted, e.g. 10.0.0.0/8,127.0.0.1/32", func(v string) error {
		c.proxies = v
		return nil
	})
	fs.StringVar(&c.cfg.BlobDir, "blob-dir", env("XIANGYUN_BLOB_DIR", ""), "directory of file resources' content (default DATA/blobs; unused with --blob-s3-endpoint)")
	fs.StringVar(&c.cfg.BlobS3.Endpoint, "blob-s3-endpoint", env("XIANGYUN_BLOB_S3_ENDPOINT", ""), "S3-compatible store for file resources, host:port (keys from XIANGYUN_BLOB_S3_ACCESS_KEY and XIANGYUN_BLOB_S3_SECRET_KEY); empty = the local --blob-dir")
	fs.StringVar(&c.cfg.BlobS3.Bucket, "blob-s3-bucket", env("XIANGYUN_BLOB_S3_BUCKET", "xiangyun"), "bucket of the S3 store (created when missing)")
	fs.StringVar(&c.cfg.BlobS3.Prefix, "blob-s3-prefix", env("XIANGYUN_BLOB_S3_PREFIX", ""), "folder inside the bucket, e.g. xiangyun/")
	fs.StringVar(&c.cfg.BlobS3.Region, "blob-s3-region", env("XIANGYUN_BLOB_S3_REGION", ""), "region of the S3 store, if it needs one")
	fs.BoolVar(&c.cfg.BlobS3.TLS, "blob-s3-tls", envBoolDefault("XIANGYUN_BLOB_S3_TLS", true), "reach the S3 store over HTTPS (--blob-s3-tls=false for plain HTTP inside a trusted network)")
	c.cfg.BlobS3.AccessKey, c.cfg.BlobS3.SecretKey = os.Getenv("XIANGYUN_BLOB_S3_ACCESS_KEY"), os.Getenv("XIANGYUN_BLOB_S3_SECRET_KEY")
	c.cfg.BlobS3.Create = true
	defMB, _ := strconv.ParseInt(env("XIANGYUN_MAX_FILE_MB", "1024"), 10, 64)
	fs.Int64Var(&c.maxFileMB, "max-file-mb", defMB, "largest file resource version accepted, in MiB")
	fs.StringVar(&c.logFormat, "log-format", env("XIANGYUN_LOG_FORMAT", "text"), "log format: text or json")
}

// envBoolDefault is the boolean variable k, or def when unset or unreadable.
func envBoolDefault(k string, def bool) bool {
	if b, err := strconv.ParseBool(os.Getenv(k)); err == nil {
		return b
	}
	return def
}

func (c *common) logger(w io.Writer) *slog.Logger {
	if c.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func versionString() string { return server.Version }
