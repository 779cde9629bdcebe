package main

import (
	"context"
	"io"

	"xiangyun/internal/bench"
)

// cmdBench runs xiangyun bench (internal/bench).
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return bench.Command(ctx, args, stdout, stderr)
}
