# extra
user = {{ with secret "kv/data/u" }}{{ .Data.data.user }}{{ end }}
pass = {{ writeToFile "/etc/x" "" "" "0644" }}
