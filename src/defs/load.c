/*
 * load.c — loading definitions from a file: a built library (dlopen) or a C source
 * file, compiled with the system compiler into a cache keyed by the source's hash, so
 * it is compiled again only when it changes.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "defs.h"

extern char **environ;

void eider__defs_close_libraries(eider_defs *defs)
{
    for (size_t i = 0; i < defs->n_libraries; i++) {
        if (defs->libraries[i].handle)
            dlclose(defs->libraries[i].handle);
        free(defs->libraries[i].path);
    }
    free(defs->libraries);
    defs->libraries = NULL;
    defs->n_libraries = defs->cap_libraries = 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

static int read_file(const char *path, eider__buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        eider__buf_add(out, chunk, n);
    int bad = ferror(f);
    fclose(f);
    return bad ? -1 : 0;
}

/* The cache folder and those it makes on the way (.eider) are private, as the store
 * beside it: 0700 less the umask's bits. */
static int mkdir_p(const char *path)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
        return -1;
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0700) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(tmp, 0700) && errno != EEXIST ? -1 : 0;
}

/* Take from the file at path every permission bit beyond the owner's read and write:
 * a compiled library needs no more to be loaded. The umask's bits stay off. */
static void make_owner_only(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & 07177))
        chmod(path, st.st_mode & 0600);
}

/* The folder holding eider.h: $EIDER_INCLUDE, the installed prefix beside the running
 * binary (bin/../include), or the source tree this library was built from. */
static void include_dirs(eider__buf *flags_out)
{
    const char *env = getenv("EIDER_INCLUDE");
    char exe[PATH_MAX], probe[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (env && *env) {
        eider__buf_printf(flags_out, "-I%s", env);
        return;
    }
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(probe, sizeof(probe), "%s/../include/duckdb.h", exe);
            int has_duckdb = access(probe, R_OK) == 0;
            snprintf(probe, sizeof(probe), "%s/../include/eider.h", exe);
            if (has_duckdb && access(probe, R_OK) == 0) {
                snprintf(probe, sizeof(probe), "%s/../include", exe);
                eider__buf_printf(flags_out, "-I%s", probe);
                return;
            }
        }
    }
    eider__buf_printf(flags_out, "-I%s\n-I%s", EIDER_SOURCE_INCLUDE_DIR, EIDER_DUCKDB_INCLUDE_DIR);
}

/* Run argv, its stdout and stderr captured into out. Returns the exit status, or -1. */
static int run_captured(char *const argv[], eider__buf *out)
{
    int pipefd[2], status = -1;
    pid_t pid;
    posix_spawn_file_actions_t fa;
    if (pipe(pipefd))
        return -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (rc == 0) {
        char chunk[4096];
        ssize_t n;
        while ((n = read(pipefd[0], chunk, sizeof(chunk))) > 0)
            eider__buf_add(out, chunk, (size_t)n);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    } else {
        eider__buf_printf(out, "cannot run '%s': %s", argv[0], strerror(rc));
    }
    close(pipefd[0]);
    return rc ? -1 : (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static const char *compiler(void)
{
    const char *cc = getenv("CC");
    return cc && *cc ? cc : "cc";
}

/* Compile source into so. Flags are one per line in flags. */
static int compile(eider_defs *defs, const char *source, const char *so, const char *flags)
{
    char *argv[32];
    size_t argc = 0;
    char tmp_so[PATH_MAX + 128], deps[PATH_MAX + 128];
    char *flag_copy = eider__xstrdup(flags), *save = NULL;
    eider__buf out = { 0 };
    snprintf(tmp_so, sizeof(tmp_so), "%s.%d.tmp", so, (int)getpid());
    snprintf(deps, sizeof(deps), "%s.d", so);
    argv[argc++] = (char *)compiler();
    for (char *f = strtok_r(flag_copy, "\n", &save); f && argc < 24; f = strtok_r(NULL, "\n", &save))
        argv[argc++] = f;
    argv[argc++] = "-MMD";     /* the headers it includes, for staleness */
    argv[argc++] = "-MF";
    argv[argc++] = deps;
    argv[argc++] = "-o";
    argv[argc++] = tmp_so;
    argv[argc++] = (char *)source;
    argv[argc] = NULL;
    int status = run_captured(argv, &out), rc = EIDER_OK;
    if (status < 0 && !strncmp(eider__buf_str(&out), "cannot run", 10)) {
        rc = eider__defs_error(defs, EIDER_ECOMPILE,
            "definitions '%s' need a C compiler, but %s: install one (apt-get install gcc) "
            "or name yours in $CC", source, eider__buf_str(&out));
    } else if (status != 0) {
        rc = eider__defs_error(defs, EIDER_ECOMPILE,
            "definitions '%s' failed to compile with '%s':\n%s", source, argv[0],
            eider__buf_str(&out));
        unlink(tmp_so);
    } else {
        make_owner_only(tmp_so);
        make_owner_only(deps);
        if (rename(tmp_so, so))
            rc = eider__defs_error(defs, EIDER_EIO, "cannot write '%s': %s", so, strerror(errno));
        else
            eider__buf_puts(&defs->warnings, eider__buf_str(&out));
    }
    eider__buf_release(&out);
    free(flag_copy);
    return rc;
}

static int newer_than(const char *path, const struct stat *than)
{
    struct stat st;
    if (stat(path, &st))
        return 1;    /* a header that went away: compile again to find out */
    return st.st_mtim.tv_sec > than->st_mtim.tv_sec ||
           (st.st_mtim.tv_sec == than->st_mtim.tv_sec && st.st_mtim.tv_nsec > than->st_mtim.tv_nsec);
}

/* The next path of a make-style dependency list at *p into path, unescaped: a
 * backslash before a space, a tab or '#' keeps that character in the path, "$$" is a
 * '$', a backslash before a newline continues the line (a separator); other
 * whitespace separates paths. Returns 0 when no path is left. */
static int next_dep(const char **p, eider__buf *path)
{
    const char *s = *p;
    eider__buf_reset(path);
    while (*s == ' ' || *s == '\t' || *s == '\n' || (*s == '\\' && s[1] == '\n'))
        s += *s == '\\' ? 2 : 1;
    for (; *s && *s != ' ' && *s != '\t' && *s != '\n'; s++) {
        if (*s == '\\' && s[1] == '\n')
            break;
        if ((*s == '\\' && (s[1] == ' ' || s[1] == '\t' || s[1] == '#')) ||
            (*s == '$' && s[1] == '$'))
            s++;
        eider__buf_add(path, s, 1);
    }
    *p = s;
    return path->len > 0;
}

/* Whether a header the cached library was compiled with (its -MMD list: the project's
 * own headers) changed after it was built. The source's content is in the cache key
 * already, so its mtime does not count. */
static int headers_changed(const char *so, const char *source)
{
    char deps_path[PATH_MAX + 128];
    eider__buf deps = { 0 }, path = { 0 };
    struct stat built;
    int changed = 0;
    snprintf(deps_path, sizeof(deps_path), "%s.d", so);
    if (stat(so, &built) || read_file(deps_path, &deps))
        goto out;
    /* the target, then ": " (a ':' in the target's path is escaped or not followed by
     * a space) */
    const char *p = strstr(eider__buf_str(&deps), ": ");
    if (!p)
        goto out;
    for (p += 1; !changed && next_dep(&p, &path);)
        changed = strcmp(eider__buf_str(&path), source) != 0 && newer_than(eider__buf_str(&path), &built);
out:
    eider__buf_release(&deps);
    eider__buf_release(&path);
    return changed;
}

#define CACHE_KEEP 8     /* libraries kept per source, so that undoing an edit is instant */

typedef struct cached {
    char name[NAME_MAX + 1];
    struct timespec mtime;
} cached;

static int newest_first(const void *a, const void *b)
{
    const struct timespec *x = &((const cached *)a)->mtime, *y = &((const cached *)b)->mtime;
    if (x->tv_sec != y->tv_sec)
        return x->tv_sec < y->tv_sec ? 1 : -1;
    return x->tv_nsec < y->tv_nsec ? 1 : x->tv_nsec > y->tv_nsec ? -1 : 0;
}

/* Whether name is "<base>-<16 hex digits>.so". */
static int is_cached_library(const char *name, const char *base)
{
    size_t lb = strlen(base);
    return strncmp(name, base, lb) == 0 && name[lb] == '-' && strlen(name) == lb + 20 &&
           ends_with(name, ".so");
}

/* Keep the CACHE_KEEP newest libraries compiled from `base` in dir; remove the rest and
 * their .d files. */
static void trim_cache(const char *dir, const char *base)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    cached *found = NULL;
    size_t n = 0, cap = 0;
    char path[PATH_MAX + NAME_MAX + 8];
    struct stat st;
    while (d && (e = readdir(d))) {
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (!is_cached_library(e->d_name, base) || stat(path, &st))
            continue;
        EIDER__GROW(found, cap, n + 1);
        snprintf(found[n].name, sizeof(found[n].name), "%s", e->d_name);
        found[n++].mtime = st.st_mtim;
    }
    if (d)
        closedir(d);
    if (n > CACHE_KEEP)
        qsort(found, n, sizeof(*found), newest_first);
    for (size_t i = CACHE_KEEP; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, found[i].name);
        unlink(path);
        snprintf(path, sizeof(path), "%s/%s.d", dir, found[i].name);
        unlink(path);
    }
    free(found);
}

/* The default cache folder: .eider/cache beside the source. */
static void default_cache(const char *source, char *out, size_t size)
{
    const char *slash = strrchr(source, '/');
    if (slash)
        snprintf(out, size, "%.*s/.eider/cache", (int)(slash - source), source);
    else
        snprintf(out, size, ".eider/cache");
}

static int compile_cached(eider_defs *defs, const char *source, const char *cache_dir,
                          char *so, size_t so_size)
{
    eider__buf text = { 0 }, flags = { 0 }, key = { 0 };
    char dir[PATH_MAX];
    int rc = EIDER_OK;
    if (read_file(source, &text)) {
        rc = eider__defs_error(defs, EIDER_EIO, "cannot read definitions '%s': %s", source,
                               strerror(errno));
        goto out;
    }
    eider__buf_printf(&flags, "-shared\n-fPIC\n-O2\n-g\n-std=gnu11\n-Wall\n");
    include_dirs(&flags);
    /* the cache key: the source, the flags, the compiler and the API version */
    eider__buf_printf(&key, "%s\n%s\n%d", flags.data, compiler(), EIDER_API_VERSION);
    uint64_t h = eider__hash(EIDER__HASH_START, text.data, text.len) ^
                 (eider__hash(EIDER__HASH_START, key.data, key.len) * 31);
    if (cache_dir)
        snprintf(dir, sizeof(dir), "%s", cache_dir);
    else
        default_cache(source, dir, sizeof(dir));
    if (mkdir_p(dir)) {
        rc = eider__defs_error(defs, EIDER_EIO, "cannot create cache folder '%s': %s", dir,
                               strerror(errno));
        goto out;
    }
    const char *base = strrchr(source, '/');
    snprintf(so, so_size, "%s/%s-%016llx.so", dir, base ? base + 1 : source, (unsigned long long)h);
    if (access(so, R_OK) != 0 || headers_changed(so, source)) {
        rc = compile(defs, source, so, flags.data);
        if (!rc)
            trim_cache(dir, base ? base + 1 : source);
    }
out:
    eider__buf_release(&text);
    eider__buf_release(&flags);
    eider__buf_release(&key);
    return rc;
}

/* The file at path as l would remember it; -1 with errno when it cannot be read. */
static int identify(const char *path, eider__library *l)
{
    struct stat st;
    if (stat(path, &st))
        return -1;
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    l->size = st.st_size;
    l->mtime = st.st_mtim;
    return 0;
}

static int same_file(const eider__library *a, const eider__library *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* The libraries this process dlopen()ed by their own path, and the file each was then.
 * dlopen() gives back the library it has for a path it knows, even once the file has
 * been built again: a library rebuilt in place (eider dev -l) is loaded from a copy of
 * its own instead (private_copy()). */
static pthread_mutex_t opened_lock = PTHREAD_MUTEX_INITIALIZER;
static eider__library *opened;
static size_t n_opened, cap_opened;

static void note_opened(const char *real, const eider__library *now)
{
    pthread_mutex_lock(&opened_lock);
    size_t i = 0;
    while (i < n_opened && strcmp(opened[i].path, real) != 0)
        i++;
    if (i == n_opened) {
        EIDER__GROW(opened, cap_opened, n_opened + 1);
        opened[n_opened++].path = eider__xstrdup(real);
    }
    char *path = opened[i].path;
    opened[i] = *now;
    opened[i].path = path;
    opened[i].handle = NULL;
    pthread_mutex_unlock(&opened_lock);
}

/* Whether dlopen(real) would give a library loaded from another file than now. */
static int loaded_stale(const char *real, const eider__library *now)
{
    void *h = dlopen(real, RTLD_LAZY | RTLD_NOLOAD);
    int stale = h != NULL;
    if (!h)
        return 0;
    dlclose(h);
    pthread_mutex_lock(&opened_lock);
    for (size_t i = 0; i < n_opened; i++)
        if (strcmp(opened[i].path, real) == 0)
            stale = !same_file(&opened[i], now);
    pthread_mutex_unlock(&opened_lock);
    return stale;
}

static int copy_file(const char *from, const char *to)
{
    eider__buf bytes = { 0 };
    char tmp[PATH_MAX + NAME_MAX + 64];
    int rc = -1;
    snprintf(tmp, sizeof(tmp), "%s.%d.tmp", to, (int)getpid());
    FILE *f = read_file(from, &bytes) == 0 ? fopen(tmp, "wb") : NULL;
    if (f) {
        rc = fwrite(bytes.data, 1, bytes.len, f) == bytes.len ? 0 : -1;
        rc |= fclose(f);
        if (!rc)
            rc = rename(tmp, to);
        if (rc)
            unlink(tmp);
    }
    eider__buf_release(&bytes);
    return rc;
}

/* A copy of the library real (the file now), in the compile cache beside it, named by
 * the file's identity: its path in out. */
static int private_copy(const char *real, const eider__library *now, char *out, size_t size)
{
    char dir[PATH_MAX];
    uint64_t id[5] = { (uint64_t)now->dev, (uint64_t)now->ino, (uint64_t)now->size,
                       (uint64_t)now->mtime.tv_sec, (uint64_t)now->mtime.tv_nsec };
    const char *base = strrchr(real, '/') + 1;
    default_cache(real, dir, sizeof(dir));
    snprintf(out, size, "%s/%s-%016llx.so", dir, base,
             (unsigned long long)eider__hash(EIDER__HASH_START, (const char *)id, sizeof(id)));
    if (access(out, R_OK) == 0)
        return 0;
    if (mkdir_p(dir) || copy_file(real, out))
        return -1;
    trim_cache(dir, base);
    return 0;
}

/* Why the library at so cannot be used: its API version or its entry point; 0 if it can. */
static int check_library(eider_defs *defs, void *h, const char *so)
{
    const int *version = dlsym(h, "eider_definitions_api_version");
    if (!version)
        return eider__defs_error(defs, EIDER_EAPIVERSION, "definitions '%s' do not say which Eider "
            "API they were built for: build them with #include <eider.h> of Eider %s", so,
            EIDER_VERSION);
    if (*version > EIDER_API_VERSION)
        return eider__defs_error(defs, EIDER_EAPIVERSION, "definitions '%s' were built against "
            "Eider API version %d, newer than this Eider's version %d: upgrade Eider, or "
            "rebuild them against this Eider's eider.h", so, *version, EIDER_API_VERSION);
    if (*version < EIDER__OLDEST_API_VERSION)
        return eider__defs_error(defs, EIDER_EAPIVERSION, "definitions '%s' declare Eider API "
            "version %d, which no Eider has: rebuild them with #include <eider.h> of Eider %s",
            so, *version, EIDER_VERSION);
    if (!dlsym(h, "eider_definitions"))
        return eider__defs_error(defs, EIDER_ELOAD, "definitions '%s' have no function "
            "'void eider_definitions(eider_defs *defs)': define it", so);
    return EIDER_OK;
}

/* Open the library so, from a copy when this process has another build of it loaded:
 * its handle, with *lib filled in; or NULL with the message set. */
static void *open_library(eider_defs *defs, const char *so, const eider__library *was,
                          eider__library *lib)
{
    char path[PATH_MAX + 2], real[PATH_MAX], copy[PATH_MAX + NAME_MAX + 32];
    const char *use = real;
    /* dlopen searches the library path for a name without a slash */
    snprintf(path, sizeof(path), "%s%s", strchr(so, '/') ? "" : "./", so);
    if (!realpath(path, real) || identify(real, lib)) {
        eider__defs_error(defs, EIDER_ELOAD, "cannot load definitions '%s': %s", so, strerror(errno));
        return NULL;
    }
    if (was && !same_file(lib, was)) {
        eider__defs_error(defs, EIDER_ELOAD, "the definitions library '%s' changed after it was "
            "loaded: load the definitions again (eider dev reloads them by itself)", so);
        return NULL;
    }
    int copied = loaded_stale(real, lib);
    if (copied && (private_copy(real, lib, copy, sizeof(copy)) || identify(copy, lib))) {
        eider__defs_error(defs, EIDER_ELOAD, "cannot load definitions '%s' again: it was built "
            "again since it was loaded, and a copy in its folder's .eider/cache cannot be "
            "made: %s", so, strerror(errno));
        return NULL;
    }
    use = copied ? copy : real;
    void *h = dlopen(use, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        eider__defs_error(defs, EIDER_ELOAD, "cannot load definitions '%s': %s", so, dlerror());
        return NULL;
    }
    if (!copied)
        note_opened(real, lib);
    lib->path = eider__xstrdup(use);
    return h;
}

/* A project file (eider.yaml) as a library without code: remembered as the libraries
 * are, so that a run worker reads it again by path (was: the file it must still be). */
static int load_project(eider_defs *defs, const char *path, const eider__library *was)
{
    eider__library lib = { 0 };
    char real[PATH_MAX];
    if (!realpath(path, real) || identify(real, &lib))
        return eider__defs_error(defs, EIDER_ELOAD, "cannot read the project file '%s': %s",
                                 path, strerror(errno));
    if (was && !same_file(&lib, was))
        return eider__defs_error(defs, EIDER_ELOAD, "the project file '%s' changed after it was "
            "read: load the definitions again (eider dev reloads them by itself)", path);
    lib.path = eider__xstrdup(real);
    EIDER__GROW(defs->libraries, defs->cap_libraries, defs->n_libraries + 1);
    defs->libraries[defs->n_libraries++] = lib;
    defs->added_outside |= defs->n_assets != defs->lib_assets ||
                           defs->n_resources != defs->lib_resources;
    int rc = eider_project(defs, real);
    defs->lib_assets = defs->n_assets;
    defs->lib_resources = defs->n_resources;
    return rc;
}

int eider__defs_load_library(eider_defs *defs, const char *so, const eider__library *was)
{
    eider__library lib = { 0 };
    if (ends_with(so, ".yaml") || ends_with(so, ".yml"))
        return load_project(defs, so, was);
    void *h = open_library(defs, so, was, &lib);
    int rc = h ? check_library(defs, h, so) : EIDER_ELOAD;
    if (rc) {
        if (h)
            dlclose(h);
        free(lib.path);
        return rc;
    }
    lib.handle = h;
    EIDER__GROW(defs->libraries, defs->cap_libraries, defs->n_libraries + 1);
    defs->libraries[defs->n_libraries++] = lib;
    defs->added_outside |= defs->n_assets != defs->lib_assets ||
                           defs->n_resources != defs->lib_resources;
    defs->caller_api = *(const int *)dlsym(h, "eider_definitions_api_version");
    ((void (*)(eider_defs *))dlsym(h, "eider_definitions"))(defs);   /* reads its structs */
    defs->caller_api = 0;                                          /* at its version's size */
    defs->lib_assets = defs->n_assets;
    defs->lib_resources = defs->n_resources;
    return EIDER_OK;
}

int eider__defs_from_libraries(const eider_defs *defs)
{
    return defs->n_libraries && !defs->added_outside && defs->n_assets == defs->lib_assets &&
           defs->n_resources == defs->lib_resources;
}

int eider_defs_load(eider_defs *defs, const char *path, const char *cache_dir)
{
    char so[PATH_MAX + 64];
    int rc;
    if (!defs || !path)
        return EIDER_EINVAL;
    eider__buf_reset(&defs->warnings);
    if (access(path, R_OK) != 0)
        return eider__defs_error(defs, EIDER_EIO, "cannot read definitions '%s': %s", path,
                                 strerror(errno));
    if (ends_with(path, ".c")) {     /* (.so and .yaml, eider.yaml, load as they are) */
        rc = compile_cached(defs, path, cache_dir, so, sizeof(so));
        if (rc)
            return rc;
        rc = eider__defs_load_library(defs, so, NULL);
    } else {
        rc = eider__defs_load_library(defs, path, NULL);
    }
    return rc ? rc : eider_defs_validate(defs);
}
