package vaulttest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v4/stdlib" // database/sql driver "pgx"
)

// SkipPostgresEnv, set to 1, makes tests that need PostgreSQL skip
// instead of fail when it is not installed. For local development only:
// CI installs PostgreSQL (make deps) and must not skip.
const SkipPostgresEnv = "TMPLRUN_SKIP_POSTGRES"

// Postgres is a PostgreSQL server run for one Vault, on a loopback port,
// with its data in a temporary directory. It accepts password logins over
// TCP (scram-sha-256).
type Postgres struct {
	Host     string // "127.0.0.1"
	Port     int
	User     string // the superuser, "postgres"
	Password string // the superuser's password
	Database string // "postgres"

	dir  string
	cmd  *exec.Cmd
	done chan struct{} // closed when the server process has exited
	err  error         // its exit status, once done is closed
}

// URL is a connection URL for user and password.
func (p *Postgres) URL(user, password string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(user, password),
		Host:     net.JoinHostPort(p.Host, strconv.Itoa(p.Port)),
		Path:     "/" + p.Database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Login connects as user with password and returns why that failed, or
// nil: it proves that credentials Vault issued work (or no longer do).
func (p *Postgres) Login(user, password string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", p.URL(user, password))
	if err != nil {
		return err
	}
	defer db.Close()
	return db.PingContext(ctx)
}

// Exec runs SQL statements as the superuser.
func (p *Postgres) Exec(query string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", p.URL(p.User, p.Password))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, query, args...)
	return err
}

// Postgres returns the PostgreSQL server of this Vault, starting it on
// first use; Close stops it. When PostgreSQL is not installed the test
// fails, or skips if TMPLRUN_SKIP_POSTGRES=1.
func (v *Vault) Postgres() *Postgres {
	v.t.Helper()
	v.pgMu.Lock()
	defer v.pgMu.Unlock()
	if v.pg != nil {
		return v.pg
	}
	bin, err := postgresBin()
	if err != nil {
		msg := fmt.Sprintf("vaulttest: %v: install it with `make deps` (apt-get install postgresql), "+
			"or set %s=1 to skip tests that need it", err, SkipPostgresEnv)
		if os.Getenv(SkipPostgresEnv) == "1" {
			v.t.Skip(msg)
		}
		v.t.Fatalf("%s", msg) // also after a RuntimeT's Skip, which returns
	}
	pg, err := startPostgres(bin)
	if err != nil {
		v.t.Fatalf("vaulttest: start PostgreSQL: %v", err)
	}
	v.onCloseLast(pg.stop)
	v.pg = pg
	return pg
}

// postgresBin finds the directory holding initdb and postgres: on PATH,
// else the newest /usr/lib/postgresql/<version>/bin (Debian keeps them
// there, off PATH).
func postgresBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dir := filepath.Dir(real)
			if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
				return dir, nil
			}
		}
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(found, func(i, j int) bool { return pgVersion(found[i]) > pgVersion(found[j]) })
	for _, p := range found {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	return "", errors.New("PostgreSQL (initdb and postgres) is not installed")
}

func pgVersion(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

// startPostgres initialises a cluster in a new temporary directory and
// starts its server. PostgreSQL refuses to run as root: as root, both run
// as the "postgres" system user.
func startPostgres(bin string) (*Postgres, error) {
	cred, err := postgresCredential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "vaulttest-pg-")
	if err != nil {
		return nil, err
	}
	pg := &Postgres{Host: "127.0.0.1", User: "postgres", Database: "postgres", dir: dir}
	if err := pg.initdb(bin, cred); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	// A free port may be taken between finding it and binding it: retry.
	for attempt := 0; ; attempt++ {
		err = pg.run(bin, cred)
		if err == nil {
			return pg, nil
		}
		if attempt == 2 {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
}

func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root and there is no postgres user to run PostgreSQL as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func (p *Postgres) initdb(bin string, cred *syscall.Credential) error {
	pw := make([]byte, 16)
	_, _ = rand.Read(pw)
	p.Password = hex.EncodeToString(pw)
	pwfile := filepath.Join(p.dir, "pw")
	if err := os.WriteFile(pwfile, []byte(p.Password+"\n"), 0o600); err != nil {
		return err
	}
	if cred != nil {
		for _, f := range []string{p.dir, pwfile} {
			if err := os.Chown(f, int(cred.Uid), int(cred.Gid)); err != nil {
				return err
			}
		}
	}
	cmd := exec.Command(filepath.Join(bin, "initdb"),
		"-D", filepath.Join(p.dir, "data"), "-U", p.User, "--pwfile", pwfile,
		"--auth-local=trust", "--auth-host=scram-sha-256",
		"-E", "UTF8", "--locale=C", "--no-sync")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Dir = p.dir
	out, err := cmd.CombinedOutput()
	_ = os.Remove(pwfile)
	if err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

// run starts the server on a free port and waits until it accepts logins.
func (p *Postgres) run(bin string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	p.Port = port
	logPath := filepath.Join(p.dir, "postgres.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(bin, "postgres"),
		"-D", filepath.Join(p.dir, "data"),
		"-p", strconv.Itoa(port),
		"-k", p.dir, // Unix socket directory
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: cred,
		Setpgid:    true,            // Ctrl-C at a terminal goes to us, not to it
		Pdeathsig:  syscall.SIGQUIT, // immediate shutdown should we die first
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	p.cmd = cmd
	p.done = make(chan struct{})
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := p.waitReady(30 * time.Second); err != nil {
		p.stopServer()
		log, _ := os.ReadFile(logPath)
		return fmt.Errorf("%w\n%s", err, strings.TrimSpace(string(log)))
	}
	return nil
}

// waitReady polls until the superuser can log in, the server exits, or
// the timeout passes.
func (p *Postgres) waitReady(timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := p.Login(p.User, p.Password)
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("postgres exited: %v", p.err)
		case <-deadline.C:
			return fmt.Errorf("postgres not ready after %v: %w", timeout, err)
		case <-tick.C:
		}
	}
}

// stop stops the server and removes its data.
func (p *Postgres) stop() {
	p.stopServer()
	_ = os.RemoveAll(p.dir)
}

// stopServer shuts the server down (fast: sessions are ended), killing
// it if it has not stopped after 10 s.
func (p *Postgres) stopServer() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
	p.cmd = nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
