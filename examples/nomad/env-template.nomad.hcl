# Secrets delivered as environment variables: the rendered file is parsed
# as KEY=VALUE lines into the task's environment (env = true). As in Nomad,
# only a restart delivers new values to a process, so change_mode stays
# restart.
job "worker" {
  datacenters = ["dc1"]
  type        = "service"

  group "queue" {
    task "consumer" {
      driver = "exec"

      config {
        command = "/usr/local/bin/consumer"
        args    = ["--queue", "orders"]
      }

      env {
        LOG_LEVEL = "info"
      }

      vault {
        policies = ["worker"]
      }

      template {
        data = <<-EOT
          {{ with secret "secret/data/worker/amqp" }}
          AMQP_USER={{ .Data.data.user }}
          AMQP_PASSWORD="{{ .Data.data.password }}"
          {{ end }}
          # the broker address is not secret
          AMQP_HOST=rabbit.service.internal
        EOT
        destination = "secrets/amqp.env"
        env         = true
        change_mode = "restart"
        splay       = "10s"
      }
    }
  }
}
