/*
 * Internal to aiot_proto: a bounded text writer. It never writes past the
 * buffer; once something does not fit it records the failure and the final
 * text is "" (see aiot_proto.h for the return convention).
 */
#ifndef AIOT_WRITER_H
#define AIOT_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char *buf;
    size_t size;
    size_t len;     /* always < size while !failed */
    bool failed;
} aiot_writer_t;

void aiot_writer_init(aiot_writer_t *w, char *buf, size_t size);
void aiot_put_mem(aiot_writer_t *w, const char *s, size_t n);
void aiot_put_str(aiot_writer_t *w, const char *s);
void aiot_put_char(aiot_writer_t *w, char c);
void aiot_put_int(aiot_writer_t *w, int64_t v);
/* NUL-terminates; returns the length or AIOT_ETRUNC (buffer set to ""). */
int aiot_writer_finish(aiot_writer_t *w);
/* Sets "" and returns AIOT_EINVAL. */
int aiot_invalid(char *out, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* AIOT_WRITER_H */
