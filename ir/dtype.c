/* dtype.c — element types: names, sizes, and half-precision conversions. */
#include "ir/ir.h"

#include <string.h>

const char *ir_dtype_name(ir_dtype t)
{
    switch (t) {
    case IR_DT_F32: return "f32";
    case IR_DT_F16: return "f16";
    case IR_DT_BF16: return "bf16";
    case IR_DT_I8: return "i8";
    case IR_DT_U8: return "u8";
    case IR_DT_I32: return "i32";
    case IR_DT_I64: return "i64";
    case IR_DT_BOOL: return "bool";
    default: return "?";
    }
}

size_t ir_dtype_size(ir_dtype t)
{
    switch (t) {
    case IR_DT_F32: case IR_DT_I32: return 4;
    case IR_DT_F16: case IR_DT_BF16: return 2;
    case IR_DT_I8: case IR_DT_U8: case IR_DT_BOOL: return 1;
    case IR_DT_I64: return 8;
    default: return 0;
    }
}

bool ir_dtype_supported(int code)
{
    return code > 0 && code < IR_DT_COUNT && ir_dtype_size((ir_dtype)code) != 0;
}

bool ir_dtype_is_float(ir_dtype t)
{
    return t == IR_DT_F32 || t == IR_DT_F16 || t == IR_DT_BF16;
}

bool ir_dtype_is_int(ir_dtype t)
{
    return t == IR_DT_I8 || t == IR_DT_U8 || t == IR_DT_I32 || t == IR_DT_I64;
}

static uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float ir_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

uint16_t ir_f32_to_bf16(float f)
{
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) /* NaN: keep it quiet */
        return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u); /* round to nearest even */
    return (uint16_t)(u >> 16);
}

/* IEEE 754 binary16, after the classic bit-twiddling conversions. */
float ir_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    if (exp == 0) {
        if (man == 0)
            return bits_f32(sign);
        /* subnormal: value = man * 2^-24 */
        float v = (float)man / 16777216.0f;
        return sign ? -v : v;
    }
    if (exp == 31)
        return bits_f32(sign | 0x7f800000u | (man << 13));
    return bits_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

uint16_t ir_f32_to_f16(float f)
{
    uint32_t u = f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u)
        return sign | 0x7e00u; /* NaN */
    if (a >= 0x477ff000u)      /* rounds to >= 65520: infinity */
        return sign | 0x7c00u;
    if (a < 0x38800000u) {     /* below the smallest normal: subnormal or 0 */
        float v = bits_f32(a) * 16777216.0f; /* in units of 2^-24 */
        uint32_t m = (uint32_t)v;
        float rem = v - (float)m;
        if (rem > 0.5f || (rem == 0.5f && (m & 1u)))
            m++;
        return sign | (uint16_t)m;
    }
    uint32_t exp = (a >> 23) - 112u, man = a & 0x7fffffu;
    uint32_t h = (exp << 10) | (man >> 13);
    uint32_t rest = man & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u)))
        h++;
    return sign | (uint16_t)h;
}
