// Package logging is the CLI's output: one line per event on stderr, as
// text for people or JSON lines for machines.
//
// Text lines read "TIME LEVEL task: message" — "web: template
// secrets/app.env re-rendered; restarting (change_mode=restart)". JSON lines
// carry the same facts as fields: time, level, task, event, template,
// message, plus whatever else the event records.
package logging
