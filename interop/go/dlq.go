package main

// `ebgo dlq list|requeue`: Go ebind's dlq package (reference §1.5) and ebctl's listing (§4.2 dlq ls:
// scan from the last sequence down). Reads use stream get-by-sequence (EBIND_DLQ has no direct get).

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

var errNotFound = errors.New("dlq: entry not found")

func runDLQ(args []string) {
	if len(args) == 0 {
		die(errors.New("dlq: want list or requeue"))
	}
	fs := flag.NewFlagSet("dlq", flag.ExitOnError)
	url := fs.String("url", "", "NATS URL")
	_ = fs.Parse(args[1:])
	js, ctx, done := session(*url, 10*time.Second)
	defer done()
	switch args[0] {
	case "list":
		if err := dlqList(ctx, js); err != nil {
			die(err)
		}
	case "requeue":
		for _, s := range fs.Args() {
			seq, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				die(fmt.Errorf("parse seq: %w", err))
			}
			if err := dlqRequeue(ctx, js, seq); err != nil {
				die(err)
			}
			emit(map[string]any{"event": "requeued", "seq": seq})
		}
	default:
		die(fmt.Errorf("dlq: unknown subcommand %q", args[0]))
	}
}

// dlqList prints one {"event":"entry"} per decodable message, newest first.
func dlqList(ctx context.Context, js jetstream.JetStream) error {
	stream, err := js.Stream(ctx, dlqStream)
	if err != nil {
		return fmt.Errorf("dlq: open stream: %w", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return err
	}
	for seq := info.State.LastSeq; seq >= info.State.FirstSeq && seq > 0; seq-- {
		e, subject, err := dlqFetch(ctx, stream, seq)
		if errors.Is(err, errNotFound) {
			continue
		}
		if err != nil {
			emit(map[string]any{"event": "undecodable", "seq": seq, "error": err.Error()})
			continue
		}
		emit(map[string]any{"event": "entry", "seq": seq, "subject": subject, "entry": e})
	}
	return nil
}

// dlqFetch is dlq.Fetch.
func dlqFetch(ctx context.Context, stream jetstream.Stream, seq uint64) (*DLQEntry, string, error) {
	m, err := stream.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, "", errNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("dlq: get msg %d: %w", seq, err)
	}
	var e DLQEntry
	if err := json.Unmarshal(m.Data, &e); err != nil {
		return nil, m.Subject, fmt.Errorf("dlq: decode entry: %w", err)
	}
	return &e, m.Subject, nil
}

// dlqRequeue is dlq.Requeue: reset attempt/enqueued_at/worker_id, publish with a fresh msg-id, delete.
func dlqRequeue(ctx context.Context, js jetstream.JetStream, seq uint64) error {
	stream, err := js.Stream(ctx, dlqStream)
	if err != nil {
		return fmt.Errorf("dlq: open stream: %w", err)
	}
	e, _, err := dlqFetch(ctx, stream, seq)
	if err != nil {
		return err
	}
	t := e.Task
	t.Attempt, t.EnqueuedAt, t.WorkerID = 0, time.Now().UTC(), ""
	body, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("dlq: marshal task: %w", err)
	}
	msg := &nats.Msg{Subject: taskPublishSubject(t.Name, t.Target), Data: body, Header: nats.Header{}}
	msg.Header.Set(msgIDHeader, newUUID())
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("dlq: republish: %w", err)
	}
	if err := stream.DeleteMsg(ctx, seq); err != nil {
		return fmt.Errorf("dlq: delete msg %d after requeue: %w", seq, err)
	}
	return nil
}
