package ratelimit

import (
	"errors"
	"fmt"
	"time"
)

// DefaultMaxVINs bounds the VINs tracked at once when Config.MaxVINs is 0.
// A tracked VIN costs about 200 bytes (measured), so about 50 MB at the
// bound, which is above the vehicles one gateway serves within one interval:
// only VINs seen during the last interval are tracked.
const DefaultMaxVINs = 250_000

// Config is the `rate_limit` section of the server configuration.
type Config struct {
	// Enabled turns limiting on (`enabled`).
	Enabled bool
	// MessageLimit is the number of records allowed per interval, and the
	// largest burst (`message_limit`).
	MessageLimit int
	// MessageIntervalTime is the interval in seconds (`message_interval_time`,
	// the documented key).
	MessageIntervalTime int
	// MessageIntervalTimeSecond is the interval in nanoseconds
	// (`MessageIntervalTimeSecond`, the reference's undocumented key). It
	// takes precedence over MessageIntervalTime when positive.
	MessageIntervalTimeSecond int64
	// MaxVINs bounds the VINs tracked at once; 0 means DefaultMaxVINs.
	MaxVINs int
}

// Interval returns the effective interval: MessageIntervalTimeSecond when
// positive, else MessageIntervalTime seconds, else 0.
func (c Config) Interval() time.Duration {
	if c.MessageIntervalTimeSecond > 0 {
		return time.Duration(c.MessageIntervalTimeSecond)
	}
	if c.MessageIntervalTime > 0 {
		return time.Duration(c.MessageIntervalTime) * time.Second
	}
	return 0
}

// Validate reports every problem of an enabled configuration, naming the
// configuration key. A disabled configuration is always valid.
func (c Config) Validate() error {
	if !c.Enabled {
		return nil
	}
	var errs []error
	if c.MessageLimit <= 0 {
		errs = append(errs, fmt.Errorf("rate_limit.message_limit: must be > 0 when enabled, got %d", c.MessageLimit))
	}
	if c.MessageIntervalTime < 0 {
		errs = append(errs, fmt.Errorf("rate_limit.message_interval_time: must not be negative, got %d", c.MessageIntervalTime))
	}
	if c.MessageIntervalTimeSecond < 0 {
		errs = append(errs, fmt.Errorf("rate_limit.MessageIntervalTimeSecond: must not be negative, got %d", c.MessageIntervalTimeSecond))
	}
	if c.Interval() <= 0 && c.MessageIntervalTime >= 0 && c.MessageIntervalTimeSecond >= 0 {
		errs = append(errs, errors.New("rate_limit.message_interval_time: must be > 0 seconds when enabled"))
	}
	if c.MaxVINs < 0 {
		errs = append(errs, fmt.Errorf("rate_limit: MaxVINs must not be negative, got %d", c.MaxVINs))
	}
	return errors.Join(errs...)
}

// maxVINs returns MaxVINs or its default.
func (c Config) maxVINs() int {
	if c.MaxVINs == 0 {
		return DefaultMaxVINs
	}
	return c.MaxVINs
}
