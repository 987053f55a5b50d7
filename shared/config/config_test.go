package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/shared/config"
	"github.com/fleetrelay/fleetrelay/shared/testenv"
)

const minimal = `{"tls":{"server_cert":"s.crt","server_key":"s.key"}`

func warningKeys(ws []config.Warning) []string {
	keys := make([]string, 0, len(ws))
	for _, w := range ws {
		keys = append(keys, w.Key)
	}
	return keys
}

func TestLoadReferenceServerConfigs(t *testing.T) {
	// The reference resolves paths against its working directory: the
	// vectors were recorded from the conformance folder.
	conf := testenv.ConformanceDir(t)
	t.Chdir(conf)
	dir := filepath.Join(conf, "server_configs")
	tlsWarns := []string{"tls.server_cert", "tls.server_key", "tls.ca_file"}
	tests := []struct {
		file      string
		wantWarns []string
	}{
		{"config.json", []string{"wal.dir"}},
		{"config_rl_documented.json", []string{"wal.dir"}},
		{"config_rl_enforced.json", []string{"wal.dir"}},
		{"config_reliable_redis.json", []string{"redis", "reliable_ack_sources", "wal.dir", "records.V"}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".json"), func(t *testing.T) {
			cfg, warns, err := config.Load(filepath.Join(dir, tt.file))
			require.NoError(t, err)
			require.ElementsMatch(t, append(tt.wantWarns, tlsWarns...), warningKeys(warns))
			require.Equal(t, filepath.Join(conf, "certs", "server.crt"), cfg.TLS.ServerCert)
			require.Equal(t, filepath.Join(conf, "certs", "client_ca_bundle.crt"), cfg.TLS.CAFile)
			require.Equal(t, "127.0.0.1", cfg.Host)
			require.Equal(t, []string{"logger"}, cfg.Records["alerts"])
		})
	}
}

func TestRelativePathsPreferConfigDir(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "certs"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "certs", "s.crt"), []byte("x"), 0o600))
	path := filepath.Join(dir, "config.json")
	doc := `{"tls":{"server_cert":"certs/s.crt","server_key":"certs/s.key"},"wal":{"dir":"data/wal"}}`
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o600))
	t.Chdir(t.TempDir())
	cfg, warns, err := config.Load(path)
	require.NoError(t, err)
	require.Empty(t, warns)
	require.Equal(t, filepath.Join(dir, "certs", "s.crt"), cfg.TLS.ServerCert)
	require.Equal(t, filepath.Join(dir, "certs", "s.key"), cfg.TLS.ServerKey, "missing everywhere: beside the config")
	require.Equal(t, filepath.Join(dir, "data", "wal"), cfg.WAL.Dir)
}

func TestLoadRateLimitKeys(t *testing.T) {
	dir := filepath.Join(testenv.ConformanceDir(t), "server_configs")
	enforced, _, err := config.Load(filepath.Join(dir, "config_rl_enforced.json"))
	require.NoError(t, err)
	require.Equal(t, time.Minute, enforced.RateLimit.MessageIntervalTimeSecond)
	require.Equal(t, 2, enforced.RateLimit.MessageLimit)
	documented, _, err := config.Load(filepath.Join(dir, "config_rl_documented.json"))
	require.NoError(t, err)
	require.Equal(t, 30, documented.RateLimit.MessageIntervalTime)
	require.Zero(t, documented.RateLimit.MessageIntervalTimeSecond)
}

func TestLoadReferenceReadmeExample(t *testing.T) {
	cfg, warns, err := config.Load(filepath.Join("testdata", "reference_readme.json"))
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"reliable_ack", "monitoring.statsd", "monitoring.profiling_path", "wal.dir"}, warningKeys(warns))
	require.Equal(t, "127.0.0.1:4269", cfg.Monitoring.ProfilerAddr())
	require.Equal(t, "kafka:9092", cfg.Kafka["bootstrap.servers"])
	require.Equal(t, 3, *cfg.Kinesis.MaxRetries)
	require.Equal(t, "127.0.0.1", cfg.Monitoring.PrometheusMetricsHost, "default metrics host")
	require.Equal(t, "127.0.0.1:9273", cfg.Monitoring.PrometheusAddr())
}

func TestLoadExampleConfigs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(t), "configs", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			cfg, warns, err := config.Load(f)
			require.NoError(t, err)
			require.Empty(t, warns, "example configs use only built features")
			require.True(t, filepath.IsAbs(cfg.WAL.Dir))
		})
	}
}

func TestDevConfigPaths(t *testing.T) {
	root := testenv.RepoRoot(t)
	cfg, _, err := config.Load(filepath.Join(root, "configs", "dev.json"))
	require.NoError(t, err)
	require.Equal(t, filepath.Join(root, ".run", "wal"), cfg.WAL.Dir)
	require.Equal(t, filepath.Join(root, ".run", "pki", "server.crt"), cfg.TLS.ServerCert)
	require.Equal(t, "127.0.0.1:4443", cfg.Addr())
	require.Equal(t, "127.0.0.1:8080", cfg.StatusAddr())
}

func TestDefaults(t *testing.T) {
	cfg, _, err := config.Parse([]byte(minimal+`}`), "/etc/fr")
	require.NoError(t, err)
	require.Equal(t, "info", cfg.LogLevel)
	require.Equal(t, config.DefaultWALDir, cfg.WAL.Dir, "default WAL dir stays relative to the working directory")
	require.Equal(t, config.DefaultWALPartitions, cfg.WAL.Partitions)
	require.Equal(t, config.DefaultWALSyncDepth, cfg.WAL.SyncDepth)
	require.Equal(t, int64(config.DefaultWALPreallocateBytes), cfg.WAL.PreallocateBytes)
	require.Equal(t, config.DefaultIdleTimeout, cfg.Gateway.IdleTimeout.D())
	require.Equal(t, config.DefaultShutdownTimeout, cfg.Gateway.ShutdownTimeout.D())
	require.Equal(t, "/etc/fr/s.crt", cfg.TLS.ServerCert)
	require.Empty(t, cfg.StatusAddr())
	require.Nil(t, cfg.Monitoring)
}

func TestKeysMatchCaseInsensitively(t *testing.T) {
	doc := `{"TLS":{"Server_Cert":"/a","SERVER_KEY":"/b"},"Port":4443,"Records":{"V":["logger"]},
		"rate_limit":{"enabled":true,"message_limit":2,"messageintervaltimesecond":1000000000},
		"Airbrake":{"host":"x"},"Gateway":{"Idle_Timeout":"5s"}}`
	cfg, warns, err := config.Parse([]byte(doc), "")
	require.NoError(t, err)
	require.Equal(t, "/a", cfg.TLS.ServerCert)
	require.Equal(t, 4443, cfg.Port)
	require.Equal(t, time.Second, cfg.RateLimit.MessageIntervalTimeSecond)
	require.Equal(t, 5*time.Second, cfg.Gateway.IdleTimeout.D())
	require.Contains(t, warningKeys(warns), "airbrake")
}

func TestInvalidConfigs(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"not_json", `{"port":`, []string{"syntax error at line 1"}},
		{"not_object", `[1]`, []string{"one JSON object"}},
		{"null", `null`, []string{"one JSON object"}},
		{"missing_tls", `{}`, []string{"tls: required"}},
		{"missing_cert", `{"tls":{"server_key":"k"}}`, []string{"tls.server_cert: required"}},
		{"unknown_top_key", minimal + `,"hots":"x"}`, []string{"hots: unknown key"}},
		{"unknown_nested_key", minimal + `,"monitoring":{"prometheus_metrics_prot":9}}`, []string{"monitoring.prometheus_metrics_prot: unknown key"}},
		{"unknown_key_in_unbuilt_section", minimal + `,"redis":{"adrs":[]}}`, []string{"redis.adrs: unknown key"}},
		{"port_as_string", minimal + `,"port":"443"}`, []string{`port: invalid value "443": want an integer`}},
		{"port_range", minimal + `,"port":70000}`, []string{"port: invalid port 70000"}},
		{"status_port_negative", minimal + `,"status_port":-1}`, []string{"status_port: invalid port -1"}},
		{"records_not_list", minimal + `,"records":{"V":"logger"}}`, []string{"records.V: invalid value"}},
		{"records_item_type", minimal + `,"records":{"V":[1]}}`, []string{"records.V[0]: invalid value 1: want a string"}},
		{"unknown_dispatcher", minimal + `,"records":{"V":["kafak"]}}`, []string{`records.V[0]: unknown dispatcher "kafak"`}},
		{"empty_dispatchers", minimal + `,"records":{"V":[]}}`, []string{"records.V: empty dispatcher list"}},
		{"kafka_section_missing", minimal + `,"records":{"V":["kafka"]}}`, []string{"records.V[0]: dispatcher kafka needs a kafka section"}},
		{"reliable_connectivity", minimal + `,"records":{"connectivity":["logger"]},"reliable_ack_sources":{"connectivity":"logger"}}`,
			[]string{"reliable_ack_sources.connectivity: reliable ack not needed"}},
		{"reliable_logger", minimal + `,"records":{"V":["logger"]},"reliable_ack_sources":{"V":"logger"}}`,
			[]string{"reliable_ack_sources.V: logger cannot be configured"}},
		{"reliable_no_mapping", minimal + `,"reliable_ack_sources":{"errors":"kafka"}}`, []string{"since no record mapping exists"}},
		{"rate_limit_zero", minimal + `,"rate_limit":{"enabled":true}}`, []string{"rate_limit.message_limit: must be > 0"}},
		{"rate_limit_interval_type", minimal + `,"rate_limit":{"MessageIntervalTimeSecond":"1m"}}`, []string{"rate_limit.MessageIntervalTimeSecond: invalid value"}},
		{"log_level", minimal + `,"log_level":"verbose"}`, []string{`log_level: invalid level "verbose"`}},
		{"json_log_type", minimal + `,"json_log_enable":"yes"}`, []string{"json_log_enable: invalid value \"yes\": want true or false"}},
		{"too_many_tracked_vins", minimal + `,"vins_signal_tracking_enabled":["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17","18","19","20","21"]}`,
			[]string{"vins_signal_tracking_enabled: 21 VINs, at most 20"}},
		{"metrics_port", minimal + `,"monitoring":{"prometheus_metrics_port":99999}}`, []string{"monitoring.prometheus_metrics_port: invalid port"}},
		{"wal_partitions", minimal + `,"wal":{"partitions":-1}}`, []string{"wal.partitions: must be between 1 and 1024"}},
		{"wal_sync_depth", minimal + `,"wal":{"sync_depth":9}}`, []string{"wal.sync_depth: must be between 1 and 8, got 9"}},
		{"wal_preallocate", minimal + `,"wal":{"preallocate_bytes":-2}}`, []string{"wal.preallocate_bytes: must be -1 (off)"}},
		{"wal_budget", minimal + `,"wal":{"disk_budget_bytes":1000}}`, []string{"wal.disk_budget_bytes"}},
		{"gateway_duration_number", minimal + `,"gateway":{"idle_timeout":30}}`, []string{`gateway.idle_timeout: invalid value 30: want a duration string`}},
		{"gateway_duration_bad", minimal + `,"gateway":{"write_timeout":"soon"}}`, []string{"gateway.write_timeout: invalid value"}},
		{"gateway_shutdown_too_long", minimal + `,"gateway":{"shutdown_timeout":"1m"}}`, []string{"gateway.shutdown_timeout: must be > 0 and at most 25s"}},
		{"gateway_proxy", minimal + `,"gateway":{"trusted_proxies":["10.0.0.0/8","proxy.local"]}}`, []string{`gateway.trusted_proxies[1]: invalid address or CIDR "proxy.local"`}},
		{"gateway_unknown", minimal + `,"gateway":{"max_conections":1}}`, []string{"gateway.max_conections: unknown key"}},
		{"sink_validate_called", minimal + `,"records":{"V":["mqtt"]},"mqtt":{"broker":"nope"}}`, []string{"mqtt.broker"}},
		{"several_errors_joined", minimal + `,"port":-5,"log_level":"x","monitoring":{"a":1}}`,
			[]string{"port: invalid port -5", "log_level: invalid level", "monitoring.a: unknown key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := config.Parse([]byte(tt.doc), "")
			require.Error(t, err)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestKeyErrorIsInspectable(t *testing.T) {
	_, _, err := config.Parse([]byte(minimal+`,"monitoring":{"prometheus_metrics_prot":9}}`), "")
	var ke *config.KeyError
	require.ErrorAs(t, err, &ke)
	require.Equal(t, "monitoring.prometheus_metrics_prot", ke.Key)
	require.ErrorIs(t, err, config.ErrUnknownKey)
}

func TestLoadMissingFile(t *testing.T) {
	_, _, err := config.Load(filepath.Join(t.TempDir(), "nope.json"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestParseTooLarge(t *testing.T) {
	big := make([]byte, config.MaxFileBytes+1)
	_, _, err := config.Parse(big, "")
	require.Error(t, err)
	require.False(t, errors.Is(err, config.ErrUnknownKey))
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal + `}`))
	f.Add([]byte(minimal + `,"records":{"V":["logger","kafka"]},"kafka":{"bootstrap.servers":"k:9092"}}`))
	f.Add([]byte(`{"gateway":{"idle_timeout":"1s","trusted_proxies":["::1"]},"wal":{"partitions":3}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, _, err := config.Parse(data, "/base")
		if err != nil {
			require.Nil(t, cfg)
			return
		}
		require.NoError(t, cfg.Validate(), "a parsed config validates again")
		require.NotNil(t, cfg.TLS)
	})
}

func TestWALConsumersAndTopics(t *testing.T) {
	doc := minimal + `,"records":{"V":["logger","redis","kafka"],"alerts":["logger"],"errors":["zmq"]},
		"kafka":{"bootstrap.servers":"k:9092"}}`
	cfg, _, err := config.Parse([]byte(doc), "")
	require.NoError(t, err)
	require.Equal(t, []string{"kafka", "logger"}, cfg.WALConsumers())
	require.Equal(t, []string{"V", "alerts", "errors"}, cfg.Topics())
}
