# Near misses of Nomad's own names are warnings with a suggestion (Nomad
# fields tmplrun does not use are ignored silently); the file is valid.
job "web" {
  datacenters = ["dc1"]

  group "app" {
    count = 2

    task "server" {
      drivr       = "raw_exec"
      driver      = "raw_exec"
      kill_timout = "10s"

      config {
        command = "/bin/sleep"
        args    = ["3600"]
      }

      resources {
        cpu    = 100
        memory = 64
      }

      templte {
        data = "x"
      }

      template {
        data        = "port=8080"
        destination = "local/app.env"
        env         = true
      }
    }
  }
}
