// Package ratelimit limits how many records each vehicle may send, per VIN,
// from the reference server's `rate_limit` configuration:
//
//	"rate_limit": {"enabled": true, "message_limit": 1000, "message_interval_time": 30}
//
// A vehicle may send MessageLimit records at once and, sustained,
// MessageLimit records per interval (a token bucket from
// golang.org/x/time/rate: burst MessageLimit, refilled at
// MessageLimit/interval). A record over the limit is neither stored nor
// acknowledged; the vehicle resends it later.
//
// Deliberate differences from the reference server (teslamotors/fleet-telemetry):
//
//   - The documented key message_interval_time (seconds) is honoured. The
//     reference ignores it (its interval stays 0, so its limiter never trips)
//     and only applies the undocumented "MessageIntervalTimeSecond"
//     (nanoseconds). Both keys are accepted here; when both are set the
//     nanosecond key wins, so a configuration tuned against the reference
//     keeps its exact interval.
//   - Limits are per VIN, not per connection: reconnecting does not reset a
//     vehicle's budget, and several connections of one vehicle share it.
//   - The reference uses a sliding window (at most N records in any window);
//     a token bucket allows the same bursts and the same sustained rate but
//     may admit up to 2N records across one window boundary.
//   - When disabled nothing is limited or counted. The reference then still
//     runs a 100-per-minute limiter per connection that only feeds metrics.
//   - An enabled limit without a positive message_limit or interval is a
//     configuration error instead of a limiter that never trips.
//
// Memory is bounded: a VIN idle for a whole interval has a full bucket
// again, so forgetting it changes nothing and it is evicted; beyond MaxVINs
// the least recently seen VIN is evicted early (its next record starts with
// a full bucket). Eviction is amortised in Allow, with no goroutine and no
// wall clock: callers pass the time, so tests use a fake clock.
package ratelimit
