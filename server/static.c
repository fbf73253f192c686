/*
 * static.c — the web UI's files at every path outside /api: index.html at "/" with the
 * server's token in <meta name="eider-token"> when it listens on loopback (elsewhere ""
 * there: the page asks its user for the token) and a fresh nonce for its import map (the
 * Content-Security-Policy allows scripts from the server itself and that nonce only),
 * and each file of the table tools/embed.c generates (ui/, and /vendor/ for the npm
 * libraries), looked up by bisection. EIDER_UI_DIR=DIR serves ui/'s files from DIR
 * instead, to edit the pages without rebuilding. No path can name a file outside the
 * table or DIR: "..", "//" and '\' are refused, and a file from DIR must resolve
 * (realpath) inside DIR.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <microhttpd.h>

#include "server.h"
#include "static.h"

#define DISK_FILE_MAX (16 * 1024 * 1024)
#define TOKEN_MARK "<meta name=\"eider-token\" content=\""
#define NONCE_MARK "<script type=\"importmap\""

static const char csp[] =
    "default-src 'self'; script-src 'self' 'nonce-%s'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

static int by_path(const void *key, const void *elem)
{
    return strcmp(key, ((const srv_file *)elem)->path);
}

const srv_file *srv_builtin_file(const char *path)
{
    return bsearch(path, srv_builtin_files, srv_builtin_count, sizeof(srv_file), by_path);
}

/* Whether a (decoded) URL path may name a UI file: printable, from '/', no way up. */
static int path_is_safe(const char *path)
{
    for (const char *c = path; *c; c++)
        if (*c < 0x21 || *c > 0x7e || *c == '\\')
            return 0;
    return path[0] == '/' && !strstr(path, "..") && !strstr(path, "//")
        && strlen(path) < PATH_MAX / 2;
}

/* A file's bytes (NUL-terminated) in *data, malloc'd; -1 when it cannot be read. */
static int read_file(const char *name, char **data, size_t *size)
{
    FILE *f = fopen(name, "rb");
    struct stat st;
    int rc = -1;
    *data = NULL;
    if (!f || fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || st.st_size > DISK_FILE_MAX)
        goto out;
    *size = (size_t)st.st_size;
    *data = malloc(*size + 1);
    if (!*data || fread(*data, 1, *size, f) != *size)
        goto out;
    (*data)[*size] = '\0';
    rc = 0;
out:
    if (f)
        fclose(f);
    if (rc) {
        free(*data);
        *data = NULL;
    }
    return rc;
}

/* path (safe) from EIDER_UI_DIR when it resolves inside it; -1 otherwise. */
static int read_from_dir(const char *dir, const char *path, char **data, size_t *size)
{
    char root[PATH_MAX], name[PATH_MAX * 2], real[PATH_MAX];
    size_t n;
    if (!realpath(dir, root))
        return -1;
    snprintf(name, sizeof(name), "%s%s", root, path);
    if (!realpath(name, real))
        return -1;
    n = strlen(root);
    if (strncmp(real, root, n) != 0 || real[n] != '/')
        return -1;
    return read_file(real, data, size);
}

/* The whole of text with the first "mark" followed by insert; NULL when out of memory.
 * text stays as it is when mark is not in it. */
static char *splice(const char *text, const char *mark, const char *insert)
{
    const char *at = strstr(text, mark);
    size_t before = at ? (size_t)(at - text) + strlen(mark) : strlen(text);
    size_t len = strlen(text) + (at ? strlen(insert) : 0);
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    memcpy(out, text, before);
    if (at) {
        memcpy(out + before, insert, strlen(insert));
        memcpy(out + before + strlen(insert), text + before, strlen(text + before) + 1);
    } else {
        out[before] = '\0';
    }
    return out;
}

/* s with & < > " ' as HTML entities (for an attribute); NULL when out of memory. */
static char *html_escape(const char *s)
{
    char *out = malloc(strlen(s) * 6 + 1), *o = out;
    if (!out)
        return NULL;
    for (; *s; s++) {
        const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;"
                      : *s == '"' ? "&quot;" : *s == '\'' ? "&#39;" : NULL;
        size_t n = e ? strlen(e) : 1;
        memcpy(o, e ? e : s, n);
        o += n;
    }
    *o = '\0';
    return out;
}

static int make_nonce(char hex[33])
{
    unsigned char raw[16];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
        return -1;
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    return 0;
}

static struct MHD_Response *text_response(const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
                                                             MHD_RESPMEM_MUST_COPY);
    if (r)
        MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    return r;
}

/* index.html (template, NUL-terminated) with the token (on loopback only: anyone who
 * can reach another address could read the page) and a nonce in place. */
static struct MHD_Response *index_response(const srv *s, const char *template)
{
    char nonce[33], attr[64], policy[sizeof(csp) + 40];
    char *token = html_escape(s->loopback ? s->token : ""), *with_token = NULL, *page = NULL;
    struct MHD_Response *r = NULL;
    if (!token || make_nonce(nonce))
        goto out;
    snprintf(attr, sizeof(attr), " nonce=\"%s\"", nonce);
    with_token = splice(template, TOKEN_MARK, token);
    page = with_token ? splice(with_token, NONCE_MARK, attr) : NULL;
    if (!page)
        goto out;
    r = MHD_create_response_from_buffer(strlen(page), page, MHD_RESPMEM_MUST_FREE);
    if (!r)
        goto out;
    page = NULL;
    snprintf(policy, sizeof(policy), csp, nonce);
    MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
    MHD_add_response_header(r, "Content-Security-Policy", policy);
    MHD_add_response_header(r, "Cache-Control", "no-store");
out:
    free(token);
    free(with_token);
    free(page);
    return r;
}

/* The file at path, from EIDER_UI_DIR (not /vendor/) or the table; NULL with *status
 * 404 when there is none. */
static struct MHD_Response *file_response(const srv *s, const char *path, unsigned *status)
{
    const char *dir = getenv("EIDER_UI_DIR");
    const srv_file *f = NULL;
    char *data = NULL;
    size_t size = 0;
    *status = 404;
    if (!path_is_safe(path) || !srv_content_type(path))
        return NULL;
    if (dir && *dir && strncmp(path, "/vendor/", 8) != 0) {
        if (read_from_dir(dir, path, &data, &size))
            return NULL;
    } else if (!(f = srv_builtin_file(path))) {
        return NULL;
    }
    *status = 200;
    if (strcmp(path, "/index.html") == 0) {
        struct MHD_Response *r = index_response(s, data ? data : (const char *)f->data);
        free(data);
        return r;
    }
    struct MHD_Response *r = data
        ? MHD_create_response_from_buffer(size, data, MHD_RESPMEM_MUST_FREE)
        : MHD_create_response_from_buffer(f->size, (void *)f->data, MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(data);
        return NULL;
    }
    MHD_add_response_header(r, "Content-Type", srv_content_type(path));
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    return r;
}

struct MHD_Response *srv_static(const srv *s, const char *method, const char *path,
                                unsigned *status)
{
    char msg[600];
    struct MHD_Response *r = NULL;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        *status = 405;
        snprintf(msg, sizeof(msg), "method '%.32s' is not allowed on the UI's files: they are "
                 "read with GET\n", method);
        r = text_response(msg);
        if (r)
            MHD_add_response_header(r, "Allow", "GET, HEAD");
    } else {
        r = file_response(s, strcmp(path, "/") == 0 ? "/index.html" : path, status);
        if (!r && *status == 404) {
            snprintf(msg, sizeof(msg), "no such file '%.400s' in Eider's UI: the pages are "
                     "at /\n", path);
            r = text_response(msg);
        }
    }
    if (r) {
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
        MHD_add_response_header(r, "X-Frame-Options", "DENY");
    }
    return r;
}
