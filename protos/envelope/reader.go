package envelope

import "encoding/binary"

// This file is a minimal FlatBuffers table reader that checks every offset,
// vtable and vector length against the frame before it reads, so that
// hostile input yields an error instead of a panic or an out-of-bounds read.
// Positions are computed in int64 so that no uint32 offset can overflow.

var le = binary.LittleEndian

const (
	uoffsetSize = 4 // uoffset_t: unsigned forward offset
	soffsetSize = 4 // soffset_t: signed offset from a table to its vtable
	vtableHead  = 4 // vtable: uint16 vtable size, uint16 table size, then slots
)

// field describes one table field and the errors reported when it is bad.
type field struct {
	slot      int
	outside   error // field lies outside its table
	badOffset error // uoffset is zero or points outside the frame
	badLength error // vector length runs past the end of the frame
}

func newField(name string, slot int) *field {
	return &field{
		slot:      slot,
		outside:   malformed(name + ": field outside its table"),
		badOffset: malformed(name + ": offset out of range"),
		badLength: malformed(name + ": vector length out of range"),
	}
}

// tableErrors are the errors reported when a table itself is bad.
type tableErrors struct {
	offset error // the table start is outside the frame
	vtable error // the vtable is outside the frame or has an invalid size
	size   error // the table's declared size runs past the frame
}

func newTableErrors(name string) *tableErrors {
	return &tableErrors{
		offset: malformed(name + ": table offset out of range"),
		vtable: malformed(name + ": vtable out of range"),
		size:   malformed(name + ": table size out of range"),
	}
}

// table is a FlatBuffers table whose vtable and extent have been checked to
// lie inside buf.
type table struct {
	buf   []byte
	pos   int // table start: its soffset to the vtable
	size  int // table size in bytes, soffset included
	vt    int // vtable start
	vtLen int // vtable size in bytes
}

// readTable checks the table starting at pos and its vtable.
func readTable(buf []byte, pos int64, errs *tableErrors) (table, error) {
	n := int64(len(buf))
	if pos < 0 || pos+soffsetSize > n {
		return table{}, errs.offset
	}
	vt := pos - int64(int32(le.Uint32(buf[pos:])))
	if vt < 0 || vt+vtableHead > n {
		return table{}, errs.vtable
	}
	vtLen := int64(le.Uint16(buf[vt:]))
	size := int64(le.Uint16(buf[vt+2:]))
	if vtLen < vtableHead || vtLen%2 != 0 || vt+vtLen > n {
		return table{}, errs.vtable
	}
	if size < soffsetSize || pos+size > n {
		return table{}, errs.size
	}
	return table{buf: buf, pos: int(pos), size: int(size), vt: int(vt), vtLen: int(vtLen)}, nil
}

// fieldPos returns the position of a field of the given width, or false if
// the field is absent (slot beyond the vtable, or a zero entry).
func (t table) fieldPos(f *field, width int) (int, bool, error) {
	entry := vtableHead + 2*f.slot
	if entry+2 > t.vtLen {
		return 0, false, nil
	}
	off := int(le.Uint16(t.buf[t.vt+entry:]))
	if off == 0 {
		return 0, false, nil
	}
	if off < soffsetSize || off+width > t.size {
		return 0, false, f.outside
	}
	return t.pos + off, true, nil
}

// uint8 reads a ubyte field; absent fields read as 0, the schema default.
func (t table) uint8(f *field) (uint8, error) {
	p, ok, err := t.fieldPos(f, 1)
	if !ok {
		return 0, err
	}
	return t.buf[p], nil
}

// uint32 reads a uint32 field; absent fields read as 0.
func (t table) uint32(f *field) (uint32, error) {
	p, ok, err := t.fieldPos(f, 4)
	if !ok {
		return 0, err
	}
	return le.Uint32(t.buf[p:]), nil
}

// uint64 reads a uint64 field; absent fields read as 0.
func (t table) uint64(f *field) (uint64, error) {
	p, ok, err := t.fieldPos(f, 8)
	if !ok {
		return 0, err
	}
	return le.Uint64(t.buf[p:]), nil
}

// target follows a uoffset field. The target is checked to leave room for
// at least a 4-byte header (vector length or table soffset).
func (t table) target(f *field) (int64, bool, error) {
	p, ok, err := t.fieldPos(f, uoffsetSize)
	if !ok {
		return 0, false, err
	}
	off := int64(le.Uint32(t.buf[p:]))
	tgt := int64(p) + off
	if off == 0 || tgt+uoffsetSize > int64(len(t.buf)) {
		return 0, false, f.badOffset
	}
	return tgt, true, nil
}

// bytes reads a [ubyte] vector field: nil if absent. The result aliases the
// frame and its capacity ends at its length.
func (t table) bytes(f *field) ([]byte, error) {
	tgt, ok, err := t.target(f)
	if !ok {
		return nil, err
	}
	start := tgt + uoffsetSize
	end := start + int64(le.Uint32(t.buf[tgt:]))
	if end > int64(len(t.buf)) {
		return nil, f.badLength
	}
	return t.buf[start:end:end], nil
}
