# Job- and group-level blocks, as tmplrun reads them: the group's vault
# block and template are inherited by both tasks, and a task overrides an
# inherited template by writing the same destination. Variables and locals
# are evaluated; Nomad's runtime variables (${NOMAD_ALLOC_ID}, ${attr.…},
# ${meta.…}) stay in the text literally, as Nomad keeps them.
variable "environment" {
  default = "staging"
}

locals {
  kv_prefix = "secret/data/${var.environment}"
}

job "shop" {
  datacenters = ["dc1"]

  meta {
    owner = "team-shop"
  }

  group "backend" {
    vault {
      policies = ["shop-${var.environment}"]
    }

    template {
      data        = "environment=${var.environment}\nalloc=${NOMAD_ALLOC_ID}\n"
      destination = "local/env.txt"
      change_mode = "noop"
    }

    task "api" {
      driver = "raw_exec"

      config {
        command = "local/bin/api"
      }

      template {
        data        = <<EOT
{{ with secret "${local.kv_prefix}/api" }}token={{ .Data.data.token }}{{ end }}
EOT
        destination = "secrets/api.env"
        env         = true
      }
    }

    task "cron" {
      driver = "docker"

      config {
        image = "shop/cron:1.4"
      }

      template {
        data        = "mode=cron\n"
        destination = "local/env.txt"
        change_mode = "noop"
      }
    }
  }
}
