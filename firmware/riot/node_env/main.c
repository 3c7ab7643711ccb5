/*
 * aiot environmental sensor node: the common CoAP resources plus
 * /temperature ("23.4°C"), /pressure ("1013hPa") and /humidity ("45%"),
 * read through SAUL and pushed to the gateway's /server periodically.
 * Resources whose sensor is missing are left out.
 */
#include <stdio.h>

#include "aiot_proto.h"
#include "aiot_sensors.h"
#include "container.h"
#include "phydat.h"
#include "saul.h"

/* sorted by path */
static const aiot_sensor_t _sensors[] = {
    { .path = "/humidity", .saul_type = SAUL_SENSE_HUM, .unit = UNIT_PERCENT,
      .format = aiot_format_humidity },
    { .path = "/pressure", .saul_type = SAUL_SENSE_PRESS, .unit = UNIT_PA,
      .format = aiot_format_pressure },
    { .path = "/temperature", .saul_type = SAUL_SENSE_TEMP, .unit = UNIT_TEMP_C,
      .format = aiot_format_temperature },
};

int main(void)
{
    puts("aiot environmental sensor node");
    aiot_sensors_node_main(_sensors, ARRAY_SIZE(_sensors), AIOT_SEND_INTERVAL_MS);
    return 0;
}
