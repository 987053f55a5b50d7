package record

// NormalizeReflect exposes the reflective Normalize, the reference the fast
// path is checked against.
var NormalizeReflect = normalizeReflect

// FastNormalize exposes the fast path: false means it left the payload to
// the reflective path.
var FastNormalize = fastNormalize
