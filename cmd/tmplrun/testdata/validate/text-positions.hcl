# Template-text problems are reported where they were written: inside
# quoted strings with escapes, <<- heredocs (after the stripped indent),
# source files and file(), and {{ define }} bodies.
vault {
  auth "token" {}
}

task "web" {
  vault {
    policies = ["web"]
  }

  template {
    data        = "a=\"1\"\nb={{ nosuch }}"
    destination = "local/a.conf"
  }

  template {
    data        = <<-EOT
      [server]
        port = {{ env "PORT" }}
        host = {{ plugin "h" }}
      EOT
    destination = "local/b.conf"
  }

  template {
    source      = "local/app.tpl"
    destination = "local/app.conf"
  }

  template {
    data        = file("templates/extra.tpl")
    destination = "local/extra.conf"
  }

  template {
    data        = "{{ define \"row\" }}{{ executeTemplate \"x\" }}{{ end }}{{ template \"rows\" }}"
    destination = "local/rows.conf"
  }
}

task "novault" {
  template {
    data        = "{{ with secret \"kv/data/x\" }}{{ .Data.data.x }}{{ end }}"
    destination = "local/x.conf"
  }
}
