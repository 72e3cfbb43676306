listen = 8080
name   = {{ env "NAME" | nosuchfilter }}
