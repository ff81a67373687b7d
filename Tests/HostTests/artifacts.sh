#!/usr/bin/env bash
# The release artifacts as a user meets them: docs/INSTALL.md's commands, run as written against a release served
# on loopback, and the claims they rest on. The release is built once from a git checkout of this tree; the
# document's "Building it yourself" builds it a second time, from another path, later, under another umask and time
# zone, and must give the same bytes. Needs root (the .deb is installed and purged) and podman.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/harness.sh"

use_release_binary
version=$("$binary" --version | awk '{print $2}')
source_url=$(sed -n 's/^Source: //p' "$root/packaging/copyright")
artifacts=(oauth-forward-cgi "oauth-forward-cgi_${version}_amd64.deb" "oauth-forward-cgi_${version}_amd64.image.tar"
    oauth-forward-cgi.spdx.json)
work=$(mktemp -d /tmp/oafc-artifacts.XXXXXX)
server=""
cleanup() {
    [ -z "$server" ] || kill "$server" 2>/dev/null || true
    PODMAN_STATE="$work/podman" "$root/scripts/podman" --remove-state
    PODMAN_STATE="$work/podman-inspect" "$root/scripts/podman" --remove-state
    [ -n "${known_before-x}" ] || dpkg --purge oauth-forward-cgi >/dev/null 2>&1 || true
    rm -rf "$work" "${TMPDIR:-/tmp}"/*"$(tr / _ <<<"$work")"*.lock
}
trap cleanup EXIT

# This tree as a git repository with one commit, dated as HEAD is (or as packaging/changelog's top entry, outside
# git), and tagged as a release is. Both builds clone it.
make_snapshot() {
    local snapshot=$work/snapshot date
    copy_checkout "$snapshot"
    if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        date=$(git -C "$root" log -1 --format=%cI)
    else
        date=$(date -R -d "@$(dpkg-parsechangelog -l "$root/packaging/changelog" -S Timestamp)")
    fi
    git -C "$snapshot" init -q
    git -C "$snapshot" add -A
    GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date git -C "$snapshot" -c user.name=test -c user.email=test@invalid \
        commit -q -m snapshot
    git -C "$snapshot" tag "v$version"
}

# The release, as the release workflow makes it: scripts/build-release in a clone of the tag.
build_release() {
    git -c advice.detachedHead=false clone -q --branch "v$version" "$work/snapshot" "$work/release/oauth-forward-cgi"
    (cd "$work/release/oauth-forward-cgi" && ./scripts/build-release)
}

# docs/INSTALL.md's sh blocks, in order, as one script: the release page and the repository are this machine's,
# podman keeps its images in a store of the test's own, and VERSION is this release's.
install_script() {
    local port=$1
    awk '/^```sh$/ { block = 1; next } /^```$/ { block = 0 } block' "$root/docs/INSTALL.md" |
        sed -e "s|^VERSION=.*|VERSION=$version|" \
            -e "s|$source_url/releases/download|http://127.0.0.1:$port|g" \
            -e "s|$source_url.git|file://$work/snapshot|g" \
            -e "s|^podman |\"$root/scripts/podman\" |"
}

# Serves the release's dist/ at /v<version>/ on loopback, as a release page would, and waits until it answers.
serve_release() {
    mkdir -p "$work/page"
    ln -s "$work/release/oauth-forward-cgi/dist" "$work/page/v$version"
    port=$(free_port)
    python3 -m http.server --bind 127.0.0.1 --directory "$work/page" "$port" >"$work/http.log" 2>&1 &
    server=$!
    local deadline=$((SECONDS + 10))
    until curl -fs -o /dev/null "http://127.0.0.1:$port/v$version/SHA256SUMS"; do
        kill -0 "$server" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ] || fail "no release page: $(cat "$work/http.log")"
        sleep 0.1
    done
}

started=$SECONDS
set +e
(
    set -e
    "$root/scripts/install-packages" reproduce
    make_snapshot
    build_release
) >"$work/release.log" 2>&1
release_status=$?
set -e
echo "    built the release in $((SECONDS - started)) s" >&2

# What dpkg knows of the package before the document installs it: nothing, or the test would purge a user's own.
known_before=$(dpkg-query -W -f='${db:Status-Status}' oauth-forward-cgi 2>/dev/null) || true
[ "$known_before" != not-installed ] || known_before=""
user_status=1
if [ "$release_status" -eq 0 ] && [ -z "$known_before" ]; then
    serve_release
    install_script "$port" >"$work/install.sh"
    mkdir -p "$work/user"
    started=$SECONDS
    set +e
    (cd "$work/user" && umask 0002 && TZ=Pacific/Auckland PODMAN_STATE="$work/podman" bash -euo pipefail \
        "$work/install.sh") >"$work/user.log" 2>&1
    user_status=$?
    set -e
    echo "    ran docs/INSTALL.md's commands in $((SECONDS - started)) s" >&2
fi

require_release() {
    [ "$release_status" -eq 0 ] || fail "the release build failed: $(tail -n 30 "$work/release.log")"
}

# Prints what diffoscope finds between the release's file and the second build's, at most 200 lines.
show_difference() {
    local name=$1
    echo "    $name differs between the two builds; diffoscope says:" >&2
    timeout 300 diffoscope --text - "$work/release/oauth-forward-cgi/dist/$name" "$work/user/source/dist/$name" \
        2>&1 | head -n 200 >&2 || true
}

test_install_md_downloads_checks_and_installs_a_release() {
    require_release
    [ -z "$known_before" ] || fail "dpkg knows oauth-forward-cgi already ($known_before); this test would purge it"
    [ "$user_status" -eq 0 ] || fail "docs/INSTALL.md's commands failed: $(tail -n 40 "$work/user.log")"
    local name
    for name in "${artifacts[@]}"; do
        grep -qxF "$name: OK" "$work/user.log" || fail "sha256sum -c did not say '$name: OK'"
    done
    # The .deb's binary, then the image's, each answered --version.
    [ "$(grep -cxF "oauth-forward-cgi $version" "$work/user.log")" -ge 2 ] ||
        fail "the installed binary and the image did not both print 'oauth-forward-cgi $version'"
    grep -qxF "Location: https://api.us.junction.com/v2/link/connect/oura?code=abc&state=xyz"$'\r' "$work/user.log" ||
        fail "the binary in cgi-bin did not answer the 307 the document shows"
}

test_a_second_build_from_another_path_and_time_is_bit_identical() {
    require_release
    [ -d "$work/user/source/dist" ] || fail "the document's build did not run: $(tail -n 40 "$work/user.log")"
    local name differ=0
    for name in "${artifacts[@]}" SHA256SUMS; do
        cmp -s "$work/release/oauth-forward-cgi/dist/$name" "$work/user/source/dist/$name" && continue
        show_difference "$name"
        differ=1
    done
    [ "$differ" -eq 0 ] || fail "two builds of one commit differ"
}

test_sha256sums_name_every_artifact_and_nothing_else() {
    require_release
    local dist=$work/release/oauth-forward-cgi/dist
    diff <(awk '{print $2}' "$dist/SHA256SUMS" | sort) <(printf '%s\n' "${artifacts[@]}" | sort) ||
        fail "SHA256SUMS does not list exactly the four artifacts"
    diff <(ls "$dist" | sort) <(printf '%s\n' "${artifacts[@]}" SHA256SUMS | sort) ||
        fail "dist/ holds other files than the artifacts and SHA256SUMS"
    (cd "$dist" && sha256sum --quiet -c SHA256SUMS) || fail "a sum in SHA256SUMS is wrong"
}

# The bill of materials validates, and each part's version is the one the build really used.
test_sbom_validates_and_names_each_part_at_the_version_the_build_used() {
    require_release
    local dist=$work/release/oauth-forward-cgi/dist
    "$root/scripts/python-tools" pyspdxtools -i "$dist/oauth-forward-cgi.spdx.json" || fail "pyspdxtools refuses it"
    local swift_version parser_version
    swift_version=$(swiftc --version 2>/dev/null | sed -n 's/.*Swift version \([0-9.]*\).*/\1/p' | head -n 1)
    parser_version=$(python3 -c 'import json, sys
print(next(p["state"]["version"] for p in json.load(open(sys.argv[1]))["pins"]
           if p["identity"] == "swift-argument-parser"))' "$root/Package.resolved")
    local expected
    expected=$(printf '%s\n' \
        "oauth-forward-cgi $version $(sha256sum "$dist/oauth-forward-cgi" | cut -d' ' -f1)" \
        "swift $swift_version -" "swift-foundation $swift_version -" "swift-corelibs-libdispatch $swift_version -" \
        "swift-argument-parser $parser_version -" \
        "$(dpkg-query -W -f '${Package} ${Version} -\n' libfcgi-dev libc6-dev libstdc++-12-dev libgcc-12-dev)" |
        sort)
    local actual
    actual=$(python3 -c 'import json, sys
document = json.load(open(sys.argv[1]))
for package in document["packages"]:
    sums = [c["checksumValue"] for c in package.get("checksums", []) if c["algorithm"] == "SHA256"]
    print(package["name"], package["versionInfo"], sums[0] if sums else "-")
links = {(r["spdxElementId"], r["relationshipType"]) for r in document["relationships"]}
assert ("SPDXRef-DOCUMENT", "DESCRIBES") in links and ("SPDXRef-Package-oauth-forward-cgi", "STATIC_LINK") in links
' "$dist/oauth-forward-cgi.spdx.json" | sort)
    [ "$actual" = "$expected" ] || fail "the SBOM's packages are not what the build used: $(diff <(echo "$expected") \
        <(echo "$actual"))"
}

# A part of the binary that scripts/sbom cannot place stops the build instead of going unlisted.
test_sbom_refuses_a_part_it_cannot_place() {
    require_release
    local tree=$work/release/oauth-forward-cgi map
    map=$work/unknown.map
    cp "$tree/.build-static/oauth-forward-cgi.map" "$map"
    printf '  1000 1000 10 16 /usr/lib/x86_64-linux-gnu/libunknown-to-sbom.a(thing.o):(.text)\n' >>"$map"
    local status=0
    SOURCE_DATE_EPOCH=0 "$tree/scripts/sbom" "$tree/dist/oauth-forward-cgi" "$map" "$work/unknown.json" \
        2>"$work/unknown.err" || status=$?
    [ "$status" -ne 0 ] || fail "scripts/sbom listed a library it cannot place"
    grep -q 'libunknown-to-sbom.a' "$work/unknown.err" || fail "the refusal does not name the file: $(cat "$work/unknown.err")"
}

# The image keeps what the Containerfile says, through the rewrite of scripts/image-archive.
test_image_archive_loads_with_its_labels_user_stop_signal_and_health_check() {
    require_release
    local state=$work/podman-inspect image
    PODMAN_STATE=$state "$root/scripts/podman" load --quiet \
        -i "$work/release/oauth-forward-cgi/dist/oauth-forward-cgi_${version}_amd64.image.tar" >/dev/null
    image=localhost/oauth-forward-cgi:$version
    local inspected
    inspected=$(PODMAN_STATE=$state "$root/scripts/podman" image inspect "$image" --format \
        '{{.Config.User}}|{{.Config.StopSignal}}|{{index .Config.Labels "org.opencontainers.image.version"}}|{{index .Config.Labels "org.opencontainers.image.licenses"}}|{{index .Config.Labels "org.opencontainers.image.source"}}|{{.HealthCheck.Test}}')
    PODMAN_STATE=$state "$root/scripts/podman" --remove-state
    [[ "$inspected" == "65534:65534|SIGTERM|$version|Apache-2.0|$source_url|[CMD /usr/bin/oauth-forward-cgi probe "* ]] ||
        fail "the image's config: $inspected"
}

run_tests
