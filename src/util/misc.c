/*
 * misc.c — the string index, hashing, clocks, randomness, edit distance and making
 * folders.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

uint64_t eider__hash(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static size_t index_slot(const eider__index *ix, const char *key)
{
    size_t mask = ix->cap - 1, i = eider__hash(EIDER__HASH_START, key, strlen(key)) & mask;
    while (ix->keys[i] && strcmp(ix->keys[i], key) != 0)
        i = (i + 1) & mask;
    return i;
}

static void index_rehash(eider__index *ix)
{
    eider__index bigger = { 0 };
    bigger.cap = ix->cap ? ix->cap * 2 : 64;
    bigger.keys = eider__xcalloc(bigger.cap, sizeof(*bigger.keys));
    bigger.vals = eider__xcalloc(bigger.cap, sizeof(*bigger.vals));
    for (size_t i = 0; i < ix->cap; i++)
        if (ix->keys[i])
            eider__index_put(&bigger, ix->keys[i], ix->vals[i]);
    eider__index_release(ix);
    *ix = bigger;
}

int eider__index_put(eider__index *ix, const char *key, uint32_t val)
{
    if ((ix->len + 1) * 2 > ix->cap)
        index_rehash(ix);
    size_t i = index_slot(ix, key);
    if (ix->keys[i])
        return 1;
    ix->keys[i] = key;
    ix->vals[i] = val;
    ix->len++;
    return 0;
}

long eider__index_get(const eider__index *ix, const char *key)
{
    if (!ix->cap)
        return -1;
    size_t i = index_slot(ix, key);
    return ix->keys[i] ? (long)ix->vals[i] : -1;
}

void eider__index_release(eider__index *ix)
{
    free(ix->keys);
    free(ix->vals);
    memset(ix, 0, sizeof(*ix));
}

int64_t eider__now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

double eider__mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void eider__sleep_ms(double ms)
{
    if (!(ms > 0))          /* also NaN */
        return;
    if (ms > 86400e3)
        ms = 86400e3;       /* a day at most: no time_t overflow */
    double secs = floor(ms / 1000);
    struct timespec ts = { .tv_sec = (time_t)secs, .tv_nsec = (long)((ms - secs * 1000) * 1e6) };
    if (ts.tv_nsec > 999999999)
        ts.tv_nsec = 999999999;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static pthread_mutex_t random_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t random_state;

double eider__random(void)
{
    pthread_mutex_lock(&random_lock);
    if (!random_state)
        random_state = (uint64_t)eider__now_us() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ULL;
    random_state ^= random_state << 13;
    random_state ^= random_state >> 7;
    random_state ^= random_state << 17;
    uint64_t r = random_state;
    pthread_mutex_unlock(&random_lock);
    return (double)(r >> 11) / 9007199254740992.0;
}

size_t eider__edit_distance(const char *a, const char *b, size_t limit)
{
    size_t la = strlen(a), lb = strlen(b);
    if ((la > lb ? la - lb : lb - la) > limit)
        return limit + 1;
    size_t *row = eider__xmalloc((lb + 1) * sizeof(*row));
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0], best = i;
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = diag + (a[i - 1] != b[j - 1]);
            size_t v = up + 1 < row[j - 1] + 1 ? up + 1 : row[j - 1] + 1;
            row[j] = cost < v ? cost : v;
            diag = up;
            if (row[j] < best)
                best = row[j];
        }
        if (best > limit) {
            free(row);
            return limit + 1;
        }
    }
    size_t d = row[lb];
    free(row);
    return d;
}

int eider__mkdir_parents(const char *path, eider__buf *err)
{
    return eider__mkdir_parents_mode(path, 0777, err);
}

int eider__mkdir_parents_mode(const char *path, unsigned mode, eider__buf *err)
{
    char *dir = eider__xstrdup(path);
    int rc = 0;
    for (char *p = dir + 1; *p && !rc; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, (mode_t)mode) && errno != EEXIST) {
            eider__buf_printf(err, "cannot create folder '%s': %s", dir, strerror(errno));
            rc = -1;
        }
        *p = '/';
    }
    free(dir);
    return rc;
}
