/* emit_weights.c — writing and validating model.weights (format in
 * emit_weights.h). Shipped with every emitted program, so it uses libc,
 * libxxhash, ir/diag and backend/rt.h only.
 *
 * Integers are serialised byte by byte (little-endian) rather than by
 * copying structs, so the file does not depend on padding or on the host.
 * Tensor data is raw f32: the reader refuses a big-endian host instead of
 * byte-swapping, which no machine distilc targets needs. */
#include "backend/emit_weights.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xxhash.h>

#include "ir/file_atomic.h"
#include "ir/file_read.h"

/* The checksum is XXH64 with seed 0, from libxxhash (several GB/s, so
 * checking a BERT-base file costs little next to loading it; any flipped
 * bit changes it). Its streaming state is allocated by the library (the
 * struct's layout is not part of its stable ABI), so making one can fail. */
static XXH64_state_t *sum_create(ir_diag *d)
{
    XXH64_state_t *s = XXH64_createState();
    if (!s) {
        ir_diag_set(d, IR_ERR_NOMEM, "out of memory (XXH64 state)");
        return NULL;
    }
    XXH64_reset(s, 0);
    return s;
}

/* The checksum of a whole weight file: XXH64 of its bytes with the
 * checksum field (EMIT_WEIGHTS_SUM_AT, 8 bytes) read as zeros. */
ir_status emit_weights_checksum(const void *file, size_t size, uint64_t *sum,
                                ir_diag *d)
{
    const unsigned char *b = file;
    unsigned char head[EMIT_WEIGHTS_SUM_AT + 8];
    XXH64_state_t *s = sum_create(d);
    if (!s)
        return IR_ERR_NOMEM;
    if (size < sizeof head) {
        XXH64_update(s, b, size);
    } else {
        memcpy(head, b, EMIT_WEIGHTS_SUM_AT);
        memset(head + EMIT_WEIGHTS_SUM_AT, 0, 8);
        XXH64_update(s, head, sizeof head);
        XXH64_update(s, b + sizeof head, size - sizeof head);
    }
    *sum = XXH64_digest(s);
    XXH64_freeState(s);
    return IR_OK;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t align_up(uint64_t x)
{
    return (x + EMIT_WEIGHTS_ALIGN - 1) / EMIT_WEIGHTS_ALIGN * EMIT_WEIGHTS_ALIGN;
}

/* The config as EMIT_WEIGHTS_CFG_WORDS int64 words, in this order. */
static void cfg_to_words(const rt_config *c, int64_t *w)
{
    uint32_t eps_bits;
    memcpy(&eps_bits, &c->ln_eps, 4);
    int64_t head[14] = {c->hidden, c->layers, c->heads, c->ffn, c->vocab,
                        c->max_positions, c->type_vocab, c->embed, c->labels,
                        ir_act_ffn_code(c->activation), c->regression,
                        (int64_t)eps_bits, c->n_attn_groups, c->n_ffn_groups};
    memcpy(w, head, sizeof head);
    for (int l = 0; l < RT_MAX_LAYERS; l++) {
        w[14 + l] = c->attn_group[l];
        w[14 + RT_MAX_LAYERS + l] = c->ffn_group[l];
    }
    /* version 2: ir_act's numbers never move (ir/act.h) */
    w[14 + 2 * RT_MAX_LAYERS] = (int64_t)c->pool_act;
    w[15 + 2 * RT_MAX_LAYERS] = c->positions;
    w[16 + 2 * RT_MAX_LAYERS] = c->pad_id;
    /* version 3 */
    w[17 + 2 * RT_MAX_LAYERS] = c->embed_after_ln;
    /* version 5 */
    w[18 + 2 * RT_MAX_LAYERS] = c->rel_buckets;
    w[19 + 2 * RT_MAX_LAYERS] = c->rel_max_distance;
    w[20 + 2 * RT_MAX_LAYERS] = c->rel_bidirectional;
}

static void cfg_from_words(const int64_t *w, rt_config *c)
{
    memset(c, 0, sizeof *c);
    c->hidden = w[0];
    c->layers = w[1];
    c->heads = w[2];
    c->ffn = w[3];
    c->vocab = w[4];
    c->max_positions = w[5];
    c->type_vocab = w[6];
    c->embed = w[7];
    c->labels = w[8];
    c->activation = ir_act_from_ffn_code(w[9]);
    c->regression = (int)w[10];
    uint32_t eps_bits = (uint32_t)w[11];
    memcpy(&c->ln_eps, &eps_bits, 4);
    c->n_attn_groups = w[12];
    c->n_ffn_groups = w[13];
    for (int l = 0; l < RT_MAX_LAYERS; l++) {
        c->attn_group[l] = w[14 + l];
        c->ffn_group[l] = w[14 + RT_MAX_LAYERS + l];
    }
    int64_t pa = w[14 + 2 * RT_MAX_LAYERS];
    c->pool_act = pa >= 0 && pa < IR_ACT_COUNT ? (ir_act)pa : IR_ACT_COUNT;
    c->positions = (int)w[15 + 2 * RT_MAX_LAYERS];
    c->pad_id = w[16 + 2 * RT_MAX_LAYERS];
    c->embed_after_ln = (int)w[17 + 2 * RT_MAX_LAYERS];
    c->rel_buckets = w[18 + 2 * RT_MAX_LAYERS];
    c->rel_max_distance = w[19 + 2 * RT_MAX_LAYERS];
    c->rel_bidirectional = (int)w[20 + 2 * RT_MAX_LAYERS];
}

static size_t header_bytes(void)
{
    return EMIT_WEIGHTS_HEADER_BYTES + 8 * EMIT_WEIGHTS_CFG_WORDS;
}

/* The file goes through put_bytes twice: once into the checksum (f NULL),
 * then, with the checksum in the header, into the file. */
static ir_status put_bytes(FILE *f, XXH64_state_t *sum, const void *p, size_t n,
                           const char *path, ir_diag *d)
{
    if (!f) {
        XXH64_update(sum, p, n);
        return IR_OK;
    }
    if (n && fwrite(p, 1, n, f) != n)
        return ir_diag_set(d, IR_ERR_IO, "%s: write failed: %s", path,
                           strerror(errno));
    return IR_OK;
}

static ir_status put_file(FILE *f, XXH64_state_t *sum, const unsigned char *head,
                          uint64_t table_off, const unsigned char *table,
                          uint64_t data_off, const emit_tensor *ts, size_t n,
                          const char *path, ir_diag *d)
{
    static const unsigned char zeros[EMIT_WEIGHTS_ALIGN];
    ir_status s = put_bytes(f, sum, head, table_off, path, d);
    if (s == IR_OK)
        s = put_bytes(f, sum, table, n * EMIT_WEIGHTS_ENTRY_BYTES, path, d);
    uint64_t pos = table_off + n * EMIT_WEIGHTS_ENTRY_BYTES;
    if (s == IR_OK)
        s = put_bytes(f, sum, zeros, data_off - pos, path, d);
    pos = data_off;
    for (size_t i = 0; i < n && s == IR_OK; i++) {
        const unsigned char *e = table + i * EMIT_WEIGHTS_ENTRY_BYTES;
        uint64_t bytes = get_u64(e + 80);
        s = put_bytes(f, sum, ts[i].data, (size_t)bytes, path, d);
        pos += bytes;
        if (s == IR_OK)
            s = put_bytes(f, sum, zeros, align_up(pos) - pos, path, d);
        pos = align_up(pos);
    }
    return s;
}

static ir_status write_body(FILE *f, const char *path, const rt_config *cfg,
                            const emit_tensor *ts, size_t n, uint64_t *hash,
                            ir_diag *d)
{
    size_t hb = header_bytes();
    uint64_t table_off = align_up(hb);
    uint64_t data_off = align_up(table_off + n * EMIT_WEIGHTS_ENTRY_BYTES);
    uint64_t off = data_off;
    unsigned char *table = calloc(n ? n : 1, EMIT_WEIGHTS_ENTRY_BYTES);
    unsigned char *head = calloc(1, table_off);
    if (!table || !head) {
        free(table);
        free(head);
        return ir_diag_set(d, IR_ERR_NOMEM, "%s: out of memory", path);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char *e = table + i * EMIT_WEIGHTS_ENTRY_BYTES;
        uint64_t bytes = 4;
        for (int r = 0; r < ts[i].rank; r++)
            bytes *= (uint64_t)ts[i].dims[r];
        memcpy(e, ts[i].name, strlen(ts[i].name));
        put_u32(e + 48, 1);
        put_u32(e + 52, (uint32_t)ts[i].rank);
        put_u64(e + 56, (uint64_t)ts[i].dims[0]);
        put_u64(e + 64, (uint64_t)(ts[i].rank > 1 ? ts[i].dims[1] : 0));
        put_u64(e + 72, off);
        put_u64(e + 80, bytes);
        off = align_up(off + bytes);
    }
    memcpy(head, EMIT_WEIGHTS_MAGIC, 8);
    put_u32(head + 8, EMIT_WEIGHTS_VERSION);
    put_u32(head + 12, (uint32_t)n);
    put_u64(head + 16, off);
    put_u64(head + 24, table_off);
    put_u64(head + 32, data_off);
    put_u64(head + EMIT_WEIGHTS_SUM_AT, 0); /* the checksum, below */
    int64_t words[EMIT_WEIGHTS_CFG_WORDS];
    cfg_to_words(cfg, words);
    for (int i = 0; i < EMIT_WEIGHTS_CFG_WORDS; i++)
        put_u64(head + EMIT_WEIGHTS_HEADER_BYTES + 8 * i, (uint64_t)words[i]);

    XXH64_state_t *sum = sum_create(d);
    if (!sum) {
        free(table);
        free(head);
        return IR_ERR_NOMEM;
    }
    put_file(NULL, sum, head, table_off, table, data_off, ts, n, path, d);
    uint64_t h = XXH64_digest(sum);
    XXH64_freeState(sum);
    put_u64(head + EMIT_WEIGHTS_SUM_AT, h);
    ir_status s = put_file(f, NULL, head, table_off, table, data_off, ts, n,
                           path, d);
    free(table);
    free(head);
    if (hash)
        *hash = h;
    return s;
}

ir_status emit_weights_write(const char *path, const rt_config *cfg,
                             const emit_tensor *ts, size_t n,
                             uint64_t *hash_out, ir_diag *d)
{
    for (size_t i = 0; i < n; i++) {
        if (!ts[i].name || strlen(ts[i].name) >= EMIT_WEIGHTS_NAME_MAX)
            return ir_diag_set(d, IR_ERR_INPUT,
                               "%s: tensor %zu: name missing or longer than "
                               "%d bytes", path, i, EMIT_WEIGHTS_NAME_MAX - 1);
        if (ts[i].rank < 1 || ts[i].rank > 2 || !ts[i].data)
            return ir_diag_set(d, IR_ERR_INPUT,
                               "%s: tensor '%s': rank %d (1 or 2 expected) or "
                               "no data", path, ts[i].name, ts[i].rank);
        for (int r = 0; r < ts[i].rank; r++)
            if (ts[i].dims[r] <= 0)
                return ir_diag_set(d, IR_ERR_INPUT,
                                   "%s: tensor '%s': dim %d is %" PRId64, path,
                                   ts[i].name, r, ts[i].dims[r]);
    }
    ir_file_atomic a;
    ir_status s = ir_file_atomic_open(&a, path, 0644, d);
    if (s != IR_OK)
        return s;
    s = write_body(a.f, path, cfg, ts, n, hash_out, d);
    if (s == IR_OK)
        return ir_file_atomic_commit(&a, d);
    ir_file_atomic_abort(&a);
    return s;
}

/* ---- reading ------------------------------------------------------------ */

static const char REBUILD[] = "rebuild it with 'distilc build'";

/* The tensor called name, checked to be f32 of the given shape (d1 = 0 for
 * rank 1); NULL with the diag set when missing or misshapen. */
static const float *find_tensor(const unsigned char *base, uint64_t table_off,
                                uint32_t n, const char *file, const char *name,
                                int64_t d0, int64_t d1, bool optional,
                                ir_diag *d)
{
    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *e = base + table_off + (uint64_t)i * EMIT_WEIGHTS_ENTRY_BYTES;
        if (strncmp((const char *)e, name, EMIT_WEIGHTS_NAME_MAX) != 0)
            continue;
        uint32_t rank = get_u32(e + 52);
        int64_t g0 = (int64_t)get_u64(e + 56), g1 = (int64_t)get_u64(e + 64);
        int want_rank = d1 ? 2 : 1;
        if ((int)rank != want_rank || g0 != d0 || (d1 && g1 != d1)) {
            ir_diag_set(d, IR_ERR_INPUT,
                        "%s: tensor '%s' is [%" PRId64 "%s%" PRId64 "] (rank "
                        "%u) but the config implies [%" PRId64 "%s%" PRId64
                        "]; %s", file, name, g0, rank > 1 ? "," : "",
                        rank > 1 ? g1 : (int64_t)0, rank, d0, d1 ? "," : "",
                        d1, REBUILD);
            return NULL;
        }
        return (const float *)(const void *)(base + get_u64(e + 72));
    }
    if (!optional)
        ir_diag_set(d, IR_ERR_INPUT, "%s: tensor '%s' is missing; %s", file,
                    name, REBUILD);
    return NULL;
}

static ir_status check_config(const rt_config *c, const char *file, ir_diag *d)
{
    const char *bad = NULL;
    if (c->hidden <= 0) bad = "hidden";
    else if (c->layers < 1 || c->layers > RT_MAX_LAYERS) bad = "layers";
    else if (c->heads <= 0 || c->hidden % c->heads) bad = "heads";
    else if (c->ffn <= 0) bad = "ffn";
    else if (c->vocab <= 0) bad = "vocab";
    else if (c->max_positions <= 0) bad = "max_positions";
    else if (c->type_vocab <= 0) bad = "type_vocab";
    else if (c->embed < 0) bad = "embed";
    else if (c->embed_after_ln < 0 || c->embed_after_ln > 1 ||
             (c->embed_after_ln && !c->embed)) bad = "embed_after_ln";
    else if (c->labels <= 0) bad = "labels";
    else if (!ir_act_is_ffn(c->activation)) bad = "activation";
    else if (c->pool_act != IR_ACT_NONE && c->pool_act != IR_ACT_TANH &&
             c->pool_act != IR_ACT_RELU && c->pool_act != IR_ACT_GELU) bad = "pool_act";
    else if (c->positions < 0 || c->positions > 1) bad = "positions";
    else if (c->positions == 1 && (c->pad_id < 0 || c->pad_id > c->max_positions - 2))
        bad = "pad_id"; /* (pad_id + 2 would overflow at the int64 limit) */
    else if (c->rel_buckets < 0 || c->rel_buckets > (1 << 24)) bad = "rel_buckets";
    else if (c->rel_buckets > 0 &&
             (c->rel_bidirectional < 0 || c->rel_bidirectional > 1))
        bad = "rel_bidirectional";
    else if (c->rel_buckets > 0 &&
             (c->rel_max_distance < 1 || c->rel_max_distance > (1 << 24)))
        bad = "rel_max_distance";
    else if (c->n_attn_groups < 1 || c->n_attn_groups > c->layers) bad = "n_attn_groups";
    else if (c->n_ffn_groups < 1 || c->n_ffn_groups > c->layers) bad = "n_ffn_groups";
    for (int64_t l = 0; !bad && l < c->layers; l++) {
        if (c->attn_group[l] < 0 || c->attn_group[l] >= c->n_attn_groups)
            bad = "attn_group";
        else if (c->ffn_group[l] < 0 || c->ffn_group[l] >= c->n_ffn_groups)
            bad = "ffn_group";
    }
    if (bad)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: config field '%s' is out of range (corrupt "
                           "file?); %s", file, bad, REBUILD);
    return IR_OK;
}

static ir_status resolve(const unsigned char *b, uint64_t toff, uint32_t n,
                         const char *file, emit_weights_file *f, ir_diag *d)
{
    const rt_config *c = &f->cfg;
    rt_weights *w = &f->w;
    int64_t H = c->hidden, F = c->ffn, E = c->embed ? c->embed : c->hidden;
    int64_t N = c->embed_after_ln ? E : H; /* positions, types, LayerNorm */
#define NEED(dst, name, d0, d1)                                               \
    do {                                                                      \
        if (!((dst) = find_tensor(b, toff, n, file, (name), (d0), (d1),       \
                                  false, d)))                                 \
            return IR_ERR_INPUT;                                              \
    } while (0)
    NEED(w->word, "embeddings.word", c->vocab, E);
    if (c->embed)
        NEED(w->proj, "embeddings.proj", E, H);
    if (c->embed_after_ln)
        NEED(w->proj_b, "embeddings.proj_bias", H, 0);
    NEED(w->pos, "embeddings.position", c->max_positions, N);
    NEED(w->type, "embeddings.type", c->type_vocab, N);
    NEED(w->eln_g, "embeddings.ln.gamma", N, 0);
    NEED(w->eln_b, "embeddings.ln.beta", N, 0);
    if (c->rel_buckets > 0)
        NEED(w->rel_bias, "relative_bias", c->rel_buckets, c->heads);
    char nm[EMIT_WEIGHTS_NAME_MAX];
    for (int64_t a = 0; a < c->n_attn_groups; a++) {
        rt_attn_weights *t = &w->attn[a];
#define GROUP(dst, suffix, d0, d1)                                            \
    do {                                                                      \
        snprintf(nm, sizeof nm, "group%" PRId64 ".%s", a, suffix);            \
        NEED(dst, nm, d0, d1);                                                \
    } while (0)
        GROUP(t->qkv_w, "attn.qkv.weight", H, 3 * H);
        GROUP(t->qkv_b, "attn.qkv.bias", 3 * H, 0);
        GROUP(t->out_w, "attn.out.weight", H, H);
        GROUP(t->out_b, "attn.out.bias", H, 0);
        GROUP(t->ln_g, "attn.ln.gamma", H, 0);
        GROUP(t->ln_b, "attn.ln.beta", H, 0);
    }
    for (int64_t a = 0; a < c->n_ffn_groups; a++) {
        rt_ffn_weights *t = &w->ffn[a];
        GROUP(t->in_w, "ffn.in.weight", H, F);
        GROUP(t->in_b, "ffn.in.bias", F, 0);
        GROUP(t->out_w, "ffn.out.weight", F, H);
        GROUP(t->out_b, "ffn.out.bias", H, 0);
        GROUP(t->ln_g, "ffn.ln.gamma", H, 0);
        GROUP(t->ln_b, "ffn.ln.beta", H, 0);
#undef GROUP
    }
    NEED(w->pool_w, "pooler.weight", H, H);
    NEED(w->pool_b, "pooler.bias", H, 0);
    NEED(w->head_w, "head.weight", H, c->labels);
    NEED(w->head_b, "head.bias", c->labels, 0);
#undef NEED
    ir_diag probe;
    ir_diag_init(&probe);
    w->act_scales = find_tensor(b, toff, n, file, EMIT_WEIGHTS_ACT_SCALES,
                                c->layers * 4, 0, true, &probe);
    if (probe.status != IR_OK) {
        *d = probe;
        return probe.status;
    }
    return IR_OK;
}

ir_status emit_weights_parse(const void *buf, size_t size, const char *file,
                             bool verify, emit_weights_file *out, ir_diag *d)
{
    memset(out, 0, sizeof *out);
    const unsigned char *b = buf;
    uint32_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    if (first != 1)
        return ir_diag_set(d, IR_ERR_UNSUPPORTED,
                           "%s: this host is big-endian; weight files are "
                           "little-endian", file);
    size_t hb = header_bytes();
    if (size < 8 || memcmp(b, EMIT_WEIGHTS_MAGIC, 8) != 0)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: not a distilc weights file (no '%s' magic at "
                           "the start); pass the model.weights written by "
                           "'distilc build'", file, EMIT_WEIGHTS_MAGIC);
    if (size < hb)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: truncated: %zu bytes, shorter than the %zu-byte "
                           "header; %s", file, size, hb, REBUILD);
    uint32_t version = get_u32(b + 8);
    if (version != EMIT_WEIGHTS_VERSION)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: weights format version %u, this program reads "
                           "version %u; rebuild the program and its weights "
                           "with the same distilc", file, version,
                           EMIT_WEIGHTS_VERSION);
    uint32_t n = get_u32(b + 12);
    uint64_t file_bytes = get_u64(b + 16), toff = get_u64(b + 24);
    uint64_t doff = get_u64(b + 32);
    if (file_bytes != size)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: %s: the header says %" PRIu64 " bytes but the "
                           "file has %zu; copy it again or %s", file,
                           size < file_bytes ? "truncated" : "trailing bytes",
                           file_bytes, size, REBUILD);
    uint64_t stored = get_u64(b + EMIT_WEIGHTS_SUM_AT);
    if (verify) {
        uint64_t sum;
        ir_status cs = emit_weights_checksum(b, size, &sum, d);
        if (cs != IR_OK)
            return cs;
        if (sum != stored)
            return ir_diag_set(d, IR_ERR_INPUT,
                               "%s: checksum mismatch: the header says %016"
                               PRIx64 ", the bytes hash to %016" PRIx64 ": the "
                               "file is corrupt (a flipped bit, a damaged "
                               "copy); copy it again or %s", file, stored, sum,
                               REBUILD);
    }
    if (toff < hb || toff > size || n > (size - toff) / EMIT_WEIGHTS_ENTRY_BYTES ||
        doff < toff + (uint64_t)n * EMIT_WEIGHTS_ENTRY_BYTES || doff > size)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: tensor table (offset %" PRIu64 ", %u entries) "
                           "lies outside the file; %s", file, toff, n, REBUILD);
    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *e = b + toff + (uint64_t)i * EMIT_WEIGHTS_ENTRY_BYTES;
        char name[EMIT_WEIGHTS_NAME_MAX + 1];
        memcpy(name, e, EMIT_WEIGHTS_NAME_MAX);
        name[EMIT_WEIGHTS_NAME_MAX] = '\0';
        if (memchr(e, '\0', EMIT_WEIGHTS_NAME_MAX) == NULL)
            return ir_diag_set(d, IR_ERR_INPUT,
                               "%s: tensor %u: name not NUL-terminated; %s",
                               file, i, REBUILD);
        uint32_t dtype = get_u32(e + 48), rank = get_u32(e + 52);
        uint64_t d0 = get_u64(e + 56), d1 = get_u64(e + 64);
        uint64_t off = get_u64(e + 72), bytes = get_u64(e + 80);
        if (dtype != 1 || rank < 1 || rank > 2)
            return ir_diag_set(d, IR_ERR_INPUT,
                               "%s: tensor '%s': dtype %u rank %u (f32 of rank "
                               "1 or 2 expected); %s", file, name, dtype, rank,
                               REBUILD);
        uint64_t want = 0;
        bool ok = d0 > 0 && d0 < (1ull << 40);
        if (ok && rank == 2)
            ok = d1 > 0 && d1 < (1ull << 40) && d0 <= (UINT64_MAX / 4) / d1;
        if (ok)
            want = 4 * d0 * (rank == 2 ? d1 : 1);
        if (!ok || bytes != want)
            return ir_diag_set(d, IR_ERR_INPUT,
                               "%s: tensor '%s': %" PRIu64 " bytes do not fit "
                               "its dims; %s", file, name, bytes, REBUILD);
        if (off % EMIT_WEIGHTS_ALIGN || off < doff || off > size ||
            bytes > size - off)
            return ir_diag_set(d, IR_ERR_INPUT,
                               "%s: tensor '%s': data at offset %" PRIu64 " (+%"
                               PRIu64 " bytes) is outside the file's %zu bytes "
                               "or misaligned; %s", file, name, off, bytes,
                               size, REBUILD);
    }
    int64_t words[EMIT_WEIGHTS_CFG_WORDS];
    for (int i = 0; i < EMIT_WEIGHTS_CFG_WORDS; i++)
        words[i] = (int64_t)get_u64(b + EMIT_WEIGHTS_HEADER_BYTES + 8 * i);
    cfg_from_words(words, &out->cfg);
    ir_status s = check_config(&out->cfg, file, d);
    if (s == IR_OK)
        s = resolve(b, toff, n, file, out, d);
    if (s != IR_OK) {
        memset(out, 0, sizeof *out);
        return s;
    }
    out->hash = stored;
    return IR_OK;
}

ir_status emit_weights_open(const char *path, bool verify,
                            emit_weights_file *out, ir_diag *d)
{
    memset(out, 0, sizeof *out);
    /* a regular file only, never an open that blocks on a FIFO */
    int fd = -1;
    int64_t fsize = 0;
    ir_status os = ir_file_open(path, "weights", 0, &fd, &fsize, d);
    if (os != IR_OK)
        return os;
    size_t size = (size_t)fsize;
    if (size == 0) {
        close(fd);
        return ir_diag_set(d, IR_ERR_INPUT, "%s: empty file, not distilc "
                           "weights; %s", path, REBUILD);
    }
    void *base = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (base == MAP_FAILED)
        return ir_diag_set(d, IR_ERR_IO, "cannot map weights %s: %s", path,
                           strerror(errno));
    ir_status s = emit_weights_parse(base, size, path, verify, out, d);
    if (s != IR_OK) {
        munmap(base, size);
        return s;
    }
    out->base = base;
    out->size = size;
    return IR_OK;
}

void emit_weights_close(emit_weights_file *f)
{
    if (f && f->base)
        munmap((void *)f->base, f->size);
    if (f)
        memset(f, 0, sizeof *f);
}
