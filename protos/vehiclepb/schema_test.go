package vehiclepb_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
	"github.com/fleetrelay/fleetrelay/shared/testenv"
)

// schemaRow is one row of a reference schema table: a message field or an
// enum value. Type and Oneof are empty for enum values.
type schemaRow struct {
	Kind, Owner, Name, Type string
	Number                  int32
	Oneof                   string
}

func (r schemaRow) key() string { return r.Kind + " " + r.Owner + "." + r.Name }

var tablePackage = regexp.MustCompile(`package ([A-Za-z0-9_.]+)\.`)

// readTable parses a reference TSV: a comment line naming the proto package,
// a header line, then one row per field or enum value.
func readTable(t *testing.T, path string) (string, []schemaRow) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	require.True(t, sc.Scan(), "empty table %s", path)
	m := tablePackage.FindStringSubmatch(sc.Text())
	require.NotNil(t, m, "no package in first line of %s", path)
	require.True(t, sc.Scan(), "no header in %s", path)
	var rows []schemaRow
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			rows = append(rows, parseRow(t, sc.Text()))
		}
	}
	require.NoError(t, sc.Err())
	return m[1], rows
}

func parseRow(t *testing.T, line string) schemaRow {
	t.Helper()
	cols := strings.Split(line, "\t")
	for len(cols) < 6 {
		cols = append(cols, "")
	}
	n, err := strconv.ParseInt(cols[4], 10, 32)
	require.NoError(t, err, "row %q", line)
	return schemaRow{Kind: cols[0], Owner: cols[1], Name: cols[2], Type: cols[3], Number: int32(n), Oneof: cols[5]}
}

// descriptorRows lists the same rows from a generated file descriptor.
func descriptorRows(fd protoreflect.FileDescriptor) []schemaRow {
	var rows []schemaRow
	for i := range fd.Enums().Len() {
		rows = append(rows, enumRows(fd.Enums().Get(i))...)
	}
	for i := range fd.Messages().Len() {
		md := fd.Messages().Get(i)
		for j := range md.Fields().Len() {
			rows = append(rows, fieldRow(fd.Package(), md, md.Fields().Get(j)))
		}
		for j := range md.Enums().Len() {
			rows = append(rows, enumRows(md.Enums().Get(j))...)
		}
	}
	return rows
}

func enumRows(ed protoreflect.EnumDescriptor) []schemaRow {
	var rows []schemaRow
	for i := range ed.Values().Len() {
		v := ed.Values().Get(i)
		rows = append(rows, schemaRow{Kind: "enum", Owner: string(ed.Name()), Name: string(v.Name()), Number: int32(v.Number())})
	}
	return rows
}

func fieldRow(pkg protoreflect.FullName, md protoreflect.MessageDescriptor, f protoreflect.FieldDescriptor) schemaRow {
	row := schemaRow{Kind: "message", Owner: string(md.Name()), Name: string(f.Name()), Number: int32(f.Number())}
	if o := f.ContainingOneof(); o != nil && !o.IsSynthetic() {
		row.Oneof = string(o.Name())
	}
	switch {
	case f.IsMap():
		row.Type = fmt.Sprintf("map<%s, %s>", typeName(pkg, f.MapKey()), typeName(pkg, f.MapValue()))
	case f.IsList():
		row.Type = "repeated " + typeName(pkg, f)
	default:
		row.Type = typeName(pkg, f)
	}
	return row
}

// typeName spells a field's type as the tables do: scalar keyword, short
// name for types of the same proto package, full name otherwise.
func typeName(pkg protoreflect.FullName, f protoreflect.FieldDescriptor) string {
	var full protoreflect.FullName
	switch f.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		full = f.Message().FullName()
	case protoreflect.EnumKind:
		full = f.Enum().FullName()
	default:
		return f.Kind().String()
	}
	if full.Parent() == pkg {
		return string(full.Name())
	}
	return string(full)
}

func TestSchemaMatchesReferenceTables(t *testing.T) {
	dir := filepath.Join(testenv.SharedDir(t), "reference", "protos")
	tests := []struct {
		table string
		file  protoreflect.FileDescriptor
	}{
		{"vehicle_data.tsv", vehiclepb.File_vehicle_data_proto},
		{"vehicle_alert.tsv", vehiclepb.File_vehicle_alert_proto},
		{"vehicle_error.tsv", vehiclepb.File_vehicle_error_proto},
		{"vehicle_connectivity.tsv", vehiclepb.File_vehicle_connectivity_proto},
		{"vehicle_metric.tsv", vehiclepb.File_vehicle_metric_proto},
	}
	for _, tc := range tests {
		t.Run(strings.TrimSuffix(tc.table, ".tsv"), func(t *testing.T) {
			pkg, want := readTable(t, filepath.Join(dir, tc.table))
			require.Equal(t, pkg, string(tc.file.Package()), "proto package")
			require.Equal(t, protoreflect.Proto3, tc.file.Syntax())
			require.Empty(t, diffRows(want, descriptorRows(tc.file)))
			require.Equal(t, owners(want), declaredTypes(tc.file), "messages and enums")
		})
	}
}

// owners lists the messages and enums a table defines, as "kind name".
func owners(rows []schemaRow) []string {
	seen := map[string]bool{}
	var names []string
	for _, r := range rows {
		if n := r.Kind + " " + r.Owner; !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// declaredTypes lists the top-level messages and enums of a file, as "kind name".
func declaredTypes(fd protoreflect.FileDescriptor) []string {
	var names []string
	for i := range fd.Messages().Len() {
		names = append(names, "message "+string(fd.Messages().Get(i).Name()))
	}
	for i := range fd.Enums().Len() {
		names = append(names, "enum "+string(fd.Enums().Get(i).Name()))
	}
	sort.Strings(names)
	return names
}

// diffRows lists every row missing from got, extra in got, or different.
func diffRows(want, got []schemaRow) []string {
	wantByKey := make(map[string]schemaRow, len(want))
	for _, r := range want {
		wantByKey[r.key()] = r
	}
	var diffs []string
	seen := make(map[string]bool, len(got))
	for _, r := range got {
		seen[r.key()] = true
		w, ok := wantByKey[r.key()]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("extra: %+v", r))
		case w != r:
			diffs = append(diffs, fmt.Sprintf("different: want %+v, got %+v", w, r))
		}
	}
	for _, r := range want {
		if !seen[r.key()] {
			diffs = append(diffs, fmt.Sprintf("missing: %+v", r))
		}
	}
	return diffs
}

func TestFieldAndValueCounts(t *testing.T) {
	field := vehiclepb.Field(0).Descriptor()
	require.Equal(t, 260, field.Values().Len())
	for n := range protoreflect.EnumNumber(260) {
		require.NotNil(t, field.Values().ByNumber(n), "Field number %d", n)
	}
	require.Equal(t, "MilesSinceReset", string(field.Values().ByNumber(258).Name()))
	require.Equal(t, "SelfDrivingMilesSinceReset", string(field.Values().ByNumber(259).Name()))

	oneof := (&vehiclepb.Value{}).ProtoReflect().Descriptor().Oneofs().ByName("value")
	require.NotNil(t, oneof)
	require.Equal(t, 53, oneof.Fields().Len())
	require.Nil(t, oneof.Fields().ByNumber(20), "number 20 is unused")
}
