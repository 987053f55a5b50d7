package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// KeyError is a configuration error tied to one key path, such as
// "monitoring.prometheus_metrics_port" or "records.V[0]".
type KeyError struct {
	// Key is the dotted key path as written in the file (or the canonical
	// name for keys that are missing).
	Key string
	// Err says what is wrong with it.
	Err error
}

// Error returns "key: problem".
func (e *KeyError) Error() string { return e.Key + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *KeyError) Unwrap() error { return e.Err }

// ErrUnknownKey reports a key that fleetrelay does not know.
var ErrUnknownKey = errors.New("unknown key")

func keyErr(key string, format string, args ...any) error {
	return &KeyError{Key: key, Err: fmt.Errorf(format, args...)}
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// decodeStrict decodes raw into v (a non-nil pointer) like encoding/json —
// keys match struct tags case-insensitively — but collects every unknown key
// and every invalid value as a *KeyError naming its full path.
func decodeStrict(raw []byte, v any) error {
	return decodeValue(raw, reflect.ValueOf(v).Elem(), "")
}

func decodeValue(raw json.RawMessage, v reflect.Value, path string) error {
	if isNull(raw) {
		return nil
	}
	if reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		return decodeLeaf(raw, v, path)
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return decodeValue(raw, v.Elem(), path)
	case reflect.Struct:
		return decodeStruct(raw, v, path)
	case reflect.Map:
		return decodeMap(raw, v, path)
	case reflect.Slice:
		return decodeSlice(raw, v, path)
	default:
		return decodeLeaf(raw, v, path)
	}
}

func decodeStruct(raw json.RawMessage, v reflect.Value, path string) error {
	obj, keys, err := splitObject(raw, path)
	if err != nil {
		return err
	}
	var errs []error
	for _, key := range keys {
		field, ok := fieldByKey(v, key)
		if !ok {
			errs = append(errs, &KeyError{Key: join(path, key), Err: ErrUnknownKey})
			continue
		}
		errs = append(errs, decodeValue(obj[key], field, join(path, key)))
	}
	return errors.Join(errs...)
}

func decodeMap(raw json.RawMessage, v reflect.Value, path string) error {
	if v.Type().Key().Kind() != reflect.String {
		return decodeLeaf(raw, v, path)
	}
	obj, keys, err := splitObject(raw, path)
	if err != nil {
		return err
	}
	if v.IsNil() {
		v.Set(reflect.MakeMapWithSize(v.Type(), len(keys)))
	}
	var errs []error
	for _, key := range keys {
		elem := reflect.New(v.Type().Elem()).Elem()
		if err := decodeValue(obj[key], elem, join(path, key)); err != nil {
			errs = append(errs, err)
			continue
		}
		v.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), elem)
	}
	return errors.Join(errs...)
}

func decodeSlice(raw json.RawMessage, v reflect.Value, path string) error {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return keyErr(path, "invalid value %s: want a list", describe(raw))
	}
	out := reflect.MakeSlice(v.Type(), len(items), len(items))
	var errs []error
	for i, item := range items {
		errs = append(errs, decodeValue(item, out.Index(i), path+"["+strconv.Itoa(i)+"]"))
	}
	v.Set(out)
	return errors.Join(errs...)
}

func decodeLeaf(raw json.RawMessage, v reflect.Value, path string) error {
	target := reflect.New(v.Type())
	if err := json.Unmarshal(raw, target.Interface()); err != nil {
		return keyErr(path, "invalid value %s: %s", describe(raw), leafProblem(err, v.Type()))
	}
	v.Set(target.Elem())
	return nil
}

func leafProblem(err error, t reflect.Type) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return "want " + typeName(t)
	}
	return err.Error()
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	default:
		return "a " + t.Kind().String()
	}
}

// splitObject parses a JSON object into its members, returning the keys in
// sorted order so that error messages are deterministic.
func splitObject(raw json.RawMessage, path string) (map[string]json.RawMessage, []string, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, nil, keyErr(rootName(path), "invalid value %s: want an object", describe(raw))
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return obj, keys, nil
}

// fieldByKey finds the struct field whose JSON name equals key, exactly or
// case-insensitively (encoding/json's rule).
func fieldByKey(v reflect.Value, key string) (reflect.Value, bool) {
	t := v.Type()
	fold := -1
	for i := range t.NumField() {
		name, ok := jsonName(t.Field(i))
		if !ok {
			continue
		}
		if name == key {
			return v.Field(i), true
		}
		if fold < 0 && strings.EqualFold(name, key) {
			fold = i
		}
	}
	if fold < 0 {
		return reflect.Value{}, false
	}
	return v.Field(fold), true
}

func jsonName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", false
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name, true
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

func describe(raw json.RawMessage) string {
	s := string(bytes.TrimSpace(raw))
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func rootName(path string) string {
	if path == "" {
		return "(file)"
	}
	return path
}
