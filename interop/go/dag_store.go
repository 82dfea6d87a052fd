package main

// KV access to the ebind-dags bucket as NatsStore does it (reference §1.7.2, §2.7, §3.16): create =
// KV create, CAS = KV update with the expected revision, lists scan every key by prefix/suffix.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

var (
	errStale       = errors.New("workflow: stale revision")
	errDAGNotFound = errors.New("workflow: DAG not found")
)

type store struct {
	js jetstream.JetStream
	kv jetstream.KeyValue
}

// openStore opens the bucket our side created (ebgo never creates or updates it).
func openStore(ctx context.Context, js jetstream.JetStream) (*store, error) {
	kv, err := js.KeyValue(ctx, dagBucket)
	if err != nil {
		return nil, fmt.Errorf("workflow: open bucket %s: %w", dagBucket, err)
	}
	return &store{js: js, kv: kv}, nil
}

func (s *store) get(ctx context.Context, key string, v any) (uint64, error) {
	e, err := s.kv.Get(ctx, key)
	if err != nil {
		return 0, err
	}
	if err := json.Unmarshal(e.Value(), v); err != nil {
		return 0, fmt.Errorf("decode %s: %w", key, err)
	}
	return e.Revision(), nil
}

// put creates (rev 0) or compare-and-sets (rev > 0); a conflict is errStale.
func (s *store) put(ctx context.Context, key string, v any, rev uint64) (uint64, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	var n uint64
	if rev == 0 {
		n, err = s.kv.Create(ctx, key, b)
	} else {
		n, err = s.kv.Update(ctx, key, b, rev)
	}
	if err != nil && (errors.Is(err, jetstream.ErrKeyExists) || strings.Contains(err.Error(), "wrong last sequence")) {
		return 0, errStale
	}
	return n, err
}

func (s *store) meta(ctx context.Context, dag string) (DAGMeta, uint64, error) {
	var m DAGMeta
	rev, err := s.get(ctx, metaKey(dag), &m)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return m, 0, errDAGNotFound
	}
	return m, rev, err
}

type stepAt struct {
	rec StepRecord
	rev uint64
}

// steps lists <dag>.step.* by scanning every key (as NatsStore.ListSteps does).
func (s *store) steps(ctx context.Context, dag string) ([]stepAt, error) {
	keys, err := s.keys(ctx)
	if err != nil {
		return nil, err
	}
	var out []stepAt
	for _, k := range keys {
		if !strings.HasPrefix(k, dag+".step.") {
			continue
		}
		var r StepRecord
		rev, err := s.get(ctx, k, &r)
		if err != nil {
			continue // NatsStore skips entries that fail to read or decode
		}
		out = append(out, stepAt{r, rev})
	}
	return out, nil
}

func (s *store) keys(ctx context.Context) ([]string, error) {
	lister, err := s.kv.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	return keys, nil
}

// publish sends an event on DAG.<dag>.<kind>.<step> (no msg-id).
func (s *store) publish(ctx context.Context, e Event) error {
	b, _ := json.Marshal(e)
	_, err := s.js.Publish(ctx, eventSubject(e), b)
	return err
}
