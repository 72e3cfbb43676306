# A web service whose database credentials come from a KV v2 secret,
# rendered into the task's secrets directory — the first example of
# Nomad's template documentation. `tmplrun validate` and `tmplrun render`
# accept this file as it is.
job "webapp" {
  datacenters = ["dc1"]
  type        = "service"

  group "web" {
    count = 2

    network {
      port "http" {
        to = 8080
      }
    }

    task "server" {
      driver = "raw_exec"

      config {
        command = "/usr/local/bin/webapp"
        args    = ["-config", "${NOMAD_SECRETS_DIR}/app.conf", "-port", "${NOMAD_PORT_http}"]
      }

      vault {
        policies    = ["webapp-read"]
        change_mode = "signal"
        change_signal = "SIGUSR1"
      }

      template {
        data = <<EOT
[database]
{{ with secret "secret/data/webapp/db" -}}
user     = "{{ .Data.data.username }}"
password = "{{ .Data.data.password }}"
{{- end }}
EOT
        destination = "${NOMAD_SECRETS_DIR}/app.conf"
        perms       = "0600"
        change_mode = "restart"
      }

      resources {
        cpu    = 200
        memory = 128
      }
    }
  }
}
