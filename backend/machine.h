/* machine.h — everything distilc's fast paths depend on, in one report: the
 * CPU probe (ir/cpu.h), what oneDNN runs on it after the ISA cap, whether
 * bf16 and int8 have native instructions, the BLAS kernel and the thread
 * settings. `distilc system` prints it; tests ask it what to expect.
 *
 *     backend_machine m;
 *     if (backend_machine_probe(&m, &d) != IR_OK) return d.status;
 *     if (!m.bf16_native) ... bf16 is refused here ...
 */
#ifndef DISTILC_BACKEND_MACHINE_H
#define DISTILC_BACKEND_MACHINE_H

#include "ir/cpu.h"
#include "ir/diag.h"

typedef struct backend_machine {
    cpu_info cpu;
    char onednn_version[32];  /* "2.6.3" */
    const char *onednn_isa;   /* oneDNN's effective ISA, e.g. "avx2" */
    int bf16_native;          /* bf16 matmul in hardware (else refused) */
    int int8_vnni;            /* int8 products sum into s32 (VNNI, AMX);
                                 without: 7-bit weights (dnnl_qlinear.c) */
    char blas_core[64];       /* OpenBLAS's kernel, e.g. "SkylakeX" */
    int omp_max_threads;      /* OpenMP's default team size */
    const char *omp_wait_policy; /* $OMP_WAIT_POLICY or "(unset)" */
    const char *omp_spincount;   /* $GOMP_SPINCOUNT or "(unset)": distilc
                                    sets 1000 (backend/rt_omp_wait.h) */
} backend_machine;

/* Fails only for an unknown DISTILC_MAX_ISA (the message names it); *m is
 * filled all the same. */
ir_status backend_machine_probe(backend_machine *m, ir_diag *d);

#endif
