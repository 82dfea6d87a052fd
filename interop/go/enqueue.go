package main

// `ebgo enqueue`: Go ebind's producer (reference §1.2, §3.1): a durable response consumer
// ebind-resp-<client>, the envelope published with Nats-Msg-Id = task id, then the response awaited
// and printed as Go decoded it.

import (
	"encoding/json"
	"flag"
	"fmt"
	"reflect"
	"time"

	"github.com/nats-io/nats.go"
)

func runEnqueue(args []string) {
	fs := flag.NewFlagSet("enqueue", flag.ExitOnError)
	url := fs.String("url", "", "NATS URL")
	name := fs.String("name", "", "handler name")
	argsJSON := fs.String("args", "[]", "arguments: a JSON array, sent as is")
	target := fs.String("target", "", "target claim")
	deadline := fs.String("deadline", "", "absolute deadline, RFC 3339")
	deadlineIn := fs.Duration("deadline-in", 0, "deadline relative to now")
	retry := fs.String("retry", "", "retry policy JSON (§2.6.2)")
	async := fs.Bool("async", false, "fire and forget (EnqueueAsync)")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for the response")
	decode := fs.String("decode", "", "also decode the result into a Go type: int64, float64, string, info")
	traceCtx := fs.String("trace-ctx", "", `trace context to carry (EnqueueOptions.TraceCtx): a JSON object of strings, e.g. {"traceparent":"00-…-…-01"}`)
	_ = fs.Parse(args)

	js, ctx, done := session(*url, *wait)
	defer done()

	var payload json.RawMessage
	if err := json.Unmarshal([]byte(*argsJSON), &payload); err != nil {
		die(fmt.Errorf("--args: %w", err))
	}
	t := Task{ID: newUUID(), Name: *name, Payload: payload, EnqueuedAt: time.Now().UTC(), Target: *target}
	if *deadline != "" {
		var err error
		if t.Deadline, err = time.Parse(time.RFC3339Nano, *deadline); err != nil {
			die(fmt.Errorf("--deadline: %w", err))
		}
	} else if *deadlineIn != 0 {
		t.Deadline = time.Now().Add(*deadlineIn).UTC()
	}
	if *traceCtx != "" {
		if err := json.Unmarshal([]byte(*traceCtx), &t.TraceCtx); err != nil {
			die(fmt.Errorf("--trace-ctx: %w", err))
		}
	}
	if *retry != "" {
		t.RetryPolicy = &RetryPolicy{}
		if err := json.Unmarshal([]byte(*retry), t.RetryPolicy); err != nil {
			die(fmt.Errorf("--retry: %w", err))
		}
	}

	var responses chan Response
	if !*async {
		clientID := newUUID()
		t.ReplyTo = "RESP." + clientID + "." + t.ID
		responses = make(chan Response, 1)
		stop, err := consumeResponses(ctx, js, clientID, func(r Response) {
			if r.TaskID == t.ID {
				select {
				case responses <- r:
				default:
				}
			}
		}, func(body []byte, err error) {
			emit(map[string]string{"event": "undecodable_response", "error": err.Error(), "body": string(body)})
		})
		if err != nil {
			die(err)
		}
		defer stop()
	}

	body, err := json.Marshal(t)
	if err != nil {
		die(err)
	}
	msg := &nats.Msg{Subject: taskPublishSubject(t.Name, t.Target), Data: body, Header: nats.Header{}}
	msg.Header.Set(msgIDHeader, t.ID)
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		die(fmt.Errorf("ebind: Enqueue %s: publish: %w", t.Name, err))
	}
	emit(map[string]any{"event": "enqueued", "id": t.ID, "subject": msg.Subject, "envelope": json.RawMessage(body)})
	if *async {
		return
	}
	select {
	case r := <-responses:
		emit(struct {
			Event string `json:"event"`
			Response
		}{"response", r})
		if *decode != "" && r.Result != nil {
			emitDecoded(*decode, r.Result)
		}
	case <-ctx.Done():
		die(fmt.Errorf("no response for %s within %s", t.ID, *wait))
	}
}

// emitDecoded decodes a result into a Go type (Future.Get) and prints
// {"event":"decoded","value":…,"text":…}.
func emitDecoded(kind string, raw json.RawMessage) {
	var v any
	switch kind {
	case "int64":
		v = new(int64)
	case "float64":
		v = new(float64)
	case "string":
		v = new(string)
	case "info":
		v = new(Info)
	default:
		die(fmt.Errorf("--decode: unknown type %q", kind))
	}
	if err := json.Unmarshal(raw, v); err != nil {
		emit(map[string]string{"event": "decode_error", "error": err.Error()})
		return
	}
	// "text": the Go value printed by fmt, exact where a JSON number read by JavaScript is not.
	emit(map[string]any{"event": "decoded", "value": v, "text": fmt.Sprint(reflect.ValueOf(v).Elem().Interface())})
}
