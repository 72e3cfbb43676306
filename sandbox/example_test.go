package sandbox_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tmplrun/tmplrun/sandbox"
)

func Example() {
	dir, _ := os.MkdirTemp("", "task-")
	defer os.RemoveAll(dir)

	d, err := sandbox.Create(filepath.Join(dir, "web")) // alloc/, local/, secrets/ (0700), tmp/
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()

	changed, err := d.WriteFile("secrets/app.env", []byte("DB_PASSWORD=x\n"), sandbox.Perm(0o600))
	fmt.Println(changed, err)
	changed, err = d.WriteFile("secrets/app.env", []byte("DB_PASSWORD=x\n"), sandbox.Perm(0o600))
	fmt.Println(changed, err) // identical: left alone

	_, err = d.WriteFile("../outside", []byte("x"))
	fmt.Println(err != nil) // refused: it would leave the task dir
	// Output:
	// true <nil>
	// false <nil>
	// true
}
