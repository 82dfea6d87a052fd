package main

// RetryPolicy and its math (reference §1.1 "RetryPolicy", §2.6.2).

import (
	"math"
	"slices"
	"time"
)

// RetryPolicy as Go ebind serialises it: durations as integer nanoseconds.
type RetryPolicy struct {
	InitialInterval        time.Duration `json:"initial_interval"`
	BackoffCoefficient     float64       `json:"backoff_coefficient"`
	MaximumInterval        time.Duration `json:"maximum_interval"`
	MaximumAttempts        int           `json:"maximum_attempts"`
	NonRetryableErrorKinds []string      `json:"non_retryable_error_kinds,omitempty"`
}

// DefaultRetryPolicy: 1 s, ×2, at most 1 min, 5 attempts.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 5}
}

// NextDelay is the wait after the 1-based attempt that failed.
func (p RetryPolicy) NextDelay(attempt int) time.Duration {
	if attempt <= 0 || p.InitialInterval <= 0 {
		return 0
	}
	coef := p.BackoffCoefficient
	if coef <= 0 {
		coef = 1
	}
	raw := float64(p.InitialInterval) * math.Pow(coef, float64(attempt-1))
	if math.IsInf(raw, 1) || raw > float64(math.MaxInt64) {
		if p.MaximumInterval > 0 {
			return p.MaximumInterval
		}
		return time.Duration(math.MaxInt64)
	}
	d := time.Duration(raw)
	if p.MaximumInterval > 0 && raw > float64(p.MaximumInterval) {
		return p.MaximumInterval
	}
	return d
}

// ShouldRetry decides whether attempt (1-based) may be followed by another.
func (p RetryPolicy) ShouldRetry(err *TaskError, attempt int) bool {
	switch {
	case err == nil:
		return false
	case p.MaximumAttempts > 0 && attempt >= p.MaximumAttempts:
		return false
	case !err.Retryable:
		return false
	case slices.Contains(p.NonRetryableErrorKinds, err.Kind):
		return false
	}
	return true
}
