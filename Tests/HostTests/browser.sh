#!/usr/bin/env bash
# The OAuth round trip in a real browser: Chromium and Firefox ESR, headless, follow a fake provider's redirect to a
# fake Junction, once straight and once through "your domain" (nginx with nginx.conf.example and the release binary
# as a daemon behind it, and Apache running it as a CGI script with apache.conf.example), on loopback ports of
# 127.0.0.1. The fake Junction must receive the same request target every way, and for form_post the same method
# and body. Tests/HostTests/browser_roundtrip.py is the provider, the Junction and the driver; docs/BROWSER.md says
# what the browsers changed. Needs root: nginx and Apache drop to www-data, the daemon to nobody.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/harness.sh"

use_release_binary

# Waits up to 30 s for a callback through $1 to come back as a 307 to the fake Junction, or for process $2 to end.
wait_for_307() {
    local url=$1 pid=$2 deadline=$((SECONDS + 30)) answer=""
    while true; do
        answer=$(curl -s -o /dev/null -D - --max-time 5 "$url/oura?code=ready" | tr -d '\r') || true
        if [ "$(head -n 1 <<<"$answer")" = "HTTP/1.1 307 Temporary Redirect" ] &&
            grep -qxF "Location: http://127.0.0.1:$junction_port/v2/link/connect/oura?code=ready" <<<"$answer"; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ] || fail "no 307 from $url: $answer
$(tail -n 20 "$run"/*/logs/*.log "$run"/daemon.log 2>/dev/null)"
        sleep 0.2
    done
}

stop_everything() {
    local pid
    [ -z "${browser_pid:-}" ] || kill -TERM -- "-$browser_pid" 2>/dev/null || true
    for pid in ${nginx_pid:-} ${apache_pid:-} ${daemon_pid:-}; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in ${browser_pid:-} ${nginx_pid:-} ${apache_pid:-} ${daemon_pid:-}; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$run"
}

# Starts your domain twice, nginx with the daemon and Apache with the CGI, both forwarding /oauth_callback/ to the
# fake Junction: the rendered examples as shipped, with only production-us replaced by the fake Junction's template.
start_domains() {
    run=$(mktemp -d /tmp/oafc-browser.XXXXXX)
    chmod 755 "$run"
    trap stop_everything EXIT
    provider_port=$(free_port)
    junction_port=$(free_port)
    nginx_port=$(free_port)
    apache_port=$(free_port)
    [ "$(printf '%s\n' "$provider_port" "$junction_port" "$nginx_port" "$apache_port" | sort -u | wc -l)" -eq 4 ] ||
        fail "free_port gave the same port twice"
    local target="http://127.0.0.1:$junction_port/v2/link/connect/{provider}"

    install -D -m 755 "$binary" "$run/bin/oauth-forward-cgi"
    "$root/scripts/render-nginx" "$run/nginx" "$nginx_port" "$run/daemon.sock"
    sed -i "s|fastcgi_param OAUTH_FORWARD_TARGET production-us;|fastcgi_param OAUTH_FORWARD_TARGET \"$target\";|" \
        "$run/nginx/site.conf"
    grep -qF "\"$target\"" "$run/nginx/site.conf" || fail "nginx.conf.example no longer sets production-us"
    spawn-fcgi -n -s "$run/daemon.sock" -M 0660 -u nobody -g nogroup -G www-data -- "$run/bin/oauth-forward-cgi" \
        serve --workers 1 --threads 4 2>>"$run/daemon.log" &
    daemon_pid=$!
    nginx -p "$run/nginx" -c "$run/nginx/nginx.conf" 2>>"$run/nginx/logs/error.log" &
    nginx_pid=$!

    "$root/scripts/render-apache" "$run/apache" "$apache_port" "$run/apache/unused.sock" "$binary"
    sed -i "s|SetEnv OAUTH_FORWARD_TARGET production-us|SetEnv OAUTH_FORWARD_TARGET $target|" "$run/apache/site.conf"
    grep -qF "SetEnv OAUTH_FORWARD_TARGET $target" "$run/apache/site.conf" ||
        fail "apache.conf.example no longer sets production-us"
    /usr/sbin/apache2 -f "$run/apache/httpd.conf" -DFOREGROUND -D OAUTH_FORWARD_CGID &
    apache_pid=$!

    wait_for_307 "http://127.0.0.1:$nginx_port/oauth_callback" "$nginx_pid"
    wait_for_307 "http://127.0.0.1:$apache_port/oauth_callback" "$apache_pid"
}

# Debian's python3 with Debian's python3-selenium; `timeout` leads a process group of its own, so the browser and
# its driver go with it, on time or when a test ends.
round_trip() {
    local browser=$1
    start_domains
    timeout -k 10 300 /usr/bin/python3 "$here/browser_roundtrip.py" "$browser" "$provider_port" "$junction_port" \
        "$run" nginx="http://127.0.0.1:$nginx_port/oauth_callback" \
        apache="http://127.0.0.1:$apache_port/oauth_callback" &
    browser_pid=$!
    wait "$browser_pid" || fail "$browser: a case differs or the browser failed"
}

# Chromium runs as root only with --no-sandbox: its sandbox refuses root.
test_chromium_brings_junction_the_same_request_straight_and_through_your_domain() {
    round_trip chromium
}

# Debian has no geckodriver: the helper speaks Marionette, Firefox's own remote protocol, itself.
test_firefox_brings_junction_the_same_request_straight_and_through_your_domain() {
    round_trip firefox
}

run_tests
