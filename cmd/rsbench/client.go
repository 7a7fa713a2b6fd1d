package main

import (
	"context"
	"fmt"
	"time"

	"github.com/raftstream/raftstream/internal/respclient"
)

// dial connects to addr, switching to RESP3 first when proto is 3; every
// round trip must then complete within timeout, so that a stuck server
// fails the run instead of hanging it.
func dial(ctx context.Context, addr string, proto int, timeout time.Duration) (*respclient.Conn, error) {
	c, err := respclient.Dial(ctx, addr, timeout)
	if err != nil {
		return nil, err
	}
	if proto == 3 {
		v, err := c.Do("HELLO", "3")
		if err == nil {
			err = v.Err()
		}
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("HELLO 3: %w", err)
		}
	}
	return c, nil
}
