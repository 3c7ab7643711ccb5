/* Sensor value formats of the aiot nodes. */
#include <limits.h>
#include <stdlib.h>

#include "aiot_proto.h"
#include "aiot_writer.h"

#define AIOT_FIXED_MAX_DECIMALS (6U)
/* |value| stays below this after scaling, so int64_t arithmetic is safe */
#define AIOT_FIXED_LIMIT        (1000000000000000000LL)   /* 10^18 */

/* value * 10^diff, rounded half away from zero; false when the magnitude
 * reaches AIOT_FIXED_LIMIT. */
static bool _scale(int64_t value, int diff, int64_t *result)
{
    int64_t v = value;
    if (v == 0) {
        *result = 0;
        return true;
    }
    for (; diff > 0; --diff) {
        if ((v >= AIOT_FIXED_LIMIT / 10) || (v <= -AIOT_FIXED_LIMIT / 10)) {
            return false;
        }
        v *= 10;
    }
    if (diff < 0) {
        if (diff < -18) {
            /* |value| < 10^18 / 2, so it rounds to 0 */
            *result = 0;
            return true;
        }
        int64_t p = 1;
        for (; diff < 0; ++diff) {
            p *= 10;
        }
        int64_t q = v / p;
        int64_t r = v % p;
        if (2 * llabs(r) >= p) {
            q += (v < 0) ? -1 : 1;
        }
        v = q;
    }
    *result = v;
    return true;
}

int32_t aiot_rescale(int32_t value, int scale, int target_scale)
{
    int64_t v;
    if ((scale < -128) || (scale > 127) ||
        (target_scale < -128) || (target_scale > 127)) {
        return 0;
    }
    if (!_scale(value, scale - target_scale, &v)) {
        return (value < 0) ? INT32_MIN : INT32_MAX;
    }
    if (v > INT32_MAX) {
        return INT32_MAX;
    }
    if (v < INT32_MIN) {
        return INT32_MIN;
    }
    return (int32_t)v;
}

int aiot_format_fixed(char *out, size_t size, int32_t value, int scale,
                      unsigned decimals, const char *unit)
{
    int64_t v;
    if ((decimals > AIOT_FIXED_MAX_DECIMALS) ||
        (scale < -128) || (scale > 127) ||
        !_scale(value, scale + (int)decimals, &v)) {
        return aiot_invalid(out, size);
    }
    int64_t p = 1;
    for (unsigned i = 0; i < decimals; ++i) {
        p *= 10;
    }
    int64_t mag = (v < 0) ? -v : v;
    aiot_writer_t w;
    aiot_writer_init(&w, out, size);
    if (v < 0) {
        aiot_put_char(&w, '-');
    }
    aiot_put_int(&w, mag / p);
    if (decimals > 0) {
        aiot_put_char(&w, '.');
        int64_t frac = mag % p;
        for (int64_t d = p / 10; d > 0; d /= 10) {
            aiot_put_char(&w, (char)('0' + (frac / d) % 10));
        }
    }
    if (unit != NULL) {
        aiot_put_str(&w, unit);
    }
    return aiot_writer_finish(&w);
}

int aiot_format_temperature(char *out, size_t size, int32_t value, int scale)
{
    return aiot_format_fixed(out, size, value, scale, 1, "\xc2\xb0" "C");
}

int aiot_format_pressure(char *out, size_t size, int32_t value, int scale)
{
    /* Pa * 10^scale == hPa * 10^(scale - 2) */
    return aiot_format_fixed(out, size, value, scale - 2, 0, "hPa");
}

int aiot_format_humidity(char *out, size_t size, int32_t value, int scale)
{
    return aiot_format_fixed(out, size, value, scale, 0, "%");
}

int aiot_format_illuminance(char *out, size_t size, int32_t value, int scale)
{
    return aiot_format_fixed(out, size, value, scale, 0, "lx");
}

static void _put_imu_entry(aiot_writer_t *w, const char *type,
                           const aiot_vec3_t *vec)
{
    aiot_put_str(w, "{\"type\":\"");
    aiot_put_str(w, type);
    aiot_put_str(w, "\",\"values\":[");
    for (unsigned i = 0; i < 3; ++i) {
        if (i > 0) {
            aiot_put_char(w, ',');
        }
        aiot_put_int(w, (vec != NULL) ? vec->v[i] : 0);
    }
    aiot_put_str(w, "]}");
}

int aiot_format_imu(char *out, size_t size, const aiot_vec3_t *acc,
                    const aiot_vec3_t *mag, const aiot_vec3_t *gyro)
{
    aiot_writer_t w;
    aiot_writer_init(&w, out, size);
    aiot_put_char(&w, '[');
    _put_imu_entry(&w, "acc", acc);
    aiot_put_char(&w, ',');
    _put_imu_entry(&w, "mag", mag);
    aiot_put_char(&w, ',');
    _put_imu_entry(&w, "gyro", gyro);
    aiot_put_char(&w, ']');
    return aiot_writer_finish(&w);
}
