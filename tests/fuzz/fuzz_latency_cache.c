/* fuzz_latency_cache.c — libFuzzer harness for the latency cache
 * (search_latency_create reading --cache FILE): any file gives a latency
 * model or a refusal saying to delete it. The seeds (make_seeds) are real
 * caches of this machine, since a cache measured on another CPU is refused
 * before its entries are read. A model that loads predicts the fuzz
 * encoder (fuzz_models.h) at the seeds' setting and at one they do not
 * hold, with measuring off: the cached entries are looked up and
 * interpolated from, and the overhead fit is read. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_models.h"
#include "fuzz_util.h"
#include "search/latency.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[FUZZ_PATH_MAX];
    fuzz_write("latency.json", data, size, path);
    search_latency_opts o;
    search_latency_opts_default(&o);
    o.cache_path = path;
    o.measure = false;
    search_latency *m = NULL;
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = search_latency_create(&o, &m, &d);
    fuzz_explained(s, &d);
    if (s == IR_OK) {
        ir_encoder_config c;
        fuzz_model_config(&c);
        search_latency_query q[2] = {fuzz_model_query(), fuzz_model_query()};
        q[1].batch = 2;
        q[1].seq = 16;
        for (int i = 0; i < 2; i++) {
            search_latency_estimate e;
            ir_diag_init(&d);
            s = search_latency_predict(m, &c, &q[i], &e, &d);
            fuzz_explained(s, &d);
            (void)search_latency_calibrated(m, &q[i]);
        }
    }
    search_latency_free(m);
    return 0;
}
