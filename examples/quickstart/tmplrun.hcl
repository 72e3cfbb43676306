# The quickstart that `make dev` runs against its dev Vault
# (integration/cmd/vault-dev): one task whose process prints its rendered
# configuration every few seconds. Change the secret and watch tmplrun
# re-render the file and restart the process.

# make dev sets it (-var vault_addr=…) from VAULT_DEV_ADDR.
variable "vault_addr" {
  default = "http://127.0.0.1:8200"
}

vault {
  address          = var.vault_addr
  create_from_role = "tmplrun-task" # task tokens get only the policies their task names

  # tmplrun's own login; vault-dev writes these files (paths are relative
  # to this file).
  auth "approle" {
    role_id_file   = ".creds/role_id"
    secret_id_file = ".creds/secret_id"
  }
}

template_config {
  # KV v2 secrets have no lease, so tmplrun re-reads them; the default is
  # every 5 minutes. For the demo: every 3 seconds.
  vault_default_lease_duration = "3s"

  wait {
    min = "1s"
    max = "5s"
  }
}

task "web" {
  # The task dir: examples/quickstart/web, with alloc/, local/, secrets/, tmp/.
  command = "/bin/sh"
  args = ["-c", <<-EOT
    echo "[app] started (pid $$), VAULT_TOKEN set: $${VAULT_TOKEN:+yes}"
    while true; do
      echo "[app] local/app.conf says: $(cat local/app.conf)"
      sleep 4
    done
  EOT
  ]

  vault {
    policies = ["web"] # reads secret/data/web/* and nothing else
  }

  template {
    data        = <<-EOT
      {{ with secret "secret/data/web/config" }}greeting={{ .Data.data.greeting }}{{ end }}
    EOT
    destination = "local/app.conf"
    change_mode = "restart"
    splay       = "0s"
  }
}
