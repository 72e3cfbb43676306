job "api" {
  group "api" {
    task "server" {
      driver = "raw_exec"

      config {
        args = ["-v"]
      }

      vault {
        policies = ["api"]
        role     = "api"
      }

      template {
        data        = "${var.missing}"
        destination = "${NOMAD_ALLOC_ID}/x"
      }

      template {
        source      = "local/app.tpl"
        destination = "local/app.conf"
        env         = true
        change_mode = "signal"
      }
    }
  }
}
