package vehicleconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
)

// Config is the vehicle configuration ("config" of the request body).
type Config struct {
	// Hostname is the server's DNS name; it must be in the server
	// certificate's subject alternative names.
	Hostname string `json:"hostname"`
	// Port is the server's TLS port (443 when absent).
	Port int `json:"port,omitempty"`
	// CA holds the PEM certificate(s) the vehicle trusts for the server.
	CA string `json:"ca"`
	// Fields maps a telemetry field name (the Field enum of the vehicle
	// protos) to how it is sent.
	Fields map[string]Field `json:"fields"`
	// AlertTypes lists the alert audiences pushed to the server.
	AlertTypes []string `json:"alert_types,omitempty"`
	// Exp is the configuration's expiry, in Unix seconds.
	Exp int64 `json:"exp,omitempty"`
	// PreferTyped asks for typed values instead of strings.
	PreferTyped *bool `json:"prefer_typed,omitempty"`
	// DeliveryPolicy selects how unacknowledged data is resent.
	DeliveryPolicy string `json:"delivery_policy,omitempty"`
}

// Field is how one telemetry field is sent.
type Field struct {
	// IntervalSeconds is the shortest time between two sends.
	IntervalSeconds int `json:"interval_seconds"`
	// MinimumDelta suppresses changes smaller than this (numeric fields).
	MinimumDelta *float64 `json:"minimum_delta,omitempty"`
	// ResendIntervalSeconds resends an unchanged value this often.
	ResendIntervalSeconds int `json:"resend_interval_seconds,omitempty"`
}

// Request is the fleet_telemetry_config request body: the configuration
// and the VINs it applies to.
type Request struct {
	VINs   []string `json:"vins"`
	Config Config   `json:"config"`
}

// Known keys; anything else is reported as a warning.
var (
	knownConfigKeys = []string{"hostname", "port", "ca", "fields", "alert_types", "exp", "prefer_typed", "delivery_policy"}
	knownFieldKeys  = []string{"interval_seconds", "minimum_delta", "resend_interval_seconds"}
	knownWrapKeys   = []string{"vins", "config"}
)

// Document is a parsed configuration file.
type Document struct {
	// Config is the vehicle configuration.
	Config Config
	// VINs are the request body's VINs (nil for a bare configuration).
	VINs []string
	// Wrapped tells whether the file was a request body.
	Wrapped bool
	// UnknownKeys lists keys this package does not know, by path.
	UnknownKeys []string
}

// Parse reads a configuration, bare or wrapped in a request body. Type
// errors (a port written as a string, an interval as a float) are errors.
func Parse(data []byte) (*Document, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	doc := &Document{}
	body := data
	if raw, ok := top["config"]; ok {
		doc.Wrapped = true
		doc.UnknownKeys = append(doc.UnknownKeys, unknownKeys("", top, knownWrapKeys)...)
		if v, ok := top["vins"]; ok {
			if err := decodeStrict(v, &doc.VINs); err != nil {
				return nil, fmt.Errorf("vins: %w", err)
			}
		}
		body = raw
		top = nil
		if err := json.Unmarshal(raw, &top); err != nil {
			return nil, fmt.Errorf("config: not a JSON object: %w", err)
		}
	}
	prefix := ""
	if doc.Wrapped {
		prefix = "config."
	}
	doc.UnknownKeys = append(doc.UnknownKeys, unknownKeys(prefix, top, knownConfigKeys)...)
	if raw, ok := top["fields"]; ok {
		var fields map[string]map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil {
			return nil, fmt.Errorf("%sfields: want an object of objects: %w", prefix, err)
		}
		for name, f := range fields {
			doc.UnknownKeys = append(doc.UnknownKeys, unknownKeys(prefix+"fields."+name+".", f, knownFieldKeys)...)
		}
	}
	sort.Strings(doc.UnknownKeys)
	if err := json.Unmarshal(body, &doc.Config); err != nil {
		return nil, fmt.Errorf("%s%w", prefix, describeTypeError(err))
	}
	return doc, nil
}

func unknownKeys(prefix string, obj map[string]json.RawMessage, known []string) []string {
	var out []string
	for k := range obj {
		if !contains(known, k) {
			out = append(out, prefix+k)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describeTypeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// describeTypeError names the key of a JSON type mismatch.
func describeTypeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%s: JSON %s where %s is required", te.Field, te.Value, goTypeName(te.Type.Kind().String()))
	}
	return err
}

func goTypeName(kind string) string {
	switch kind {
	case "int", "int64":
		return "an integer"
	case "float64":
		return "a number"
	case "string":
		return "a string"
	case "bool", "ptr":
		return "a boolean"
	case "slice":
		return "a list"
	case "map", "struct":
		return "an object"
	default:
		return kind
	}
}

// Marshal writes a configuration (wrapped in a request body when vins is
// not empty) as indented JSON with a trailing newline.
func Marshal(c Config, vins []string) ([]byte, error) {
	var v any = c
	if len(vins) > 0 {
		v = Request{VINs: vins, Config: c}
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode vehicle configuration: %w", err)
	}
	return append(b, '\n'), nil
}
