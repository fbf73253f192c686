/*
 * launcher.c — the run launcher: a process of one thread, forked by
 * eider_launcher_start() before the program starts any other thread, that forks the
 * run workers of eider_materialize_worker() from then on.
 *
 * fork() copies only the calling thread. A worker forked straight from a server whose
 * other threads hold locks (the allocator's, the time zone's, the dynamic loader's)
 * starts with those locks taken and no thread to release them, and its first malloc()
 * or dlopen() may wait for ever. The launcher has no other thread, so a worker forked
 * from it starts clean. It runs no user code itself: each worker makes its definitions
 * (a copy of the program's own, inherited at the launcher's start, or the definitions
 * libraries loaded again by path) and its plan from the request, and checks that they
 * are the ones the caller planned with (worker.c).
 *
 * The caller and the launcher talk over a Unix socket of packets. A request is one
 * packet that carries three file descriptors: the run's shared memory (the worker's
 * event ring, and after it the encoded plan), the write end of the worker's pipe, and
 * a socket for the answer. The answer is the worker's pid (with a pidfd, so that a
 * signal never reaches a process that reused the pid), then, when the worker has
 * ended, its wait status; the launcher reaps its workers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec.h"
#include "wire.h"

#define PLAN_MAGIC 0x6e616c70u      /* "plan" */

/* This process's launcher: its pid and our end of its socket (-1: none). */
typedef struct launcher_handle {
    pid_t pid;
    int ctl;
    const eider_defs *own;          /* the definitions it has a copy of, and their serial */
    uint64_t own_serial;
} launcher_handle;

static launcher_handle launcher = { 0, -1, NULL, 0 };

/* ---- passing file descriptors ---- */

/* Send the n bytes of data with the descriptors fds (n_fds of them) as one packet. */
static int send_with_fds(int sock, const void *data, size_t n, const int *fds, size_t n_fds)
{
    union {
        char buf[CMSG_SPACE(3 * sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = { (void *)data, n };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (n_fds) {
        memset(&u, 0, sizeof(u));
        m.msg_control = u.buf;
        m.msg_controllen = CMSG_SPACE(n_fds * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(n_fds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, n_fds * sizeof(int));
    }
    ssize_t sent;
    while ((sent = sendmsg(sock, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    return sent == (ssize_t)n ? 0 : -1;
}

/* Receive one packet of up to n bytes into data and up to 3 descriptors into fds
 * (the rest -1). Returns the bytes received, 0 at the end, -1 on an error. */
static ssize_t recv_with_fds(int sock, void *data, size_t n, int fds[3])
{
    union {
        char buf[CMSG_SPACE(3 * sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = { data, n };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof(u.buf) };
    ssize_t got;
    fds[0] = fds[1] = fds[2] = -1;
    while ((got = recvmsg(sock, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
        ;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); got >= 0 && c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            memcpy(fds, CMSG_DATA(c), (k < 3 ? k : 3) * sizeof(int));
        }
    return got;
}

static void close_fd(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* ---- the launcher process ---- */

typedef struct child {
    pid_t pid;
    int answer;                     /* the caller's socket for this worker's end */
} child;

typedef struct launcher_state {
    int ctl, sigchld;
    pid_t self;
    const eider_defs *own;
    child *children;
    size_t n_children, cap_children;
} launcher_state;

/* Fork a worker for the request whose descriptors are fds: the shared memory, the
 * pipe's write end, the answer socket. The worker never returns. */
static void fork_worker(launcher_state *l, const int fds[3])
{
    pid_t pid = fork();
    if (pid == 0) {
        close(l->ctl);
        close(l->sigchld);
        close(fds[2]);
        for (size_t i = 0; i < l->n_children; i++)
            close(l->children[i].answer);
        eider__worker_launched(fds[0], fds[1], l->own, l->self);
    }
    int32_t said = pid < 0 ? -errno : (int32_t)pid;
    int pidfd = pid > 0 ? pidfd_open(pid, 0) : -1;
    send_with_fds(fds[2], &said, sizeof(said), &pidfd, pidfd >= 0);
    close_fd(pidfd);
    close(fds[0]);
    close(fds[1]);
    if (pid < 0) {
        close(fds[2]);
        return;
    }
    EIDER__GROW(l->children, l->cap_children, l->n_children + 1);
    l->children[l->n_children++] = (child){ pid, fds[2] };
}

/* Tell the callers of the workers that ended how they did. */
static void reap(launcher_state *l)
{
    struct signalfd_siginfo si;
    int status;
    pid_t pid;
    while (read(l->sigchld, &si, sizeof(si)) > 0)
        ;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        for (size_t i = 0; i < l->n_children; i++)
            if (l->children[i].pid == pid) {
                send(l->children[i].answer, &status, sizeof(status), MSG_NOSIGNAL);
                close(l->children[i].answer);
                l->children[i] = l->children[--l->n_children];
                break;
            }
}

/* Take one request; 0 when the caller has gone (its end of the socket closed). */
static int take_request(launcher_state *l)
{
    char kind = 0;
    int fds[3];
    ssize_t got = recv_with_fds(l->ctl, &kind, 1, fds);
    if (got <= 0)
        return got < 0 && errno == EINTR;
    if (kind == 'w' && fds[0] >= 0 && fds[1] >= 0 && fds[2] >= 0)
        fork_worker(l, fds);
    else
        for (int i = 0; i < 3; i++)
            close_fd(fds[i]);
    return 1;
}

static void launcher_main(int ctl, pid_t parent, const eider_defs *own) __attribute__((noreturn));
static void launcher_main(int ctl, pid_t parent, const eider_defs *own)
{
    launcher_state l = { .ctl = ctl, .self = getpid(), .own = own };
    sigset_t chld;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    prctl(PR_SET_NAME, "eider-launcher");
    /* A terminal's Ctrl-C goes to the whole process group: the caller decides what it
     * means for the runs (it cancels them); the launcher ends when the caller does. */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    l.sigchld = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (l.sigchld < 0)
        _exit(1);
    for (;;) {
        struct pollfd p[2] = { { .fd = ctl, .events = POLLIN }, { .fd = l.sigchld, .events = POLLIN } };
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            reap(&l);
        if ((p[0].revents & POLLIN) && !take_request(&l))
            break;
        if (!(p[0].revents & POLLIN) && (p[0].revents & (POLLHUP | POLLERR)))
            break;
    }
    _exit(0);                       /* its workers die with it (PR_SET_PDEATHSIG) */
}

int eider_launcher_start(const eider_defs *defs)
{
    int sv[2];
    if (launcher.pid > 0) {
        errno = EBUSY;
        return EIDER_EINVAL;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
        return EIDER_EERROR;
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        errno = e;
        return EIDER_EERROR;
    }
    if (pid == 0) {
        close(sv[0]);
        launcher_main(sv[1], parent, defs);
    }
    close(sv[1]);
    launcher.pid = pid;
    launcher.ctl = sv[0];
    launcher.own = defs;
    launcher.own_serial = defs ? defs->serial : 0;
    return EIDER_OK;
}

void eider_launcher_stop(void)
{
    if (launcher.pid <= 0)
        return;
    close(launcher.ctl);            /* it sees the end, and exits */
    while (waitpid(launcher.pid, NULL, 0) < 0 && errno == EINTR)
        ;
    launcher = (launcher_handle){ 0, -1, NULL, 0 };
}

/* ---- the caller's side ---- */

eider__launch_source eider__launcher_source(const eider_defs *defs)
{
    if (launcher.pid <= 0)
        return EIDER__LAUNCH_NONE;
    if (defs == launcher.own && defs->serial == launcher.own_serial)
        return EIDER__LAUNCH_OWN;
    return eider__defs_from_libraries(defs) ? EIDER__LAUNCH_LIBRARIES : EIDER__LAUNCH_NONE;
}

int eider__launch(int shm, int bell, eider__launched *out, eider__buf *err)
{
    int sv[2], fds[3] = { -1, -1, -1 };
    int32_t said = 0;
    *out = (eider__launched){ .pid = -1, .pidfd = -1, .answer = -1 };
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
        eider__buf_printf(err, "socketpair: %s", strerror(errno));
        return -1;
    }
    int request[3] = { shm, bell, sv[1] };
    int sent = send_with_fds(launcher.ctl, "w", 1, request, 3);
    close(sv[1]);
    ssize_t got = sent ? -1 : recv_with_fds(sv[0], &said, sizeof(said), fds);
    close_fd(fds[1]);
    close_fd(fds[2]);
    if (got != (ssize_t)sizeof(said) || said <= 0) {
        if (got == (ssize_t)sizeof(said))
            eider__buf_printf(err, "fork: %s", strerror(-said));
        else
            eider__buf_printf(err, "the run launcher (process %d) has ended, killed perhaps: "
                              "start the program again", (int)launcher.pid);
        close_fd(fds[0]);
        close(sv[0]);
        return -1;
    }
    *out = (eider__launched){ .pid = said, .pidfd = fds[0], .answer = sv[0] };
    return 0;
}

int eider__launched_status(eider__launched *l, int wait, int *status)
{
    ssize_t got;
    while ((got = recv(l->answer, status, sizeof(*status), wait ? 0 : MSG_DONTWAIT)) < 0 &&
           errno == EINTR)
        ;
    if (got == (ssize_t)sizeof(*status))
        return 1;
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    *status = -1;                   /* the launcher has gone: how the worker ended is lost */
    return 1;
}

void eider__launched_kill(const eider__launched *l, int sig)
{
    if (l->pidfd >= 0)
        pidfd_send_signal(l->pidfd, sig, NULL, 0);
    else if (l->pid > 0)
        kill(l->pid, sig);
}

void eider__launched_release(eider__launched *l)
{
    close_fd(l->pidfd);
    close_fd(l->answer);
    l->pidfd = l->answer = -1;
}

/* ---- the plan, as a worker gets it ---- */

static void encode_libraries(eider__buf *b, const eider_defs *defs)
{
    eider__put_u32(b, (uint32_t)defs->n_libraries);
    for (size_t i = 0; i < defs->n_libraries; i++) {
        const eider__library *l = &defs->libraries[i];
        eider__put_str(b, l->path);
        eider__put_i64(b, (int64_t)l->dev);
        eider__put_i64(b, (int64_t)l->ino);
        eider__put_i64(b, (int64_t)l->size);
        eider__put_i64(b, (int64_t)l->mtime.tv_sec);
        eider__put_i64(b, (int64_t)l->mtime.tv_nsec);
    }
}

void eider__plan_encode(eider__buf *b, eider__launch_source source, const eider_defs *defs,
                        const eider_run_options *o, const eider_result *r)
{
    eider__put_u32(b, PLAN_MAGIC);
    eider__put_u32(b, (uint32_t)source);
    if (source == EIDER__LAUNCH_LIBRARIES)
        encode_libraries(b, defs);
    eider__put_u32(b, (uint32_t)defs->n_assets);
    eider__put_str(b, r->run_id);
    eider__put_str(b, o ? o->selection : NULL);
    eider__put_str(b, r->partition);
    eider__put_i64(b, o ? o->jobs : 0);
    eider__put_f64(b, o ? o->lock_timeout_s : EIDER_LOCK_TIMEOUT_DEFAULT);
    eider__put_u32(b, o ? (uint32_t)(o->no_checks != 0) : 0);
    eider__put_u32(b, o ? (uint32_t)(o->checks_only != 0) : 0);
    eider__put_u32(b, (uint32_t)r->n_steps);
    for (size_t i = 0; i < r->n_steps; i++) {
        const eider__step *s = &r->steps[i];
        eider__put_u32(b, s->asset);
        eider__put_str(b, defs->assets[s->asset].key);
        eider__put_u32(b, (uint32_t)s->n_partitions);
        for (size_t k = 0; k < s->n_partitions; k++)
            eider__put_str(b, s->partitions[k]);
    }
    eider__put_u32(b, (uint32_t)r->n_left_out);
    for (size_t i = 0; i < r->n_left_out; i++) {
        eider__put_u32(b, r->left_out[i]);
        eider__put_i64(b, r->left_out_because[i]);
    }
}

/* The definitions of a worker the plan rd says: its launcher's copy of own, or its
 * libraries loaded again (each still the file the caller loaded). */
static eider_defs *decode_defs(eider__reader *rd, const eider_defs *own, eider__buf *err)
{
    uint32_t source = eider__get_u32(rd);
    eider_defs *defs = (eider_defs *)own;   /* this process's copy: its own to change */
    if (source == EIDER__LAUNCH_OWN && own) {
        if (!defs->validated && eider_defs_validate(defs)) {
            eider__buf_puts(err, eider_defs_errmsg(defs));
            return NULL;
        }
        return defs;
    }
    defs = eider_defs_new();
    uint32_t n = source == EIDER__LAUNCH_LIBRARIES ? eider__get_u32(rd) : 0;
    int rc = n ? EIDER_OK : eider__defs_error(defs, EIDER_EINVAL, "the run launcher has no "
                                              "copy of these definitions");
    for (uint32_t i = 0; !rc && i < n && !rd->bad; i++) {
        const char *path = eider__get_str(rd);
        eider__library was = { .dev = (dev_t)eider__get_i64(rd), .ino = (ino_t)eider__get_i64(rd),
                               .size = (off_t)eider__get_i64(rd) };
        was.mtime.tv_sec = (time_t)eider__get_i64(rd);
        was.mtime.tv_nsec = (long)eider__get_i64(rd);
        rc = rd->bad || !path ? EIDER_EINVAL : eider__defs_load_library(defs, path, &was);
    }
    if (!rc)
        rc = eider_defs_validate(defs);
    if (rc) {
        eider__buf_puts(err, eider_defs_errmsg(defs));
        return NULL;                /* the worker ends: nothing to free */
    }
    return defs;
}

/* Give each step of r the partition keys the plan rd lists, and check that the steps
 * are the caller's: the same assets, by index and by key. */
static int decode_steps(eider__reader *rd, const eider_defs *defs, eider_result *r, uint32_t n)
{
    if (r->n_steps != n)
        return -1;
    for (size_t i = 0; i < n && !rd->bad; i++) {
        eider__step *s = &r->steps[i];
        uint32_t asset = eider__get_u32(rd);
        const char *key = eider__get_str(rd);
        uint32_t n_keys = eider__get_u32(rd);
        if (asset != s->asset || !key || strcmp(key, defs->assets[asset].key) != 0 ||
            n_keys > (size_t)(rd->end - rd->p))
            return -1;
        s->partitions = n_keys ? eider__xcalloc(n_keys, sizeof(char *)) : NULL;
        for (uint32_t k = 0; k < n_keys; k++) {
            const char *p = eider__get_str(rd);
            s->partitions[s->n_partitions++] = eider__xstrdup(p ? p : "");
        }
    }
    return rd->bad ? -1 : 0;
}

/* The steps' assets, as eider__result_new() takes them; NULL when one is out of range. */
static unsigned char *selected_steps(eider__reader rd, size_t n_assets, uint32_t n)
{
    unsigned char *selected = eider__xcalloc(n_assets + 1, 1);
    for (uint32_t i = 0; i < n && !rd.bad; i++) {
        uint32_t asset = eider__get_u32(&rd);
        eider__get_str(&rd);
        for (uint32_t k = eider__get_u32(&rd); k && !rd.bad; k--)
            eider__get_str(&rd);
        if (asset >= n_assets)
            rd.bad = 1;
        else
            selected[asset] = 1;
    }
    if (rd.bad) {
        free(selected);
        return NULL;
    }
    return selected;
}

static void decode_left_out(eider__reader *rd, eider_result *r, size_t n_assets)
{
    uint32_t n = eider__get_u32(rd);
    n = n <= n_assets ? n : 0;
    r->left_out = eider__xmalloc((n + 1) * sizeof(*r->left_out));
    r->left_out_because = eider__xmalloc((n + 1) * sizeof(*r->left_out_because));
    for (uint32_t i = 0; i < n && !rd->bad; i++) {
        uint32_t a = eider__get_u32(rd);
        long because = (long)eider__get_i64(rd);
        if (a >= n_assets || because >= (long)n_assets)
            continue;
        r->left_out[r->n_left_out] = a;
        r->left_out_because[r->n_left_out++] = because;
    }
}

int eider__plan_decode(const char *p, size_t n, const eider_defs *own, eider__plan *out,
                       eider__buf *err)
{
    eider__reader rd = { p, p + n, 0 };
    *out = (eider__plan){ 0 };
    if (eider__get_u32(&rd) != PLAN_MAGIC) {
        eider__buf_puts(err, "the run worker got no plan from its launcher");
        return EIDER_EINVAL;
    }
    eider_defs *defs = decode_defs(&rd, own, err);
    if (!defs)
        return EIDER_ELOAD;
    uint32_t n_assets = eider__get_u32(&rd);
    const char *run_id = eider__get_str(&rd);
    out->options.selection = eider__get_str(&rd);
    const char *partition = eider__get_str(&rd);
    out->options.jobs = (int)eider__get_i64(&rd);
    out->options.lock_timeout_s = eider__get_f64(&rd);
    out->options.no_checks = (int)eider__get_u32(&rd);
    out->options.checks_only = (int)eider__get_u32(&rd);
    uint32_t n_steps = eider__get_u32(&rd);
    unsigned char *selected = n_assets == defs->n_assets && !rd.bad
                            ? selected_steps(rd, defs->n_assets, n_steps) : NULL;
    eider_result *r = selected ? eider__result_new(defs, selected) : NULL;
    free(selected);
    if (!r || decode_steps(&rd, defs, r, n_steps)) {
        eider__buf_puts(err, "the definitions changed between the run's plan and its run "
                        "worker (their library was built again?): load them again and launch "
                        "the run again");
        return EIDER_ELOAD;         /* the worker ends: nothing to free */
    }
    decode_left_out(&rd, r, defs->n_assets);
    if (run_id)
        snprintf(r->run_id, sizeof(r->run_id), "%s", run_id);
    r->partition = partition ? eider__xstrdup(partition) : NULL;
    out->defs = defs;
    out->result = r;
    return EIDER_OK;
}
