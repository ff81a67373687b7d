#!/usr/bin/env bash
# examples/kubernetes: every manifest against Kubernetes' own schemas (kubernetes-validate), the sidecar pod under
# `podman kube play` with the release image and an nginx image built from Debian's packages, and the commands of
# docs/KUBERNETES.md. Run by scripts/test-host kubernetes. Leaves no pod, container, volume or image behind: every
# one lives in a podman state directory of the test's own, removed at the end.
#
# What podman 4.3 does with the pod's probes: it turns the livenessProbe into a container healthcheck (CMD-SHELL, so
# through /bin/sh, which the scratch image has not), runs it only from systemd timers (systemd is not PID 1 here),
# and ignores readinessProbe. So the tests run each probe's command as kubelet does, with exec and no shell, and
# check that podman's healthcheck carries the liveness probe's command and timing.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/Tests/HostTests/harness.sh"

"$root/scripts/install-packages" kubernetes
command -v catatonit >/dev/null || fail "catatonit (podman's pause process) is missing: scripts/install-packages"
manifests=$root/examples/kubernetes
kubernetes_version=1.37.0
state=$(mktemp -d /tmp/oafc-k8s.XXXXXX)
trap 'PODMAN_STATE=$state "$root/scripts/podman" --remove-state' EXIT
pm() { PODMAN_STATE=$state "$root/scripts/podman" "$@"; }

# nginx-light from Debian bookworm as an image, cached in .build-kubernetes/ by what made it: the command line and
# the apt sources. STOPSIGNAL SIGQUIT is nginx's graceful stop.
nginx_image=localhost/nginx-light:bookworm
build_nginx_image() {
    local arguments=(--variant=apt --include=nginx-light --format=tar bookworm)
    local key cache
    key=$(printf '%s\n' "${arguments[@]}" | cat - /etc/apt/sources.list.d/*.sources 2>/dev/null | sha256sum | cut -c1-16)
    cache=$root/.build-kubernetes/nginx-light-$key.tar
    if [ ! -s "$cache" ]; then
        mkdir -p "$root/.build-kubernetes"
        mmdebstrap --quiet "${arguments[@]}" "$cache.partial" || fail "mmdebstrap could not build nginx's image"
        mv "$cache.partial" "$cache"
    fi
    pm import --quiet --change STOPSIGNAL=SIGQUIT --change USER=65534:65534 "$cache" "$nginx_image" >/dev/null
}

# The sidecar manifest as shipped, but for what only this machine needs: the images it loaded, one replica, and the
# host's network (podman cannot reach the pod's own), so nginx listens on 127.0.0.1:8080.
play_sidecar() {
    use_release_image
    pm load --quiet -i "$image_archive" >/dev/null
    build_nginx_image
    if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then fail "127.0.0.1:8080 is taken: the pod needs it"; fi
    played=$state/sidecar.yaml
    sed -e "s|registry.example.com/oauth-forward-cgi:[^ ]*|$image|" -e "s|registry.example.com/nginx-light:bookworm|$nginx_image|" \
        -e 's|^  replicas: 2$|  replicas: 1|' -e 's|^      terminationGracePeriodSeconds: 30$|      hostNetwork: true\n&|' \
        "$manifests/sidecar.yaml" >"$played"
    [ "$(diff "$manifests/sidecar.yaml" "$played" | grep -c '^>')" -eq 4 ] || fail "the substitutions missed a line"
    pm kube play "$played" >/dev/null 2>"$state/play.log" || fail "kube play: $(cat "$state/play.log")"
    pod=oauth-forward-pod-0
    local deadline=$((SECONDS + 30))
    until curl -s -o /dev/null "http://127.0.0.1:8080/oauth_callback/probe"; do
        [ "$SECONDS" -lt "$deadline" ] || fail "nginx did not answer within 30 s: $(pm logs "$pod-nginx" 2>&1 | tail -5)"
        sleep 0.2
    done
}

# The command of one probe of one container in the manifest, NUL-separated.
probe_command() {
    python3 - "$manifests/sidecar.yaml" "$1" "$2" <<'PY'
import sys, yaml
for document in yaml.safe_load_all(open(sys.argv[1])):
    if document["kind"] == "Deployment":
        for container in document["spec"]["template"]["spec"]["containers"]:
            if container["name"] == sys.argv[2]:
                sys.stdout.write("".join(part + "\0" for part in container[sys.argv[3]]["exec"]["command"]))
PY
}

# podman 4.3's kube down keeps the volume it made of the ConfigMap; everything else must be gone.
nothing_left() {
    pm volume rm oauth-forward-nginx >/dev/null 2>&1 || true
    [ -z "$(pm ps -a -q)" ] || fail "containers left: $(pm ps -a)"
    [ -z "$(pm pod ps -q)" ] || fail "pods left: $(pm pod ps)"
    [ -z "$(pm volume ls -q)" ] || fail "volumes left: $(pm volume ls)"
}

test_manifests_pass_kubernetes_validate() {
    local files=("$manifests"/*.yaml)
    [ ${#files[@]} -ge 2 ] || fail "no manifests in $manifests"
    "$root/scripts/python-tools" kubernetes-validate -k "$kubernetes_version" --strict --quiet "${files[@]}"
    # And the check fails on a field Kubernetes does not know.
    sed 's|readOnlyRootFilesystem: true|readOnlyRootFileSystem: true|' "$manifests/sidecar.yaml" >"$state/typo.yaml"
    if "$root/scripts/python-tools" kubernetes-validate -k "$kubernetes_version" --strict --quiet "$state/typo.yaml" \
        >/dev/null 2>&1; then
        fail "kubernetes-validate --strict let a misspelt field through"
    fi
}

test_sidecar_answers_a_byte_exact_307_and_its_probes_pass() {
    play_sidecar
    local headers
    headers=$(curl -s -D - -o /dev/null "http://127.0.0.1:8080/oauth_callback/oura?code=a%2Bb&state=%FF%80~'!")
    grep -qx $'HTTP/1.1 307 Temporary Redirect\r' <<<"$headers" || fail "not a 307: $headers"
    grep -qxF $'Location: https://api.us.junction.com/v2/link/connect/oura?code=a%2Bb&state=%FF%80~\'!\r' <<<"$headers" ||
        fail "Location is not the target and the query byte for byte: $headers"
    # Raw bytes in the query reach Location unchanged.
    printf 'GET /oauth_callback/oura?state=\xff\x80 HTTP/1.0\r\nHost: a\r\n\r\n' >"$state/raw-request"
    exec 3<>/dev/tcp/127.0.0.1/8080
    cat "$state/raw-request" >&3
    LC_ALL=C grep -c $'^Location: https://api.us.junction.com/v2/link/connect/oura?state=\xff\x80\r$' <&3 >/dev/null ||
        fail "raw bytes in the query were changed"
    exec 3<&-
    # The probes, as kubelet runs them.
    local kind command
    for kind in readinessProbe livenessProbe; do
        mapfile -d '' command < <(probe_command forwarder "$kind")
        [ ${#command[@]} -gt 0 ] || fail "no $kind in the manifest"
        pm exec "$pod-forwarder" "${command[@]}" >/dev/null || fail "$kind failed"
    done
    (exec 3<>/dev/tcp/127.0.0.1/8080) || fail "nginx's tcpSocket readiness probe would fail"
    # podman's own healthcheck is the liveness probe, every 10 s with a 3 s timeout and 3 retries.
    local check
    check=$(pm inspect "$pod-forwarder" --format '{{json .Config.Healthcheck}}')
    grep -qF '"/usr/bin/oauth-forward-cgi","probe","/run/oauth-forward-cgi/oauth-forward-cgi.sock"' <<<"$check" ||
        fail "podman's healthcheck is not the liveness probe: $check"
    grep -qF '"Interval":10000000000,"Timeout":3000000000,"Retries":3' <<<"$check" || fail "timing: $check"
    # A probe that fails is seen as failing: the forwarder stopped, the same command exits non-zero.
    # And the pod runs as the manifest says: nobody, read-only root, no capabilities.
    local name
    for name in "$pod-nginx" "$pod-forwarder"; do
        [ "$(pm inspect "$name" --format '{{.Config.User}} {{.HostConfig.ReadonlyRootfs}} {{len .EffectiveCaps}}')" = \
            "65534:65534 true 0" ] || fail "$name: $(pm inspect "$name" --format '{{.Config.User}} {{.HostConfig.ReadonlyRootfs}} {{.EffectiveCaps}}')"
    done
    pm kube down "$played" >/dev/null 2>&1
    nothing_left
}

# Requests in flight while the pod stops: each one is answered with the 307, or refused before nginx takes it; none
# is cut or answered 502. The pod is stopped as kubelet stops it, each container's stop signal at once, then the
# grace period: `podman pod stop`. podman 4.3's `kube down` alone stops nothing gracefully here: it kills the
# containers within a few milliseconds, infra first, and no stop signal reaches them (measured with `podman events`,
# and the forwarder never logs event=stop_delayed). `kube down` then removes what is left.
test_sidecar_kube_down_drains_without_losing_a_request() {
    play_sidecar
    python3 - "$state/load.log" <<'PY' &
import socket, sys, time
log = open(sys.argv[1], "w", buffering=1)
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        s = socket.create_connection(("127.0.0.1", 8080), timeout=10)
    except OSError:
        log.write("refused\n")
        break
    s.sendall(b"GET /oauth_callback/oura?code=1 HTTP/1.0\r\nHost: a\r\n\r\n")
    answer = b""
    try:
        while chunk := s.recv(4096):
            answer += chunk
    except OSError as error:
        answer += repr(error).encode()
    s.close()
    if answer.startswith(b"HTTP/1.1 307 "):
        log.write("307\n")
    elif answer in (b"", b"ConnectionResetError(104, 'Connection reset by peer')"):
        # Closed before nginx read a byte: a connection still in its listen backlog when it closed the socket,
        # which the kernel resets. nginx never accepted that request, as if it had been refused.
        log.write("unaccepted\n")
        break
    else:
        log.write("lost %r\n" % answer[:60])
PY
    local load=$!
    wait_for_line "$state/load.log" 20 '^307$' "$load" || fail "no request was answered before the stop"
    pm pod stop --time 30 oauth-forward-pod-0 >/dev/null
    wait "$load"
    # Both containers' whole logs, read once they have stopped and before kube down removes them. Followed with
    # `logs -f` from before the stop, the forwarder's line was missing once in CI although it had stopped with it.
    pm logs "$pod-forwarder" >"$state/forwarder.log" 2>&1
    pm logs "$pod-nginx" >"$state/nginx.log" 2>&1
    grep -q 'event=stop_delayed delay_ms=5000' "$state/forwarder.log" || fail "the forwarder was not stopped with SIGTERM"
    pm kube down "$played" >/dev/null 2>&1
    grep -qE '^(refused|unaccepted)$' "$state/load.log" || fail "the load never saw the pod go"
    local lost
    lost=$(grep -c '^lost' "$state/load.log" || true)
    [ "$lost" -eq 0 ] || fail "$lost of $(wc -l <"$state/load.log") requests lost while the pod stopped:" \
        "$(grep -m1 '^lost' "$state/load.log")"$'\n'"forwarder: $(grep -v ' status=307 ' "$state/forwarder.log" |
            tail -n 20)"$'\n'"nginx: $(grep -v '" 307 ' "$state/nginx.log" | tail -n 20)"
    nothing_left
}

# Every sh block of docs/KUBERNETES.md, as written, from the checkout.
test_kubernetes_md_commands_run() {
    local script=$state/kubernetes-md.sh
    awk '/^```sh$/ {inside = 1; next} /^```$/ {inside = 0} inside' "$root/docs/KUBERNETES.md" >"$script"
    [ -s "$script" ] || fail "docs/KUBERNETES.md has no sh block"
    (cd "$root" && bash -euo pipefail "$script") >"$state/kubernetes-md.log" 2>&1 ||
        fail "docs/KUBERNETES.md: $(tail -5 "$state/kubernetes-md.log")"
}

run_tests
