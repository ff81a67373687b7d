# Sourced by each host test file: a table of `test_*` functions, each run in a subshell of its own, and helpers.
# A test fails by exiting non-zero (set -e is on); `fail MESSAGE` says why.

fail() {
    echo "    $*" >&2
    exit 1
}

# The release binary under test, dist/oauth-forward-cgi, built by scripts/build-release when it is missing. Sets
# $binary. Needs $root.
use_release_binary() {
    [ -x "$root/dist/oauth-forward-cgi" ] || "$root/scripts/build-release" >/dev/null
    binary="$root/dist/oauth-forward-cgi"
}

# A loopback port nothing listens on, below the kernel's ephemeral range so that no client connection takes it.
free_port() {
    local port
    for port in $(shuf -i 20000-30000 -n 200); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    fail "no free port between 20000 and 30000"
}

# Waits up to $2 seconds for file $1 to hold the line pattern $3 (grep -E), or for process $4 to end first.
wait_for_line() {
    local file=$1 timeout=$2 pattern=$3 pid=${4:-}
    local deadline=$((SECONDS + timeout))
    while ! grep -qE "$pattern" "$file" 2>/dev/null; do
        [ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || return 1
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# Sends one GET for TARGET, raw bytes and all, to a web server on 127.0.0.1:PORT, and writes the whole answer to
# the file ANSWER.
raw_get() {
    local port=$1 target=$2 answer=$3
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$target" >&3
    timeout 10 cat <&3 >"$answer"
    exec 3<&-
}

# A CGI request to the program "$@" runs, whose query holds raw 0xFF and 0x80 bytes, and the exact answer it must
# get.
cgi_request() {
    env -i GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET PATH_INFO=/oura \
        QUERY_STRING="$(printf 'code=a%%2Bb&state=\xff\x80')" OAUTH_FORWARD_TARGET=production-eu "$@"
}
expected_answer() {
    printf 'Location: https://api.eu.junction.com/v2/link/connect/oura?code=a%%2Bb&state=\xff\x80\r\n'
    printf 'Status: 307 Temporary Redirect\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n'
    printf 'Content-Length: 0\r\n\r\n'
}

# The checkout at $root as it is now, tracked and untracked files alike, without build output: what a clone would
# hold, plus the change under test.
copy_checkout() {
    local destination=$1
    mkdir -p "$destination"
    git -C "$root" ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' file; do [ ! -e "$root/$file" ] || printf '%s\0' "$file"; done |
        tar -C "$root" --null -T - -cf - | tar -C "$destination" -xf -
}

# Runs every test_* function defined by the sourcing file; prints one line each and exits with the failures.
run_tests() {
    local name passed=0 failed=0
    for name in $(declare -F | awk '{print $3}' | grep '^test_'); do
        echo "◇ $name"
        # Not inside `if`: there, bash would ignore set -e in the test's own commands.
        set +e
        (
            set -euo pipefail
            "$name"
        )
        local status=$?
        set -e
        if [ "$status" -eq 0 ]; then
            echo "✔ $name"
            passed=$((passed + 1))
        else
            echo "✘ $name"
            failed=$((failed + 1))
        fi
    done
    echo "$passed passed, $failed failed" >"${HOST_TEST_COUNTS:-/dev/null}"
    [ "$failed" -eq 0 ]
}

# The release's container image, dist/oauth-forward-cgi_<version>_amd64.image.tar (a docker-archive), built by
# scripts/build-release when it is missing or older than Containerfile. Sets $binary, $image_archive and $image, the
# name `podman load` gives it. Needs $root.
use_release_image() {
    use_release_binary
    local version
    version=$("$binary" --version | awk '{print $2}')
    image_archive="$root/dist/oauth-forward-cgi_${version}_amd64.image.tar"
    [ "$image_archive" -nt "$root/Containerfile" ] || "$root/scripts/build-release" >/dev/null
    [ -e "$image_archive" ] || fail "scripts/build-release wrote no $image_archive"
    image="localhost/oauth-forward-cgi:$version"
}
