package config_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/shared/config"
)

func TestForwarderBatchMaxRecordsFor(t *testing.T) {
	tests := []struct {
		name        string
		configured  int
		sinkDefault int
		want        int
	}{
		{name: "unset_sink_default", sinkDefault: 2000, want: 2000},
		{name: "unset_sink_without_default", want: config.DefaultBatchMaxRecords},
		{name: "unset_sink_default_negative", sinkDefault: -1, want: config.DefaultBatchMaxRecords},
		{name: "explicit_above_sink_default", configured: 3000, sinkDefault: 500, want: 3000},
		{name: "explicit_below_sink_default", configured: 100, sinkDefault: 2000, want: 100},
		{name: "explicit_sink_without_default", configured: 700, want: 700},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := config.ForwarderConfig{BatchMaxRecords: tt.configured}.WithDefaults()
			require.Equal(t, tt.want, fc.BatchMaxRecordsFor(tt.sinkDefault))
		})
	}
}

func TestForwarderDefaultsLeaveBatchMaxRecordsToTheSink(t *testing.T) {
	d := config.ForwarderConfig{}.WithDefaults()
	require.Zero(t, d.BatchMaxRecords, "unset stays unset: each sink's default applies")
	require.Equal(t, config.DefaultBatchMaxBytes, d.BatchMaxBytes)
	require.Equal(t, config.DefaultPrefetchBatches, d.PrefetchBatches)
	require.NoError(t, d.Validate())

	cfg, _, err := config.Parse([]byte(minimal+`}`), "")
	require.NoError(t, err)
	require.Zero(t, cfg.Forwarder.BatchMaxRecords, "loading does not fill it either")
	cfg, _, err = config.Parse([]byte(minimal+`,"forwarder":{"batch_max_records":1500}}`), "")
	require.NoError(t, err)
	require.Equal(t, 1500, cfg.Forwarder.BatchMaxRecords)
	require.Equal(t, 1500, cfg.Forwarder.BatchMaxRecordsFor(4000))
}

func TestForwarderBatchMaxRecordsValidation(t *testing.T) {
	err := (&config.ForwarderConfig{BatchMaxRecords: -1}).Validate()
	require.ErrorContains(t, err, "forwarder.batch_max_records: -1 is negative")
	_, _, err = config.Parse([]byte(minimal+`,"forwarder":{"batch_max_records":-5}}`), "")
	require.ErrorContains(t, err, "forwarder.batch_max_records: -5 is negative")
	_, _, err = config.Parse([]byte(minimal+`,"forwarder":{"batch_max_records":"many"}}`), "")
	require.ErrorContains(t, err, "forwarder.batch_max_records")
}
