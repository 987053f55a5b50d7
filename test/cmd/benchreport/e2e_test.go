package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/test/benchreport/prom"
)

func TestBucketBoundsUpToOneSecond(t *testing.T) {
	var ss prom.Samples
	for _, le := range []string{"0.005", "0.01", "0.015", "0.02", "0.025", "0.03", "0.04", "0.05", "0.075", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"} {
		for _, sink := range []string{"kafka", "logger"} {
			ss = append(ss, prom.Sample{Name: deliveryLatency + "_bucket", Labels: map[string]string{"le": le, "sink": sink}, Value: 1})
		}
	}
	ss = append(ss, prom.Sample{Name: deliveryLatency + "_count", Value: 2})
	require.Equal(t, "0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1", bucketBounds(ss, deliveryLatency))
}
