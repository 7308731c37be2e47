/* emit_weights.c — writing and validating model.weights (format in
 * emit_weights.h). Shipped with every emitted program, so it uses libc,
 * ir/diag and backend/rt.h only.
 *
 * Integers are serialised byte by byte (little-endian) rather than by
 * copying structs, so the file does not depend on padding or on the host.
 * Tensor data is raw f32: the reader refuses a big-endian host instead of
 * byte-swapping, which no machine distilc targets needs. */
#include "backend/emit_weights.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ir/file_atomic.h"

/* ---- XXH64 ----------------------------------------------------------------
 * Written from the algorithm's description (xxHash's doc/xxhash_spec.md,
 * "XXH64"), seed 0: four lanes over 32-byte stripes, then the tail, then
 * the avalanche. Several GB/s in plain C, so checking a BERT-base file
 * costs little next to loading it; any flipped bit changes it. */
#define XXH_P1 0x9E3779B185EBCA87ull
#define XXH_P2 0xC2B2AE3D27D4EB4Full
#define XXH_P3 0x165667B19E3779F9ull
#define XXH_P4 0x85EBCA77C2B2AE63ull
#define XXH_P5 0x27D4EB2F165667C5ull

static uint64_t xxh_rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static uint64_t xxh_read64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8); /* little-endian hosts only (checked on reading) */
    return v;
}

static uint64_t xxh_round(uint64_t acc, uint64_t in)
{
    acc += in * XXH_P2;
    return xxh_rotl(acc, 31) * XXH_P1;
}

static uint64_t xxh_merge(uint64_t h, uint64_t v)
{
    h ^= xxh_round(0, v);
    return h * XXH_P1 + XXH_P4;
}

void emit_xxh64_init(emit_xxh64_state *s)
{
    memset(s, 0, sizeof *s);
    s->v[0] = XXH_P1 + XXH_P2;
    s->v[1] = XXH_P2;
    s->v[2] = 0;
    s->v[3] = 0 - XXH_P1;
}

static void xxh_stripes(emit_xxh64_state *s, const unsigned char *p, size_t n)
{
    uint64_t v0 = s->v[0], v1 = s->v[1], v2 = s->v[2], v3 = s->v[3];
    for (; n >= 32; p += 32, n -= 32) {
        v0 = xxh_round(v0, xxh_read64(p));
        v1 = xxh_round(v1, xxh_read64(p + 8));
        v2 = xxh_round(v2, xxh_read64(p + 16));
        v3 = xxh_round(v3, xxh_read64(p + 24));
    }
    s->v[0] = v0, s->v[1] = v1, s->v[2] = v2, s->v[3] = v3;
}

void emit_xxh64_update(emit_xxh64_state *s, const void *data, size_t n)
{
    const unsigned char *p = data;
    s->total += n;
    if (s->buffered) {
        size_t take = 32 - s->buffered < n ? 32 - s->buffered : n;
        memcpy(s->buf + s->buffered, p, take);
        s->buffered += take;
        p += take;
        n -= take;
        if (s->buffered < 32)
            return;
        xxh_stripes(s, s->buf, 32);
        s->buffered = 0;
    }
    size_t whole = n & ~(size_t)31;
    xxh_stripes(s, p, whole);
    memcpy(s->buf, p + whole, n - whole);
    s->buffered = n - whole;
}

uint64_t emit_xxh64_digest(const emit_xxh64_state *s)
{
    uint64_t h;
    if (s->total >= 32) {
        h = xxh_rotl(s->v[0], 1) + xxh_rotl(s->v[1], 7) +
            xxh_rotl(s->v[2], 12) + xxh_rotl(s->v[3], 18);
        for (int i = 0; i < 4; i++)
            h = xxh_merge(h, s->v[i]);
    } else {
        h = XXH_P5; /* + seed 0 */
    }
    h += s->total;
    const unsigned char *p = s->buf;
    size_t n = s->buffered;
    for (; n >= 8; p += 8, n -= 8) {
        h ^= xxh_round(0, xxh_read64(p));
        h = xxh_rotl(h, 27) * XXH_P1 + XXH_P4;
    }
    if (n >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        h ^= (uint64_t)w * XXH_P1;
        h = xxh_rotl(h, 23) * XXH_P2 + XXH_P3;
        p += 4;
        n -= 4;
    }
    for (; n > 0; p++, n--) {
        h ^= (uint64_t)*p * XXH_P5;
        h = xxh_rotl(h, 11) * XXH_P1;
    }
    h ^= h >> 33;
    h *= XXH_P2;
    h ^= h >> 29;
    h *= XXH_P3;
    h ^= h >> 32;
    return h;
}

uint64_t emit_xxh64(const void *data, size_t n)
{
    emit_xxh64_state s;
    emit_xxh64_init(&s);
    emit_xxh64_update(&s, data, n);
    return emit_xxh64_digest(&s);
}

/* The checksum of a whole weight file: XXH64 of its bytes with the
 * checksum field (EMIT_WEIGHTS_SUM_AT, 8 bytes) read as zeros. */
uint64_t emit_weights_checksum(const void *file, size_t size)
{
    const unsigned char *b = file;
    unsigned char head[EMIT_WEIGHTS_SUM_AT + 8];
    emit_xxh64_state s;
    emit_xxh64_init(&s);
    if (size < sizeof head) {
        emit_xxh64_update(&s, b, size);
        return emit_xxh64_digest(&s);
    }
    memcpy(head, b, EMIT_WEIGHTS_SUM_AT);
    memset(head + EMIT_WEIGHTS_SUM_AT, 0, 8);
    emit_xxh64_update(&s, head, sizeof head);
    emit_xxh64_update(&s, b + sizeof head, size - sizeof head);
    return emit_xxh64_digest(&s);
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
static ir_status put_bytes(FILE *f, emit_xxh64_state *sum, const void *p, size_t n,
                           const char *path, ir_diag *d)
{
    if (!f) {
        emit_xxh64_update(sum, p, n);
        return IR_OK;
    }
    if (n && fwrite(p, 1, n, f) != n)
        return ir_diag_set(d, IR_ERR_IO, "%s: write failed: %s", path,
                           strerror(errno));
    return IR_OK;
}

static ir_status put_file(FILE *f, emit_xxh64_state *sum, const unsigned char *head,
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

    emit_xxh64_state sum;
    emit_xxh64_init(&sum);
    put_file(NULL, &sum, head, table_off, table, data_off, ts, n, path, d);
    uint64_t h = emit_xxh64_digest(&sum);
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
        uint64_t sum = emit_weights_checksum(b, size);
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
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return ir_diag_set(d, IR_ERR_IO, "cannot open weights %s: %s", path,
                           strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ir_diag_set(d, IR_ERR_IO, "weights %s: not a regular file",
                           path);
    }
    size_t size = (size_t)st.st_size;
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
