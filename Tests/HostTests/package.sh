#!/usr/bin/env bash
# The Debian package as Debian's tools see it, run by scripts/test-package (not by scripts/test-host): lintian on
# the .deb; dpkg installing, upgrading to a newer version, removing and purging it; what the maintainer scripts ask
# of systemd; and an upgrade under load that a SIGHUP turns into the new version serving, with nothing lost.
# Needs root. Each test refuses to start while dpkg knows the package, and purges it at its end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/harness.sh"

use_release_binary
version=$("$binary" --version | awk '{print $2}')
deb="$root/dist/oauth-forward-cgi_${version}_amd64.deb"
[ -e "$deb" ] || "$root/scripts/build-release" >/dev/null
newer_version=$(awk -F. -v OFS=. '{ $NF = $NF + 1; print }' <<<"$version")
version_source=Sources/oauth-forward-cgi/OAuthForwardCommand.swift
work=$(mktemp -d /tmp/oafc-package.XXXXXX)
# SwiftPM leaves a lock file for each scratch path in the temporary directory.
trap 'rm -rf "$work" "${TMPDIR:-/tmp}/$(tr / _ <<<"$work/newer/.build-static")"*.lock' EXIT
newer_deb="$work/newer/dist/oauth-forward-cgi_${newer_version}_amd64.deb"

# A second package, made as a release is: a copy of this checkout with the version raised in the source, then in
# packaging/changelog, each time built by the copy's own scripts/build-release. The first build must refuse a
# changelog that still names the old version: its output is kept for the test that says so.
build_newer_package() {
    local tree=$work/newer
    copy_checkout "$tree"
    # SwiftPM's work so far spares the dependency's fetch (there may be no network) and most of the compiling; not
    # the module cache, whose files record the path they were built at.
    cp -a "$root/.build-static" "$tree/"
    find "$tree/.build-static" -name ModuleCache -prune -exec rm -rf {} +
    sed -i "s/static let version = \"$version\"/static let version = \"$newer_version\"/" "$tree/$version_source"
    grep -qF "static let version = \"$newer_version\"" "$tree/$version_source" || {
        echo "no 'static let version = \"$version\"' in $version_source to raise" >&2
        return 1
    }
    local status=0
    (cd "$tree" && ./scripts/build-release) >"$work/mismatch.log" 2>&1 || status=$?
    echo "$status" >"$work/mismatch.status"

    local maintainer
    maintainer=$(sed -n 's/^ -- \(.*>\)  .*/\1/p' "$tree/packaging/changelog" | head -n 1)
    sed -i "1i oauth-forward-cgi ($newer_version) stable; urgency=medium\n\n  * The newer version of the upgrade\
 tests.\n\n -- $maintainer  $(date -R)\n" "$tree/packaging/changelog"
    (cd "$tree" && ./scripts/build-release) >&2
}
# In a subshell of its own with set -e, not inside `if`, where bash would ignore set -e.
started=$SECONDS
set +e
(
    set -e
    build_newer_package
) >/dev/null 2>"$work/newer.log"
if [ $? -eq 0 ]; then
    echo "    built $(basename "$newer_deb") in $((SECONDS - started)) s" >&2
else
    rm -f "$newer_deb"
fi
set -e

require_newer_package() {
    [ -e "$newer_deb" ] || fail "no package of version $newer_version was built: $(tail -n 20 "$work/newer.log")"
}

# dpkg is about to install the package, and the test purges it at its end: never over a copy someone installed,
# not even one removed with only its conffile left.
require_not_installed() {
    local status
    status=$(dpkg-query -W -f='${db:Status-Status}' oauth-forward-cgi 2>/dev/null) || true
    [ -z "$status" ] || [ "$status" = not-installed ] ||
        fail "dpkg knows oauth-forward-cgi already ($status); this test would purge it"
}

# After a purge: no file of the package, no conffile, nothing of dpkg's or deb-systemd-helper's about it.
expect_nothing_left() {
    local path left=()
    for path in $(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print substr($6, 2)}') /etc/default/oauth-forward-cgi \
        /var/lib/dpkg/info/oauth-forward-cgi.* /var/lib/systemd/deb-systemd-helper-enabled/*oauth-forward-cgi* \
        /etc/systemd/system/*/oauth-forward-cgi.* /usr/share/doc/oauth-forward-cgi; do
        [ ! -e "$path" ] && [ ! -L "$path" ] || left+=("$path")
    done
    [ ${#left[@]} -eq 0 ] || fail "the purge left ${left[*]}"
}

# No error and no warning; every override still matches a tag. Run as nobody: lintian warns against root, and
# needs nothing root has. From the scratch directory, not the checkout: lintian goes back to its working directory,
# which nobody cannot enter when the checkout is private (a clone in /root). Information tags are shown, not failed
# on.
test_lintian_accepts_the_package() {
    scratch=$(mktemp -d /tmp/oafc-lintian.XXXXXX)
    trap 'rm -rf "$scratch"' EXIT
    chmod 755 "$scratch"
    install -m 644 "$deb" "$scratch/"
    local output status=0
    output=$(cd "$scratch" && runuser -u nobody -- env HOME="$scratch" lintian --fail-on error,warning \
        --display-info --pedantic "$scratch/$(basename "$deb")" 2>&1) || status=$?
    [ -z "$output" ] || sed 's/^/    lintian: /' <<<"$output" >&2
    [ "$status" -eq 0 ] || fail "lintian exited $status"
    ! grep -qE '^[EW]: ' <<<"$output" || fail "lintian found errors or warnings"
    ! grep -qE 'unused-override|mismatched-override' <<<"$output" ||
        fail "an override in packaging/lintian-overrides matches nothing any more: remove it"
}

# What lintian cannot tell: the changelog's version is the binary's, the copyright carries libfcgi's license as
# Debian's libfcgi-dev (whose libfcgi.a is linked in) states it, and the md5sums cover every file but the conffile.
test_package_holds_its_changelog_copyright_and_md5sums() {
    scratch=$(mktemp -d /tmp/oafc-deb.XXXXXX)
    trap 'rm -rf "$scratch"' EXIT
    dpkg-deb -R "$deb" "$scratch/tree"
    local doc=$scratch/tree/usr/share/doc/oauth-forward-cgi
    zcat "$doc/changelog.gz" >"$scratch/changelog"
    [ "$(dpkg-parsechangelog -l "$scratch/changelog" -S Version)" = "$version" ] ||
        fail "changelog.gz's top entry is not $version: $(head -n 1 "$scratch/changelog")"
    [ "$(sed -n 's/^Version: //p' "$scratch/tree/DEBIAN/control")" = "$version" ] || fail "control's Version"
    cmp -s "$scratch/changelog" "$root/packaging/changelog" || fail "changelog.gz is not packaging/changelog"

    license_paragraph() { awk -v RS= -v head="License: $1" 'index($0, head "\n") == 1' "$2"; }
    [ -n "$(license_paragraph FASTCGI /usr/share/doc/libfcgi-dev/copyright)" ] ||
        fail "no License: FASTCGI paragraph in /usr/share/doc/libfcgi-dev/copyright"
    [ "$(license_paragraph FASTCGI "$doc/copyright")" = \
        "$(license_paragraph FASTCGI /usr/share/doc/libfcgi-dev/copyright)" ] ||
        fail "the copyright's FASTCGI license is not libfcgi-dev's, verbatim"
    # The program's own files are Apache-2.0, as LICENSE at the repository's root says.
    awk -v RS= 'index($0, "Files: *\n") == 1' "$doc/copyright" | grep -qx 'License: Apache-2.0' ||
        fail "the copyright's Files: * paragraph does not say License: Apache-2.0"
    grep -q 'Apache License' "$root/LICENSE" && grep -q 'Version 2.0, January 2004' "$root/LICENSE" ||
        fail "LICENSE is not the Apache License 2.0"
    local license
    for license in 'Apache-2.0' 'Apache-2.0 with Swift exception' 'LGPL-2.1+' 'GPL-3+ with GCC-3.1 exception'; do
        [ -n "$(license_paragraph "$license" "$doc/copyright")" ] || fail "no License: $license paragraph"
    done
    for license in $(grep -o '/usr/share/common-licenses/[A-Za-z0-9.+-]*' "$doc/copyright" | sort -u); do
        [ -e "$license" ] || fail "the copyright points at $license, which does not exist"
    done

    [ -s "$scratch/tree/DEBIAN/md5sums" ] || fail "no md5sums"
    (cd "$scratch/tree" && md5sum --quiet -c DEBIAN/md5sums) || fail "a sum in md5sums is wrong"
    diff <(cd "$scratch/tree" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | sort) \
        <(cat <(awk '{print $2}' "$scratch/tree/DEBIAN/md5sums") <(sed 's|^/||' "$scratch/tree/DEBIAN/conffiles") |
            sort) || fail "md5sums and conffiles do not list every file exactly once"
    ! find "$scratch/tree" -path "$scratch/tree/lib*" | grep -q . || fail "the package installs into /lib"
}

test_debian_package_installs_runs_removes_and_purges() {
    require_not_installed
    trap 'dpkg -P oauth-forward-cgi >/dev/null 2>&1 || true' EXIT
    local info
    info=$(dpkg-deb --info "$deb")
    grep -q "Package: oauth-forward-cgi" <<<"$info" && grep -q "Architecture: amd64" <<<"$info" ||
        fail "control: $info"
    dpkg -i "$deb" </dev/null >/dev/null || fail "dpkg -i failed"
    for path in /usr/bin/oauth-forward-cgi /usr/lib/systemd/system/oauth-forward-cgi.service \
        /usr/lib/systemd/system/oauth-forward-cgi.socket /etc/default/oauth-forward-cgi \
        /usr/share/man/man1/oauth-forward-cgi.1.gz /usr/share/doc/oauth-forward-cgi/nginx.conf.example \
        /usr/share/doc/oauth-forward-cgi/apache.conf.example /usr/share/doc/oauth-forward-cgi/README.md \
        /usr/share/doc/oauth-forward-cgi/changelog.gz /usr/share/doc/oauth-forward-cgi/copyright \
        /usr/share/lintian/overrides/oauth-forward-cgi; do
        [ -e "$path" ] || fail "$path was not installed"
    done
    # Every file as packaged, by the md5sums (dpkg makes its own where a package has none: the test above checks
    # the package's).
    local verify
    verify=$(dpkg --verify oauth-forward-cgi) || fail "dpkg --verify failed"
    [ -z "$verify" ] || fail "dpkg --verify: $verify"
    # Installed, not enabled.
    ! compgen -G "/etc/systemd/system/*/oauth-forward-cgi.*" >/dev/null || fail "a unit was enabled"
    [ "$(readlink /usr/lib/cgi-bin/oauth-forward-cgi)" = ../../bin/oauth-forward-cgi ] || fail "no cgi-bin link"
    cmp -s <(cgi_request /usr/lib/cgi-bin/oauth-forward-cgi 2>/dev/null) <(expected_answer) ||
        fail "the installed program answered otherwise"
    local man
    man=$(zcat /usr/share/man/man1/oauth-forward-cgi.1.gz)
    grep -q "^.TH OAUTH-FORWARD-CGI" <<<"$man" && grep -q "serve" <<<"$man" || fail "the man page is wrong"

    dpkg -r oauth-forward-cgi >/dev/null || fail "dpkg -r failed"
    [ ! -e /usr/bin/oauth-forward-cgi ] && [ ! -e /usr/lib/cgi-bin/oauth-forward-cgi ] || fail "remove left files"
    # A conffile stays until the package is purged.
    [ -e /etc/default/oauth-forward-cgi ] || fail "remove took the conffile"
    dpkg -P oauth-forward-cgi >/dev/null || fail "dpkg -P failed"
    expect_nothing_left
}

# dpkg -i of the newer version over the older: the newer binary runs, and the conffile keeps the admin's edit
# without a question (its packaged content did not change, so dpkg has nothing to ask; stdin is /dev/null, so a
# question would fail the upgrade).
test_upgrade_to_a_newer_version_keeps_an_edited_conffile() {
    require_newer_package
    require_not_installed
    trap 'dpkg -P oauth-forward-cgi >/dev/null 2>&1 || true' EXIT
    dpkg -i "$deb" </dev/null >/dev/null || fail "dpkg -i $version failed"
    sed -i 's/^OAUTH_FORWARD_TARGET=.*/OAUTH_FORWARD_TARGET=sandbox-eu/' /etc/default/oauth-forward-cgi
    local edited output
    edited=$(cat /etc/default/oauth-forward-cgi)
    grep -qx OAUTH_FORWARD_TARGET=sandbox-eu <<<"$edited" || fail "the edit did not take"

    output=$(dpkg -i "$newer_deb" </dev/null 2>&1) || fail "dpkg -i $newer_version failed: $output"
    [ "$(dpkg-query -W -f='${Version}' oauth-forward-cgi)" = "$newer_version" ] || fail "dpkg's version"
    [ "$(/usr/bin/oauth-forward-cgi --version)" = "oauth-forward-cgi $newer_version" ] ||
        fail "the installed binary says $(/usr/bin/oauth-forward-cgi --version)"
    [ "$(cat /etc/default/oauth-forward-cgi)" = "$edited" ] || fail "the upgrade lost the edit of the conffile"
    ! compgen -G "/etc/default/oauth-forward-cgi.dpkg-*" >/dev/null || fail "dpkg set a conffile aside"
    # Only the edited conffile differs from what was packaged.
    [ "$(dpkg --verify oauth-forward-cgi)" = "??5?????? c /etc/default/oauth-forward-cgi" ] ||
        fail "dpkg --verify: $(dpkg --verify oauth-forward-cgi)"
    cmp -s <(cgi_request /usr/lib/cgi-bin/oauth-forward-cgi 2>/dev/null) <(expected_answer) ||
        fail "the upgraded program answered otherwise"

    dpkg -r oauth-forward-cgi >/dev/null || fail "dpkg -r failed"
    [ "$(cat /etc/default/oauth-forward-cgi)" = "$edited" ] || fail "remove changed the edited conffile"
    dpkg -P oauth-forward-cgi >/dev/null || fail "dpkg -P failed"
    expect_nothing_left
}

test_build_release_refuses_a_changelog_of_another_version() {
    [ -e "$work/mismatch.status" ] || fail "the newer tree was not built: $(cat "$work/newer.log")"
    [ "$(cat "$work/mismatch.status")" -ne 0 ] ||
        fail "build-release made a $newer_version package with $version at the top of packaging/changelog"
    grep -qF "the binary is version $newer_version but packaging/changelog's top entry is $version" \
        "$work/mismatch.log" || fail "no clear message: $(tail -n 5 "$work/mismatch.log")"
}

# What the maintainer scripts ask of systemd, where it runs: dpkg in a mount namespace of its own whose /run has
# /run/systemd/system (so the scripts see systemd as PID 1), with systemctl and deb-systemd-invoke first on PATH as
# stubs that write down their arguments. deb-systemd-helper is the real one: it keeps its state in /var/lib/systemd.
test_maintainer_scripts_reload_the_service_on_upgrade_and_stop_it_on_removal() {
    require_newer_package
    require_not_installed
    scratch=$(mktemp -d /tmp/oafc-systemd.XXXXXX)
    trap 'dpkg -P oauth-forward-cgi >/dev/null 2>&1 || true; rm -rf "$scratch"' EXIT
    mkdir "$scratch/bin"
    local command
    for command in systemctl deb-systemd-invoke; do
        printf '#!/bin/sh\necho "%s $*" >>%s/calls\n' "$command" "$scratch" >"$scratch/bin/$command"
        chmod 755 "$scratch/bin/$command"
    done
    under_systemd() {
        : >"$scratch/calls"
        PATH="$scratch/bin:$PATH" unshare --mount --propagation private \
            sh -c 'mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/system && exec "$@"' sh "$@" </dev/null \
            >"$scratch/dpkg.log" 2>&1 || fail "$*: $(cat "$scratch/dpkg.log")"
    }
    expect_calls() {
        diff <(printf '%s\n' "$@" | sed '/^$/d') "$scratch/calls" >&2 || fail "dpkg $action: other calls than these"
    }

    local action=install
    under_systemd dpkg -i "$deb"
    # Installed, not enabled, not started.
    expect_calls "systemctl --system daemon-reload"
    ! compgen -G "/etc/systemd/system/*/oauth-forward-cgi.*" >/dev/null || fail "a unit was enabled"
    action=upgrade
    under_systemd dpkg -i "$newer_deb"
    # A running service re-executes the new binary on SIGHUP (ExecReload); a stopped one stays stopped.
    expect_calls "systemctl --system daemon-reload" \
        "deb-systemd-invoke try-reload-or-restart oauth-forward-cgi.service"
    action=remove
    under_systemd dpkg -r oauth-forward-cgi
    expect_calls "deb-systemd-invoke stop oauth-forward-cgi.socket oauth-forward-cgi.service" \
        "systemctl --system daemon-reload"
    action=purge
    under_systemd dpkg -P oauth-forward-cgi
    expect_calls
    expect_nothing_left
}

# Issue 12: "replacing /usr/bin/oauth-forward-cgi by installing a newer .deb, then HUP, makes the running daemon
# report the new version, with nothing lost". There is no systemd here, so the daemon is started by hand from
# /usr/bin, behind nginx with the example configuration, and the SIGHUP is what ExecReload would send. GET and POST
# callbacks go on from three clients throughout: nginx sends a failed GET again, never a POST.
test_upgrade_then_hup_serves_the_new_version_under_load_losing_nothing() {
    require_newer_package
    require_not_installed
    scratch=$(mktemp -d /tmp/oafc-upgrade.XXXXXX)
    daemon="" nginx_pid="" clients=()
    trap 'touch "$scratch/stop"; kill ${clients[*]} $nginx_pid $daemon 2>/dev/null || true; wait;
        dpkg -P oauth-forward-cgi >/dev/null 2>&1 || true; rm -rf "$scratch"' EXIT
    # nginx's workers (www-data) reach the socket through this directory.
    chmod 755 "$scratch"
    dpkg -i "$deb" </dev/null >/dev/null || fail "dpkg -i $version failed"

    /usr/bin/oauth-forward-cgi serve --listen "$scratch/fcgi.sock" --socket-group www-data --target sandbox-us \
        --workers 2 2>>"$scratch/daemon.log" &
    daemon=$!
    local port
    port=$(free_port)
    "$root/scripts/render-nginx" "$scratch/nginx" "$port" "$scratch/fcgi.sock" 2 >/dev/null
    nginx -p "$scratch/nginx" -c "$scratch/nginx/nginx.conf" 2>"$scratch/nginx.err" &
    nginx_pid=$!
    local url="http://127.0.0.1:$port/oauth_callback/oura?code=a%2Bb&state=xyz" deadline=$((SECONDS + 20))
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "$url")" = 307 ]; do
        kill -0 "$daemon" 2>/dev/null || fail "the daemon exited: $(cat "$scratch/daemon.log")"
        kill -0 "$nginx_pid" 2>/dev/null || fail "nginx exited: $(cat "$scratch/nginx.err")"
        [ "$SECONDS" -lt "$deadline" ] || fail "no 307 through nginx within 20 s: $(cat "$scratch/daemon.log")"
        sleep 0.2
    done

    local client
    for client in 1 2 3; do
        (
            method=(); [ "$client" -ne 3 ] || method=(--data 'code=p&state=q')
            while [ ! -e "$scratch/stop" ]; do
                curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 "${method[@]}" "$url" \
                    >>"$scratch/answers.$client" || true
            done
        ) &
        clients+=($!)
    done
    # Each client gets answers, before the upgrade, between it and the reload, and after.
    answers() { [ ! -e "$scratch/answers.$1" ] && echo 0 || wc -l <"$scratch/answers.$1"; }
    answers_grow() {
        local client count deadline=$((SECONDS + 30))
        for client in 1 2 3; do
            count=$(answers "$client")
            while [ "$(answers "$client")" -lt $((count + 20)) ]; do
                [ "$SECONDS" -lt "$deadline" ] || fail "client $client got no 20 answers within 30 s"
                sleep 0.1
            done
        done
    }
    answers_grow

    local output
    output=$(dpkg -i "$newer_deb" </dev/null 2>&1) || fail "dpkg -i $newer_version failed: $output"
    [ "$(readlink "/proc/$daemon/exe")" = "/usr/bin/oauth-forward-cgi (deleted)" ] ||
        fail "the daemon does not run the replaced file: $(readlink "/proc/$daemon/exe")"
    answers_grow
    kill -HUP "$daemon"
    wait_for_line "$scratch/daemon.log" 30 "event=reload .*old_version=$version new_version=$newer_version" \
        "$daemon" || fail "no event=reload from $version to $newer_version: $(grep event= "$scratch/daemon.log")"
    # The supervisor itself runs the new file now, and the old workers finish and go.
    [ "$(readlink "/proc/$daemon/exe")" = /usr/bin/oauth-forward-cgi ] ||
        fail "the supervisor runs $(readlink "/proc/$daemon/exe") after the reload"
    deadline=$((SECONDS + 30))
    until [ "$(grep -c "event=worker_retired" "$scratch/daemon.log")" -ge 2 ]; do
        [ "$SECONDS" -lt "$deadline" ] || fail "the 2 old workers did not retire: $(tail "$scratch/daemon.log")"
        sleep 0.2
    done
    answers_grow
    touch "$scratch/stop"
    wait "${clients[@]}"
    clients=()

    local answers total
    answers=$(cat "$scratch"/answers.*)
    total=$(wc -l <<<"$answers")
    [ "$total" -ge 180 ] || fail "only $total answers"
    ! grep -vx 307 <<<"$answers" >/dev/null ||
        fail "$(grep -vx 307 <<<"$answers" | sort | uniq -c | tr '\n' ' ')of $total answers were not 307"
    ! grep -v '" 307 ' "$scratch/nginx/logs/oauth-forward-cgi.access.log" >/dev/null ||
        fail "nginx answered other than 307: $(grep -v '" 307 ' "$scratch/nginx/logs/oauth-forward-cgi.access.log")"
    grep -q '"POST /oauth_callback/oura HTTP/1.1" 307' "$scratch/nginx/logs/oauth-forward-cgi.access.log" ||
        fail "no POST callback reached nginx"
    ! grep -hE "prematurely closed|failed \(|no live upstreams|while sending request" \
        "$scratch"/nginx/logs/*error.log || fail "nginx logged errors with the upstream"
    ! grep -q "event=reload_failed" "$scratch/daemon.log" || fail "$(cat "$scratch/daemon.log")"
    echo "    $total answers, all 307, across the upgrade from $version to $newer_version and the reload" >&2

    kill -TERM "$daemon"
    wait "$daemon" || fail "the daemon exited $? on SIGTERM: $(tail -n 20 "$scratch/daemon.log")"
    daemon=""
}

run_tests
