#!/usr/bin/env bash
# ./scripts/demo as a new user runs it: from a checkout that only root can enter, and with a program that cannot
# start. Needs root (the demo then drops the program to nobody) and a free loopback port.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/harness.sh"

# Each test runs in a subshell of its own: what its EXIT trap removes is kept in globals, which outlive the test's
# function (a local would be gone by the time the trap runs).

# Starts the demo in the background: sets demo_pid and demo_output.
start_demo() {
    local checkout=$1 port=$2
    shift 2
    demo_output=$(mktemp /tmp/oafc-demo-output.XXXXXX)
    env PORT="$port" "$@" "$checkout/scripts/demo" >"$demo_output" 2>&1 </dev/null &
    demo_pid=$!
}

# SIGTERM, which the demo handles as it does Ctrl-C: a command started with & from a script has SIGINT ignored.
stop_demo() {
    kill -TERM "$demo_pid" 2>/dev/null || true
    wait "$demo_pid" 2>/dev/null || true
}

test_demo_from_a_private_checkout_answers_a_true_307() {
    [ "$(id -u)" -eq 0 ] || fail "needs root: the demo drops the program to nobody only as root"
    local port
    home=$(mktemp -d /tmp/oafc-private-home.XXXXXX)
    trap 'stop_demo; rm -rf "$home" "$demo_output"' EXIT
    [ "$(stat -c %a "$home")" = 700 ] || fail "mktemp -d did not make a 0700 directory"
    copy_checkout "$home/oafc"
    port=$(free_port)
    start_demo "$home/oafc" "$port"
    # The first build of a fresh checkout takes minutes on two cores.
    wait_for_line "$demo_output" 900 "is answering on http://127.0.0.1:$port" "$demo_pid" ||
        fail "the demo never said it was answering: $(tail -n 30 "$demo_output")"

    local answer
    answer=$(curl -s -o /dev/null -D - "http://127.0.0.1:$port/oauth_callback/oura?code=a%2Bb&state=xyz%3D" |
        tr -d '\r')
    [ "$(head -n 1 <<<"$answer")" = "HTTP/1.1 307 Temporary Redirect" ] || fail "not a 307: $answer"
    grep -qxF "Location: https://api.us.junction.com/v2/link/connect/oura?code=a%2Bb&state=xyz%3D" <<<"$answer" ||
        fail "wrong Location: $answer"
    # The program really runs as nobody, from the copy in the run directory.
    pgrep -u nobody -f "/tmp/oauth-forward-demo\..*/bin/oauth-forward-cgi serve" >/dev/null ||
        fail "no oauth-forward-cgi running as nobody from the run directory"
    # Nothing outside the run directory was opened up.
    [ "$(stat -c %a "$home")" = 700 ] || fail "the demo changed the mode of the checkout's parent"

    local run
    run=$(sed -n 's/.*to \(\/tmp\/oauth-forward-demo\.[^/]*\)\/logs.*/\1/p' "$demo_output")
    [ -n "$run" ] && [ -d "$run" ] || fail "the demo did not name its run directory"
    stop_demo
    [ ! -e "$run" ] || fail "stopping the demo left $run behind"
    ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || fail "something still listens on $port after the demo"
    ! pgrep -f "$run/bin/oauth-forward-cgi" >/dev/null || fail "the program outlived the demo"
}

# A stand-in for a program that cannot start, with the built one's name and a line of its own in the log.
failing_program() {
    local directory=$1
    printf '#!/bin/sh\necho "stand-in: this program cannot start" >&2\nexit 3\n' >"$directory/oauth-forward-cgi"
    chmod 755 "$directory/oauth-forward-cgi"
    echo "$directory/oauth-forward-cgi"
}

expect_failure_report() {
    local status=$1 reason=$2
    [ "$status" -ne 0 ] || fail "the demo exited 0"
    ! grep -q "is answering" "$demo_output" || fail "the demo said it was answering: $(cat "$demo_output")"
    for text in "did not answer a callback through nginx: $reason" "Last lines of the program's log" \
        "Last lines of nginx's error log" "What to check"; do
        grep -qF "$text" "$demo_output" || fail "no '$text' in: $(cat "$demo_output")"
    done
}

test_demo_whose_program_cannot_start_exits_non_zero_and_says_why() {
    local port status=0
    scratch=$(mktemp -d /tmp/oafc-demo-fail.XXXXXX)
    trap 'rm -rf "$scratch" "$demo_output"' EXIT
    port=$(free_port)
    start_demo "$root" "$port" OAUTH_FORWARD_BINARY="$(failing_program "$scratch")" DEMO_READY_TIMEOUT=60
    wait "$demo_pid" || status=$?
    expect_failure_report "$status" "the program exited"
    grep -qF "stand-in: this program cannot start" "$demo_output" || fail "the program's log is not shown"
    ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || fail "nginx still listens on $port"
}

test_demo_whose_program_never_answers_gives_up_within_its_bound() {
    local port status=0 started=$SECONDS
    scratch=$(mktemp -d /tmp/oafc-demo-silent.XXXXXX)
    trap 'rm -rf "$scratch" "$demo_output"' EXIT
    # Runs, but closes the socket spawn-fcgi hands it on fd 0 and serves nothing: nginx answers 502 at once, as it
    # did when nobody could not run the program, until the demo gives up.
    printf '#!/bin/sh\necho "stand-in: running but not serving" >&2\nexec sleep 600 0<&-\n' \
        >"$scratch/oauth-forward-cgi"
    chmod 755 "$scratch/oauth-forward-cgi"
    port=$(free_port)
    start_demo "$root" "$port" OAUTH_FORWARD_BINARY="$scratch/oauth-forward-cgi" DEMO_READY_TIMEOUT=3
    wait "$demo_pid" || status=$?
    expect_failure_report "$status" "no true 307 within 3 s"
    grep -qF "HTTP/1.1 502" "$demo_output" || fail "the last answer is not shown: $(cat "$demo_output")"
    [ $((SECONDS - started)) -lt 60 ] || fail "the demo took $((SECONDS - started)) s to give up"
    ! pgrep -u nobody -xf "sleep 600" >/dev/null || fail "the stand-in program was left running"
}

run_tests
