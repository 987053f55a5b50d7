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
	warns = append(warns, cfg.resolvePaths(baseDir)...)
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
// A file that must already exist (certificates, keys, CA bundles, the VIN
// allowlist) and is missing there but present relative to the working
// directory is taken from the working directory instead, as the reference
// server does, with a warning.
func (c *Config) resolvePaths(baseDir string) []Warning {
	if baseDir == "" {
		return nil
	}
	r := resolver{base: baseDir}
	r.tls("tls", c.TLS)
	r.existing("gateway.vin_allowlist_file", &c.Gateway.VINAllowlistFile)
	r.dir(&c.WAL.Dir)
	r.dir(&c.Forwarder.DeadLetterDir)
	if c.Logger != nil {
		r.dir(&c.Logger.File)
	}
	if c.MQTT != nil && c.MQTT.TLS != nil {
		r.existing("mqtt.tls.ca_file", &c.MQTT.TLS.CAFile)
		r.existing("mqtt.tls.server_cert", &c.MQTT.TLS.ServerCert)
		r.existing("mqtt.tls.server_key", &c.MQTT.TLS.ServerKey)
	}
	if c.Monitoring != nil {
		r.dir(&c.Monitoring.ProfilingPath)
	}
	if c.ZMQ != nil {
		r.existing("zmq.server_key_json_path", &c.ZMQ.ServerKeyJSONPath)
		r.existing("zmq.allowed_public_keys_json_path", &c.ZMQ.AllowedPublicKeysJSONPath)
	}
	if c.Redis != nil {
		r.tls("redis.tls", c.Redis.TLS)
	}
	if c.Airbrake != nil {
		r.tls("airbrake.tls", c.Airbrake.TLS)
	}
	return r.warns
}

type resolver struct {
	base  string
	warns []Warning
}

func (r *resolver) tls(key string, t *TLSConfig) {
	if t == nil {
		return
	}
	r.existing(key+".server_cert", &t.ServerCert)
	r.existing(key+".server_key", &t.ServerKey)
	r.existing(key+".ca_file", &t.CAFile)
}

// dir resolves a path that may not exist yet against the config directory.
func (r *resolver) dir(p *string) {
	if *p != "" && !filepath.IsAbs(*p) {
		*p = filepath.Join(r.base, *p)
	}
}

// existing resolves a path to an existing file: the config directory
// first, else the working directory (the reference's rule).
func (r *resolver) existing(key string, p *string) {
	if *p == "" || filepath.IsAbs(*p) {
		return
	}
	inBase := filepath.Join(r.base, *p)
	if _, err := os.Stat(inBase); err != nil {
		if abs, err := filepath.Abs(*p); err == nil && fileExists(abs) {
			r.warns = append(r.warns, Warning{Key: key, Message: "relative path " + *p +
				" not found beside the config file; using " + abs + " (relative to the working directory, as the reference server does)"})
			*p = abs
			return
		}
	}
	*p = inBase
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
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
