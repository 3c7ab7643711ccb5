/*
 * aiot air-quality node: the common CoAP resources plus /eco2 ("412ppm",
 * equivalent CO2) and /tvoc ("15ppb", total volatile organic compounds)
 * from a CCS811, read through SAUL and pushed to the gateway periodically.
 */
#include <stdio.h>

#include "aiot_proto.h"
#include "aiot_sensors.h"
#include "container.h"
#include "phydat.h"
#include "saul.h"

/* sorted by path */
static const aiot_sensor_t _sensors[] = {
    { .path = "/eco2", .saul_type = SAUL_SENSE_CO2, .unit = UNIT_PPM,
      .format = aiot_format_eco2 },
    { .path = "/tvoc", .saul_type = SAUL_SENSE_TVOC, .unit = UNIT_PPB,
      .format = aiot_format_tvoc },
};

int main(void)
{
    puts("aiot air quality node");
    aiot_sensors_node_main(_sensors, ARRAY_SIZE(_sensors), AIOT_SEND_INTERVAL_MS);
    return 0;
}
