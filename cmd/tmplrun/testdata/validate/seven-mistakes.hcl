# Seven independent mistakes; `tmplrun validate` must report all of them.
vault {
  address = "http://127.0.0.1:8200"

  auth "approle" {
    secret_id_file = "/etc/tmplrun/secret_id"
  }
}

task "web" {
  command = "./bin/server"

  vault {
    policies = ["web", "root"]
  }

  template {
    data = <<EOT
[db]
password = {{ with secret "secret/data/db" }}{{ .Data.data.password }}{{ end }}
token    = {{ plugin "fetch-token" }}
EOT
    destination = "../app.conf"
    splay       = "5x"
  }

  template {
    data          = "reload={{ timestamp }}"
    destination   = "local/reload"
    change_mode   = "signal"
    change_signal = "SIGRELOAD"
    chnage_mode   = "noop"
  }
}
