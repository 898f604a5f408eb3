package main

import "context"

func cmdSend(ctx context.Context, e *env, args []string) error { return usageErr("send: not yet") }
func cmdRecv(ctx context.Context, e *env, args []string) error { return usageErr("recv: not yet") }
func cmdPing(ctx context.Context, e *env, args []string) error { return usageErr("ping: not yet") }
func cmdPong(ctx context.Context, e *env, args []string) error { return usageErr("pong: not yet") }
