task "web" {
  template {
    data = "x"
    destination = "local/a"
  }
