/* dist.c — the communicator of dist.h: MPI's when this build has it
 * (DISTILC_HAVE_MPI, set for the ir layer by cmake/layers.cmake) and a
 * launcher started the process; otherwise one process, whose collectives
 * leave the buffers as they are. Every MPI collective runs as its
 * non-blocking form polled to the end, so that a peer that never answers
 * is a timeout with a message naming this rank, not a hang. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ir/clock.h"
#include "ir/dist.h"

#if DISTILC_HAVE_MPI
#include <limits.h>
#include <mpi.h>
#endif

struct ir_dist {
    int rank, size;
    bool mpi;
    double timeout, wait_s;
#if DISTILC_HAVE_MPI
    MPI_Comm comm;
    MPI_Request req[IR_DIST_MAX_REQUESTS];
    int nreq;
#endif
};

bool ir_dist_built_with_mpi(void)
{
#if DISTILC_HAVE_MPI
    return true;
#else
    return false;
#endif
}

/* Whether a launcher started this process (Open MPI's mpirun, Hydra or
 * Slurm's PMI, PMIx), and how many processes it started (0 unknown). */
static bool launched(long *n)
{
    const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"};
    *n = 0;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) {
            if (i < 2)
                *n = strtol(v, NULL, 10);
            return true;
        }
    }
    return false;
}

int ir_dist_rank(const ir_dist *c) { return c ? c->rank : 0; }
int ir_dist_size(const ir_dist *c) { return c ? c->size : 1; }
bool ir_dist_is_mpi(const ir_dist *c) { return c && c->mpi; }
double ir_dist_wait_seconds(const ir_dist *c) { return c ? c->wait_s : 0.0; }
double ir_dist_timeout(const ir_dist *c) { return c ? c->timeout : IR_DIST_TIMEOUT_S; }
void ir_dist_set_timeout(ir_dist *c, double seconds)
{
    if (c)
        c->timeout = seconds;
}

#if DISTILC_HAVE_MPI

/* Largest count handed to one MPI call (its counts are int). */
enum { DIST_CHUNK = 1 << 30 };

static ir_status mpi_fail(const ir_dist *c, int rc, const char *what,
                          ir_diag *d)
{
    char msg[MPI_MAX_ERROR_STRING + 1];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS)
        len = 0;
    msg[len] = '\0';
    return ir_diag_set(d, IR_ERR_IO, "rank %d of %d: MPI %s failed: %s (a "
                       "rank may have died; the launcher's messages name it)",
                       c->rank, c->size, what, len ? msg : "unknown error");
}

/* Polls n requests to completion: spins briefly (a collective between
 * busy ranks ends in microseconds), then sleeps between polls so that a
 * rank waiting on a slow peer leaves the core to it; gives up after the
 * timeout. */
static ir_status mpi_wait(ir_dist *c, MPI_Request *r, int n, const char *what,
                          ir_diag *d)
{
    double t0 = ir_clock_wall_s(), spin_until = t0 + 0.01;
    for (;;) {
        int done = 0;
        int rc = MPI_Testall(n, r, &done, MPI_STATUSES_IGNORE);
        if (rc != MPI_SUCCESS)
            return mpi_fail(c, rc, what, d);
        if (done)
            break;
        double t = ir_clock_wall_s();
        if (c->timeout > 0 && t - t0 > c->timeout)
            return ir_diag_set(d, IR_ERR_IO, "rank %d of %d: MPI %s: no answer "
                               "from the other ranks in %.0f s (one died or "
                               "hangs; the launcher's messages name it)",
                               c->rank, c->size, what, c->timeout);
        if (t > spin_until)
            nanosleep(&(struct timespec){0, 100000}, NULL);
    }
    c->wait_s += ir_clock_wall_s() - t0;
    return IR_OK;
}

static ir_status mpi_open(ir_dist *c, int *argc, char ***argv, ir_diag *d)
{
    int provided = 0;
    int rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS)
        return ir_diag_set(d, IR_ERR_IO, "MPI_Init_thread failed (code %d)", rc);
    c->mpi = true;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    if ((rc = MPI_Comm_dup(MPI_COMM_WORLD, &c->comm)) != MPI_SUCCESS)
        return mpi_fail(c, rc, "Comm_dup", d);
    MPI_Comm_set_errhandler(c->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(c->comm, &c->rank);
    MPI_Comm_size(c->comm, &c->size);
    if (provided < MPI_THREAD_FUNNELED)
        return ir_diag_set(d, IR_ERR_UNSUPPORTED, "rank %d: this MPI library "
                           "gives thread level %d, distilc needs "
                           "MPI_THREAD_FUNNELED", c->rank, provided);
    return IR_OK;
}

/* One blocking allreduce (sum/min/max) as polled non-blocking chunks. */
static ir_status mpi_allreduce(ir_dist *c, void *buf, size_t n,
                               MPI_Datatype type, size_t elem, MPI_Op op,
                               const char *what, ir_diag *d)
{
    for (size_t at = 0; at < n; at += DIST_CHUNK) {
        int k = (int)(n - at < DIST_CHUNK ? n - at : DIST_CHUNK);
        MPI_Request r;
        int rc = MPI_Iallreduce(MPI_IN_PLACE, (char *)buf + at * elem, k, type,
                                op, c->comm, &r);
        if (rc != MPI_SUCCESS)
            return mpi_fail(c, rc, what, d);
        ir_status s = mpi_wait(c, &r, 1, what, d);
        if (s != IR_OK)
            return s;
    }
    return IR_OK;
}
#endif

ir_status ir_dist_open(ir_dist **out, int *argc, char ***argv, ir_diag *d)
{
    *out = NULL;
    ir_dist *c = calloc(1, sizeof *c);
    if (!c)
        return ir_diag_set(d, IR_ERR_NOMEM, "communicator: out of memory");
    c->size = 1;
    c->timeout = IR_DIST_TIMEOUT_S;
    long n = 0;
    bool under = launched(&n);
#if DISTILC_HAVE_MPI
    if (under) {
        ir_status s = mpi_open(c, argc, argv, d);
        *out = c;
        return s;
    }
#else
    (void)argc;
    (void)argv;
    if (under && n > 1) {
        free(c);
        return ir_diag_set(d, IR_ERR_UNSUPPORTED, "started by an MPI launcher "
                           "with %ld processes, but this distilc was built "
                           "without MPI: each would train alone (install "
                           "libopenmpi-dev and rebuild, or run one process)", n);
    }
#endif
    *out = c;
    return IR_OK;
}

void ir_dist_close(ir_dist *c, int exit_code)
{
    if (!c)
        return;
#if DISTILC_HAVE_MPI
    if (c->mpi) {
        if (exit_code != 0)
            MPI_Abort(c->comm ? c->comm : MPI_COMM_WORLD, exit_code);
        if (c->comm)
            MPI_Comm_free(&c->comm);
        MPI_Finalize();
    }
#else
    (void)exit_code;
#endif
    free(c);
}

ir_status ir_dist_allreduce_f32(ir_dist *c, float *buf, size_t n, ir_diag *d)
{
#if DISTILC_HAVE_MPI
    if (c && c->mpi && c->size > 1)
        return mpi_allreduce(c, buf, n, MPI_FLOAT, sizeof(float), MPI_SUM,
                             "allreduce (float sum)", d);
#endif
    (void)c; (void)buf; (void)n; (void)d;
    return IR_OK;
}

ir_status ir_dist_allreduce_f64(ir_dist *c, double *buf, size_t n, ir_diag *d)
{
#if DISTILC_HAVE_MPI
    if (c && c->mpi && c->size > 1)
        return mpi_allreduce(c, buf, n, MPI_DOUBLE, sizeof(double), MPI_SUM,
                             "allreduce (double sum)", d);
#endif
    (void)c; (void)buf; (void)n; (void)d;
    return IR_OK;
}

ir_status ir_dist_allreduce_min_i64(ir_dist *c, int64_t *buf, size_t n,
                                    ir_diag *d)
{
#if DISTILC_HAVE_MPI
    if (c && c->mpi && c->size > 1)
        return mpi_allreduce(c, buf, n, MPI_INT64_T, sizeof(int64_t), MPI_MIN,
                             "allreduce (min)", d);
#endif
    (void)c; (void)buf; (void)n; (void)d;
    return IR_OK;
}

ir_status ir_dist_allreduce_max_i64(ir_dist *c, int64_t *buf, size_t n,
                                    ir_diag *d)
{
#if DISTILC_HAVE_MPI
    if (c && c->mpi && c->size > 1)
        return mpi_allreduce(c, buf, n, MPI_INT64_T, sizeof(int64_t), MPI_MAX,
                             "allreduce (max)", d);
#endif
    (void)c; (void)buf; (void)n; (void)d;
    return IR_OK;
}

ir_status ir_dist_bcast(ir_dist *c, void *buf, size_t bytes, int root,
                        ir_diag *d)
{
#if DISTILC_HAVE_MPI
    if (c && c->mpi && c->size > 1) {
        for (size_t at = 0; at < bytes; at += DIST_CHUNK) {
            int k = (int)(bytes - at < DIST_CHUNK ? bytes - at : DIST_CHUNK);
            MPI_Request r;
            int rc = MPI_Ibcast((char *)buf + at, k, MPI_BYTE, root, c->comm, &r);
            if (rc != MPI_SUCCESS)
                return mpi_fail(c, rc, "broadcast", d);
            ir_status s = mpi_wait(c, &r, 1, "broadcast", d);
            if (s != IR_OK)
                return s;
        }
        return IR_OK;
    }
#endif
    (void)c; (void)buf; (void)bytes; (void)root; (void)d;
    return IR_OK;
}

ir_status ir_dist_barrier(ir_dist *c, ir_diag *d)
{
#if DISTILC_HAVE_MPI
    if (c && c->mpi && c->size > 1) {
        MPI_Request r;
        int rc = MPI_Ibarrier(c->comm, &r);
        if (rc != MPI_SUCCESS)
            return mpi_fail(c, rc, "barrier", d);
        return mpi_wait(c, &r, 1, "barrier", d);
    }
#endif
    (void)c; (void)d;
    return IR_OK;
}

ir_status ir_dist_bcast_status(ir_dist *c, ir_status *st, int root, ir_diag *d)
{
    if (ir_dist_size(c) == 1)
        return IR_OK;
    /* the status, then the message: a diag is a fixed-size record */
    ir_diag mine = *d;
    mine.status = *st;
    ir_diag tmp;
    ir_diag_init(&tmp);
    ir_status s = ir_dist_bcast(c, &mine, sizeof mine, root, &tmp);
    if (s != IR_OK) {
        *d = tmp;
        *st = s;
        return s;
    }
    mine.msg[IR_DIAG_MSG_MAX - 1] = '\0';
    *d = mine;
    *st = mine.status;
    return IR_OK;
}

ir_status ir_dist_iallreduce_f32(ir_dist *c, float *buf, size_t n, int *req,
                                 ir_diag *d)
{
    *req = -1;
#if DISTILC_HAVE_MPI
    if (c && c->mpi && c->size > 1) {
        for (size_t at = 0; at < n; at += DIST_CHUNK) {
            if (c->nreq == IR_DIST_MAX_REQUESTS) {
                ir_status s = ir_dist_wait_all(c, d);
                if (s != IR_OK)
                    return s;
            }
            int k = (int)(n - at < DIST_CHUNK ? n - at : DIST_CHUNK);
            int rc = MPI_Iallreduce(MPI_IN_PLACE, buf + at, k, MPI_FLOAT,
                                    MPI_SUM, c->comm, &c->req[c->nreq]);
            if (rc != MPI_SUCCESS)
                return mpi_fail(c, rc, "allreduce (gradient bucket)", d);
            *req = c->nreq++;
        }
        return IR_OK;
    }
#endif
    (void)c; (void)buf; (void)n; (void)d;
    return IR_OK;
}

void ir_dist_progress(ir_dist *c)
{
#if DISTILC_HAVE_MPI
    if (c && c->mpi && c->nreq > 0) {
        int done = 0;
        MPI_Testall(c->nreq, c->req, &done, MPI_STATUSES_IGNORE);
        if (done)
            c->nreq = 0;
    }
#endif
    (void)c;
}

ir_status ir_dist_wait_all(ir_dist *c, ir_diag *d)
{
#if DISTILC_HAVE_MPI
    if (c && c->mpi && c->nreq > 0) {
        ir_status s = mpi_wait(c, c->req, c->nreq, "allreduce (gradients)", d);
        c->nreq = 0;
        return s;
    }
#endif
    (void)c; (void)d;
    return IR_OK;
}
