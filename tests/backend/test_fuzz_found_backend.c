/* test_fuzz_found_backend.c — inputs that break the backend's readers,
 * found with the fuzz harnesses (tests/fuzz), each fed to the entry point
 * the harness calls, with the answer it must now get. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/emit.h"
#include "backend/emit_weights.h"
#include "tests/util/encoder_fixture.h"
#include "testutil.h"

static void put_i64(unsigned char *p, int64_t v)
{
    memcpy(p, &v, 8); /* the file is little-endian, as the host */
}

/* The checksum of the edited file, so that the check behind it runs. */
static void put_checksum(unsigned char *buf, size_t len)
{
    uint64_t sum = 0;
    ir_diag d;
    ir_diag_init(&d);
    CHECK_MSG(emit_weights_checksum(buf, len, &sum, &d) == IR_OK, "%s", d.msg);
    memcpy(buf + EMIT_WEIGHTS_SUM_AT, &sum, 8);
}

/* fuzz_model_weights: a weight file with RoBERTa positions (config word
 * positions = 1) and pad_id at the int64 limit overflowed the check
 * pad_id + 2 <= max_positions (UBSan: signed integer overflow). Found
 * reading the checks behind the harness's fixed-up inputs and confirmed
 * by replaying the file through fuzz_model_weights. Refused now, naming
 * the field. */
static void test_weights_pad_id_overflow(const char *dir)
{
    ir_encoder_config c;
    enc_small_config(&c, 4, 1, 1, 8, 4, 2);
    ir_encoder *e = enc_random_encoder(&c, 3, 0.2f);
    CHECK(e != NULL);
    if (!e)
        return;
    char path[512];
    snprintf(path, sizeof path, "%s/model.weights", dir);
    ir_diag d;
    ir_diag_init(&d);
    CHECK_MSG(emit_write_weights(e, path, NULL, NULL, &d) == IR_OK, "%s", d.msg);
    ir_encoder_free(e);
    size_t len = 0;
    unsigned char *buf = (unsigned char *)test_read_file(path, &len);
    CHECK(buf != NULL && len > EMIT_WEIGHTS_HEADER_BYTES + 8 * EMIT_WEIGHTS_CFG_WORDS);
    if (!buf)
        return;
    /* config words 15 + 2 * RT_MAX_LAYERS (positions) and the next (pad_id) */
    unsigned char *words = buf + EMIT_WEIGHTS_HEADER_BYTES;
    put_i64(words + 8 * (15 + 2 * RT_MAX_LAYERS), 1);
    int64_t pads[] = {INT64_MAX, INT64_MAX - 1, 3};
    for (size_t i = 0; i < sizeof pads / sizeof pads[0]; i++) {
        put_i64(words + 8 * (16 + 2 * RT_MAX_LAYERS), pads[i]);
        put_checksum(buf, len);
        emit_weights_file f;
        ir_diag_init(&d);
        ir_status s = emit_weights_parse(buf, len, "model.weights", true, &f, &d);
        CHECK_MSG(s == IR_ERR_INPUT && strstr(d.msg, "'pad_id'"), "pad_id %lld: "
                  "status %d, %s", (long long)pads[i], s, d.msg);
    }
    /* the largest pad_id 4 positions allow */
    put_i64(words + 8 * (16 + 2 * RT_MAX_LAYERS), 2);
    put_checksum(buf, len);
    emit_weights_file f;
    ir_diag_init(&d);
    CHECK_MSG(emit_weights_parse(buf, len, "model.weights", true, &f, &d) == IR_OK, "%s",
              d.msg);
    free(buf);
}

int main(void)
{
    char dir[256];
    if (!test_tmpdir(dir, sizeof dir)) {
        fprintf(stderr, "no temporary folder\n");
        return 1;
    }
    test_weights_pad_id_overflow(dir);
    return test_finish("test_fuzz_found_backend");
}
