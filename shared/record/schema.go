package record

import (
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// kind is how the fast path (see fast.go) reads and checks one field.
type kind uint8

const (
	kindNone        kind = iota // no field of this number in the schema
	kindUnsupported             // a field the fast path leaves to the reflective path
	kindBool
	kindInt32 // int32 and enums: a varint that is an int32 sign-extended to 64 bits
	kindInt64
	kindFloat
	kindDouble
	kindString
	kindMessage
	kindStringMap // map<string, string>
)

// field describes one field of a message for the fast path.
type field struct {
	kind     kind
	wireType protowire.Type
	list     bool // repeated (or map): one element per occurrence, occurrences adjacent
	packed   bool // packed repeated scalar: one length-delimited run
	presence bool // zero values are encoded too (oneof members, messages)
	oneof    int  // 1 + index of the containing oneof, 0 when none
	msg      *message
}

// message is the fast path's table of a message type, indexed by field
// number. It is derived from the generated descriptors, so it follows the
// .proto files without being edited by hand.
type message struct {
	fields []field
}

// lookup returns the field of that number, or nil when the schema has none.
func (m *message) lookup(num protowire.Number) *field {
	if int(num) < len(m.fields) && m.fields[num].kind != kindNone {
		return &m.fields[num]
	}
	return nil
}

// newMessage builds the table of md and of every message type it uses.
// built holds the tables made so far, by full name.
func newMessage(md protoreflect.MessageDescriptor, built map[protoreflect.FullName]*message) *message {
	if m, ok := built[md.FullName()]; ok {
		return m
	}
	m := &message{}
	built[md.FullName()] = m
	fds := md.Fields()
	maxNum := 0
	for i := range fds.Len() {
		maxNum = max(maxNum, int(fds.Get(i).Number()))
	}
	if maxNum > 1<<12 {
		// Sparse numbers would make a large table; such a message is left to
		// the reflective path (a single unsupported entry would do, but this
		// schema has none).
		m.fields = []field{{kind: kindUnsupported}}
		return m
	}
	m.fields = make([]field, maxNum+1)
	for i := range fds.Len() {
		fd := fds.Get(i)
		m.fields[fd.Number()] = newField(fd, built)
	}
	return m
}

// newField describes fd; kinds the fast path does not handle are
// kindUnsupported, which makes any payload that carries them fall back.
func newField(fd protoreflect.FieldDescriptor, built map[protoreflect.FullName]*message) field {
	f := field{presence: fd.HasPresence()}
	if od := fd.ContainingOneof(); od != nil {
		f.oneof = od.Index() + 1
	}
	switch {
	case fd.IsMap():
		if fd.MapKey().Kind() != protoreflect.StringKind || fd.MapValue().Kind() != protoreflect.StringKind {
			return field{kind: kindUnsupported}
		}
		f.kind, f.wireType, f.list = kindStringMap, protowire.BytesType, true
		return f
	case fd.IsList() && fd.IsPacked():
		if scalarKind(fd.Kind()) != kindInt32 {
			return field{kind: kindUnsupported}
		}
		f.kind, f.wireType, f.packed = kindInt32, protowire.BytesType, true
		return f
	case fd.IsList():
		if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.StringKind {
			return field{kind: kindUnsupported}
		}
		f.list = true
	}
	switch fd.Kind() {
	case protoreflect.MessageKind:
		f.kind, f.wireType, f.msg = kindMessage, protowire.BytesType, newMessage(fd.Message(), built)
	case protoreflect.StringKind:
		f.kind, f.wireType = kindString, protowire.BytesType
	default:
		f.kind = scalarKind(fd.Kind())
		switch f.kind {
		case kindFloat:
			f.wireType = protowire.Fixed32Type
		case kindDouble:
			f.wireType = protowire.Fixed64Type
		default:
			f.wireType = protowire.VarintType
		}
	}
	return f
}

// scalarKind maps the scalar kinds the fast path handles.
func scalarKind(k protoreflect.Kind) kind {
	switch k {
	case protoreflect.BoolKind:
		return kindBool
	case protoreflect.Int32Kind, protoreflect.EnumKind:
		return kindInt32
	case protoreflect.Int64Kind:
		return kindInt64
	case protoreflect.FloatKind:
		return kindFloat
	case protoreflect.DoubleKind:
		return kindDouble
	default:
		return kindUnsupported
	}
}
