vault {
  auth "token" {}
}

task "web" {
  template {
    data          = "hello"
    destination   = "local/hello.txt"
    change_mode   = "noop"
    change_signal = "SIGHUP"
  }
}
