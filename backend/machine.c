/* machine.c — the report of machine.h, gathered from the CPU probe, oneDNN
 * (after the cap of dnnl_engine.c), OpenBLAS and OpenMP. */
#include "backend/machine.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>

#include "backend/dnnl_engine.h"

ir_status backend_machine_probe(backend_machine *m, ir_diag *d)
{
    memset(m, 0, sizeof *m);
    ir_status s = cpu_info_probe(&m->cpu, d);
    const dnnl_version_t *v = dnnl_version();
    snprintf(m->onednn_version, sizeof m->onednn_version, "%d.%d.%d",
             v->major, v->minor, v->patch);
    m->onednn_isa = onednn_isa_name();
    m->bf16_native = onednn_bf16_native();
    m->int8_vnni = onednn_int8_has_vnni();
    const char *core = openblas_get_corename();
    snprintf(m->blas_core, sizeof m->blas_core, "%s", core ? core : "?");
    m->omp_max_threads = omp_get_max_threads();
    const char *w = getenv("OMP_WAIT_POLICY");
    m->omp_wait_policy = w && *w ? w : "(unset)";
    const char *sc = getenv("GOMP_SPINCOUNT");
    m->omp_spincount = sc && *sc ? sc : "(unset)";
    return s;
}
