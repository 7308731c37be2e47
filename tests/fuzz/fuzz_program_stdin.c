/* fuzz_program_stdin.c — libFuzzer harness for the emitted program's input:
 * its own main() (backend/standalone/model_main.c, compiled here after
 * model_api.c exactly as distilc build pastes them into model.c, with
 * main renamed) reads the fuzz input as its stdin, with the fuzz encoder's
 * model.weights (fuzz_models.h) written once at start. Every line must be
 * answered or refused (exit 0 or 2), never crash, leak, hang, or fail
 * (exit 1). Input layout: a first byte 0x01 runs the --vocab mode
 * (text lines, a tab between a pair, fuzz_tokenizers.h's vocabulary,
 * --max-seq 8) on the rest; anything else is JSON lines. stdout and
 * stderr go to /dev/null (to stderr with FUZZ_VERBOSE=1). */
#include <stdint.h>
#include <stdio.h>

#include "backend/emit.h"
#include "fuzz_models.h"
#include "fuzz_tokenizers.h"
#include "fuzz_util.h"

/* The program reads stdin and writes stdout and stderr: here, the input
 * and /dev/null. */
static FILE *fuzz_in, *fuzz_out;
#undef stdin
#undef stdout
#undef stderr
#define stdin fuzz_in
#define stdout fuzz_out
#define stderr fuzz_out
#define main fuzz_model_main
#include "backend/standalone/model_api.c"
#include "backend/standalone/model_main.c"
#undef main
#undef stdin
#undef stdout
#undef stderr

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char weights[FUZZ_PATH_MAX], vocab[FUZZ_PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    /* main() would otherwise execute itself again to set GOMP_SPINCOUNT
     * (backend/rt_omp_wait.h). */
    setenv("OMP_WAIT_POLICY", "passive", 0);
    fuzz_out = getenv("FUZZ_VERBOSE") ? stderr : fopen("/dev/null", "w");
    fuzz_require(fuzz_out != NULL, "/dev/null");
    ir_encoder *e = fuzz_model_encoder();
    fuzz_require(e != NULL, "the fuzz encoder");
    ir_diag d;
    ir_diag_init(&d);
    fuzz_path("model.weights", weights);
    fuzz_require(emit_write_weights(e, weights, NULL, NULL, &d) == IR_OK, d.msg);
    ir_encoder_free(e);
    fuzz_write("vocab.txt", FUZZ_VOCAB_TXT, sizeof FUZZ_VOCAB_TXT - 1, vocab);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool text = size > 0 && data[0] == 0x01;
    if (text)
        data++, size--;
    if (size == 0)
        return 0;
    char *json_argv[] = {"model", "--weights", weights, "--threads", "1", NULL};
    char *text_argv[] = {"model", "--weights", weights, "--threads", "1",
                         "--vocab", vocab, "--max-seq", "8", NULL};
    fuzz_in = fmemopen((void *)data, size, "r");
    fuzz_require(fuzz_in != NULL, "fmemopen");
    int rc = text ? fuzz_model_main(9, text_argv) : fuzz_model_main(5, json_argv);
    fclose(fuzz_in);
    if (rc != 0 && rc != 2)
        fuzz_fail("the program failed (exit 1) on its input");
    return 0;
}
