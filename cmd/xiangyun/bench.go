package main

import (
	"context"
	"io"

	"xiangyun/internal/bench"
)

// cmdBench runs xiangyun bench (internal/bench): catalog, or gateway.
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "gateway" {
		return bench.GatewayCommand(ctx, args[1:], stdout, stderr)
	}
	return bench.Command(ctx, args, stdout, stderr)
}
