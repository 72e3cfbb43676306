package vaultauth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/auth/approle"
	"github.com/hashicorp/vault/api/auth/kubernetes"

	"github.com/tmplrun/tmplrun/template"
)

// DefaultKubernetesTokenPath is where Kubernetes mounts a pod's service
// account token.
const DefaultKubernetesTokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token"

// method is how tmplrun logs in to a cluster. Credentials are read from
// their files at every login, so a rotated file is picked up at the next
// re-authentication.
type method interface {
	// login obtains a token with c, a client without a token.
	login(ctx context.Context, c *api.Client) (*grant, error)
	// supplied: the token came from the user (token method) and is not
	// tmplrun's to revoke.
	supplied() bool
}

// newMethod checks a and returns its login method.
func newMethod(a *template.Auth, c *template.VaultCluster, getenv func(string) string) (method, error) {
	if a == nil {
		return tokenMethod{getenv: getenv}, nil
	}
	mount := a.Mount
	if mount == "" {
		mount = a.Method
	}
	mount = strings.Trim(mount, "/")
	switch a.Method {
	case template.AuthToken:
		return tokenMethod{file: a.TokenFile, getenv: getenv}, nil
	case template.AuthAppRole:
		if a.RoleIDFile == "" {
			return nil, errors.New(`auth "approle" needs role_id_file`)
		}
		return appRoleMethod{roleIDFile: a.RoleIDFile, secretIDFile: a.SecretIDFile, mount: mount}, nil
	case template.AuthJWT:
		if a.Path == "" || a.Role == "" {
			return nil, errors.New(`auth "jwt" needs path (the JWT file) and role`)
		}
		return jwtMethod{file: a.Path, role: a.Role, mount: mount}, nil
	case template.AuthKubernetes:
		if a.Role == "" {
			return nil, errors.New(`auth "kubernetes" needs role`)
		}
		file := a.TokenPath
		if file == "" {
			file = DefaultKubernetesTokenPath
		}
		return kubernetesMethod{file: file, role: a.Role, mount: mount}, nil
	case template.AuthCert:
		if c.CertFile == "" || c.KeyFile == "" {
			return nil, errors.New(`auth "cert" needs the vault block's cert_file and key_file (the TLS client certificate)`)
		}
		return certMethod{name: a.Name, mount: mount}, nil
	}
	return nil, fmt.Errorf("unknown auth method %q (want token, approle, jwt, kubernetes or cert)", a.Method)
}

// readSecretFile reads a credential file, without surrounding white
// space. Its content never appears in an error.
func readSecretFile(what, file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", what, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("read %s: %s is empty", what, file)
	}
	return s, nil
}

func loginPath(mount string) string { return path.Join("auth", mount, "login") }

// writeLogin posts a login request and reads the token from the answer.
func writeLogin(ctx context.Context, c *api.Client, op, mount string, data map[string]any) (*grant, error) {
	s, err := c.Logical().WriteWithContext(ctx, loginPath(mount), data)
	if err != nil {
		return nil, wrapVault(op, err)
	}
	g, err := grantFromAuth(s)
	return g, wrapVault(op, err)
}

// tokenMethod uses a token the user gives: token_file, else $VAULT_TOKEN.
// "Logging in" is looking the token up to learn its TTL.
type tokenMethod struct {
	file   string
	getenv func(string) string
}

func (m tokenMethod) supplied() bool { return true }

func (m tokenMethod) login(ctx context.Context, c *api.Client) (*grant, error) {
	var tok string
	if m.file != "" {
		var err error
		if tok, err = readSecretFile("token_file", m.file); err != nil {
			return nil, err
		}
	} else if tok = strings.TrimSpace(m.getenv(EnvToken)); tok == "" {
		return nil, ErrNoToken
	}
	c.SetToken(tok)
	s, err := c.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		return nil, wrapVault("look up the configured token", err)
	}
	g, err := grantFromLookup(tok, s)
	return g, wrapVault("look up the configured token", err)
}

// appRoleMethod logs in with a role_id and secret_id read from files; a
// role with bind_secret_id = false needs no secret_id_file.
type appRoleMethod struct {
	roleIDFile, secretIDFile, mount string
}

func (m appRoleMethod) supplied() bool { return false }

func (m appRoleMethod) login(ctx context.Context, c *api.Client) (*grant, error) {
	roleID, err := readSecretFile("role_id_file", m.roleIDFile)
	if err != nil {
		return nil, err
	}
	op := "login with approle at auth/" + m.mount
	if m.secretIDFile == "" {
		return writeLogin(ctx, c, op, m.mount, map[string]any{"role_id": roleID})
	}
	a, err := approle.NewAppRoleAuth(roleID,
		&approle.SecretID{FromFile: m.secretIDFile},
		approle.WithMountPath(m.mount))
	if err != nil {
		return nil, fmt.Errorf("approle: %w", err)
	}
	s, err := a.Login(ctx, c)
	if err != nil {
		return nil, wrapVault(op, err)
	}
	g, err := grantFromAuth(s)
	return g, wrapVault(op, err)
}

// jwtMethod logs in with a JWT read from a file at every login (a
// projected token, one from a CI system, …).
type jwtMethod struct {
	file, role, mount string
}

func (m jwtMethod) supplied() bool { return false }

func (m jwtMethod) login(ctx context.Context, c *api.Client) (*grant, error) {
	jwt, err := readSecretFile("jwt path", m.file)
	if err != nil {
		return nil, err
	}
	return writeLogin(ctx, c, fmt.Sprintf("login with jwt role %q at auth/%s", m.role, m.mount), m.mount,
		map[string]any{"role": m.role, "jwt": jwt})
}

// kubernetesMethod logs in with the pod's service account token.
type kubernetesMethod struct {
	file, role, mount string
}

func (m kubernetesMethod) supplied() bool { return false }

func (m kubernetesMethod) login(ctx context.Context, c *api.Client) (*grant, error) {
	jwt, err := readSecretFile("kubernetes token_path", m.file)
	if err != nil {
		return nil, err
	}
	a, err := kubernetes.NewKubernetesAuth(m.role,
		kubernetes.WithServiceAccountToken(jwt),
		kubernetes.WithMountPath(m.mount))
	if err != nil {
		return nil, fmt.Errorf("kubernetes: %w", err)
	}
	s, err := a.Login(ctx, c)
	op := fmt.Sprintf("login with kubernetes role %q at auth/%s", m.role, m.mount)
	if err != nil {
		return nil, wrapVault(op, err)
	}
	g, err := grantFromAuth(s)
	return g, wrapVault(op, err)
}

// certMethod logs in with the TLS client certificate of the vault block
// (cert_file, key_file), optionally naming the certificate role.
type certMethod struct {
	name, mount string
}

func (m certMethod) supplied() bool { return false }

func (m certMethod) login(ctx context.Context, c *api.Client) (*grant, error) {
	data := map[string]any{}
	if m.name != "" {
		data["name"] = m.name
	}
	return writeLogin(ctx, c, "login with cert at auth/"+m.mount, m.mount, data)
}
