/* fuzz_search_ckpt.c — libFuzzer harness for the search's checkpoints
 * (search_evo_ckpt_read, what `compress` reads to resume a killed search
 * stage): any file gives the saved state or a refusal naming the file,
 * never a crash. A file the reader accepts is then resumed by the
 * evolution of fuzz_search.h, which the seeds (make_seeds) were written
 * by: the options and space are checked against it, every candidate
 * decoded and the run continued up to its next checkpoint, which is not
 * written (the hook refuses: a write with fsync per input would cut the
 * runs a hundredfold); a finished checkpoint gives a result, which must
 * index only its own candidates. Each input is read twice: as it is, and
 * with its trailing
 * checksum recomputed, so that a mutated body gets past the checksum to
 * the checks behind it (sizes, indices, flags, genomes). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_search.h"
#include "fuzz_util.h"
#include "search/evolution_ckpt.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static search_space space;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    ir_diag d;
    ir_diag_init(&d);
    fuzz_require(search_space_load_memory(fuzz_search_space_xml,
                                          strlen(fuzz_search_space_xml),
                                          "fuzz.xml", &space, &d) == IR_OK, d.msg);
    return 0;
}

static ir_status no_write(void *ctx, size_t done, double user[SEARCH_EVO_USER],
                          ir_diag *d)
{
    (void)ctx, (void)done, (void)user;
    return ir_diag_set(d, IR_ERR_FAILED, "harness: checkpoints are not written");
}

static void load(const uint8_t *data, size_t size)
{
    char path[FUZZ_PATH_MAX];
    fuzz_write("evolution.ckpt", data, size, path);
    search_evo_ckpt ck;
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = search_evo_ckpt_read(path, &ck, &d);
    fuzz_explained(s, &d);
    if (s != IR_OK)
        return;
    for (size_t i = 0; i < ck.population; i++)
        if (ck.pop[i] >= ck.n)
            fuzz_fail("a population member past the candidates");
    search_evo_ckpt_free(&ck);
    /* the evolution resumes it (rarely past the option checks) */
    search_evo_opts o;
    fuzz_search_opts(&o, path);
    o.resume = true;
    o.checkpoint = no_write;
    search_result r;
    ir_diag_init(&d);
    s = search_evolve(&space, &o, &r, &d);
    fuzz_explained(s, &d);
    if (s != IR_OK)
        return;
    if (r.n == 0 || r.best >= r.n || r.n_front > r.n ||
        r.cycles > o.generations * o.population)
        fuzz_fail("a resumed result out of its own bounds");
    for (size_t i = 0; i < r.n_front; i++)
        if (r.front[i] >= r.n)
            fuzz_fail("a front member past the candidates");
    search_result_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load(data, size);
    if (size < 16)
        return 0;
    uint8_t *fixed = malloc(size);
    fuzz_require(fixed != NULL, "malloc");
    memcpy(fixed, data, size);
    uint64_t sum = fuzz_fnv1a(FUZZ_FNV_OFFSET, fixed, size - 8);
    memcpy(fixed + size - 8, &sum, 8);
    load(fixed, size);
    free(fixed);
    return 0;
}
