#!/usr/bin/env bash
# What scripts/build-release ships, where only root can try it: the static binary in an empty chroot, with and
# without /proc. Needs root. The .deb has a stage of its own, scripts/test-package (Tests/HostTests/package.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/harness.sh"

use_release_binary

new_chroot() {
    chroot_dir=$(mktemp -d /tmp/oafc-chroot.XXXXXX)
    install -m 755 "$binary" "$chroot_dir/oauth-forward-cgi"
}

# Starts `serve` on /fcgi.sock in the chroot, with one worker and the given flags, as $daemon, logging to
# daemon.log, and waits for its socket.
start_daemon_in_chroot() {
    chroot "$chroot_dir" /oauth-forward-cgi serve --listen /fcgi.sock --workers 1 --target sandbox-us "$@" \
        2>"$chroot_dir/daemon.log" &
    daemon=$!
    local deadline=$((SECONDS + 10))
    while [ ! -S "$chroot_dir/fcgi.sock" ]; do
        kill -0 "$daemon" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ] ||
            fail "no socket: $(cat "$chroot_dir/daemon.log")"
        sleep 0.1
    done
}

# A shared host has no Swift and no libfcgi: an empty root with nothing but the binary stands in for it.
test_release_binary_answers_a_cgi_request_in_an_empty_chroot() {
    new_chroot
    trap 'rm -rf "$chroot_dir"' EXIT
    [ "$(ls -A "$chroot_dir")" = oauth-forward-cgi ] || fail "the chroot holds more than the binary"
    cgi_request /usr/sbin/chroot "$chroot_dir" /oauth-forward-cgi >"$chroot_dir.out" 2>"$chroot_dir.err" ||
        fail "exit $?: $(cat "$chroot_dir.err")"
    cmp -s "$chroot_dir.out" <(expected_answer) || fail "answer: $(od -c "$chroot_dir.out" | head)"
    grep -q '^app=oauth-forward-cgi method=GET provider=oura status=307' "$chroot_dir.err" ||
        fail "log: $(cat "$chroot_dir.err")"
    rm -f "$chroot_dir.out" "$chroot_dir.err"
}

# Static glibc cannot look names up through NSS, so the program reads /etc/group itself: without one, a group name
# fails with a message that says why and what works instead. The chroot has /proc, as a real host has, which the
# static runtime needs to read its command line.
test_name_lookups_fail_clearly_in_a_chroot_without_nss() {
    new_chroot
    mkdir -m 555 "$chroot_dir/proc"
    mount -t proc proc "$chroot_dir/proc"
    trap 'umount "$chroot_dir/proc"; rm -rf "$chroot_dir"' EXIT
    local output status=0
    output=$(chroot "$chroot_dir" /oauth-forward-cgi serve --listen /fcgi.sock --socket-group www-data \
        --target sandbox-us 2>&1) || status=$?
    [ "$status" -ne 0 ] || fail "a group name was accepted without /etc/group"
    grep -qF -- "--socket-group www-data is not a known group: cannot read /etc/group: No such file or directory; \
a numeric id always works" <<<"$output" || fail "no clear message: $output"
    [ ! -e "$chroot_dir/fcgi.sock" ] || fail "the socket was made before the error"
    status=0
    output=$(chroot "$chroot_dir" /oauth-forward-cgi serve --listen localhost:9000 2>&1) || status=$?
    [ "$status" -ne 0 ] && grep -qF "numeric addresses only" <<<"$output" || fail "host name: $output"
}

# A group name comes from the chroot's /etc/group, and from nothing else. Its www-data has an id the host's has not,
# and its nsswitch.conf names systemd, with the host's libnss_systemd and the libraries it loads: getgrnam, asked
# for a name /etc/group lacks, loads that module into the static binary, which then dies of SIGSEGV.
test_socket_group_name_comes_from_etc_group_in_a_chroot() {
    new_chroot
    mkdir -m 555 "$chroot_dir/proc"
    mkdir "$chroot_dir/etc"
    printf '# groups\nroot:x:0:\n\nwww-data:x:4321:\nwww-data:x:4322:\n' >"$chroot_dir/etc/group"
    printf 'group: files systemd\n' >"$chroot_dir/etc/nsswitch.conf"
    local module=/usr/lib/x86_64-linux-gnu/libnss_systemd.so.2 library
    if [ -e "$module" ]; then
        cp /etc/ld.so.cache "$chroot_dir/etc/"
        for library in "$module" $(ldd "$module" | grep -o '/[^ ]*'); do
            for library in "$library" "$(readlink -f "$library")"; do
                mkdir -p "$chroot_dir$(dirname "$library")"
                cp -L "$library" "$chroot_dir$library"
            done
        done
        cp -L /lib64/ld-linux-x86-64.so.2 "$chroot_dir/lib/x86_64-linux-gnu/"
    else
        echo "    no $module (libnss-systemd): the chroot holds no NSS module to load" >&2
    fi
    mount -t proc proc "$chroot_dir/proc"
    daemon=""
    trap '[ -z "$daemon" ] || kill "$daemon" 2>/dev/null || true; umount "$chroot_dir/proc"; rm -rf "$chroot_dir"' EXIT

    local output status=0
    output=$(chroot "$chroot_dir" /oauth-forward-cgi serve --listen /fcgi.sock --socket-group web \
        --target sandbox-us 2>&1) || status=$?
    [ "$status" -eq 64 ] && grep -qF -- "--socket-group web is not a known group: no line of /etc/group names it" \
        <<<"$output" || fail "exit $status for a name /etc/group lacks: $output"

    start_daemon_in_chroot --socket-group www-data
    [ "$(stat -c %g "$chroot_dir/fcgi.sock")" = 4321 ] ||
        fail "the socket's group is $(stat -c %g "$chroot_dir/fcgi.sock"), not the first www-data of /etc/group"
    kill -TERM "$daemon"
    wait "$daemon" || fail "the daemon exited $? on SIGTERM: $(cat "$chroot_dir/daemon.log")"
}

# The static binary's probe, which links no name lookup either: a 307 from the daemon, and a clear failure once it
# has gone.
test_probe_answers_from_the_static_binary_in_a_chroot() {
    new_chroot
    mkdir -m 555 "$chroot_dir/proc"
    mount -t proc proc "$chroot_dir/proc"
    daemon=""
    trap '[ -z "$daemon" ] || kill "$daemon" 2>/dev/null || true; umount "$chroot_dir/proc"; rm -rf "$chroot_dir"' EXIT
    start_daemon_in_chroot
    local output status=0
    output=$(chroot "$chroot_dir" /oauth-forward-cgi probe /fcgi.sock 2>&1) || status=$?
    [ "$status" -eq 0 ] && grep -qE '^307 Temporary Redirect in [0-9]+\.[0-9] ms$' <<<"$output" ||
        fail "probe: exit $status: $output"
    grep -q "provider=probe status=307 target=sandbox-us query_bytes=23" "$chroot_dir/daemon.log" ||
        fail "the daemon logged no probe: $(cat "$chroot_dir/daemon.log")"
    kill -TERM "$daemon"
    wait "$daemon" || fail "the daemon exited $? on SIGTERM: $(cat "$chroot_dir/daemon.log")"
    status=0
    output=$(chroot "$chroot_dir" /oauth-forward-cgi probe /fcgi.sock 2>&1) || status=$?
    [ "$status" -eq 1 ] && grep -qF "cannot connect to unix:/fcgi.sock: No such file or directory" <<<"$output" ||
        fail "probe of a stopped daemon: exit $status: $output"
}

# Without /proc the static binary still reads its command line: it takes it from glibc, not from /proc/self/maps.
test_command_line_is_read_without_proc() {
    new_chroot
    trap 'rm -rf "$chroot_dir"' EXIT
    local output status=0
    # A callback, with a query: without one, /oura is a reachability check, answered 200 and not forwarded.
    output=$(chroot "$chroot_dir" /oauth-forward-cgi check --target production-us '/oura?code=1' 2>&1) || status=$?
    [ "$status" -eq 0 ] || fail "exit $status: $output"
    grep -qF "Location: https://api.us.junction.com/v2/link/connect/oura?code=1" <<<"$output" ||
        fail "no Location: $output"
}

run_tests
