package main

// Streams, subjects and the connection (reference §2.2–§2.5, §1.4).

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	taskStream   = "EBIND_TASKS"
	respStream   = "EBIND_RESP"
	dlqStream    = "EBIND_DLQ"
	eventsStream = "EBIND_DAG_EVENTS"
	dagBucket    = "ebind-dags"
	msgIDHeader  = "Nats-Msg-Id"
)

// b64url is base64 URL alphabet without padding (RawURLEncoding).
func b64url(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func taskSubject(name string) string { return "TASKS." + name }

func targetedTaskSubject(target, name string) string {
	return "TASKS_TARGET." + b64url(target) + "." + name
}

func taskPublishSubject(name, target string) string {
	if target != "" {
		return targetedTaskSubject(target, name)
	}
	return taskSubject(name)
}

func targetedTaskFilter(target string) string { return "TASKS_TARGET." + b64url(target) + ".>" }

// newUUID returns a random (version 4) UUID, as github.com/google/uuid would.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// connect opens a connection and a JetStream context.
func connect(url string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(url, nats.Name("ebgo"), nats.MaxReconnects(3))
	if err != nil {
		return nil, nil, fmt.Errorf("connect %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// session connects for a one-shot command (dying with an error line when it cannot) and gives a
// context that ends after timeout; done closes both.
func session(url string, timeout time.Duration) (jetstream.JetStream, context.Context, func()) {
	nc, js, err := connect(url)
	if err != nil {
		die(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	return js, ctx, func() {
		cancel()
		nc.Close()
	}
}

// ensureStreams is stream.EnsureStreams with the default Config: create-or-update the three streams.
func ensureStreams(ctx context.Context, js jetstream.JetStream) error {
	cfgs := []struct {
		what string
		cfg  jetstream.StreamConfig
	}{
		{"tasks", jetstream.StreamConfig{Name: taskStream, Subjects: []string{"TASKS.>", "TASKS_TARGET.>"},
			Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage, Replicas: 1,
			MaxAge: 24 * time.Hour, Duplicates: 5 * time.Minute}},
		{"responses", jetstream.StreamConfig{Name: respStream, Subjects: []string{"RESP.>"},
			Retention: jetstream.LimitsPolicy, Storage: jetstream.FileStorage, Replicas: 1, MaxAge: time.Hour}},
		{"dlq", jetstream.StreamConfig{Name: dlqStream, Subjects: []string{"DLQ.>"},
			Retention: jetstream.LimitsPolicy, Storage: jetstream.FileStorage, Replicas: 1, MaxAge: 168 * time.Hour}},
	}
	for _, c := range cfgs {
		if _, err := js.CreateOrUpdateStream(ctx, c.cfg); err != nil {
			return fmt.Errorf("stream: %s: %w", c.what, err)
		}
	}
	return nil
}
