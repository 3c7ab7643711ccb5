#include <string.h>

#include "aiot_proto.h"
#include "aiot_writer.h"

void aiot_writer_init(aiot_writer_t *w, char *buf, size_t size)
{
    w->buf = buf;
    w->size = (buf != NULL) ? size : 0;
    w->len = 0;
    w->failed = (w->size == 0);
}

void aiot_put_mem(aiot_writer_t *w, const char *s, size_t n)
{
    if (w->failed) {
        return;
    }
    /* keep one byte for the terminating NUL */
    if (n >= w->size - w->len) {
        w->failed = true;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

void aiot_put_str(aiot_writer_t *w, const char *s)
{
    aiot_put_mem(w, s, strlen(s));
}

void aiot_put_char(aiot_writer_t *w, char c)
{
    aiot_put_mem(w, &c, 1);
}

void aiot_put_int(aiot_writer_t *w, int64_t v)
{
    char digits[24];
    size_t n = 0;
    /* work on the magnitude as unsigned: -INT64_MIN does not fit int64_t */
    uint64_t mag = (v < 0) ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        digits[n++] = (char)('0' + (mag % 10U));
        mag /= 10U;
    } while (mag != 0U);
    if (v < 0) {
        aiot_put_char(w, '-');
    }
    while (n > 0) {
        aiot_put_char(w, digits[--n]);
    }
}

int aiot_writer_finish(aiot_writer_t *w)
{
    if (w->failed) {
        if (w->size > 0) {
            w->buf[0] = '\0';
        }
        return AIOT_ETRUNC;
    }
    w->buf[w->len] = '\0';
    return (int)w->len;
}

int aiot_invalid(char *out, size_t size)
{
    if ((out != NULL) && (size > 0)) {
        out[0] = '\0';
    }
    return AIOT_EINVAL;
}
