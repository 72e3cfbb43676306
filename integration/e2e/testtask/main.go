// Command testtask is the process the end-to-end tests put under tmplrun:
// it records what it sees — its pid, arguments and environment when it
// starts, every signal it receives — as JSON lines appended to the file
// named by $TESTTASK_OUT, and exits 0 on SIGTERM or SIGINT (or ignores
// SIGTERM with -ignore-term).
package main

import (
	"encoding/json"
	"flag"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Record is one line of the output file.
type Record struct {
	Event  string            `json:"event"` // start, signal, exit
	PID    int               `json:"pid"`
	Time   time.Time         `json:"time"`
	Args   []string          `json:"args,omitempty"`
	Env    map[string]string `json:"env,omitempty"`
	Signal string            `json:"signal,omitempty"`
	Files  map[string]string `json:"files,omitempty"` // -read: contents at start
}

func main() {
	ignoreTerm := flag.Bool("ignore-term", false, "do not exit on SIGTERM")
	var read multi
	flag.Var(&read, "read", "record this file's content at start (repeatable)")
	flag.Parse()

	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM, syscall.SIGINT)

	env := map[string]string{}
	for _, kv := range os.Environ() {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				env[kv[:i]] = kv[i+1:]
				break
			}
		}
	}
	files := map[string]string{}
	for _, f := range read {
		b, err := os.ReadFile(f)
		if err != nil {
			files[f] = "ERROR: " + err.Error()
			continue
		}
		files[f] = string(b)
	}
	write(Record{Event: "start", Args: os.Args[1:], Env: env, Files: files})
	for sig := range sigs {
		write(Record{Event: "signal", Signal: sig.String()})
		if (sig == syscall.SIGTERM && !*ignoreTerm) || sig == syscall.SIGINT {
			write(Record{Event: "exit"})
			os.Exit(0)
		}
	}
}

func write(r Record) {
	r.PID, r.Time = os.Getpid(), time.Now()
	f, err := os.OpenFile(os.Getenv("TESTTASK_OUT"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		os.Exit(3)
	}
	defer f.Close()
	b, _ := json.Marshal(r)
	f.Write(append(b, '\n'))
}

type multi []string

func (m *multi) String() string     { return "" }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }
