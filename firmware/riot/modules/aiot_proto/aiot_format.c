/* Sensor value formats of the aiot nodes. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

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

int aiot_format_eco2(char *out, size_t size, int32_t value, int scale)
{
    return aiot_format_fixed(out, size, value, scale, 0, "ppm");
}

int aiot_format_tvoc(char *out, size_t size, int32_t value, int scale)
{
    return aiot_format_fixed(out, size, value, scale, 0, "ppb");
}

/* A decimal number with at most 6 fraction digits, in millionths; advances
 * *p. False when there is none or it is too large. */
static bool _parse_e6(const char **p, const char *end, int32_t *out)
{
    const char *s = *p;
    bool neg = false;
    if ((s < end) && ((*s == '-') || (*s == '+'))) {
        neg = (*s == '-');
        ++s;
    }
    int64_t whole = 0;
    unsigned digits = 0;
    while ((s < end) && (*s >= '0') && (*s <= '9')) {
        whole = whole * 10 + (*s - '0');
        if (whole > 1000) {
            return false;
        }
        ++s;
        ++digits;
    }
    int64_t frac = 0;
    unsigned frac_digits = 0;
    if ((s < end) && (*s == '.')) {
        ++s;
        while ((s < end) && (*s >= '0') && (*s <= '9')) {
            if (frac_digits == 6) {
                return false;
            }
            frac = frac * 10 + (*s - '0');
            ++s;
            ++frac_digits;
        }
        if (frac_digits == 0) {
            return false;
        }
    }
    if (digits == 0) {
        return false;
    }
    for (unsigned i = frac_digits; i < 6; ++i) {
        frac *= 10;
    }
    int64_t v = whole * 1000000 + frac;
    *out = (int32_t)(neg ? -v : v);
    *p = s;
    return true;
}

static void _skip_spaces(const char **p, const char *end)
{
    while ((*p < end) && ((**p == ' ') || (**p == '\t') || (**p == '\n') || (**p == '\r'))) {
        ++*p;
    }
}

static bool _take(const char **p, const char *end, const char *text)
{
    size_t n = strlen(text);
    if (((size_t)(end - *p) < n) || (memcmp(*p, text, n) != 0)) {
        return false;
    }
    *p += n;
    return true;
}

int aiot_parse_position(const void *data, size_t len, aiot_position_t *pos)
{
    const char *p = data;
    const char *end = p + len;
    aiot_position_t v;
    _skip_spaces(&p, end);
    if ((p < end) && (*p == '{')) {
        bool have_lat = false, have_lng = false;
        ++p;
        for (unsigned i = 0; i < 2; ++i) {
            _skip_spaces(&p, end);
            int32_t *target;
            if (_take(&p, end, "\"lat\"")) {
                target = &v.lat_e6;
                if (have_lat) {
                    return -1;
                }
                have_lat = true;
            }
            else if (_take(&p, end, "\"lng\"") || _take(&p, end, "\"lon\"")) {
                target = &v.lng_e6;
                if (have_lng) {
                    return -1;
                }
                have_lng = true;
            }
            else {
                return -1;
            }
            _skip_spaces(&p, end);
            if (!_take(&p, end, ":")) {
                return -1;
            }
            _skip_spaces(&p, end);
            if (!_parse_e6(&p, end, target)) {
                return -1;
            }
            _skip_spaces(&p, end);
            if (!_take(&p, end, (i == 0) ? "," : "}")) {
                return -1;
            }
        }
    }
    else {
        if (!_parse_e6(&p, end, &v.lat_e6)) {
            return -1;
        }
        _skip_spaces(&p, end);
        if (!_take(&p, end, ",")) {
            return -1;
        }
        _skip_spaces(&p, end);
        if (!_parse_e6(&p, end, &v.lng_e6)) {
            return -1;
        }
    }
    _skip_spaces(&p, end);
    if ((p != end) || (v.lat_e6 > 90000000) || (v.lat_e6 < -90000000) ||
        (v.lng_e6 > 180000000) || (v.lng_e6 < -180000000)) {
        return -1;
    }
    *pos = v;
    return 0;
}

static void _put_e6(aiot_writer_t *w, int32_t v)
{
    uint32_t mag = (v < 0) ? (uint32_t)(-(int64_t)v) : (uint32_t)v;
    if (v < 0) {
        aiot_put_str(w, "-");
    }
    aiot_put_int(w, (int64_t)(mag / 1000000U));
    uint32_t frac = mag % 1000000U;
    if (frac != 0) {
        char digits[7];
        for (int i = 5; i >= 0; --i) {
            digits[i] = (char)('0' + (frac % 10U));
            frac /= 10U;
        }
        int n = 6;
        while (digits[n - 1] == '0') {
            --n;
        }
        digits[n] = '\0';
        aiot_put_str(w, ".");
        aiot_put_str(w, digits);
    }
}

int aiot_format_position(char *out, size_t size, const aiot_position_t *pos)
{
    aiot_writer_t w;
    aiot_writer_init(&w, out, size);
    aiot_put_str(&w, "{\"lat\":");
    _put_e6(&w, pos->lat_e6);
    aiot_put_str(&w, ",\"lng\":");
    _put_e6(&w, pos->lng_e6);
    aiot_put_str(&w, "}");
    return aiot_writer_finish(&w);
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
