# A proxy that reloads its TLS material with a script instead of a restart:
# change_mode = "script" runs the command inside the task's directory and
# environment, with a timeout; fail_on_error stops the task if the reload
# fails, so a broken configuration is never left running unnoticed.
job "proxy" {
  datacenters = ["dc1"]

  group "edge" {
    task "nginx" {
      driver = "raw_exec"

      config {
        command = "/usr/sbin/nginx"
        args    = ["-c", "${NOMAD_TASK_DIR}/nginx.conf", "-g", "daemon off;"]
      }

      kill_signal  = "SIGQUIT"
      kill_timeout = "20s"

      vault {
        policies = ["proxy"]
      }

      template {
        data = <<EOT
server {
  listen 8443 ssl;
  ssl_certificate     {{ env "NOMAD_SECRETS_DIR" }}/upstream.pem;
{{ range $i, $u := (secret "secret/data/proxy/upstreams").Data.data.hosts | split "," }}
  # upstream {{ $i }}: {{ $u }}
{{ end }}
}
EOT
        destination = "local/nginx.conf"
        change_mode = "script"

        change_script {
          command       = "/usr/sbin/nginx"
          args          = ["-s", "reload", "-c", "local/nginx.conf"]
          timeout       = "10s"
          fail_on_error = true
        }

        wait {
          min = "2s"
          max = "30s"
        }
      }
    }
  }
}
