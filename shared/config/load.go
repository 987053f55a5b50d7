package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
)

// MaxFileBytes bounds the configuration file size; real configs are a few
// kilobytes.
const MaxFileBytes = 4 << 20

// Load reads, decodes and validates the configuration file at path. Relative
// paths inside it are resolved against the file's directory. Warnings name
// accepted keys that have no effect in fleetrelay; they are not errors.
func Load(path string) (*Config, []Warning, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read config: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, nil, fmt.Errorf("config path: %w", err)
	}
	cfg, warns, err := Parse(data, filepath.Dir(abs))
	if err != nil {
		return nil, warns, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, warns, nil
}

// Parse decodes and validates a configuration document. baseDir is the
// directory relative paths are resolved against ("" leaves them as they
// are).
func Parse(data []byte, baseDir string) (*Config, []Warning, error) {
	if len(data) > MaxFileBytes {
		return nil, nil, fmt.Errorf("config is %d bytes, more than %d", len(data), MaxFileBytes)
	}
	if err := checkSyntax(data); err != nil {
		return nil, nil, err
	}
	cfg := &Config{}
	decodeErr := decodeStrict(data, cfg)
	warns := cfg.warnings()
	cfg.resolvePaths(baseDir)
	cfg.applyDefaults()
	// Validation runs even after a decode error so that one run reports
	// every problem; fields that failed to decode keep their zero value.
	if err := errors.Join(decodeErr, cfg.Validate()); err != nil {
		return nil, warns, err
	}
	return cfg, warns, nil
}

// checkSyntax reports JSON syntax errors with a line and column, and makes
// sure the document is one object.
func checkSyntax(data []byte) error {
	var obj map[string]json.RawMessage
	err := json.Unmarshal(data, &obj)
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		line, col := position(data, syn.Offset)
		return fmt.Errorf("config syntax error at line %d column %d: %w", line, col, err)
	case err != nil:
		return errors.New("config must be one JSON object")
	case obj == nil:
		return errors.New("config must be one JSON object, not null")
	}
	return nil
}

func position(data []byte, offset int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < offset-1 && i < int64(len(data)); i++ {
		col++
		if data[i] == '\n' {
			line, col = line+1, 1
		}
	}
	return line, col
}

// resolvePaths makes every relative file path absolute against baseDir.
func (c *Config) resolvePaths(baseDir string) {
	if baseDir == "" {
		return
	}
	resolveTLS(c.TLS, baseDir)
	resolve(&c.Gateway.VINAllowlistFile, baseDir)
	resolve(&c.WAL.Dir, baseDir)
	resolve(&c.Forwarder.DeadLetterDir, baseDir)
	if c.Logger != nil {
		resolve(&c.Logger.File, baseDir)
	}
	if c.MQTT != nil && c.MQTT.TLS != nil {
		resolve(&c.MQTT.TLS.CAFile, baseDir)
		resolve(&c.MQTT.TLS.ServerCert, baseDir)
		resolve(&c.MQTT.TLS.ServerKey, baseDir)
	}
	if c.Monitoring != nil {
		resolve(&c.Monitoring.ProfilingPath, baseDir)
	}
	if c.ZMQ != nil {
		resolve(&c.ZMQ.ServerKeyJSONPath, baseDir)
		resolve(&c.ZMQ.AllowedPublicKeysJSONPath, baseDir)
	}
	if c.Redis != nil {
		resolveTLS(c.Redis.TLS, baseDir)
	}
	if c.Airbrake != nil {
		resolveTLS(c.Airbrake.TLS, baseDir)
	}
}

func resolveTLS(t *TLSConfig, baseDir string) {
	if t == nil {
		return
	}
	resolve(&t.ServerCert, baseDir)
	resolve(&t.ServerKey, baseDir)
	resolve(&t.CAFile, baseDir)
}

func resolve(p *string, baseDir string) {
	if *p != "" && !filepath.IsAbs(*p) {
		*p = filepath.Join(baseDir, *p)
	}
}

// Addr returns host:port of the telemetry listener.
func (c *Config) Addr() string { return joinHostPort(c.Host, c.Port) }

// StatusAddr returns host:status_port of the plain status server, or "" when
// it is off. It binds Host, not every interface, unless Host is "".
func (c *Config) StatusAddr() string {
	if c.StatusPort <= 0 {
		return ""
	}
	return joinHostPort(c.Host, c.StatusPort)
}

func joinHostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}
