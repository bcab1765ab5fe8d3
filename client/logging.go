package client

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
)

// defaultLogger is the logger of a client given none: Warn and above, to
// whatever slog.Default() is when the record is logged, so a program that sets
// its default logger after creating the client is heard there too. Debug and
// Info stay quiet unless the program asks with WithLogger.
func defaultLogger() *slog.Logger { return slog.New(warnToDefault{}) }

type warnToDefault struct {
	with []func(slog.Handler) slog.Handler // WithAttrs and WithGroup, in order
}

func (h warnToDefault) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && slog.Default().Handler().Enabled(ctx, l)
}

func (h warnToDefault) Handle(ctx context.Context, r slog.Record) error {
	d := slog.Default().Handler()
	for _, w := range h.with {
		d = w(d)
	}
	return d.Handle(ctx, r)
}

func (h warnToDefault) WithAttrs(as []slog.Attr) slog.Handler {
	return warnToDefault{with: append(slices.Clip(h.with), func(d slog.Handler) slog.Handler { return d.WithAttrs(as) })}
}

func (h warnToDefault) WithGroup(name string) slog.Handler {
	return warnToDefault{with: append(slices.Clip(h.with), func(d slog.Handler) slog.Handler { return d.WithGroup(name) })}
}

// redactingHandler passes every record through the client's redactor before
// the program's handler sees it: the message, every string and error, and
// anything else whose printed form holds a secret. Secret types (APIKey)
// redact themselves; this catches what a server or an error carried in.
type redactingHandler struct {
	next slog.Handler
	c    *Client
}

func (h *redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.c.redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *redactingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(as))
	for i, a := range as {
		clean[i] = h.attr(a)
	}
	return &redactingHandler{next: h.next.WithAttrs(clean), c: h.c}
}

func (h *redactingHandler) WithGroup(name string) slog.Handler {
	return &redactingHandler{next: h.next.WithGroup(name), c: h.c}
}

func (h *redactingHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.c.redact(v.String()))
	case slog.KindGroup:
		g := v.Group()
		clean := make([]slog.Attr, len(g))
		for i, ga := range g {
			clean[i] = h.attr(ga)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(clean...)}
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, h.c.redact(err.Error()))
		}
		if s := fmt.Sprint(v.Any()); h.c.redact(s) != s {
			return slog.String(a.Key, h.c.redact(s))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
