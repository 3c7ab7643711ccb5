/*
 * aiot light sensor node: the common CoAP resources plus /illuminance
 * ("312lx"), read through SAUL and pushed to the gateway periodically.
 */
#include <stdio.h>

#include "aiot_proto.h"
#include "aiot_sensors.h"
#include "container.h"
#include "phydat.h"
#include "saul.h"

static const aiot_sensor_t _sensors[] = {
    { .path = "/illuminance", .saul_type = SAUL_SENSE_LIGHT, .unit = UNIT_LUX,
      .format = aiot_format_illuminance },
};

int main(void)
{
    puts("aiot light sensor node");
    aiot_sensors_node_main(_sensors, ARRAY_SIZE(_sensors), AIOT_SEND_INTERVAL_MS);
    return 0;
}
