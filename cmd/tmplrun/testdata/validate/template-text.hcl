vault {
  auth "token" {}
}

task "web" {
  vault {
    policies = ["web"]
  }

  template {
    data = <<EOT
ok line
{{ range $k, $v := tree "a" }}
{{ $k }}={{ $v }
{{ end }}
EOT
    destination = "local/a.conf"
  }

  template {
    data            = "[[ secret \"x\" ]] [[ unknownfn ]]"
    destination     = "local/b.conf"
    left_delimiter  = "[["
    right_delimiter = "]]"
  }

  template {
    source      = "local/missing.tpl"
    destination = "local/c.conf"
  }
}
