package reliability

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// indexOf builds a WAL index holding keys at consecutive positions of
// partition 0, starting at index 1.
func indexOf(keys ...Key) *walIndex {
	w := &walIndex{first: map[Key]Pos{}, byPos: map[Pos]Key{}}
	for i, k := range keys {
		pos := Pos{0, uint64(i + 1)}
		if _, ok := w.first[k]; !ok {
			w.first[k] = pos
		}
		w.byPos[pos] = k
	}
	return w
}

func TestCheckSink(t *testing.T) {
	a, b, c := Key{"VIN1", "t1", "V"}, Key{"VIN1", "t2", "V"}, Key{"VIN1", "t3", "V"}
	other := Key{"VIN2", "u1", "V"}
	index := indexOf(a, b, c, other)
	acked := map[Key]bool{a: true, b: true, c: true, other: true}
	d := func(k Key) delivery { return delivery{Key: k} }

	t.Run("in order with a re-delivered range", func(t *testing.T) {
		res := checkSink("logger", acked, []delivery{d(a), d(b), d(a), d(b), d(c), d(other)}, index)
		require.Zero(t, res.Lost)
		require.Zero(t, res.OrderViolations)
		require.Equal(t, 2, res.Duplicates)
		require.Equal(t, 4, res.Distinct)
		require.InDelta(t, 2.0/6, res.DuplicateRate, 1e-9)
	})
	t.Run("a record first delivered after a later one", func(t *testing.T) {
		res := checkSink("logger", acked, []delivery{d(a), d(c), d(b), d(other)}, index)
		require.Equal(t, 1, res.OrderViolations)
		require.Len(t, res.OrderSample, 1)
		require.Contains(t, res.OrderSample[0], "t2")
	})
	t.Run("other vehicles and streams do not constrain order", func(t *testing.T) {
		ds := []delivery{
			{Key: other, Stream: "x"}, {Key: c, Stream: "y"}, {Key: a, Stream: "x"}, {Key: b, Stream: "x"},
		}
		res := checkSink("kafka", acked, ds, index)
		require.Zero(t, res.OrderViolations)
	})
	t.Run("lost and unmapped", func(t *testing.T) {
		stray := Key{"VIN3", "zz", "V"}
		res := checkSink("logger", acked, []delivery{d(a), d(stray), d(other)}, index)
		require.Equal(t, 2, res.Lost)
		require.Equal(t, 2, res.UndeliveredWAL)
		require.Len(t, res.LostSample, 2)
		require.Equal(t, 1, res.Unmapped)
	})
	t.Run("acked record deleted by retention before the index read it", func(t *testing.T) {
		gone := Key{"VIN1", "t0", "V"}
		withGone := map[Key]bool{gone: true, a: true, b: true, c: true, other: true}
		res := checkSink("logger", withGone, []delivery{d(gone), d(a), d(b), d(c), d(other)}, index)
		require.Zero(t, res.Lost, "delivered, so not lost")
		require.Equal(t, 1, res.Unmapped)
		res = checkSink("logger", withGone, []delivery{d(a), d(b), d(c), d(other)}, index)
		require.Equal(t, 1, res.Lost, "not delivered anywhere: lost")
	})
	t.Run("record_id naming another record", func(t *testing.T) {
		res := checkSink("kafka", acked, []delivery{{Key: a, Pos: Pos{0, 2}, HasPos: true}}, index)
		require.Equal(t, 1, res.Mismatched)
		require.Equal(t, 3, res.UndeliveredWAL, "positions 1, 3 and 4 were not delivered")
	})
}

func TestCheckMQTT(t *testing.T) {
	want := map[string]int{"b/V1/v/Speed": 3, "b/V1/errors/e": 1}
	res := checkMQTT(want, map[string]int{"b/V1/v/Speed": 4, "b/V1/errors/e": 1}, 5)
	require.Zero(t, res.Lost)
	require.Equal(t, 1, res.Duplicates)
	require.Equal(t, 4, res.Distinct)

	res = checkMQTT(want, map[string]int{"b/V1/v/Speed": 2, "b/V9/v/Speed": 1}, 3)
	require.Equal(t, 2, res.Lost)
	require.Equal(t, 1, res.Unmapped)
	require.Len(t, res.LostSample, 2)
}

func TestRecovery(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	samples := []sample{
		{at: at(0), ackBytes: 10, lag: map[string]uint64{"k": 0}},
		{at: at(100), ackBytes: 20, lag: map[string]uint64{"k": 0}}, // fault injected at 150
		{at: at(200), ackBytes: 20, lag: map[string]uint64{"k": 50}},
		{at: at(300), ackBytes: 20, lag: map[string]uint64{"k": 90}}, // lifted at 300
		{at: at(400), ackBytes: 20, lag: map[string]uint64{"k": 80}},
		{at: at(700), ackBytes: 35, lag: map[string]uint64{"k": 30}},
		{at: at(900), ackBytes: 50, lag: map[string]uint64{"k": 4}},
	}
	require.Equal(t, map[string]uint64{"k": 5}, caughtUpLags(samples, at(150), []string{"k"}, 5))
	require.Equal(t, map[string]uint64{"k": 90}, caughtUpLags(samples, at(350), []string{"k"}, 5), "standing lag before the fault")
	limits := map[string]uint64{"k": 5}
	resumed, caught, gap := recovery(samples, at(150), at(300), at(1000), limits)
	require.Equal(t, 400*time.Millisecond, resumed)
	require.Equal(t, 600*time.Millisecond, caught)
	require.Equal(t, 550*time.Millisecond, gap)

	resumed, caught, _ = recovery(samples[:5], at(150), at(300), at(1000), limits)
	require.Equal(t, time.Duration(-1), resumed)
	require.Equal(t, time.Duration(-1), caught)
}

func TestParseRecordID(t *testing.T) {
	p, err := parseRecordID("3-1234")
	require.NoError(t, err)
	require.Equal(t, Pos{3, 1234}, p)
	for _, bad := range []string{"", "3", "x-1", "3-", "3--1"} {
		_, err := parseRecordID(bad)
		require.Error(t, err, bad)
	}
}
