package main

// `ebgo worker`: Go ebind's worker pipeline (reference §3.2–§3.4, §3.9) over the handlers of
// handlers.go. One general durable (ebind-worker, TASKS.>) and one durable per claim; every
// delivery prints one {"event":"task"} line saying what happened to it.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// defaultBackoff is worker.Options.Backoff's default, used when a task carries no policy.
var defaultBackoff = []time.Duration{time.Second, 5 * time.Second, 15 * time.Second, time.Minute, 5 * time.Minute}

type worker struct {
	js          jetstream.JetStream
	id          string
	claims      []string
	concurrency chan struct{}
	wg          sync.WaitGroup
	stopping    chan struct{}
	quiet       bool
	target      int64
	settled     atomic.Int64
	started     time.Time
}

func runWorker(args []string) {
	fs := flag.NewFlagSet("worker", flag.ExitOnError)
	url := fs.String("url", "", "NATS URL")
	id := fs.String("id", "", "worker id (default: a random uuid)")
	claims := fs.String("claims", "", "comma-separated claims besides worker:<id>")
	durable := fs.String("durable", "ebind-worker", "general durable")
	ackWait := fs.Duration("ack-wait", 30*time.Second, "consumer ack wait")
	concurrency := fs.Int("concurrency", 16, "handlers at once (worker.Options.Concurrency)")
	quiet := fs.Bool("quiet", false, "no line per task (for bench/)")
	target := fs.Int64("target", 0, `print {"event":"done","ms":…} after this many tasks settled (for bench/)`)
	_ = fs.Parse(args)
	if *id == "" {
		*id = newUUID()
	}
	nc, js, err := connect(*url)
	if err != nil {
		die(err)
	}
	defer nc.Close()
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()

	w := &worker{js: js, id: *id, concurrency: make(chan struct{}, max(*concurrency, 1)), stopping: make(chan struct{}), quiet: *quiet, target: *target}
	w.claims = claimSet(*id, *claims)
	stream, err := js.Stream(ctx, taskStream)
	if err != nil {
		die(fmt.Errorf("worker: tasks stream: %w", err))
	}
	general, err := js.CreateOrUpdateConsumer(ctx, taskStream, jetstream.ConsumerConfig{
		Durable: *durable, FilterSubject: "TASKS.>", AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: *ackWait, MaxDeliver: -1,
	})
	if err != nil {
		die(fmt.Errorf("worker: consumer: %w", err))
	}
	consumers := []jetstream.Consumer{general}
	for _, c := range w.claims {
		cons, err := claimConsumer(ctx, stream, c, *ackWait)
		if err != nil {
			die(fmt.Errorf("worker: claim subs: subscribe %q: %w", c, err))
		}
		consumers = append(consumers, cons)
	}
	var running []jetstream.ConsumeContext
	for _, cons := range consumers {
		cc, err := cons.Consume(w.deliver)
		if err != nil {
			die(fmt.Errorf("worker: consume: %w", err))
		}
		running = append(running, cc)
	}
	w.started = time.Now()
	emit(map[string]any{"event": "ready", "worker_id": w.id, "claims": w.claims})
	<-ctx.Done()
	close(w.stopping)
	for _, cc := range running {
		cc.Stop()
		<-cc.Closed()
	}
	w.wg.Wait()
	emit(map[string]any{"event": "stopped", "worker_id": w.id})
}

// claimSet is {worker:<id>} ∪ claims (trimmed, non-empty, deduped), sorted (§3.9).
func claimSet(id, list string) []string {
	set := []string{"worker:" + id}
	for _, c := range strings.Split(list, ",") {
		if c = strings.TrimSpace(c); c != "" && !slices.Contains(set, c) {
			set = append(set, c)
		}
	}
	slices.Sort(set)
	return set
}

// claimConsumer reuses the claim's durable as-is, or creates it (§2.3).
func claimConsumer(ctx context.Context, stream jetstream.Stream, claim string, ackWait time.Duration) (jetstream.Consumer, error) {
	name := "ebind-targets-" + b64url(claim)
	if cons, err := stream.Consumer(ctx, name); err == nil {
		return cons, nil
	}
	return stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: name, FilterSubject: targetedTaskFilter(claim), AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: ackWait, MaxDeliver: -1,
	})
}

// deliver is the consume callback (§3.2 step 0).
func (w *worker) deliver(msg jetstream.Msg) {
	select {
	case <-w.stopping:
		_ = msg.Nak()
		return
	default:
	}
	w.concurrency <- struct{}{}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer func() { <-w.concurrency }()
		w.handle(msg)
		if n := w.settled.Add(1); n == w.target {
			emit(map[string]any{"event": "done", "runs": n, "ms": float64(time.Since(w.started).Microseconds()) / 1000})
		}
	}()
}

// report is one {"event":"task"} line.
type report struct {
	Event    string          `json:"event"`
	ID       string          `json:"id,omitempty"`
	Name     string          `json:"name,omitempty"`
	Subject  string          `json:"subject"`
	Attempt  int             `json:"attempt"`
	WorkerID string          `json:"worker_id"`
	Outcome  string          `json:"outcome"`
	DelayMs  int64           `json:"delay_ms,omitempty"`
	Error    *TaskError      `json:"error,omitempty"`
	Result   json.RawMessage `json:"result,omitempty"`
	Deadline time.Time       `json:"deadline"`
	// TraceCtx is the trace context the task carried (Task.TraceCtx), as Go decoded it.
	TraceCtx map[string]string `json:"trace_ctx,omitempty"`
}

// handle is §3.2 steps 1–8.
func (w *worker) handle(msg jetstream.Msg) {
	// The line is printed before the response and the ack, so a test that saw the response also
	// finds the line.
	rep := report{Event: "task", Subject: msg.Subject(), WorkerID: w.id}
	var t Task
	if err := json.Unmarshal(msg.Data(), &t); err != nil {
		rep.Outcome = "term_undecodable"
		rep.Error = &TaskError{Kind: KindDecode, Message: err.Error()}
		w.report(rep)
		_ = msg.Term()
		return
	}
	rep.ID, rep.Name, rep.Deadline, rep.TraceCtx = t.ID, t.Name, t.Deadline, t.TraceCtx
	t.Attempt = 1
	if md, err := msg.Metadata(); err == nil {
		t.Attempt = int(md.NumDelivered)
	}
	rep.Attempt = t.Attempt
	if t.Target != "" && !slices.Contains(w.claims, t.Target) {
		rep.Outcome = "wrong_target"
		w.report(rep)
		_ = msg.NakWithDelay(time.Second)
		return
	}
	t.WorkerID = w.id
	ctx := context.Background()
	if !t.Deadline.IsZero() {
		if !time.Now().Before(t.Deadline) {
			te := &TaskError{Kind: KindDeadline, Message: "deadline exceeded before dispatch"}
			rep.Outcome, rep.Error = "dead", te
			w.report(rep)
			w.respond(&t, nil, te)
			w.deadLetter(&t, te)
			_ = msg.Term()
			return
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, t.Deadline)
		defer cancel()
	}
	res, err := w.dispatch(ctx, &t)
	if err != nil {
		te := asTaskError(err)
		rep.Error = te
		if shouldRetry(&t, te) {
			d := delayFor(&t)
			rep.Outcome, rep.DelayMs = "retry", d.Milliseconds()
			w.report(rep)
			_ = msg.NakWithDelay(d)
			return
		}
		rep.Outcome = "dead"
		w.report(rep)
		w.respond(&t, nil, te)
		w.deadLetter(&t, te)
		_ = msg.Term()
		return
	}
	rep.Outcome, rep.Result = "done", res
	w.report(rep)
	w.respond(&t, res, nil)
	_ = msg.Ack()
}

// report prints the task's line unless the worker is quiet.
func (w *worker) report(rep report) {
	if !w.quiet {
		emit(rep)
	}
}

// dispatch is Recover → registry lookup → handler.
func (w *worker) dispatch(ctx context.Context, t *Task) (res json.RawMessage, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, &TaskError{Kind: KindPanic, Message: fmt.Sprint(p)}
		}
	}()
	h, ok := handlers[t.Name]
	if !ok {
		return nil, &TaskError{Kind: KindUnknownHandler, Message: fmt.Sprintf("no handler registered for %q", t.Name)}
	}
	return h(ctx, t, t.Payload)
}

// shouldRetry: the task's policy, else the default policy (§3.3; no worker default, no MaxDeliver cap).
func shouldRetry(t *Task, te *TaskError) bool {
	if t.RetryPolicy != nil {
		return t.RetryPolicy.ShouldRetry(te, t.Attempt)
	}
	return DefaultRetryPolicy().ShouldRetry(te, t.Attempt)
}

// delayFor: the task's policy, else the worker's Backoff table (§3.3).
func delayFor(t *Task) time.Duration {
	if t.RetryPolicy != nil {
		return t.RetryPolicy.NextDelay(t.Attempt)
	}
	i := min(max(t.Attempt-1, 0), len(defaultBackoff)-1)
	return defaultBackoff[i]
}

// respond publishes the Response when the task has a reply subject (5 s, failures ignored).
func (w *worker) respond(t *Task, res json.RawMessage, te *TaskError) {
	if t.ReplyTo == "" {
		return
	}
	body, _ := json.Marshal(Response{TaskID: t.ID, Result: res, Error: te, Attempts: t.Attempt, CompletedAt: time.Now().UTC()})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := w.js.Publish(ctx, t.ReplyTo, body); err != nil {
		fmt.Fprintln(os.Stderr, "ebgo worker: response:", err)
	}
}

// deadLetter publishes the DLQ entry on DLQ.<name>, no msg-id (dlq.Publish, §1.5).
func (w *worker) deadLetter(t *Task, te *TaskError) {
	body, _ := json.Marshal(DLQEntry{Task: *t, Error: *te, FinalAttempt: t.Attempt, DeadLetteredAt: time.Now().UTC()})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := w.js.Publish(ctx, "DLQ."+t.Name, body); err != nil {
		fmt.Fprintln(os.Stderr, "ebgo worker: dlq:", err)
	}
}
