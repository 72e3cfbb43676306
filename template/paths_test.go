package template

import (
	"errors"
	"strings"
	"testing"
)

func TestResolvePath(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, dir, in, want, err string
	}{
		{"relative", "/srv/web", "local/app.conf", "local/app.conf", ""},
		{"cleaned", "/srv/web", "local/./x/../app.conf", "local/app.conf", ""},
		{"task dir var", "/srv/web", "${NOMAD_TASK_DIR}/app.conf", "local/app.conf", ""},
		{"secrets dir var", "/srv/web", "${NOMAD_SECRETS_DIR}/db.env", "secrets/db.env", ""},
		{"alloc dir var", "/srv/web", "${NOMAD_ALLOC_DIR}/data/x", "alloc/data/x", ""},
		{"var with spaces", "/srv/web", "${ NOMAD_TASK_DIR }/x", "local/x", ""},
		{"chroot style", "/srv/web", "/secrets/x", "secrets/x", ""},
		{"absolute inside", "/srv/web", "/srv/web/local/x", "local/x", ""},
		{"absolute outside", "/srv/web", "/etc/passwd", "", "not inside the task dir"},
		{"absolute with relative dir", "web", "/etc/passwd", "", "is absolute"},
		{"prefix is not a dir", "/srv/web", "/localx/y", "", "not inside the task dir"},
		{"dot dot", "/srv/web", "../x", "", "climbs out"},
		{"dot dot after var", "/srv/web", "${NOMAD_TASK_DIR}/../../x", "", "climbs out"},
		{"dot dot back in", "/srv/web", "local/../secrets/x", "secrets/x", ""},
		{"unknown var", "/srv/web", "${NOMAD_ALLOC_ID}/x", "", "cannot resolve"},
		{"empty", "/srv/web", " ", "", "empty"},
		{"task dir itself", "/srv/web", "local/..", "", "task dir itself"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ResolvePath(tc.dir, tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ResolvePath(%q, %q) = %q, %v; want error containing %q", tc.dir, tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ResolvePath(%q, %q) = %q, %v; want %q", tc.dir, tc.in, got, err, tc.want)
			}
		})
	}
	if _, err := ResolvePath("/srv/web", "../x"); !errors.Is(err, ErrOutsideTaskDir) {
		t.Errorf("escape error %v is not ErrOutsideTaskDir", err)
	}
}
