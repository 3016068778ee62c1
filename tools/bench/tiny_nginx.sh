# SPDX-License-Identifier: Apache-2.0
# Sourced by the benchmark scripts: one nginx worker on a free loopback port answering
# /tiny with "ok". tiny_nginx DIR starts it (its files in DIR) and sets $port and $pid;
# kill $pid stops it.
tiny_nginx() {
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cat >"$1/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $1/nginx.pid; error_log $1/error.log warn;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 10000000;
  client_body_temp_path $1; proxy_temp_path $1; fastcgi_temp_path $1;
  uwsgi_temp_path $1; scgi_temp_path $1;
  server { listen 127.0.0.1:$port; location = /tiny { return 200 "ok"; } } }
CONF
    nginx -c "$1/nginx.conf" -p "$1" >/dev/null 2>&1 &
    pid=$!
    sleep 0.5
}
