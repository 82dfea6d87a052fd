package main

// The handlers a Go worker serves, and a small dispatcher with Go ebind's calling convention
// (reference §1.1 "Dispatcher"): the payload is a JSON array decoded element by element into the
// declared parameter types; a plain error becomes kind handler (retryable); results are JSON-encoded,
// an error-only handler has no result.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Handler runs one task: payload in, raw result (nil for none) out.
type Handler func(ctx context.Context, t *Task, payload json.RawMessage) (json.RawMessage, error)

// Info is the struct result: tagged and untagged fields (an untagged field keeps its Go name),
// a time, an omitted empty slice.
type Info struct {
	Name  string    `json:"name"`
	Count int64     `json:"count"`
	Ratio float64   `json:"ratio"`
	Tags  []string  `json:"tags,omitempty"`
	At    time.Time `json:"at"`
	Plain bool
}

// decodeArgs is Dispatcher.Call's argument step: count check, then each element into its pointer.
func decodeArgs(payload json.RawMessage, ptrs ...any) error {
	var raw []json.RawMessage
	if len(payload) > 0 && string(payload) != "null" {
		if err := json.Unmarshal(payload, &raw); err != nil {
			return &TaskError{Kind: KindDecode, Message: "payload is not a JSON array: " + err.Error()}
		}
	}
	if len(raw) != len(ptrs) {
		return &TaskError{Kind: KindArgCount, Message: fmt.Sprintf("want %d args, got %d", len(ptrs), len(raw))}
	}
	for i, p := range ptrs {
		if err := json.Unmarshal(raw[i], p); err != nil {
			return &TaskError{Kind: KindDecode, Message: fmt.Sprintf("arg %d (%T): %v", i, p, err)}
		}
	}
	return nil
}

// result is Dispatcher.Call's result step.
func result(v any, err error) (json.RawMessage, error) {
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, &TaskError{Kind: KindDecode, Message: "marshal result: " + err.Error()}
	}
	return b, nil
}

// handlers are named like Go canonical names (package.Func).
var handlers = map[string]Handler{
	// BigAdd adds two int64s; the sum may exceed 2^53 and is encoded exactly.
	"interop.BigAdd": func(_ context.Context, _ *Task, p json.RawMessage) (json.RawMessage, error) {
		var a, b int64
		if err := decodeArgs(p, &a, &b); err != nil {
			return nil, err
		}
		return result(a+b, nil)
	},
	// RawEcho returns its argument's raw JSON text untouched.
	"interop.RawEcho": func(_ context.Context, _ *Task, p json.RawMessage) (json.RawMessage, error) {
		var v json.RawMessage
		if err := decodeArgs(p, &v); err != nil {
			return nil, err
		}
		return v, nil
	},
	// Float multiplies by 1.5 (2.0 encodes as 2).
	"interop.Float": func(_ context.Context, _ *Task, p json.RawMessage) (json.RawMessage, error) {
		var x float64
		if err := decodeArgs(p, &x); err != nil {
			return nil, err
		}
		return result(x*1.5, nil)
	},
	// Struct builds an Info.
	"interop.Struct": func(_ context.Context, _ *Task, p json.RawMessage) (json.RawMessage, error) {
		var name string
		var n int64
		if err := decodeArgs(p, &name, &n); err != nil {
			return nil, err
		}
		return result(Info{Name: name, Count: n, Ratio: float64(n) / 4, At: time.Date(2026, 5, 1, 10, 0, 0, 123456789, time.UTC), Plain: true}, nil)
	},
	// bench.noop is bench/'s no-op task: one string argument, result 1.
	"bench.noop": func(_ context.Context, _ *Task, p json.RawMessage) (json.RawMessage, error) {
		var s string
		if err := decodeArgs(p, &s); err != nil {
			return nil, err
		}
		return result(1, nil)
	},
	// Void is an error-only handler: no result on the wire.
	"interop.Void": func(_ context.Context, _ *Task, p json.RawMessage) (json.RawMessage, error) {
		return nil, decodeArgs(p)
	},
	// Nil returns a nil pointer: the result is the JSON null.
	"interop.Nil": func(_ context.Context, _ *Task, p json.RawMessage) (json.RawMessage, error) {
		if err := decodeArgs(p); err != nil {
			return nil, err
		}
		var none *Info
		return result(none, nil)
	},
	// Fail returns the TaskError it is told to.
	"interop.Fail": func(_ context.Context, _ *Task, p json.RawMessage) (json.RawMessage, error) {
		var kind, msg string
		var retryable bool
		if err := decodeArgs(p, &kind, &msg, &retryable); err != nil {
			return nil, err
		}
		return nil, &TaskError{Kind: kind, Message: msg, Retryable: retryable}
	},
	// Flaky fails (plain error, kind handler, retryable) on attempts 1..n, then returns the attempt.
	"interop.Flaky": func(_ context.Context, t *Task, p json.RawMessage) (json.RawMessage, error) {
		var n int
		if err := decodeArgs(p, &n); err != nil {
			return nil, err
		}
		if t.Attempt <= n {
			return nil, fmt.Errorf("flaky: attempt %d of %d failing", t.Attempt, n)
		}
		return result(t.Attempt, nil)
	},
	// Sleep sleeps ms honouring ctx; a deadline surfaces as ctx's error (Go ebind: kind handler).
	"interop.Sleep": func(ctx context.Context, _ *Task, p json.RawMessage) (json.RawMessage, error) {
		var ms int
		if err := decodeArgs(p, &ms); err != nil {
			return nil, err
		}
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
			return result("slept", nil)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	},
	// NonRetryable fails with kind validation, not retryable.
	"interop.NonRetryable": func(_ context.Context, _ *Task, p json.RawMessage) (json.RawMessage, error) {
		var msg string
		if err := decodeArgs(p, &msg); err != nil {
			return nil, err
		}
		return nil, &TaskError{Kind: "validation", Message: msg, Retryable: false}
	},
	// WhoAmI returns the id of the worker that ran it.
	"interop.WhoAmI": func(_ context.Context, t *Task, p json.RawMessage) (json.RawMessage, error) {
		if err := decodeArgs(p); err != nil {
			return nil, err
		}
		return result(t.WorkerID, nil)
	},
}

// asTaskError is Dispatcher.Call's error step: a TaskError (or one wrapped) is kept, else kind handler.
func asTaskError(err error) *TaskError {
	var te *TaskError
	if errors.As(err, &te) {
		return te
	}
	return &TaskError{Kind: KindHandler, Message: err.Error(), Retryable: true}
}
