#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "aiot_coap.h"
#include "aiot_node.h"
#include "aiot_proto.h"
#include "aiot_saul.h"
#include "aiot_sensors.h"
#include "phydat.h"
#include "saul.h"
#include "saul_reg.h"
#include "thread.h"
#include "ztimer.h"

#define VALUE_MAX   (CONFIG_GCOAP_PDU_BUF_SIZE - 32)

static coap_resource_t _resources[AIOT_SENSORS_MAX];
static const aiot_sensor_t *_sensors[AIOT_SENSORS_MAX];
static unsigned _count;
static gcoap_listener_t _listener;
static uint32_t _interval_ms;
/* room for a value and the /server payload built from it */
static char _stack[THREAD_STACKSIZE_DEFAULT + VALUE_MAX + CONFIG_GCOAP_PDU_BUF_SIZE];

int aiot_sensor_read_saul(const aiot_sensor_t *sensor, char *out, size_t size)
{
    return aiot_saul_read(sensor->saul_type, sensor->unit, sensor->format, out, size);
}

static int _read(const aiot_sensor_t *sensor, char *out, size_t size)
{
    aiot_sensor_read_t read = (sensor->read != NULL) ? sensor->read
                                                     : aiot_sensor_read_saul;
    return read(sensor, out, size);
}

static ssize_t _handler(coap_pkt_t *pdu, uint8_t *buf, size_t len,
                        coap_request_ctx_t *ctx)
{
    const aiot_sensor_t *sensor = coap_request_ctx_get_context(ctx);
    /* format straight into the response: no second buffer on gcoap's stack */
    gcoap_resp_init(pdu, buf, len, COAP_CODE_CONTENT);
    coap_opt_add_format(pdu, COAP_FORMAT_TEXT);
    ssize_t hdr = coap_opt_finish(pdu, COAP_OPT_FINISH_PAYLOAD);
    int n = (hdr < 0) ? -ENOBUFS
                      : _read(sensor, (char *)pdu->payload, pdu->payload_len);
    if (n < 0) {
        return gcoap_response(pdu, buf, len, COAP_CODE_SERVICE_UNAVAILABLE);
    }
    return hdr + n;
}

unsigned aiot_sensors_register(const aiot_sensor_t *sensors, size_t count)
{
    _count = 0;
    for (size_t i = 0; (i < count) && (_count < AIOT_SENSORS_MAX); ++i) {
        uint8_t type = sensors[i].probe_type ? sensors[i].probe_type
                                             : sensors[i].saul_type;
        if (saul_reg_find_type(type) == NULL) {
            printf("aiot: no SAUL device for %s, resource left out\n",
                   sensors[i].path);
            continue;
        }
        _sensors[_count] = &sensors[i];
        _resources[_count] = (coap_resource_t){
            .path = sensors[i].path,
            .methods = COAP_GET,
            .handler = _handler,
            .context = (void *)&sensors[i],
        };
        printf("aiot: sensor resource %s\n", sensors[i].path);
        ++_count;
    }
    if (_count > 0) {
        _listener = (gcoap_listener_t){
            .resources = _resources,
            .resources_len = _count,
            .tl_type = GCOAP_SOCKET_TYPE_UNDEF,
        };
        gcoap_register_listener(&_listener);
    }
    return _count;
}

static void *_sensors_thread(void *arg)
{
    (void)arg;
    /* one "failing" flag per sensor: log when the state changes, not on
     * every period */
    bool failing[AIOT_SENSORS_MAX] = { false };
    aiot_coap_wait_announced();
    while (1) {
        for (unsigned i = 0; i < _count; ++i) {
            char value[VALUE_MAX];
            int res = _read(_sensors[i], value, sizeof(value));
            if (res < 0) {
                if (!failing[i]) {
                    printf("aiot: reading %s failed (%d)\n", _sensors[i]->path, res);
                }
                failing[i] = true;
                continue;
            }
            if (failing[i]) {
                printf("aiot: %s reads again\n", _sensors[i]->path);
                failing[i] = false;
            }
            /* the resource name is the path without its leading '/' */
            aiot_coap_send_value(_sensors[i]->path + 1, value);
        }
        ztimer_sleep(ZTIMER_MSEC, _interval_ms);
    }
    return NULL;
}

void aiot_sensors_start(uint32_t interval_ms)
{
    if (_count == 0) {
        puts("aiot: no sensor found, no values will be sent");
        return;
    }
    _interval_ms = interval_ms;
    thread_create(_stack, sizeof(_stack), THREAD_PRIORITY_MAIN - 1, 0,
                  _sensors_thread, NULL, "aiot_sensors");
}

void aiot_sensors_node_main(const aiot_sensor_t *sensors, size_t count,
                            uint32_t interval_ms)
{
    aiot_sensors_register(sensors, count);
    aiot_coap_start();
    aiot_sensors_start(interval_ms);
    aiot_node_idle();
}
