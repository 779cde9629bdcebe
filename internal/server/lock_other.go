//go:build !unix

package server

// lockDataDir is a no-op where flock is not available; the search index's
// own lock still keeps a second process out, with a less friendly message.
func lockDataDir(dir string) (release func(), err error) { return func() {}, nil }
