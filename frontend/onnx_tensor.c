/* onnx_tensor.c — ONNX TensorProto <-> ir_tensor, shared by initializers,
 * Constant attributes and the conformance cases' .pb files; external data
 * (onnx.proto "External Tensor Data": keys location / offset / length,
 * location relative to the model's folder); whole-file read and atomic
 * write helpers.
 *
 * Every check names the tensor: a model is user input, and a payload that
 * is one byte short must say which of 200 initializers it is. The host is
 * assumed little-endian, as ONNX's raw_data is (checked at compile time).
 */
#include "frontend/onnx_internal.h"
#include "ir/file_read.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "distilc's ONNX reader assumes a little-endian host (raw_data is LE)"
#endif

const char *onnx_dtype_name(int64_t code)
{
    /* onnx.proto TensorProto.DataType (onnx 1.12; float8 from 1.14, 4-bit
     * types from 1.16/1.17). */
    static const char *names[] = {
        "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32",
        "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64",
        "COMPLEX64", "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN",
        "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4",
        "FLOAT4E2M1"};
    if (code >= 0 && code < (int64_t)(sizeof names / sizeof names[0]))
        return names[code];
    return "unknown";
}

/* ---- external data --------------------------------------------------------- */

/* Parses a non-negative decimal (external_data offset / length). */
static bool parse_size(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        if (v > (INT64_MAX - (*p - '0')) / 10)
            return false;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return true;
}

/* A location may only name a file inside the model's folder: relative, no
 * ".." component. realpath is checked afterwards for symlinks. */
static bool location_is_safe(const char *loc)
{
    if (!*loc || loc[0] == '/' || strchr(loc, '\\'))
        return false;
    const char *p = loc;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return false;
        if (!e)
            break;
        p = e + 1;
    }
    return true;
}

static ir_status read_external(const Onnx__TensorProto *tp, const char *base_dir,
                               const char *what, ir_tensor *t, ir_diag *d)
{
    const char *loc = NULL, *off_s = NULL, *len_s = NULL;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const Onnx__StringStringEntryProto *e = tp->external_data[i];
        if (!e->key)
            continue;
        if (strcmp(e->key, "location") == 0)
            loc = e->value;
        else if (strcmp(e->key, "offset") == 0)
            off_s = e->value;
        else if (strcmp(e->key, "length") == 0)
            len_s = e->value;
        /* "checksum" and unknown keys are ignored, as onnx does. */
    }
    if (!loc)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: external data has no 'location' key", what);
    if (!base_dir)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: external data '%s' cannot be resolved for a "
                           "model loaded from memory (load it from its file)",
                           what, loc);
    if (!location_is_safe(loc))
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: external data location '%s' is refused: it "
                           "must be a relative path inside the model's folder "
                           "(no '..', not absolute)", what, loc);
    int64_t off = 0, len = -1;
    if (off_s && !parse_size(off_s, &off))
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: external data offset '%s' is not a "
                           "non-negative integer", what, off_s);
    if (len_s && !parse_size(len_s, &len))
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: external data length '%s' is not a "
                           "non-negative integer", what, len_s);

    char path[PATH_MAX], real_dir[PATH_MAX], real_file[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", base_dir, loc) >= sizeof path)
        return ir_diag_set(d, IR_ERR_INPUT, "%s: external data path too long",
                           what);
    if (!realpath(base_dir, real_dir))
        return ir_diag_set(d, IR_ERR_IO, "%s: model folder '%s': %s", what,
                           base_dir, strerror(errno));
    if (!realpath(path, real_file)) {
        int e = errno; /* missing: the model names a file that is not there */
        return ir_diag_set(d, e == ENOENT || e == ENOTDIR || e == ELOOP
                                  ? IR_ERR_INPUT : IR_ERR_IO,
                           "%s: external data file '%s': %s", what, path,
                           strerror(e));
    }
    size_t nd = strlen(real_dir);
    bool inside = strncmp(real_file, real_dir, nd) == 0 &&
                  (real_file[nd] == '/' || (nd == 1 && real_dir[0] == '/'));
    if (!inside)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: external data '%s' resolves to '%s', outside "
                           "the model's folder '%s': refused", what, loc,
                           real_file, real_dir);

    /* a FIFO here would block the open until something wrote to it */
    int fd;
    int64_t fsize;
    ir_status fs = ir_file_open(real_file, "external data", 0, &fd, &fsize, d);
    if (fs != IR_OK)
        return ir_diag_prefix(d, "%s", what);
    if (off > fsize) {
        close(fd);
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: external data offset %lld is past the end of "
                           "'%s' (%lld bytes)", what, (long long)off, path,
                           (long long)fsize);
    }
    if (len < 0)
        len = fsize - off;
    if (len > fsize - off) {
        close(fd);
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: external data offset %lld + length %lld runs "
                           "past the end of '%s' (%lld bytes)", what,
                           (long long)off, (long long)len, path,
                           (long long)fsize);
    }
    if ((uint64_t)len != (uint64_t)t->nbytes) {
        close(fd);
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: external data holds %lld bytes but the shape "
                           "and type need %zu", what, (long long)len,
                           t->nbytes);
    }
    if (t->nbytes == 0) {
        close(fd);
        return IR_OK;
    }
    /* Map from the page below offset. MAP_PRIVATE never writes the file;
     * PROT_WRITE lets a pass edit a constant in place (copy-on-write). */
    long page = sysconf(_SC_PAGESIZE);
    int64_t start = off - off % (page > 0 ? page : 4096);
    size_t map_len = (size_t)(off - start) + t->nbytes;
    void *m = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
                   (off_t)start);
    close(fd);
    if (m == MAP_FAILED)
        return ir_diag_set(d, IR_ERR_IO, "%s: cannot map external data '%s': %s",
                           what, path, strerror(errno));
    t->mmap_base = m;
    t->mmap_len = map_len;
    t->data = (char *)m + (off - start);
    return IR_OK;
}

/* ---- TensorProto -> ir_tensor --------------------------------------------- */

/* Copies typed-field values (int32_data) into the tensor's storage,
 * checking they fit the element type. */
static ir_status copy_int32_data(const Onnx__TensorProto *tp, ir_tensor *t,
                                 const char *what, ir_diag *d)
{
    size_t n = tp->n_int32_data;
    for (size_t i = 0; i < n; i++) {
        int32_t v = tp->int32_data[i];
        int32_t lo, hi;
        switch (t->dtype) {
        case IR_DT_I8: lo = INT8_MIN; hi = INT8_MAX; break;
        case IR_DT_U8: lo = 0; hi = UINT8_MAX; break;
        case IR_DT_BOOL: lo = 0; hi = 1; break;
        case IR_DT_F16: case IR_DT_BF16: lo = 0; hi = UINT16_MAX; break; /* bits */
        default: lo = INT32_MIN; hi = INT32_MAX; break;
        }
        if (v < lo || v > hi)
            return ir_diag_set(d, IR_ERR_INPUT,
                               "%s: int32_data[%zu] = %d does not fit %s",
                               what, i, (int)v, onnx_dtype_name(t->dtype));
        switch (t->dtype) {
        case IR_DT_I8: ((int8_t *)t->data)[i] = (int8_t)v; break;
        case IR_DT_U8: ((uint8_t *)t->data)[i] = (uint8_t)v; break;
        case IR_DT_BOOL: ((uint8_t *)t->data)[i] = (uint8_t)v; break;
        case IR_DT_F16: case IR_DT_BF16: ((uint16_t *)t->data)[i] = (uint16_t)v; break;
        default: ((int32_t *)t->data)[i] = v; break;
        }
    }
    return IR_OK;
}

ir_status onnx_tensor_from_proto(Onnx__TensorProto *tp, bool steal,
                                 const char *base_dir, const char *what,
                                 ir_tensor **out, ir_diag *d)
{
    *out = NULL;
    if (!tp->has_data_type || tp->data_type == 0)
        return ir_diag_set(d, IR_ERR_INPUT, "%s has no data type", what);
    if (!ir_dtype_supported(tp->data_type))
        return ir_diag_set(d, IR_ERR_UNSUPPORTED,
                           "%s has element type %s (%d), which distilc does "
                           "not support (FLOAT, FLOAT16, BFLOAT16, INT8, "
                           "UINT8, INT32, INT64, BOOL)", what,
                           onnx_dtype_name(tp->data_type), (int)tp->data_type);
    if (tp->n_dims > IR_MAX_RANK)
        return ir_diag_set(d, IR_ERR_UNSUPPORTED,
                           "%s has rank %zu; distilc handles up to %d", what,
                           tp->n_dims, IR_MAX_RANK);
    for (size_t i = 0; i < tp->n_dims; i++)
        if (tp->dims[i] < 0)
            return ir_diag_set(d, IR_ERR_INPUT, "%s has negative dimension "
                               "%lld at axis %zu", what,
                               (long long)tp->dims[i], i);
    int64_t numel = ir_numel_checked((int)tp->n_dims, tp->dims);
    if (numel < 0)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "%s: shape is too large (element count overflows)",
                           what);
    if (tp->segment)
        return ir_diag_set(d, IR_ERR_UNSUPPORTED,
                           "%s is a segment of a larger tensor; segments are "
                           "not supported", what);
    ir_dtype dt = (ir_dtype)tp->data_type;
    size_t es = ir_dtype_size(dt);

    ir_tensor *t = calloc(1, sizeof *t);
    if (!t)
        return ir_diag_set(d, IR_ERR_NOMEM, "%s: out of memory", what);
    t->dtype = dt;
    t->rank = (int)tp->n_dims;
    for (size_t i = 0; i < tp->n_dims; i++)
        t->dims[i] = tp->dims[i];
    t->nbytes = (size_t)numel * es;

    bool external = tp->has_data_location &&
                    tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    ir_status st = IR_OK;
    if (external) {
        st = read_external(tp, base_dir, what, t, d);
        if (st != IR_OK)
            goto fail;
        *out = t;
        return IR_OK;
    }

    /* In-model payload: exactly one source, with exactly numel elements. */
    size_t typed_n = 0;
    const char *field = NULL;
    switch (dt) {
    case IR_DT_F32: typed_n = tp->n_float_data; field = "float_data"; break;
    case IR_DT_I64: typed_n = tp->n_int64_data; field = "int64_data"; break;
    default: typed_n = tp->n_int32_data; field = "int32_data"; break;
    }
    size_t other_n = tp->n_float_data + tp->n_int32_data + tp->n_int64_data +
                     tp->n_double_data + tp->n_uint64_data + tp->n_string_data -
                     typed_n;
    if (other_n) {
        st = ir_diag_set(d, IR_ERR_INPUT,
                         "%s (%s) carries values in a field that does not "
                         "match its type (expected raw_data or %s)", what,
                         onnx_dtype_name(dt), field);
        goto fail;
    }
    if (tp->has_raw_data && typed_n) {
        st = ir_diag_set(d, IR_ERR_INPUT,
                         "%s has both raw_data and %s", what, field);
        goto fail;
    }
    if (tp->has_raw_data) {
        if (tp->raw_data.len != t->nbytes) {
            st = ir_diag_set(d, IR_ERR_INPUT,
                             "%s: raw_data holds %zu bytes but shape and type "
                             "(%lld x %s) need %zu", what, tp->raw_data.len,
                             (long long)numel, onnx_dtype_name(dt), t->nbytes);
            goto fail;
        }
    } else if (typed_n != (size_t)numel) {
        st = ir_diag_set(d, IR_ERR_INPUT,
                         "%s: %s holds %zu values but the shape needs %lld",
                         what, typed_n ? field : "the payload", typed_n,
                         (long long)numel);
        goto fail;
    }
    if (t->nbytes && steal && tp->has_raw_data) {
        /* protobuf-c mallocs each bytes field on its own (freed by
         * free_unpacked unless NULL): take it over. */
        t->data = tp->raw_data.data;
        tp->raw_data.data = NULL;
        tp->raw_data.len = 0;
    } else if (t->nbytes) {
        t->data = malloc(t->nbytes);
        if (!t->data) {
            st = ir_diag_set(d, IR_ERR_NOMEM, "%s: out of memory for %zu bytes",
                             what, t->nbytes);
            goto fail;
        }
        if (tp->has_raw_data)
            memcpy(t->data, tp->raw_data.data, t->nbytes);
        else if (dt == IR_DT_F32)
            memcpy(t->data, tp->float_data, t->nbytes);
        else if (dt == IR_DT_I64)
            memcpy(t->data, tp->int64_data, t->nbytes);
        else if ((st = copy_int32_data(tp, t, what, d)) != IR_OK)
            goto fail;
    }
    *out = t;
    return IR_OK;
fail:
    ir_tensor_free(t);
    return st;
}

/* ---- ir_tensor -> TensorProto --------------------------------------------- */

void onnx_tensor_to_proto(const ir_tensor *t, const char *name,
                          Onnx__TensorProto *tp)
{
    tp->name = (char *)name;
    tp->n_dims = (size_t)t->rank;
    tp->dims = (int64_t *)t->dims;
    tp->has_data_type = 1;
    tp->data_type = (int32_t)t->dtype;
    tp->has_raw_data = 1;
    tp->raw_data.len = t->nbytes;
    tp->raw_data.data = (uint8_t *)t->data;
}

/* ---- files ----------------------------------------------------------------- */

ir_status onnx_file_read(const char *path, const char *what, void **buf,
                         size_t *len, ir_diag *d)
{
    char *p;
    ir_status st = ir_file_read_all(path, what, ONNX_FILE_MAX, &p, len, d);
    *buf = p;
    return st;
}

/* ---- .pb tensor files ------------------------------------------------------ */

ir_status onnx_tensor_read_file(const char *path, ir_tensor **out,
                                char **name_out, ir_diag *d)
{
    *out = NULL;
    if (name_out)
        *name_out = NULL;
    void *buf;
    size_t len;
    ir_status st = onnx_file_read(path, "tensor file", &buf, &len, d);
    if (st != IR_OK)
        return st;
    /* a TensorProto does not nest, but the check costs nothing and keeps
     * every unpack behind it */
    Onnx__TensorProto *tp = NULL;
    st = onnx_wire_check_nesting(&onnx__tensor_proto__descriptor, buf, len,
                                 "a serialised ONNX TensorProto", d);
    if (st == IR_OK)
        tp = onnx__tensor_proto__unpack(NULL, len, buf);
    free(buf);
    if (st != IR_OK)
        return ir_diag_prefix(d, "'%s'", path);
    if (!tp)
        return ir_diag_set(d, IR_ERR_INPUT,
                           "'%s' is not a serialised ONNX TensorProto "
                           "(protobuf parse failed)", path);
    char what[PATH_MAX + 300];
    snprintf(what, sizeof what, "tensor '%s' in '%s'",
             tp->name ? tp->name : "", path);
    /* External data of a .pb file is relative to the file's folder. */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    st = onnx_tensor_from_proto(tp, true, dir, what, out, d);
    if (st == IR_OK && name_out && tp->name) {
        *name_out = strdup(tp->name);
        if (!*name_out) {
            ir_tensor_free(*out);
            *out = NULL;
            st = ir_diag_set(d, IR_ERR_NOMEM, "out of memory");
        }
    }
    onnx__tensor_proto__free_unpacked(tp, NULL);
    return st;
}

ir_status onnx_tensor_write_file(const char *path, const ir_tensor *t,
                                 const char *name, ir_diag *d)
{
    Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
    onnx_tensor_to_proto(t, name ? name : "", &tp);
    size_t n = onnx__tensor_proto__get_packed_size(&tp);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return ir_diag_set(d, IR_ERR_NOMEM, "out of memory writing '%s'", path);
    onnx__tensor_proto__pack(&tp, buf);
    ir_status st = ir_file_write_atomic(path, buf, n, 0644, d);
    free(buf);
    return st;
}
