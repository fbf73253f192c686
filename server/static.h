/*
 * static.h — the web UI's files: a table generated at build time (tools/embed.c) from
 * ui/ and the vendored npm libraries (/vendor/), sorted by URL path, and the handler that
 * serves them (static.c).
 */
#ifndef EIDER_SERVER_STATIC_H
#define EIDER_SERVER_STATIC_H

#include <stddef.h>

typedef struct srv_file {
    const char *path;               /* the URL path, "/app.js" */
    const char *type;               /* its Content-Type */
    const unsigned char *data;      /* its bytes (NUL-terminated after size) */
    size_t size;
} srv_file;

/* The generated table, sorted by path (strcmp), and its length. */
extern const srv_file srv_builtin_files[];
extern const size_t srv_builtin_count;

/* The Content-Type for a file name's ending, or NULL when it is not one the UI uses. */
const char *srv_content_type(const char *path);

/* The embedded file at the URL path, or NULL. */
const srv_file *srv_builtin_file(const char *path);

#endif
