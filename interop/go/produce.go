package main

// `ebgo produce`: a load generator for bench/ — n tasks published the way Go ebind's client does
// (one synchronous js.PublishMsg per Enqueue, Nats-Msg-Id = task id, §1.2), from `--inflight`
// goroutines, optionally awaiting every response through the client's durable response consumer.
// Prints {"event":"produced","n":…,"ms":…} when all are published (and, with --await, answered).

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

func runProduce(args []string) {
	fs := flag.NewFlagSet("produce", flag.ExitOnError)
	url := fs.String("url", "", "NATS URL")
	name := fs.String("name", "bench.noop", "handler name")
	n := fs.Int("n", 1000, "tasks")
	inflight := fs.Int("inflight", 1000, "publishes in flight (goroutines)")
	await := fs.Bool("await", false, "await every response (Enqueue + Future.Get); else EnqueueAsync")
	payloadBytes := fs.Int("payload-bytes", 100, "one string argument of this many bytes")
	_ = fs.Parse(args)

	nc, js, err := connect(*url)
	if err != nil {
		die(err)
	}
	defer nc.Close()
	ctx := context.Background()
	payload, _ := json.Marshal([]string{strings.Repeat("x", *payloadBytes)})

	clientID := newUUID()
	var waiters sync.Map // task id → chan struct{}
	var answered atomic.Int64
	if *await {
		stop, err := consumeResponses(ctx, js, clientID, func(r Response) {
			if w, ok := waiters.LoadAndDelete(r.TaskID); ok {
				answered.Add(1)
				close(w.(chan struct{}))
			}
		}, nil)
		if err != nil {
			die(err)
		}
		defer stop()
	}

	emit(map[string]string{"event": "ready"})
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(*inflight, *n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(*n) {
				t := Task{ID: newUUID(), Name: *name, Payload: payload, EnqueuedAt: time.Now().UTC()}
				var done chan struct{}
				if *await {
					t.ReplyTo = "RESP." + clientID + "." + t.ID
					done = make(chan struct{})
					waiters.Store(t.ID, done) // registered before publishing (§3.1)
				}
				body, _ := json.Marshal(t)
				msg := &nats.Msg{Subject: taskSubject(t.Name), Data: body, Header: nats.Header{}}
				msg.Header.Set(msgIDHeader, t.ID)
				if _, err := js.PublishMsg(ctx, msg); err != nil {
					die(fmt.Errorf("ebind: Enqueue %s: publish: %w", t.Name, err))
				}
				if done != nil {
					<-done
				}
			}
		}()
	}
	wg.Wait()
	emit(map[string]any{"event": "produced", "n": *n, "answered": answered.Load(), "ms": float64(time.Since(start).Microseconds()) / 1000})
}
