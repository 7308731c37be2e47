/* fuzz_program_stdin.c — libFuzzer harness for the emitted program's input:
 * its own main() (backend/standalone/model_main.c, compiled here after
 * model_api.c exactly as distilc build pastes them into model.c, with
 * main renamed) reads the fuzz input as its stdin, with the fuzz encoder's
 * model.weights (fuzz_models.h) written once at start. Every line must be
 * answered or refused (exit 0 or 2), never crash, leak, hang, or fail
 * (exit 1), and the output keeps the program's contract: exactly one line
 * per input line, each a JSON object with "logits" or "error". Input
 * layout: a first byte 0x01 runs the --vocab mode (text lines, a tab
 * between a pair, fuzz_tokenizers.h's vocabulary, --max-seq 8) on the
 * rest; anything else is JSON lines. stderr goes to /dev/null (stdout and
 * stderr to stderr with FUZZ_VERBOSE=1). */
#include <stdint.h>
#include <stdio.h>

#include "backend/emit.h"
#include "fuzz_models.h"
#include "fuzz_tokenizers.h"
#include "fuzz_util.h"

/* The program reads stdin and writes stdout and stderr: here, the input
 * and /dev/null. */
static FILE *fuzz_in, *fuzz_out, *fuzz_err;
#undef stdin
#undef stdout
#undef stderr
#define stdin fuzz_in
#define stdout fuzz_out
#define stderr fuzz_err
#define main fuzz_model_main
#include "backend/standalone/model_api.c"
#include "backend/standalone/model_main.c"
#undef main
#undef stdin
#undef stdout
#undef stderr

/* One output line per input line (the last may lack its '\n'), each a
 * JSON object with "logits" or "error". */
static void check_output(const uint8_t *in, size_t n, const char *out, size_t m)
{
    size_t lines_in = 0, lines_out = 0;
    for (size_t i = 0; i < n; i++)
        lines_in += in[i] == '\n';
    lines_in += n > 0 && in[n - 1] != '\n';
    for (size_t i = 0, start = 0; i < m; i++) {
        if (out[i] != '\n')
            continue;
        lines_out++;
        json_doc doc;
        ir_diag d;
        ir_diag_init(&d);
        if (json_parse(out + start, i - start, "output", &doc, &d) != IR_OK) {
            fprintf(stderr, "output line %zu: %.*s\n%s\n", lines_out,
                    (int)(i - start), out + start, d.msg);
            fuzz_fail("an output line is not JSON");
        }
        if (doc.root->type != JSON_OBJECT ||
            (!json_get(doc.root, "logits") && !json_get(doc.root, "error")))
            fuzz_fail("an output line has neither \"logits\" nor \"error\"");
        json_doc_free(&doc);
        start = i + 1;
    }
    if (m > 0 && out[m - 1] != '\n')
        fuzz_fail("the output does not end with a newline");
    if (lines_in != lines_out) {
        fprintf(stderr, "%zu lines in, %zu out\n", lines_in, lines_out);
        fuzz_fail("not one output line per input line");
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char weights[FUZZ_PATH_MAX], vocab[FUZZ_PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    /* main() would otherwise execute itself again to set GOMP_SPINCOUNT
     * (backend/rt_omp_wait.h). */
    setenv("OMP_WAIT_POLICY", "passive", 0);
    fuzz_err = getenv("FUZZ_VERBOSE") ? stderr : fopen("/dev/null", "w");
    fuzz_require(fuzz_err != NULL, "/dev/null");
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
    char *out = NULL;
    size_t out_len = 0;
    fuzz_out = open_memstream(&out, &out_len);
    fuzz_require(fuzz_out != NULL, "open_memstream");
    int rc = text ? fuzz_model_main(9, text_argv) : fuzz_model_main(5, json_argv);
    fclose(fuzz_in);
    fuzz_require(fclose(fuzz_out) == 0, "open_memstream");
    if (rc != 0 && rc != 2)
        fuzz_fail("the program failed (exit 1) on its input");
    if (fuzz_err == stderr) /* FUZZ_VERBOSE */
        fwrite(out, 1, out_len, stderr);
    check_output(data, size, out, out_len);
    free(out);
    return 0;
}
