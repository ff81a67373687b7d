#!/usr/bin/env bash
# The container image as the release ships it (dist/oauth-forward-cgi_<version>_amd64.image.tar, from Containerfile),
# loaded into podman and run as docs/CONTAINER.md says: the image's own user, command and health check, a read-only
# root, no capabilities, the target and the allowlist from the environment, host networking, and nginx on the host
# with nginx.conf.example in front. What it shows: the core cases byte for byte through nginx; the supervisor as
# PID 1 reaping every child and ending on SIGTERM; `podman stop` under GET and POST load losing no request the
# daemon took; the health status; the image's size and layers.
#
# The whole file runs in a network namespace of its own that holds only loopback (unshare --net): the image listens
# on 0.0.0.0:9000, which with host networking would be every address of the host; here it is 127.0.0.1 alone, and
# no other service's port 9000. Each test loads the image into a podman store of its own (scripts/podman) and, at
# its end, removes its containers and the image, fails if podman still lists a container, pod or image there, and
# deletes the store.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/harness.sh"

if [ -z "${OAFC_CONTAINER_NETNS:-}" ]; then
    # podman and runc; nginx, curl and iproute2 (nginx depends on it) for the rest.
    "$root/scripts/install-packages" container demo
    use_release_image
    exec unshare --net env OAFC_CONTAINER_NETNS=1 bash "$0" "$@"
fi
ip link set lo up
use_release_image
port=9000
target_location=https://api.us.junction.com/v2/link/connect

podman() { PODMAN_STATE="$store" "$root/scripts/podman" "$@"; }

# A store of the test's own with the release's image loaded. Sets $store and the exit trap; the test adds the
# containers it starts to $containers and any process it starts to $pids.
open_store() {
    store=$(mktemp -d /tmp/oafc-container.XXXXXX)
    containers=() pids=()
    trap close_store EXIT
    podman load --quiet --input "$image_archive" >"$store/load.out" 2>&1 || fail "podman load: $(cat "$store/load.out")"
}
close_store() {
    local status=$? name left
    # Whatever fails here, the store is deleted.
    set +e
    [ ${#pids[@]} -eq 0 ] || { kill "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true; }
    for name in "${containers[@]}"; do podman rm --force --time 0 "$name" >/dev/null 2>&1 || true; done
    podman rmi --force "$image" >/dev/null 2>&1 || true
    left=$(podman ps --all --format 'container {{.Names}}' || echo "podman ps failed"
        podman pod ps --format 'pod {{.Name}}' || echo "podman pod ps failed"
        podman images --all --format 'image {{.Repository}}:{{.Tag}}' || echo "podman images failed")
    PODMAN_STATE="$store" "$root/scripts/podman" --remove-state
    if [ -n "$left" ]; then
        echo "    left behind in podman: $left" >&2
        status=1
    fi
    exit "$status"
}

# Starts the image as NAME with `podman run` options OPTIONS (after --), always as docs/CONTAINER.md runs it: the
# image's user, a read-only root, no capabilities, host networking; then checks that it runs so, as PID 1.
start_container() {
    local name=$1
    shift
    containers+=("$name")
    podman run --detach --name "$name" --network host --read-only --cap-drop ALL "$@" "$image" \
        >"$store/$name.run" 2>&1 || fail "podman run $name: $(cat "$store/$name.run")"
    local pid
    pid=$(init_pid "$name")
    [ -n "$pid" ] && [ "$pid" != 0 ] || fail "$name is not running: $(podman logs "$name" 2>&1)"
    [ "$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$name")" = true ] || fail "$name: root writable"
    grep -qE '^Uid:\s+65534\s+65534\s+65534\s+65534$' "/proc/$pid/status" || fail "$name does not run as 65534"
    grep -qE '^CapEff:\s+0+$' "/proc/$pid/status" && grep -qE '^CapBnd:\s+0+$' "/proc/$pid/status" ||
        fail "$name has capabilities: $(grep ^Cap "/proc/$pid/status")"
    [ "$(ns_pid "$pid")" = 1 ] || fail "$name's first process is not PID 1 in its namespace"
    grep -q '^/usr/bin/oauth-forward-cgi serve ' <<<"$(tr '\0' ' ' <"/proc/$pid/cmdline")" || fail "PID 1 is not serve"
}

# The host pid of NAME's PID 1, 0 once it has stopped.
init_pid() { podman inspect --format '{{.State.Pid}}' "$1"; }
# The pid that process $1 (a host pid) has in its own namespace.
ns_pid() { awk '/^NSpid:/ {print $NF}' "/proc/$1/status"; }
# The host pids of process $1's children, zombies included.
children_of() { cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep . || true; }
# The host pid of the one process whose command line is $1, its arguments joined by spaces.
process_with_command_line() {
    local file
    for file in /proc/[0-9]*/cmdline; do
        [ "$(tr '\0' ' ' <"$file" 2>/dev/null)" != "$1 " ] || { basename "$(dirname "$file")"; return 0; }
    done
    return 1
}
process_state() { awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
# The whole log, read before any grep -q sees it: a pipe into grep -q would cut podman off with SIGPIPE, which
# pipefail turns into a failure.
logs() { podman logs "$1" 2>&1; }

# Waits up to $2 seconds for NAME's log to hold the pattern $3 (grep -E), at least $4 times (1 unless told).
wait_for_log() {
    local name=$1 timeout=$2 pattern=$3 count=${4:-1}
    local deadline=$((SECONDS + timeout))
    until [ "$(logs "$name" | grep -cE -- "$pattern")" -ge "$count" ]; do
        [ "$SECONDS" -lt "$deadline" ] ||
            fail "no $count x '$pattern' in $name's log within $timeout s: $(logs "$name")"
        sleep 0.1
    done
}

# Waits until NAME's daemon answers the probe from the host (the network namespace is shared) with a 307.
wait_until_serving() {
    local name=$1 deadline=$((SECONDS + 20))
    until "$binary" probe "127.0.0.1:$port" --timeout 1 >/dev/null 2>&1; do
        [ "$(podman inspect --format '{{.State.Running}}' "$name")" = true ] || fail "$name stopped: $(logs "$name")"
        [ "$SECONDS" -lt "$deadline" ] || fail "$name does not answer the probe within 20 s: $(logs "$name")"
        sleep 0.1
    done
}

# nginx on the host with nginx.conf.example, its upstream the container's port. Sets $nginx_port.
start_nginx() {
    nginx_port=$(free_port)
    "$root/scripts/render-nginx" "$store/nginx" "$nginx_port" "127.0.0.1:$port" 2 >/dev/null
    # nginx's workers (www-data) write the temporary files under the store.
    chmod 755 "$store"
    nginx -p "$store/nginx" -c "$store/nginx/nginx.conf" 2>"$store/nginx.err" &
    pids+=($!)
    local deadline=$((SECONDS + 20))
    until (exec 3<>"/dev/tcp/127.0.0.1/$nginx_port") 2>/dev/null; do
        kill -0 "${pids[-1]}" 2>/dev/null || fail "nginx exited: $(cat "$store/nginx.err")"
        [ "$SECONDS" -lt "$deadline" ] || fail "nginx does not listen within 20 s"
        sleep 0.1
    done
}

# The daemon as the image runs it by default, with the two variables it needs.
serving_options=(--env OAUTH_FORWARD_TARGET=production-us --env FCGI_WEB_SERVER_ADDRS=127.0.0.1)

# One image layer holding one file, /usr/bin/oauth-forward-cgi, the release binary; the user, the stop signal, the
# health check, the command and the labels as Containerfile sets them. Prints the size and the layer count.
test_image_holds_the_binary_alone_with_its_settings() {
    open_store
    local files
    files=$(tar -xOf "$image_archive" --wildcards '*/layer.tar' | tar -tv | awk '{print $1, $NF}')
    [ "$files" = "$(printf 'drwxr-xr-x usr/\ndrwxr-xr-x usr/bin/\n-rwxr-xr-x usr/bin/oauth-forward-cgi')" ] ||
        fail "the layer holds more or other than the binary: $files"
    cmp -s <(tar -xOf "$image_archive" --wildcards '*/layer.tar' | tar -xO usr/bin/oauth-forward-cgi) "$binary" ||
        fail "the image's binary is not dist/oauth-forward-cgi"
    local config format expected
    format='{{.Config.User}}|{{.Config.StopSignal}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}|'
    format+='{{json .Config.Healthcheck.Test}}|{{json .Config.ExposedPorts}}'
    expected='65534:65534|SIGTERM|["/usr/bin/oauth-forward-cgi"]|["serve","--listen","0.0.0.0:9000","--grace","8"]|'
    expected+='["CMD","/usr/bin/oauth-forward-cgi","probe","127.0.0.1:9000"]|{"9000/tcp":{}}'
    config=$(podman image inspect --format "$format" "$image")
    [ "$config" = "$expected" ] || fail "the image's settings: $config"
    local label version source
    version=$("$binary" --version | awk '{print $2}')
    source=$(sed -n 's/^Source: //p' "$root/packaging/copyright")
    for label in "version=$version" "licenses=Apache-2.0" "source=$source"; do
        expected=${label#*=}
        [ "$(podman image inspect --format "{{index .Labels \"org.opencontainers.image.${label%%=*}\"}}" "$image")" = \
            "$expected" ] || fail "label org.opencontainers.image.${label%%=*} is not '$expected'"
    done
    local size layers
    size=$(podman image inspect --format '{{.Size}}' "$image")
    layers=$(podman image inspect --format '{{len .RootFS.Layers}}' "$image")
    [ "$layers" = 1 ] || fail "$layers layers"
    echo "    image $image: $size bytes ($((size / 1024 / 1024)) MiB), $layers layer;" \
        "archive $(stat -c %s "$image_archive") bytes" >&2
}

# Sends one GET for TARGET, raw bytes and all, to nginx and writes the whole answer to the file ANSWER.
get() { raw_get "$nginx_port" "$@"; }

# Through nginx with the example config, as an operator would put it in front: %2B and %3D stay encoded, a raw 0xFF
# byte stays raw, a 7 KB state comes back whole, on the production and the sandbox location alike.
test_nginx_in_front_gives_the_core_cases_byte_for_byte() {
    open_store
    start_container core "${serving_options[@]}"
    wait_until_serving core
    start_nginx
    local long_state query answer=$store/answer case_number=0 location
    # 448 times 16 bytes: 7168.
    long_state=$(printf 'eyJ%%2B%%3D\xff-_.~%.0s' $(seq 448))
    for query in 'code=a%2Bb&state=c%3D' "$(printf 'code=a%%2Bb%%3D&state=\xff')" \
        "$(printf 'code=x&state=%s' "$long_state")"; do
        for location in oauth_callback sandbox/oauth_callback; do
            case_number=$((case_number + 1))
            get "/$location/oura?$query" "$answer"
            [ "$(head -n 1 "$answer" | tr -d '\r')" = "HTTP/1.1 307 Temporary Redirect" ] ||
                fail "case $case_number: not a 307: $(head -c 600 "$answer")"
            local host=api.us.junction.com
            [ "$location" = oauth_callback ] || host=api.sandbox.us.junction.com
            cmp -s <(grep -a '^Location: ' "$answer") \
                <(printf 'Location: https://%s/v2/link/connect/oura?%s\r\n' "$host" "$query") ||
                fail "case $case_number: wrong Location: $(grep -a '^Location: ' "$answer" | head -c 300 | od -c)"
        done
    done
    wait_for_log core 10 'method=GET provider=oura status=307 target=(production|sandbox)-us ' 6
}

# A worker killed from the host: PID 1 reaps it (no zombie stays), logs it and starts another in its place.
test_pid1_reaps_a_killed_worker_and_replaces_it() {
    open_store
    start_container workers "${serving_options[@]}"
    wait_until_serving workers
    local init victim victim_ns child
    init=$(init_pid workers)
    [ "$(children_of "$init" | wc -l)" = 2 ] || fail "PID 1 has not 2 children: $(children_of "$init")"
    victim=$(children_of "$init" | head -n 1)
    victim_ns=$(ns_pid "$victim")
    kill -KILL "$victim"
    wait_for_log workers 10 "event=worker_exit worker=$victim_ns signal=9 "
    wait_for_log workers 10 "event=worker_start" 3
    local deadline=$((SECONDS + 10))
    while [ -e "/proc/$victim" ] || [ "$(children_of "$init" | wc -l)" != 2 ]; do
        [ "$SECONDS" -lt "$deadline" ] ||
            fail "after 10 s: /proc/$victim is $(process_state "$victim"), PID 1's children $(children_of "$init")"
        sleep 0.1
    done
    for child in $(children_of "$init"); do
        [ "$(process_state "$child")" != Z ] || fail "PID 1's child $child is a zombie"
    done
    wait_until_serving workers
}

# An orphan: a second daemon started with `podman exec` loses its supervisor to SIGKILL, so the kernel gives its
# two workers to the container's PID 1. They see their supervisor gone and exit, and PID 1 must reap them, or they
# would stay zombies for the container's life.
test_pid1_reaps_orphans_of_other_processes() {
    open_store
    start_container orphans "${serving_options[@]}"
    wait_until_serving orphans
    local init other workers=() worker child deadline
    init=$(init_pid orphans)
    podman exec --detach orphans /usr/bin/oauth-forward-cgi serve --listen 127.0.0.1:9001 --workers 2 \
        >"$store/exec.out" 2>&1 || fail "podman exec: $(cat "$store/exec.out")"
    deadline=$((SECONDS + 20))
    until other=$(process_with_command_line '/usr/bin/oauth-forward-cgi serve --listen 127.0.0.1:9001 --workers 2') &&
        [ "$(children_of "$other" | wc -l)" = 2 ] && "$binary" probe 127.0.0.1:9001 --timeout 1 >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || fail "the second daemon does not serve within 20 s"
        sleep 0.1
    done
    [ "$(readlink "/proc/$other/ns/pid")" = "$(readlink "/proc/$init/ns/pid")" ] ||
        fail "the second daemon is not in the container's pid namespace"
    mapfile -t workers < <(children_of "$other")
    local ns_pids=()
    for worker in "${workers[@]}"; do ns_pids+=("$(ns_pid "$worker")"); done
    kill -KILL "$other"
    deadline=$((SECONDS + 10))
    for worker in "${workers[@]}"; do
        while [ -e "/proc/$worker" ]; do
            [ "$SECONDS" -lt "$deadline" ] || fail "orphan $worker is still there after 10 s:" \
                "state $(process_state "$worker"), parent $(awk '/^PPid:/ {print $2}' "/proc/$worker/status")"
            sleep 0.1
        done
    done
    for worker in "${workers[@]}"; do
        [ "$(process_state "$worker")" = "" ] || fail "orphan $worker: $(process_state "$worker")"
    done
    # PID 1 reaped them itself, not a subreaper outside the container.
    for worker in "${ns_pids[@]}"; do
        wait_for_log orphans 10 "^app=oauth-forward-cgi pid=1 event=child_reaped child=$worker exit=0$"
    done
    for child in $(children_of "$init"); do
        [ "$(process_state "$child")" != Z ] || fail "PID 1's child $child is a zombie"
    done
    [ "$(children_of "$init" | wc -l)" = 2 ] || fail "PID 1 has not its 2 workers: $(children_of "$init")"
    wait_until_serving orphans
}

# `podman stop` sends the image's STOPSIGNAL, SIGTERM, to PID 1, which the kernel delivers only because the
# supervisor handles it: it stops its workers and exits 0, long before podman's 10 s would end it with SIGKILL
# (exit code 137).
test_podman_stop_ends_pid1_gracefully_with_sigterm() {
    open_store
    start_container stopping "${serving_options[@]}"
    wait_until_serving stopping
    local started=$EPOCHREALTIME output
    output=$(podman stop --time 10 stopping 2>&1) || fail "podman stop: $output"
    local took
    took=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
    [ "$(podman inspect --format '{{.State.Running}} {{.State.ExitCode}}' stopping)" = "false 0" ] ||
        fail "state after podman stop: $(podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' stopping)"
    grep -qE '^app=oauth-forward-cgi pid=1 event=stopping workers=2 grace_ms=8000$' <<<"$(logs stopping)" ||
        fail "PID 1 did not log event=stopping: $(logs stopping)"
    [ "$(logs stopping | grep -c -E 'event=worker_stopping in_flight=[0-9]+ ')" = 2 ] || fail "2 workers did not stop"
    grep -qxE 'app=oauth-forward-cgi pid=1 event=stopped' <<<"$(logs stopping | tail -n 1)" ||
        fail "PID 1's last line is not event=stopped: $(logs stopping | tail -n 3)"
    echo "    podman stop took $took s" >&2
}

# A FastCGI record's header for request 1: version 1, TYPE, the content's LENGTH, no padding.
fastcgi_header() {
    printf "$(printf '\\x01\\x%02x\\x00\\x01\\x%02x\\x%02x\\x00\\x00' "$1" $(($2 >> 8)) $(($2 & 255)))"
}
# Whether a worker of PID 1 ($1) holds a connection: a socket besides the listening one (and libfcgi's copy).
worker_holds_a_connection() {
    local worker
    for worker in $(children_of "$1"); do
        [ "$(find "/proc/$worker/fd" -lname 'socket:*' | wc -l)" -le 1 ] || return 0
    done
    return 1
}
# A PARAMS record with the pairs NAME VALUE ..., each shorter than 128 bytes and not empty.
fastcgi_params() {
    local LC_ALL=C body=""
    while [ $# -gt 0 ]; do
        body+=$(printf "$(printf '\\x%02x\\x%02x' ${#1} ${#2})")"$1$2"
        shift 2
    done
    fastcgi_header 4 ${#body}
    printf '%s' "$body"
}

# The guarantee itself, without timing luck: a request that a worker had begun to read when `podman stop` came is
# finished and answered. A client speaking FastCGI as a web server does sends half a request, waits until a worker
# holds its connection, and sends the rest only once the worker has logged that it stops with it in flight.
test_podman_stop_answers_a_request_the_daemon_had_begun_reading() {
    open_store
    start_container held "${serving_options[@]}"
    wait_until_serving held
    local init deadline=$((SECONDS + 10))
    init=$(init_pid held)
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    {
        fastcgi_header 1 8
        printf '\x00\x01\x00\x00\x00\x00\x00\x00'
        fastcgi_params REQUEST_METHOD GET SCRIPT_NAME /oauth_callback
    } >&3
    until worker_holds_a_connection "$init"; do
        [ "$SECONDS" -lt "$deadline" ] || fail "no worker took the connection within 10 s"
        sleep 0.1
    done
    podman stop --time 10 held >"$store/stop.out" 2>&1 &
    pids+=($!)
    wait_for_log held 10 '^app=oauth-forward-cgi pid=[0-9]+ event=worker_stopping in_flight=1 '
    {
        fastcgi_params PATH_INFO /oura QUERY_STRING 'code=a%2Bb&state=held%3D'
        fastcgi_header 4 0
        fastcgi_header 5 0
    } >&3
    timeout 10 cat <&3 >"$store/held.answer"
    exec 3<&-
    grep -qa $'^Status: 307 Temporary Redirect\r$' "$store/held.answer" ||
        fail "not a 307: $(od -c "$store/held.answer")"
    # After the STDOUT record's header, on the answer's first line.
    grep -qa "Location: $target_location/oura?code=a%2Bb&state=held%3D"$'\r$' "$store/held.answer" ||
        fail "wrong Location: $(od -c "$store/held.answer")"
    wait "${pids[-1]}" || fail "podman stop: $(cat "$store/stop.out")"
    [ "$(podman inspect --format '{{.State.ExitCode}}' held)" = 0 ] || fail "exit code after podman stop"
    grep -q 'method=GET provider=oura status=307 target=production-us query_bytes=24' <<<"$(logs held)" ||
        fail "the daemon did not log the held request: $(logs held)"
    grep -qxE 'app=oauth-forward-cgi pid=1 event=stopped' <<<"$(logs held | tail -n 1)" || fail "no event=stopped last"
}

# Clients that send GET and POST callbacks through nginx without a pause, each line of $store/answers.N being
# "START END STATUS LOCATION", START and END from $EPOCHREALTIME. They run until $store/stop exists.
start_clients() {
    local client url
    for client in 1 2 3 4; do
        url="http://127.0.0.1:$nginx_port/oauth_callback/fitbit?code=c$client%2Bd&state=s%3D$client"
        (
            data=()
            [ $((client % 2)) -eq 1 ] || data=(--data-binary "code=c$client%2Bd&state=s%3D$client")
            while [ ! -e "$store/stop" ]; do
                start=$EPOCHREALTIME
                answer=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --max-time 10 "${data[@]}" "$url") ||
                    true
                echo "$start $EPOCHREALTIME $answer"
            done >>"$store/answers.$client"
        ) &
        pids+=($!)
    done
}
# Waits until each client has $1 more answers that began after $2 (an $EPOCHREALTIME).
wait_for_answers() {
    local more=$1 after=$2 client deadline=$((SECONDS + 30))
    for client in 1 2 3 4; do
        until [ "$(awk -v t="$after" '$1 > t' "$store/answers.$client" 2>/dev/null | wc -l)" -ge "$more" ]; do
            [ "$SECONDS" -lt "$deadline" ] || fail "client $client got no $more answers within 30 s"
            sleep 0.1
        done
    done
}

# `podman stop` while four clients send GET and POST callbacks through nginx. What must hold:
# - every request that began before the stop began is answered 307, to its exact Location: it was with the daemon,
#   or on its way there, when SIGTERM came, and the daemon finishes what it took;
# - every 307 the daemon logged reached its client (the counts agree), and it logged no failed write;
# - any other answer is nginx's 502, for a request that began after the stop began and that no worker took: once
#   the workers stop taking connections, one still in the listen backlog is reset, and once the container is gone,
#   connecting is refused. nginx keeps answering: nothing hangs, nothing times out.
test_podman_stop_under_load_loses_no_request_the_daemon_took() {
    open_store
    start_container load "${serving_options[@]}"
    wait_until_serving load
    start_nginx
    start_clients
    wait_for_answers 30 0
    local stop_began stop_ended output
    stop_began=$EPOCHREALTIME
    output=$(podman stop --time 10 load 2>&1) || fail "podman stop: $output"
    stop_ended=$EPOCHREALTIME
    wait_for_answers 5 "$stop_ended"
    touch "$store/stop"
    wait "${pids[@]:1}"
    pids=("${pids[0]}")
    [ "$(podman inspect --format '{{.State.ExitCode}}' load)" = 0 ] || fail "exit code after podman stop"
    grep -qxE 'app=oauth-forward-cgi pid=1 event=stopped' <<<"$(logs load | tail -n 1)" || fail "no event=stopped last"

    cat "$store"/answers.* >"$store/answers"
    local bad
    bad=$(awk -v began="$stop_began" '
        $3 == 307 {
            split($4, parts, "?")
            if (parts[1] != "https://api.us.junction.com/v2/link/connect/fitbit" ||
                parts[2] !~ /^code=c[1-4]%2Bd&state=s%3D[1-4]$/) print "wrong Location: " $0
            next
        }
        $1 < began { print "began before the stop, not answered 307: " $0; next }
        $3 != 502 { print "neither 307 nor 502: " $0 }' "$store/answers")
    [ -z "$bad" ] || fail "$(head -n 10 <<<"$bad")"
    local answered logged
    answered=$(awk '$3 == 307' "$store/answers" | wc -l)
    logged=$(logs load | grep -c 'method=[A-Z]* provider=fitbit status=307 ')
    [ "$answered" = "$logged" ] || fail "the daemon logged $logged answers, the clients got $answered 307s"
    ! grep -q 'write_error' <<<"$(logs load)" || fail "the daemon failed to write: $(logs load | grep write_error)"
    local total before after_stop
    total=$(wc -l <"$store/answers")
    before=$(awk -v t="$stop_began" '$1 < t' "$store/answers" | wc -l)
    after_stop=$(awk '$3 == 502' "$store/answers" | wc -l)
    echo "    $total requests: $before began before the stop, all 307; $answered 307 in all; $after_stop 502" \
        "(nginx: $(grep -oE 'failed \([0-9]+: [^)]*\)' "$store/nginx/logs/oauth-forward-cgi.error.log" |
            sort | uniq -c | sed 's/^ *//' | paste -sd, -)); podman stop took" \
        "$(awk -v a="$stop_began" -v b="$stop_ended" 'BEGIN { printf "%.2f", b - a }') s" >&2
}

# Runs the image's health check until NAME's status is $2, at most $3 times.
health_turns() {
    local name=$1 expected=$2 tries=$3 status=""
    for _ in $(seq "$tries"); do
        podman healthcheck run "$name" >/dev/null 2>&1 || true
        status=$(podman inspect --format '{{.State.Healthcheck.Status}}' "$name")
        [ "$status" != "$expected" ] || return 0
        sleep 0.5
    done
    fail "$name's health is '$status' after $tries checks, not $expected: $(logs "$name" | tail -n 5)"
}

# The image's HEALTHCHECK (oauth-forward-cgi probe 127.0.0.1:9000) as podman runs it. podman schedules checks with
# systemd timers, and no systemd runs here, so the test runs each check itself with `podman healthcheck run`.
# With the target set the container turns healthy. Without OAUTH_FORWARD_TARGET the daemon starts all the same (the
# web server may send the target with each request), but answers the probe 500: after the start period and 3 failed
# checks in a row, the container turns unhealthy, while it still runs.
test_health_turns_healthy_and_unhealthy_without_a_target() {
    open_store
    start_container healthy "${serving_options[@]}"
    wait_until_serving healthy
    health_turns healthy healthy 10
    wait_for_log healthy 10 'method=GET provider=probe status=307 target=production-us query_bytes=[0-9]+'
    podman rm --force --time 0 healthy >/dev/null 2>&1

    start_container unhealthy --env FCGI_WEB_SERVER_ADDRS=127.0.0.1
    wait_for_log unhealthy 20 'event=worker_start' 2
    health_turns unhealthy unhealthy 40
    wait_for_log unhealthy 10 'method=GET provider=probe status=500 '
    [ "$(podman inspect --format '{{.State.Running}}' unhealthy)" = true ] || fail "the container stopped"
}

run_tests
