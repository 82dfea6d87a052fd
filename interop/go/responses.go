package main

// The client's response path (reference §1.2 New): a durable consumer ebind-resp-<client> on
// RESP.<client>.>, deliver-new, explicit ack, removed 10 min after the client disappears.

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// consumeResponses calls onResponse with each response for clientID (acked), and onUndecodable
// (when not nil) with each body that is not a Response (terminated). stop ends consuming and
// deletes the durable.
func consumeResponses(ctx context.Context, js jetstream.JetStream, clientID string, onResponse func(Response), onUndecodable func([]byte, error)) (stop func(), err error) {
	durable := "ebind-resp-" + clientID
	cons, err := js.CreateOrUpdateConsumer(ctx, respStream, jetstream.ConsumerConfig{
		Durable: durable, FilterSubject: "RESP." + clientID + ".>",
		AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverNewPolicy,
		InactiveThreshold: 10 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("client: response consumer: %w", err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		var r Response
		if err := json.Unmarshal(m.Data(), &r); err != nil {
			if onUndecodable != nil {
				onUndecodable(m.Data(), err)
			}
			_ = m.Term()
			return
		}
		_ = m.Ack()
		onResponse(r)
	})
	if err != nil {
		return nil, err
	}
	return func() {
		cc.Stop()
		_ = js.DeleteConsumer(context.Background(), respStream, durable)
	}, nil
}
