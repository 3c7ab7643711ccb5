/*
 * Simulated SAUL sensors (temperature, pressure, humidity, light,
 * accelerometer, gyroscope, magnetometer, eCO2 and TVOC) in the units and scales real RIOT
 * drivers use (scales vary, as between drivers). Each read moves the value along a slow triangle wave, so a
 * dashboard shows something alive. Registered at auto-init, after SAUL.
 */
#include <stdint.h>

#include "auto_init_priorities.h"
#include "auto_init_utils.h"
#include "container.h"
#include "phydat.h"
#include "saul.h"
#include "saul_reg.h"

typedef struct {
    int16_t base[3];    /* value at the bottom of the wave */
    int16_t swing;      /* height of the wave */
    int8_t scale;
    uint8_t unit;
    uint8_t dims;
    uint16_t step;      /* advanced on every read */
} sim_sensor_t;

static int16_t _wave(sim_sensor_t *s)
{
    unsigned period = 2U * (unsigned)s->swing;
    unsigned pos = (unsigned)(s->step++) % (period ? period : 1U);
    return (int16_t)((pos <= (unsigned)s->swing) ? pos : period - pos);
}

static int _read(const void *dev, phydat_t *res)
{
    sim_sensor_t *s = (sim_sensor_t *)dev;
    int16_t offset = _wave(s);
    for (unsigned i = 0; i < PHYDAT_DIM; ++i) {
        res->val[i] = (i < s->dims) ? (int16_t)(s->base[i] + offset) : 0;
    }
    res->unit = s->unit;
    res->scale = s->scale;
    return s->dims;
}

/* { base, swing, scale, unit, dims } */
static sim_sensor_t _temperature = { { 215, 0, 0 }, 30, -1, UNIT_TEMP_C, 1, 0 };
static sim_sensor_t _pressure = { { 1005, 0, 0 }, 15, 2, UNIT_PA, 1, 0 };
static sim_sensor_t _humidity = { { 40, 0, 0 }, 20, 0, UNIT_PERCENT, 1, 0 };
static sim_sensor_t _light = { { 250, 0, 0 }, 200, 0, UNIT_LUX, 1, 0 };
static sim_sensor_t _accel = { { 10, -20, 980 }, 40, -3, UNIT_G_FORCE, 3, 0 };
static sim_sensor_t _gyro = { { -30, 0, 40 }, 60, -1, UNIT_DPS, 3, 0 };
static sim_sensor_t _mag = { { 20, -15, 40 }, 10, -2, UNIT_GAUSS, 3, 0 };
static sim_sensor_t _eco2 = { { 400, 0, 0 }, 250, 0, UNIT_PPM, 1, 0 };
static sim_sensor_t _tvoc = { { 5, 0, 0 }, 60, 0, UNIT_PPB, 1, 0 };

#define SIM_DRIVER(name, saul_type) \
    static const saul_driver_t name = { \
        .read = _read, .write = saul_write_notsup, .type = saul_type }

SIM_DRIVER(_temperature_driver, SAUL_SENSE_TEMP);
SIM_DRIVER(_pressure_driver, SAUL_SENSE_PRESS);
SIM_DRIVER(_humidity_driver, SAUL_SENSE_HUM);
SIM_DRIVER(_light_driver, SAUL_SENSE_LIGHT);
SIM_DRIVER(_accel_driver, SAUL_SENSE_ACCEL);
SIM_DRIVER(_gyro_driver, SAUL_SENSE_GYRO);
SIM_DRIVER(_mag_driver, SAUL_SENSE_MAG);
SIM_DRIVER(_eco2_driver, SAUL_SENSE_CO2);
SIM_DRIVER(_tvoc_driver, SAUL_SENSE_TVOC);

static saul_reg_t _entries[] = {
    { .dev = &_temperature, .name = "sim temperature", .driver = &_temperature_driver },
    { .dev = &_pressure, .name = "sim pressure", .driver = &_pressure_driver },
    { .dev = &_humidity, .name = "sim humidity", .driver = &_humidity_driver },
    { .dev = &_light, .name = "sim light", .driver = &_light_driver },
    { .dev = &_accel, .name = "sim accelerometer", .driver = &_accel_driver },
    { .dev = &_gyro, .name = "sim gyroscope", .driver = &_gyro_driver },
    { .dev = &_mag, .name = "sim magnetometer", .driver = &_mag_driver },
    { .dev = &_eco2, .name = "sim eCO2", .driver = &_eco2_driver },
    { .dev = &_tvoc, .name = "sim TVOC", .driver = &_tvoc_driver },
};

static void _auto_init_aiot_saul_sim(void)
{
    for (unsigned i = 0; i < ARRAY_SIZE(_entries); ++i) {
        saul_reg_add(&_entries[i]);
    }
}

AUTO_INIT(_auto_init_aiot_saul_sim,
          AUTO_INIT_PRIORITY_AFTER(AUTO_INIT_PRIO_MOD_SAUL));
