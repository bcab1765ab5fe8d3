// Package multipart writes multipart/form-data request bodies whose parts are
// read from their sources while the body is sent: no part is ever held in
// memory whole, the body's exact length is known before it is sent when every
// part's size is, and the same Form produces the same bytes as often as it is
// asked, so a retried request sends exactly what the first attempt did.
//
// mime/multipart's Writer does the framing for a body it is handed; this
// package adds what an upload over a retrying client needs: the length from
// the part headers and sizes alone, a body per attempt streamed through a pipe
// by a goroutine that never outlives the attempt, and parts that must hold
// exactly the bytes they declared.
//
// It is not public API: client.Deliver builds a Form from a Delivery's files.
package multipart
