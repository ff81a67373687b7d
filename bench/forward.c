/*
 * forward.c: the comparison program for bench/run. A minimal C program on Debian's libfcgi (fcgiapp.h, the FCGX_*
 * API) that does oauth-forward-cgi's job for its presets, so the benchmark measures the cost of the Swift
 * program against what a careful C programmer would write in an afternoon:
 *
 *   - PATH_INFO must be "/" and 1 to 64 of [a-z0-9_], else 404;
 *   - a control byte (0x00-0x1F, 0x7F) in QUERY_STRING is a 400;
 *   - GET, HEAD and POST get a 307 to https://<preset host>/v2/link/connect/<provider>?<query>, the query byte for
 *     byte (no "?" when it is empty), with the same header fields in the same order as oauth-forward-cgi; a GET or
 *     HEAD without a query is a reachability check, answered 200 with a text that names the provider;
 *   - OAUTH_FORWARD_TARGET (the request's parameter, else the process environment) picks one of the presets in
 *     FORWARD_PRESETS, "name=base" pairs separated by spaces, which bench/run takes from oauth-forward-cgi itself
 *     (`check`), so the presets live only in its code; anything else is a 500. No URL templates, no allowlist, no
 *     auto mode: those are the Swift program's extras;
 *   - one logfmt line per request on the process's stderr, never the query.
 *
 * It runs as plain CGI (FCGX_IsCGI: fd 0 is not a socket; the request is the process environment, the answer goes
 * to stdout) or as FastCGI on the listening socket spawn-fcgi leaves on fd 0, with FORWARD_THREADS threads (16 by
 * default), each holding its own FCGX_Request.
 *
 * The accept lock: libfcgi's threaded example holds a mutex around all of FCGX_Accept_r. With nginx's upstream
 * keepalive that serialises every thread behind one idle kept connection (FCGX_Accept_r then blocks reading that
 * connection while holding the lock). So the lock is taken only when the request object holds no open connection
 * (ipcFd < 0), i.e. only around a real accept. (On Linux the lock is not needed at all: the kernel hands each
 * connection to one accept() caller. It is kept because issue 6 asks for this variant, and it costs nothing
 * measurable: the lock is uncontended unless threads are idle anyway.)
 *
 * Build (dynamic, as a Debian user would):  cc -O2 -Wall -Wextra -o forward forward.c -lfcgi -lpthread
 */
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_PROVIDER 64

#define MAX_PRESETS 16

/* The presets from FORWARD_PRESETS, read once at start (load_presets), as oauth-forward-cgi names them. */
static struct preset {
    const char *name;
    const char *base; /* the provider and the query follow */
} presets[MAX_PRESETS];
static size_t preset_count;

/* Splits a copy of FORWARD_PRESETS ("sandbox-us=https://... production-us=https://...") into `presets`. */
static void load_presets(void) {
    const char *text = getenv("FORWARD_PRESETS");
    char *copy = text ? strdup(text) : NULL;
    for (char *entry = copy ? strtok(copy, " ") : NULL; entry && preset_count < MAX_PRESETS;
         entry = strtok(NULL, " ")) {
        char *equals = strchr(entry, '=');
        if (!equals) continue;
        *equals = '\0';
        presets[preset_count].name = entry;
        presets[preset_count].base = equals + 1;
        preset_count++;
    }
}

/* A growable byte buffer for the answer: the query has no fixed bound, so neither has the Location header. */
struct buffer {
    char *data;
    size_t length, capacity;
};

static int append(struct buffer *b, const char *bytes, size_t count) {
    if (b->length + count > b->capacity) {
        size_t capacity = b->capacity ? b->capacity : 512;
        while (capacity < b->length + count) capacity *= 2;
        char *grown = realloc(b->data, capacity);
        if (!grown) return -1;
        b->data = grown;
        b->capacity = capacity;
    }
    memcpy(b->data + b->length, bytes, count);
    b->length += count;
    return 0;
}

static int append_string(struct buffer *b, const char *s) { return append(b, s, strlen(s)); }

/* The provider, or NULL: PATH_INFO must be exactly "/" and 1 to 64 of [a-z0-9_]. */
static const char *provider_of(const char *path_info) {
    if (!path_info || path_info[0] != '/') return NULL;
    const char *p = path_info + 1;
    size_t n = 0;
    for (; p[n]; n++) {
        char c = p[n];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return NULL;
        if (n == MAX_PROVIDER) return NULL;
    }
    return n > 0 ? p : NULL;
}

static int has_control_byte(const char *query) {
    for (const unsigned char *q = (const unsigned char *)query; *q; q++)
        if (*q < 0x20 || *q == 0x7f) return 1;
    return 0;
}

/* An error or reachability answer: a fixed text, never anything from the request but a validated provider. */
static void error_answer(struct buffer *out, int include_body, const char *status, const char *extra,
                         const char *text) {
    char length[24];
    snprintf(length, sizeof length, "%zu", strlen(text));
    append_string(out, "Status: ");
    append_string(out, status);
    append_string(out, "\r\n");
    append_string(out, extra);
    append_string(out, "Content-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n"
                       "Referrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff\r\nContent-Length: ");
    append_string(out, length);
    append_string(out, "\r\n\r\n");
    if (include_body) append_string(out, text);
}

/*
 * The whole job: the request's variables in, the CGI answer and the log line out. `param` looks a variable up in
 * the request (getenv for CGI, FCGX_GetParam for FastCGI); `process_target` is the process's own target.
 */
typedef const char *(*lookup_fn)(const char *name, void *context);

static void respond(lookup_fn param, void *context, const char *process_target, struct buffer *out,
                    char *log, size_t log_size) {
    const char *method = param("REQUEST_METHOD", context);
    const char *path_info = param("PATH_INFO", context);
    const char *query = param("QUERY_STRING", context);
    const char *target = param("OAUTH_FORWARD_TARGET", context);
    if (!method) method = "GET";
    if (!query) query = "";
    if (!target) target = process_target;
    int is_head = strcmp(method, "HEAD") == 0;

    const struct preset *preset = NULL;
    for (size_t i = 0; target && i < preset_count; i++)
        if (strcmp(target, presets[i].name) == 0) preset = &presets[i];
    const char *provider = provider_of(path_info);
    /* The method is logged only when it is one we know, so the log line cannot carry arbitrary bytes. */
    const char *logged_method = is_head ? "HEAD" : strcmp(method, "GET") == 0 ? "GET"
                                               : strcmp(method, "POST") == 0 ? "POST" : "-";
    size_t query_bytes = strlen(query);

    const char *status, *reason = NULL;
    if (!preset) {
        status = "500 Internal Server Error";
        reason = "OAUTH_FORWARD_TARGET is not a preset";
        error_answer(out, !is_head, status, "", "The OAuth callback forwarder is not configured correctly.\n");
    } else if (logged_method[0] == '-') {
        status = "405 Method Not Allowed";
        reason = "method not allowed";
        error_answer(out, 1, status, "Allow: GET, HEAD, POST\r\n", "Method not allowed.\n");
    } else if (!provider) {
        status = "404 Not Found";
        reason = "path is not /{provider} with provider of 1 to 64 [a-z0-9_]";
        error_answer(out, !is_head, status, "", "Unknown OAuth callback.\n");
    } else if (query_bytes == 0 && strcmp(method, "POST") != 0) {
        /* A GET or HEAD without a query: a reachability check, answered 200 with a text naming the provider. */
        char text[128];
        snprintf(text, sizeof text, "This is the OAuth callback endpoint for %s.\n", provider);
        status = "200 OK";
        error_answer(out, !is_head, status, "", text);
    } else if (has_control_byte(query)) {
        status = "400 Bad Request";
        reason = "control byte in query";
        error_answer(out, !is_head, status, "", "Malformed OAuth callback.\n");
    } else {
        status = "307 Temporary Redirect";
        append_string(out, "Location: ");
        append_string(out, preset->base);
        append_string(out, provider);
        if (query_bytes > 0) {
            append(out, "?", 1);
            append(out, query, query_bytes);
        }
        append_string(out, "\r\nStatus: 307 Temporary Redirect\r\nCache-Control: no-store\r\n"
                           "Referrer-Policy: no-referrer\r\nContent-Length: 0\r\n\r\n");
    }

    int n = snprintf(log, log_size, "app=forward-c method=%s provider=%s status=%.3s target=%s query_bytes=%zu",
                     logged_method, provider ? provider : "-", status, preset ? preset->name : "-", query_bytes);
    if (reason && n > 0 && (size_t)n < log_size) n += snprintf(log + n, log_size - n, " reason=\"%s\"", reason);
    if (n < 0 || (size_t)n >= log_size - 1) n = (int)log_size - 2;
    log[n] = '\n';
    log[n + 1] = '\0';
}

/* Writes all of it, across short writes; the log line and the CGI answer each go out in one piece. */
static int write_all(int fd, const char *bytes, size_t count) {
    while (count > 0) {
        ssize_t n = write(fd, bytes, count);
        if (n <= 0) return -1;
        bytes += n;
        count -= (size_t)n;
    }
    return 0;
}

/* ---- Plain CGI ---- */

static const char *env_lookup(const char *name, void *context) {
    (void)context;
    return getenv(name);
}

static int serve_cgi(void) {
    struct buffer out = {0};
    char log[256];
    respond(env_lookup, NULL, NULL, &out, log, sizeof log);
    /* A body (a form_post callback) is left unread: Apache's mod_cgid copes with it for short bodies, and the
     * benchmark sends GETs. */
    int failed = write_all(1, out.data, out.length);
    write_all(2, log, strlen(log));
    free(out.data);
    return failed ? 1 : 0;
}

/* ---- FastCGI ---- */

static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *process_target; /* read once, before the threads start */

static const char *fcgi_lookup(const char *name, void *context) {
    return FCGX_GetParam(name, *(FCGX_ParamArray *)context);
}

static void *serve_fastcgi(void *unused) {
    (void)unused;
    FCGX_Request request;
    struct buffer out = {0};
    char log[256], discard[4096];
    FCGX_InitRequest(&request, 0 /* spawn-fcgi's listening socket */, 0);

    for (;;) {
        /* Lock only for a new connection; a kept one is this thread's alone (see the comment at the top). */
        int locked = request.ipcFd < 0;
        if (locked) pthread_mutex_lock(&accept_lock);
        int accepted = FCGX_Accept_r(&request);
        if (locked) pthread_mutex_unlock(&accept_lock);
        if (accepted < 0) break;

        out.length = 0;
        respond(fcgi_lookup, &request.envp, process_target, &out, log, sizeof log);
        /* Read any body to its end, so a kept connection is left at a record boundary. */
        while (FCGX_GetStr(discard, sizeof discard, request.in) > 0) {
        }
        FCGX_PutStr(out.data, (int)out.length, request.out);
        /* The process's stderr, not FCGI_STDERR: nginx logs that stream with the request line, query included. */
        write_all(2, log, strlen(log));
        FCGX_Finish_r(&request);
    }
    free(out.data);
    return NULL;
}

int main(void) {
    load_presets();
    if (FCGX_IsCGI()) return serve_cgi();

    if (FCGX_Init() != 0) return 1;
    process_target = getenv("OAUTH_FORWARD_TARGET");
    const char *threads_text = getenv("FORWARD_THREADS");
    int threads = threads_text ? atoi(threads_text) : 16;
    if (threads < 1 || threads > 1024) threads = 16;

    /* Threads blocked in accept never see libfcgi's SIGTERM flag, so the process would not stop. Block SIGTERM and
     * SIGINT in every thread (the mask is inherited) and let the main thread wait for them and exit. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    int started = 0;
    for (int i = 0; i < threads; i++) {
        pthread_t id;
        if (pthread_create(&id, NULL, serve_fastcgi, NULL) == 0) {
            pthread_detach(id);
            started++;
        }
    }
    if (started == 0) return 1;
    int signal_number;
    sigwait(&stop, &signal_number);
    return 0;
}
