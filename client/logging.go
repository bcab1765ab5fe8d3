package client

import (
	"context"
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
