/*
 * aiot IMU node: the common CoAP resources plus /imu, whose value is
 *   [{"type":"acc","values":[x,y,z]},{"type":"mag","values":[x,y,z]},
 *    {"type":"gyro","values":[x,y,z]}]
 * with acceleration in mg, magnetic field in mGs and rotation in dps (the
 * dashboard reads entry 0 as accelerometer and entry 2 as gyroscope). A
 * missing sensor is sent as [0,0,0].
 */
#include <errno.h>
#include <stdio.h>

#include "aiot_proto.h"
#include "aiot_sensors.h"
#include "container.h"
#include "phydat.h"
#include "saul.h"
#include "saul_reg.h"

/* Reads the first SAUL device of @p type into @p out, in units of
 * 10^target_scale of @p unit. Returns false when there is no such device or
 * it reports another unit. */
static bool _read_vec3(uint8_t type, uint8_t unit, int target_scale,
                       aiot_vec3_t *out)
{
    saul_reg_t *dev = saul_reg_find_type(type);
    phydat_t data;
    if ((dev == NULL) || (saul_reg_read(dev, &data) < 3)) {
        return false;
    }
    int scale = data.scale;
    if ((unit == UNIT_GAUSS) && (data.unit == UNIT_T)) {
        scale += 4;     /* 1 T = 10^4 Gs */
    }
    else if (data.unit != unit) {
        return false;
    }
    for (unsigned i = 0; i < 3; ++i) {
        out->v[i] = aiot_rescale(data.val[i], scale, target_scale);
    }
    return true;
}

static int _read_imu(const aiot_sensor_t *sensor, char *out, size_t size)
{
    (void)sensor;
    aiot_vec3_t acc, mag, gyro;
    bool has_acc = _read_vec3(SAUL_SENSE_ACCEL, UNIT_G_FORCE, -3, &acc);
    bool has_mag = _read_vec3(SAUL_SENSE_MAG, UNIT_GAUSS, -3, &mag);
    bool has_gyro = _read_vec3(SAUL_SENSE_GYRO, UNIT_DPS, 0, &gyro);
    if (!has_acc && !has_mag && !has_gyro) {
        return -EIO;
    }
    return aiot_format_imu(out, size, has_acc ? &acc : NULL,
                           has_mag ? &mag : NULL, has_gyro ? &gyro : NULL);
}

static const aiot_sensor_t _sensors[] = {
    { .path = "/imu", .read = _read_imu, .probe_type = SAUL_SENSE_ACCEL },
};

int main(void)
{
    puts("aiot IMU node");
    aiot_sensors_node_main(_sensors, ARRAY_SIZE(_sensors), AIOT_SEND_INTERVAL_MS);
    return 0;
}
