// Package stream copies a file's bytes from a source to a sink with the checks
// a file transfer needs and io.Copy does not make: an exact or capped length,
// cancellation between chunks, and progress reported at a bounded rate. It
// never holds more than one caller-provided buffer of the file in memory.
//
// It is not public API: the client's uploads (through package multipart) and
// DownloadAttachment use it.
package stream
