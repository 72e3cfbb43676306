# A TLS certificate issued by Vault's PKI engine. pkiCert reuses the
# certificate already in the destination until it nears expiry, so a
# restart of tmplrun does not issue a new one. The certificate and key are
# written to the secrets directory; the service is told with SIGHUP.
#
# (Vault 1.14.1's PKI engine cannot run in tmplrun's in-process test Vault,
# so this example is validated, not rendered, by the test suite.)
variable "common_name" {
  type    = string
  default = "api.service.internal"
}

job "api" {
  datacenters = ["dc1"]

  group "api" {
    vault {
      policies = ["pki-issue"]
    }

    task "api" {
      driver = "raw_exec"

      config {
        command = "/usr/local/bin/api"
        args    = ["-tls-cert", "$${NOMAD_SECRETS_DIR}/cert.pem"]
      }

      template {
        data = <<EOT
{{ with pkiCert "pki/issue/internal" "common_name=${var.common_name}" "ttl=72h" }}
{{- .Cert }}
{{ .CA }}
{{ .Key }}
{{ end }}
EOT
        destination   = "${NOMAD_SECRETS_DIR}/cert.pem"
        perms         = "0600"
        change_mode   = "signal"
        change_signal = "SIGHUP"
      }
    }
  }
}
