/* dist.h — the communicator of a data-parallel run: which process this is
 * (rank), how many there are (size), and the few collectives the trainer
 * needs. Under mpirun (a build with MPI, DISTILC_HAVE_MPI) it is MPI's;
 * otherwise — a build without MPI, or the same distilc started without a
 * launcher — it is the one-process communicator, whose collectives are
 * no-ops (a sum over one rank is the buffer itself). Only ir/dist.c
 * includes mpi.h (and only in a build with MPI); everything above talks to
 * this header.
 *
 *     ir_dist *dc;
 *     if (ir_dist_open(&dc, &argc, &argv, &d) != IR_OK) ...;  // tools/main.c
 *     int r = ir_dist_rank(dc), n = ir_dist_size(dc);
 *     ir_dist_allreduce_f32(dc, grads, count, &d);           // sum in place
 *     int req;
 *     ir_dist_iallreduce_f32(dc, bucket, count, &req, &d);   // start ...
 *     ir_dist_progress(dc);                                  // ... let it move
 *     ir_dist_wait_all(dc, &d);                              // ... and finish
 *     ir_dist_close(dc, exit_code);  // 0: finalize; else abort every rank
 *
 * A NULL communicator is the one-process one everywhere (rank 0, size 1),
 * so library callers that never heard of MPI pass NULL.
 *
 * Failures: every collective returns IR_ERR_IO naming the operation and
 * this rank when MPI reports an error (the communicator returns errors
 * rather than aborting inside MPI) or when the other ranks do not answer
 * within the timeout (ir_dist_set_timeout; 300 s by default): a rank that
 * died or hangs stops the others with a message instead of a hang. A rank
 * killed outright is also seen by the launcher (Open MPI's mpirun ends the
 * job and names the rank and signal). The caller then closes with a
 * non-zero code, which aborts the job (MPI_Abort): the others may be
 * blocked in a collective and would never finish on their own.
 *
 * Threads: MPI is called from the thread that opened it only (MPI's
 * FUNNELED level): the trainer calls these between its OpenMP regions.
 */
#ifndef DISTILC_IR_DIST_H
#define DISTILC_IR_DIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/diag.h"

typedef struct ir_dist ir_dist;

/* Whether this distilc was built with MPI. */
bool ir_dist_built_with_mpi(void);

/* Opens the communicator: MPI's when built with it and started by a
 * launcher (the environment has OMPI_COMM_WORLD_SIZE, PMI_SIZE or
 * PMIX_RANK), else the one-process one. argc/argv go to MPI_Init_thread.
 * IR_ERR_IO when MPI fails to start; IR_ERR_UNSUPPORTED when started by a
 * launcher of more than one process but built without MPI (each process
 * would train alone on the whole data). */
ir_status ir_dist_open(ir_dist **out, int *argc, char ***argv, ir_diag *d);
/* exit_code 0: MPI_Finalize (every rank must call it); else MPI_Abort with
 * that code, which ends every rank of the job. Frees c. NULL: nothing. */
void ir_dist_close(ir_dist *c, int exit_code);

int ir_dist_rank(const ir_dist *c);   /* 0 .. size-1; NULL: 0 */
int ir_dist_size(const ir_dist *c);   /* NULL: 1 */
bool ir_dist_is_mpi(const ir_dist *c); /* true under a launcher */
/* Seconds a collective waits for the other ranks before IR_ERR_IO; <= 0
 * waits forever. IR_DIST_TIMEOUT_S by default: long enough for rank 0
 * writing a checkpoint while the others wait, short enough that a hung job
 * does not hold a cluster for hours. */
#define IR_DIST_TIMEOUT_S 300.0
void ir_dist_set_timeout(ir_dist *c, double seconds);
double ir_dist_timeout(const ir_dist *c); /* NULL: IR_DIST_TIMEOUT_S */

/* Sums over the ranks, in place: every rank ends with the same bits. */
ir_status ir_dist_allreduce_f32(ir_dist *c, float *buf, size_t n, ir_diag *d);
ir_status ir_dist_allreduce_f64(ir_dist *c, double *buf, size_t n, ir_diag *d);
/* Minimum and maximum of n 64-bit integers over the ranks, in place. */
ir_status ir_dist_allreduce_min_i64(ir_dist *c, int64_t *buf, size_t n,
                                    ir_diag *d);
ir_status ir_dist_allreduce_max_i64(ir_dist *c, int64_t *buf, size_t n,
                                    ir_diag *d);
/* Copies root's bytes to every rank. */
ir_status ir_dist_bcast(ir_dist *c, void *buf, size_t bytes, int root,
                        ir_diag *d);
ir_status ir_dist_barrier(ir_dist *c, ir_diag *d);

/* A status and its message decided on `root`, given to every rank: what a
 * rank that alone did some work (rank 0 reading a checkpoint) tells the
 * others, so that all return the same error. On success *st and d are
 * root's; IR_ERR_IO (in both) when the broadcast itself failed. */
ir_status ir_dist_bcast_status(ir_dist *c, ir_status *st, int root, ir_diag *d);

/* Non-blocking sum in place (MPI_Iallreduce): starts it and returns at
 * once; buf must stay untouched until ir_dist_wait_all. *req gets a handle
 * (the count of requests started since the last wait). Up to
 * IR_DIST_MAX_REQUESTS at a time. */
enum { IR_DIST_MAX_REQUESTS = 1024 };
ir_status ir_dist_iallreduce_f32(ir_dist *c, float *buf, size_t n, int *req,
                                 ir_diag *d);
/* Lets the started requests move (MPI progresses only inside its calls):
 * call it between pieces of work. */
void ir_dist_progress(ir_dist *c);
/* Waits for every started request. */
ir_status ir_dist_wait_all(ir_dist *c, ir_diag *d);

/* Seconds spent inside ir_dist_wait_all and the blocking collectives since
 * open: the communication the work did not hide. */
double ir_dist_wait_seconds(const ir_dist *c);

#endif
