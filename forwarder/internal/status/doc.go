// Package status is the small file each running forwarder writes per (sink,
// partition) so that `forwarder status`, in another process, can show the
// cursor, the last error and whether delivery has stopped. Files are written
// atomically (temporary file, rename) and read without any lock: a reader sees
// either the previous or the next version, never a mix.
package status
