package vaultauth

import (
	"context"
	"log/slog"
	"time"
)

// emitter stamps, logs and hands on the events of one token holder.
type emitter struct {
	cluster, task string
	now           func() time.Time
	on            func(Event)
	log           *slog.Logger
}

func (e emitter) stamp(ev Event) Event {
	ev.Time = e.now()
	ev.Cluster, ev.Task = e.cluster, e.task
	return ev
}

// emit logs ev and passes it to the OnEvent callback.
func (e emitter) emit(ev Event) {
	ev = e.stamp(ev)
	e.log.LogAttrs(context.Background(), ev.level(), ev.String(), ev.attrs()...)
	if e.on != nil {
		e.on(ev)
	}
}

// debug only logs ev, at debug level: a repeat not worth a line of output.
func (e emitter) debug(ev Event) {
	ev = e.stamp(ev)
	e.log.LogAttrs(context.Background(), slog.LevelDebug, ev.String(), ev.attrs()...)
}
