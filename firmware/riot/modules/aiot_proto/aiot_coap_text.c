/* CoAP node payloads (PROTOCOL.md section 4) and small parsers. */
#include <string.h>

#include "aiot_proto.h"
#include "aiot_writer.h"

int aiot_hex_upper(char *out, size_t size, const uint8_t *bytes, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    if ((bytes == NULL) && (n > 0)) {
        return aiot_invalid(out, size);
    }
    aiot_writer_t w;
    aiot_writer_init(&w, out, size);
    for (size_t i = 0; i < n; ++i) {
        aiot_put_char(&w, hex[bytes[i] >> 4]);
        aiot_put_char(&w, hex[bytes[i] & 0x0f]);
    }
    return aiot_writer_finish(&w);
}

int aiot_beacon_payload(char *out, size_t size, bool reset, const char *uid)
{
    if ((uid == NULL) || (uid[0] == '\0') || (strchr(uid, ':') != NULL)) {
        return aiot_invalid(out, size);
    }
    aiot_writer_t w;
    aiot_writer_init(&w, out, size);
    aiot_put_str(&w, reset ? "reset:" : "alive:");
    aiot_put_str(&w, uid);
    return aiot_writer_finish(&w);
}

int aiot_server_payload(char *out, size_t size, const char *resource,
                        const char *value)
{
    if ((resource == NULL) || (value == NULL) || (resource[0] == '\0') ||
        (strpbrk(resource, ":/") != NULL)) {
        return aiot_invalid(out, size);
    }
    aiot_writer_t w;
    aiot_writer_init(&w, out, size);
    aiot_put_str(&w, resource);
    aiot_put_char(&w, ':');
    aiot_put_str(&w, value);
    return aiot_writer_finish(&w);
}

static bool _is_blank(char c)
{
    return (c == ' ') || (c == '\t') || (c == '\r') || (c == '\n');
}

/* Trims blanks from both ends of [*p, *end). */
static void _trim(const char **p, const char **end)
{
    while ((*p < *end) && _is_blank(**p)) {
        ++*p;
    }
    while ((*end > *p) && _is_blank((*end)[-1])) {
        --*end;
    }
}

static bool _strip_pair(const char **p, const char **end, char open, char close)
{
    if ((*end - *p >= 2) && (**p == open) && ((*end)[-1] == close)) {
        ++*p;
        --*end;
        return true;
    }
    return false;
}

int aiot_parse_switch(const void *data, size_t len)
{
    if ((data == NULL) && (len > 0)) {
        return AIOT_EINVAL;
    }
    const char *p = data;
    const char *end = p + len;
    _trim(&p, &end);
    if (_strip_pair(&p, &end, '{', '}')) {
        /* {"value": X} with exactly one member */
        static const char key[] = "\"value\"";
        _trim(&p, &end);
        if (((size_t)(end - p) < sizeof(key) - 1) ||
            (memcmp(p, key, sizeof(key) - 1) != 0)) {
            return AIOT_EINVAL;
        }
        p += sizeof(key) - 1;
        _trim(&p, &end);
        if ((p == end) || (*p != ':')) {
            return AIOT_EINVAL;
        }
        ++p;
        _trim(&p, &end);
    }
    _strip_pair(&p, &end, '"', '"');
    if (end - p == 1) {
        if (*p == '0') {
            return 0;
        }
        if (*p == '1') {
            return 1;
        }
    }
    return AIOT_EINVAL;
}

int aiot_copy_text(char *dst, size_t size, const void *src, size_t len)
{
    if ((dst == NULL) || ((src == NULL) && (len > 0))) {
        return AIOT_EINVAL;
    }
    const unsigned char *s = src;
    for (size_t i = 0; i < len; ++i) {
        if ((s[i] < 0x20) || (s[i] == 0x7f)) {
            return AIOT_EINVAL;
        }
    }
    if (len >= size) {
        return AIOT_ETRUNC;
    }
    if (len > 0) {
        memcpy(dst, s, len);
    }
    dst[len] = '\0';
    return (int)len;
}
