/*
 * aiot_sensors: sensor resources of the aiot CoAP nodes, read through
 * RIOT's SAUL registry. Each sensor is a GET resource (the gateway reads it
 * at discovery) and its value is POSTed to the gateway's /server every
 * interval as "<resource>:<value>".
 */
#ifndef AIOT_SENSORS_H
#define AIOT_SENSORS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Most sensors one node can register. */
#define AIOT_SENSORS_MAX    (4U)

typedef struct aiot_sensor aiot_sensor_t;

/** Writes the sensor's current value as text; returns its length or a
 *  negative number (no device, read error, does not fit). */
typedef int (*aiot_sensor_read_t)(const aiot_sensor_t *sensor, char *out,
                                  size_t size);

/** Formats value * 10^scale (an aiot_format_* function of aiot_proto.h). */
typedef int (*aiot_sensor_format_t)(char *out, size_t size, int32_t value,
                                    int scale);

struct aiot_sensor {
    const char *path;               /**< CoAP path, e.g. "/temperature" */
    uint8_t saul_type;              /**< SAUL_SENSE_*, for aiot_sensor_read_saul */
    uint8_t unit;                   /**< expected phydat unit (UNIT_*) */
    aiot_sensor_format_t format;    /**< for aiot_sensor_read_saul */
    aiot_sensor_read_t read;        /**< NULL: aiot_sensor_read_saul */
    uint8_t probe_type;             /**< SAUL type that must exist; 0: saul_type */
};

/** Reads the first SAUL device of sensor->saul_type and formats its first
 *  value with sensor->format. A pressure in bar is converted to Pa. */
int aiot_sensor_read_saul(const aiot_sensor_t *sensor, char *out, size_t size);

/** Registers a GET resource for every sensor whose SAUL device exists.
 *  @p sensors must be sorted by path and stay valid. Returns how many. */
unsigned aiot_sensors_register(const aiot_sensor_t *sensors, size_t count);

/** Starts a thread that sends every registered sensor's value each
 *  @p interval_ms, beginning after the node's reset beacon. */
void aiot_sensors_start(uint32_t interval_ms);

/** main() of a sensor node: registers @p sensors (sorted by path), starts
 *  the common CoAP part and the sensor thread, then idles (shell). */
void aiot_sensors_node_main(const aiot_sensor_t *sensors, size_t count,
                            uint32_t interval_ms);

#ifdef __cplusplus
}
#endif

#endif /* AIOT_SENSORS_H */
