#!/usr/bin/env bash
# Shared hosting as it really is: Debian's Apache with suEXEC (apache2-suexec-pristine) and mod_userdir, a user
# account made for the test, and in its public_html what docs/SHARED-HOSTING.md says to upload: the release binary
# as cgi-bin/oauth-forward.cgi, htaccess.example unchanged as .htaccess, and oauth-forward-cgi.conf beside the
# binary. suEXEC runs the program as that user with the environment cleared, so only the file can set the target.
# Needs root: it adds and removes the account, and only an Apache started as root uses suEXEC. Leaves the host as
# it found it, but for the packages scripts/test-host installs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/harness.sh"
# Answers hold raw bytes such as 0xFF: grep and the shell compare them as bytes, not as characters.
export LC_ALL=C

[ "$(id -u)" -eq 0 ] || fail "needs root: it adds a user account, and Apache uses suEXEC only when started as root"
account=oafc-suexec
if id -u "$account" >/dev/null 2>&1 || [ -e "/home/$account" ]; then
    fail "the account $account or /home/$account exists already; this test would remove it"
fi
suexec=/usr/lib/apache2/suexec
[ -u "$(readlink -f "$suexec")" ] || fail "$suexec is missing or not setuid: apt-get install apache2-suexec-pristine"
# What Debian's suEXEC was built with: it runs programs only when www-data asks, for a ~user request only below
# ~user/public_html (AP_DOC_ROOT, /var/www, is for virtual hosts with SuexecUserGroup), and only as users and groups
# from 100 up. It also wants the program and its directory owned by the user and the user's group, and neither
# writable by group or others: the upload below is made so.
suexec_settings=$("$suexec" -V 2>&1)
for setting in 'AP_HTTPD_USER="www-data"' 'AP_USERDIR_SUFFIX="public_html"' 'AP_UID_MIN=100' 'AP_GID_MIN=100'; do
    grep -qF -- "$setting" <<<"$suexec_settings" || fail "suEXEC was built otherwise: $suexec_settings"
done
suexec_log=$(sed -n 's/.*AP_LOG_EXEC="\(.*\)"/\1/p' <<<"$suexec_settings")

use_release_binary

created="" apache_pid="" suexec_log_size=""
scratch=$(mktemp -d /tmp/oafc-suexec.XXXXXX)
# Apache's children, as www-data, reach mod_cgid's socket in it.
chmod 755 "$scratch"
cleanup() {
    if [ -n "$apache_pid" ]; then
        kill -TERM "$apache_pid" 2>/dev/null || true
        local deadline=$((SECONDS + 10))
        while kill -0 "$apache_pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
        kill -KILL "$apache_pid" 2>/dev/null || true
    fi
    if [ -n "$created" ] && id -u "$account" >/dev/null 2>&1; then
        # userdel warns that the account has no mail spool; anything else is worth showing.
        userdel -r "$account" 2>&1 | grep -v "mail spool" >&2 || true
        ! id -u "$account" >/dev/null 2>&1 || echo "    userdel -r $account failed: the account is left" >&2
    fi
    # suEXEC's log, as it was: gone if there was none, cut back to its old length if there was.
    if [ -z "$suexec_log_size" ]; then
        rm -f "$suexec_log"
    else
        truncate -s "$suexec_log_size" "$suexec_log"
    fi
    rm -rf "$scratch"
}
[ ! -e "$suexec_log" ] || suexec_log_size=$(stat -c %s "$suexec_log")
trap cleanup EXIT
trap 'exit 130' INT TERM

# The customer's account, with the home directory a host gives it: others may pass through, not list it.
created=1
useradd -m -s /usr/sbin/nologin "$account"
home=$(getent passwd "$account" | cut -d: -f6)
uid=$(id -u "$account")
chmod 711 "$home"
# The upload, as the README's steps say: everything owned by the user and writable by the user alone.
cgi_bin="$home/public_html/cgi-bin"
install -d -o "$account" -g "$account" -m 755 "$home/public_html" "$cgi_bin"
install -o "$account" -g "$account" -m 644 "$root/htaccess.example" "$home/public_html/.htaccess"
install -o "$account" -g "$account" -m 755 "$binary" "$cgi_bin/oauth-forward.cgi"
settings="$cgi_bin/oauth-forward-cgi.conf"

# The settings file as the docs show it, with a target neither htaccess.example nor the server sets.
write_settings() {
    printf '# Where callbacks go.\nOAUTH_FORWARD_TARGET=sandbox-eu\n' >"$settings"
    chown "$account:$account" "$settings"
    chmod 644 "$settings"
}
write_settings

# The host's side: Debian's apache2 binary and modules, with a configuration of the test's own.
port=$(free_port)
modules=/usr/lib/apache2/modules
cat >"$scratch/httpd.conf" <<CONF
ServerRoot $scratch
ServerName localhost
Listen 127.0.0.1:$port
PidFile $scratch/apache2.pid
DefaultRuntimeDir $scratch
ErrorLog $scratch/error.log
LogLevel info
# suEXEC runs programs only for the user it was built for (AP_HTTPD_USER).
User www-data
Group www-data

LoadModule mpm_event_module $modules/mod_mpm_event.so
LoadModule authz_core_module $modules/mod_authz_core.so
LoadModule mime_module $modules/mod_mime.so
LoadModule env_module $modules/mod_env.so
LoadModule rewrite_module $modules/mod_rewrite.so
LoadModule userdir_module $modules/mod_userdir.so
# mod_userdir hands each ~user request's CGI to the wrapper; mod_suexec logs at start that the wrapper is enabled.
LoadModule suexec_module $modules/mod_suexec.so
LoadModule cgid_module $modules/mod_cgid.so
TypesConfig /etc/mime.types
ScriptSock $scratch/cgid.sock

<Directory />
    AllowOverride None
    Require all denied
</Directory>
AccessFileName .htaccess
<FilesMatch "^\.ht">
    Require all denied
</FilesMatch>

# /~user/ is ~user/public_html, the directory suEXEC's AP_USERDIR_SUFFIX names; what it serves runs as the user.
UserDir public_html
UserDir disabled root
<Directory /home/*/public_html>
    AllowOverride All
    Require all granted
    # What a SetEnv would say on a host without suEXEC; suEXEC drops it, so the 307 to sandbox-eu comes from the file.
    SetEnv OAUTH_FORWARD_TARGET production-us
</Directory>
CONF
/usr/sbin/apache2 -f "$scratch/httpd.conf" -DFOREGROUND </dev/null >"$scratch/apache2.out" 2>&1 &
apache_pid=$!
deadline=$((SECONDS + 20))
until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    kill -0 "$apache_pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ] ||
        fail "Apache did not start: $(cat "$scratch/apache2.out" "$scratch/error.log" 2>/dev/null)"
    sleep 0.1
done
grep -qF "suEXEC mechanism enabled (wrapper: $suexec)" "$scratch/error.log" ||
    fail "Apache did not enable suEXEC: $(cat "$scratch/error.log")"

# Sends one GET for TARGET, raw bytes and all, and writes the whole answer to the file ANSWER.
get() { raw_get "$port" "$@"; }

status_of() { head -n 1 "$1" | tr -d '\r'; }

# Waits up to 10 s for TEXT in Apache's error log, where mod_cgid puts a script's stderr.
expect_logged() {
    local text=$1 deadline=$((SECONDS + 10))
    until grep -qF -- "$text" "$scratch/error.log"; do
        [ "$SECONDS" -lt "$deadline" ] || fail "no '$text' in Apache's error log: $(tail -n 5 "$scratch/error.log")"
        sleep 0.1
    done
}

test_callback_answers_a_true_307_to_the_target_in_the_file() {
    write_settings
    local query answer=$scratch/answer.307
    query=$(printf 'code=a%%2Bb%%3D&state=\xff')
    get "/~$account/oauth_callback/oura?$query" "$answer"
    [ "$(status_of "$answer")" = "HTTP/1.1 307 Temporary Redirect" ] || fail "not a 307: $(head -c 600 "$answer")"
    cmp -s <(grep -a '^Location: ' "$answer") \
        <(printf 'Location: https://api.sandbox.eu.junction.com/v2/link/connect/oura?%s\r\n' "$query") ||
        fail "wrong Location: $(grep -a '^Location: ' "$answer" | od -c | head)"
    expect_logged "app=oauth-forward-cgi method=GET provider=oura status=307 target=sandbox-eu query_bytes=${#query}"
    # suEXEC ran it, as the account: its log names the user and the command.
    tail -c +$((${suexec_log_size:-0} + 1)) "$suexec_log" |
        grep -qF "uid: ($uid/$account) gid: ($(id -g "$account")/$account) cmd: oauth-forward.cgi" ||
        fail "suEXEC did not log running the program as $account: $(tail -n 5 "$suexec_log")"
}

# Sends one HEAD for TARGET and writes the whole answer to the file ANSWER.
send_head() {
    local target=$1 answer=$2
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf 'HEAD %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$target" >&3
    timeout 10 cat <&3 >"$answer"
    exec 3<&-
}

# The answer's header field NAME, without its CR, or nothing.
field_of() { grep -ai "^$2: " "$1" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }

# What follows the blank line that ends the answer's header.
body_of() { awk 'body { print } /^\r?$/ { body = 1 }' "$1"; }

# Issue 19: a GET or HEAD without a query, with or without one trailing slash, is a reachability check that suEXEC
# runs like any other: 200, never cached, a line of text naming the provider, no body for HEAD, never a Location.
test_head_and_get_without_a_query_answer_the_reachability_page() {
    write_settings
    local path answer=$scratch/answer.reachability
    for path in oura oura/; do
        get "/~$account/oauth_callback/$path" "$answer"
        [ "$(status_of "$answer")" = "HTTP/1.1 200 OK" ] || fail "GET $path: $(head -c 600 "$answer")"
        [ "$(field_of "$answer" Cache-Control)" = "no-store" ] || fail "GET $path: $(head -c 600 "$answer")"
        [ "$(field_of "$answer" Content-Type)" = "text/plain; charset=utf-8" ] ||
            fail "GET $path: $(head -c 600 "$answer")"
        # Apache may send it chunked: the line is there, whole.
        body_of "$answer" | tr -d '\r' | grep -qxF "This is the OAuth callback endpoint for oura." ||
            fail "GET $path: the body is $(body_of "$answer" | od -c | head)"
        ! grep -qai '^Location:' "$answer" || fail "GET $path: a Location came back"

        send_head "/~$account/oauth_callback/$path" "$answer"
        [ "$(status_of "$answer")" = "HTTP/1.1 200 OK" ] || fail "HEAD $path: $(head -c 600 "$answer")"
        [ "$(field_of "$answer" Cache-Control)" = "no-store" ] || fail "HEAD $path: $(head -c 600 "$answer")"
        [ "$(field_of "$answer" Content-Type)" = "text/plain; charset=utf-8" ] ||
            fail "HEAD $path: $(head -c 600 "$answer")"
        [ -z "$(body_of "$answer")" ] || fail "HEAD $path: a body came back: $(body_of "$answer" | head -c 200)"
        ! grep -qai '^Location:' "$answer" || fail "HEAD $path: a Location came back"
    done
    expect_logged "method=HEAD provider=oura status=200 target=sandbox-eu query_bytes=0 route=reachability \
trailing_slash=1"
}

# A callback whose query must reach the file's target byte for byte, under PATH (oura or oura/).
expect_forwarded() {
    local path=$1 query=$2 answer=$scratch/answer.forwarded
    get "/~$account/oauth_callback/$path?$query" "$answer"
    [ "$(status_of "$answer")" = "HTTP/1.1 307 Temporary Redirect" ] || fail "$path?$query: $(head -c 600 "$answer")"
    cmp -s <(grep -a '^Location: ' "$answer") \
        <(printf 'Location: https://api.sandbox.eu.junction.com/v2/link/connect/oura?%s\r\n' "$query") ||
        fail "$path?$query: wrong Location: $(grep -a '^Location: ' "$answer" | od -c | head)"
}

# Issue 19: one trailing slash is forwarded without it, and logged so.
test_trailing_slash_callback_is_forwarded_without_the_slash() {
    write_settings
    expect_forwarded oura/ "code=trailing&state=slash"
    expect_logged "method=GET provider=oura status=307 target=sandbox-eu query_bytes=25 trailing_slash=1"
}

# Issue 19: what providers send besides code and state, byte for byte: an error callback (RFC 6749, section
# 4.1.2.1) and RFC 9207's iss, with and without the trailing slash.
test_error_and_iss_callbacks_are_forwarded_byte_for_byte() {
    write_settings
    local path query
    for path in oura oura/; do
        for query in "error=access_denied&error_description=The+user+denied&state=s%2Bt%3D" \
            "code=c0de&state=xyz&iss=https%3A%2F%2Fprovider.example"; do
            expect_forwarded "$path" "$query"
        done
    done
}

test_bad_path_is_a_404() {
    write_settings
    local target answer=$scratch/answer.404
    for target in "/~$account/oauth_callback/Bad%2Fname?code=1" "/~$account/oauth_callback/OURA?code=1" \
        "/~$account/oauth_callback/?code=1"; do
        get "$target" "$answer"
        [ "$(status_of "$answer")" = "HTTP/1.1 404 Not Found" ] || fail "$target: $(head -c 600 "$answer")"
        ! grep -qai '^Location:' "$answer" || fail "$target: a Location came back"
    done
}

# Nor the copies an editor or an upload leaves beside it.
test_settings_file_is_never_served() {
    write_settings
    local target answer=$scratch/answer.conf suffix backups=()
    for suffix in '~' .bak .swp .orig; do
        install -o "$account" -g "$account" -m 644 "$settings" "$settings$suffix"
        backups+=("/~$account/cgi-bin/oauth-forward-cgi.conf$suffix")
    done
    trap 'rm -f "$settings"~ "$settings".bak "$settings".swp "$settings".orig' EXIT
    for target in "/~$account/cgi-bin/oauth-forward-cgi.conf" "/~$account/cgi-bin/./oauth-forward-cgi.conf?x" \
        "/~$account//cgi-bin//oauth-forward-cgi.conf" "${backups[@]}"; do
        get "$target" "$answer"
        case "$(status_of "$answer")" in
            "HTTP/1.1 403 Forbidden" | "HTTP/1.1 404 Not Found") ;;
            *) fail "$target: $(head -c 600 "$answer")" ;;
        esac
        ! grep -qa "OAUTH_FORWARD_TARGET" "$answer" || fail "$target: the file's contents came back"
    done
}

# A callback answers 500, and Apache's error log holds TEXT, the program's reason.
expect_500_logging() {
    local text=$1 answer=$scratch/answer.500
    get "/~$account/oauth_callback/oura?code=1" "$answer"
    [ "$(status_of "$answer")" = "HTTP/1.1 500 Internal Server Error" ] || fail "not a 500: $(head -c 600 "$answer")"
    expect_logged "$text"
}

test_group_writable_file_is_a_500_with_the_reason_in_the_error_log() {
    write_settings
    chmod 664 "$settings"
    expect_500_logging "reason=\"$settings is writable by its group; make it writable by its owner alone (chmod 644)\""
}

# The program's own word that it runs as the account: it names the uid it runs as.
test_file_of_another_user_is_a_500_naming_the_user_the_program_runs_as() {
    write_settings
    chown www-data "$settings"
    expect_500_logging "$settings belongs to uid $(id -u www-data), while the program runs as uid $uid and its file \
belongs to uid $uid;"
}

test_without_the_file_the_500_names_both_places() {
    write_settings
    rm "$settings"
    expect_500_logging "OAUTH_FORWARD_TARGET is not set: set it where the web server passes variables to the \
program (SetEnv, fastcgi_param), or, where it cannot (suEXEC), in oauth-forward-cgi.conf beside the program"
}

# The docs' check over SSH: run as the account, the program shows the file's values and where they came from.
test_check_run_as_the_user_shows_the_file() {
    write_settings
    local output
    output=$(cd "$home" && runuser -u "$account" -- public_html/cgi-bin/oauth-forward.cgi check '/oura?code=1' 2>&1) ||
        fail "check failed: $output"
    grep -qxF "OAUTH_FORWARD_TARGET: sandbox-eu (file $settings)" <<<"$output" || fail "check: $output"
    grep -qxF "Location: https://api.sandbox.eu.junction.com/v2/link/connect/oura?code=1" <<<"$output" ||
        fail "check: $output"
}

# What a host must have for it: nothing. The binary and its file in an empty root, without /proc, as CGI.
test_file_is_read_in_an_empty_root_without_proc() {
    local chroot_dir
    chroot_dir=$(mktemp -d "$scratch/chroot.XXXXXX")
    mkdir "$chroot_dir/cgi-bin"
    install -m 755 "$binary" "$chroot_dir/cgi-bin/oauth-forward.cgi"
    printf 'OAUTH_FORWARD_TARGET=sandbox-eu\n' >"$chroot_dir/cgi-bin/oauth-forward-cgi.conf"
    local answer
    answer=$(env -i GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET PATH_INFO=/oura QUERY_STRING=code=1 \
        SCRIPT_FILENAME=/cgi-bin/oauth-forward.cgi /usr/sbin/chroot "$chroot_dir" /cgi-bin/oauth-forward.cgi 2>&1)
    grep -qF "Location: https://api.sandbox.eu.junction.com/v2/link/connect/oura?code=1" <<<"$answer" ||
        fail "no 307 to the file's target: $answer"
}

run_tests
