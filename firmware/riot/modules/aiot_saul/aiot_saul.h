/*
 * One SAUL sensor value as an aiot value text ("23.4°C", "412ppm", ...).
 */
#ifndef AIOT_SAUL_H
#define AIOT_SAUL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A value format of aiot_proto (aiot_format_temperature, ...). */
typedef int (*aiot_saul_format_t)(char *out, size_t size, int32_t value, int scale);

/**
 * @brief   Reads the first SAUL device of @p saul_type and formats its first
 *          dimension with @p format.
 *
 * @p unit is the phydat unit expected (UNIT_PA also takes UNIT_BAR).
 * Returns the text length, -ENODEV without such a device, -EIO when the
 * read fails, -EPROTO for another unit, or the format's error.
 */
int aiot_saul_read(uint8_t saul_type, uint8_t unit, aiot_saul_format_t format,
                   char *out, size_t size);

/** True if a SAUL device of @p saul_type exists. */
int aiot_saul_exists(uint8_t saul_type);

#ifdef __cplusplus
}
#endif

#endif /* AIOT_SAUL_H */
