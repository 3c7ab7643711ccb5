/*
 * aiot MQTT-SN node (PROTOCOL.md section 5, through an MQTT-SN gateway).
 *
 * Publishes node/check {"id":"<id>"} at connect, every AIOT_ALIVE_INTERVAL_S
 * and whenever the gateway publishes gateway/check. Answers
 * gateway/<id>/discover "resources" with node/<id>/resources
 * ["name","board","mcu","os","led"] and "values" with one
 * node/<id>/<resource> {"value":"..."} per resource. gateway/<id>/led/set
 * "0"/"1" switches LED0 and publishes the new node/<id>/led value.
 * With a SAUL sensor (simulated on native), its values are resources too,
 * published every AIOT_SEND_INTERVAL_MS; with POSITION, "position" is one,
 * changed by gateway/<id>/position/set.
 *
 * A gateway that restarted does not know the node: the node notices when a
 * publish fails, ends its session and connects again. emcute forgets its
 * gateway only when a DISCONNECT answers its own, and some gateways ignore
 * a DISCONNECT from a client they do not know; so while the node waits for
 * that answer, it sends itself the DISCONNECT (to emcute's port on ::1).
 *
 * emcute's calls wait for the gateway's answers, which its own thread
 * receives; so its publish callback only posts an event to the node thread,
 * which does all the publishing.
 */
#include <stdio.h>
#include <string.h>

#include "aiot_node.h"
#include "aiot_proto.h"
#include "container.h"
#include "msg.h"
#include "net/emcute.h"
#include "net/ipv6/addr.h"
#include "net/sock/udp.h"
#include "thread.h"
#include "ztimer.h"
#ifdef MODULE_AIOT_SAUL
#include "aiot_saul.h"
#include "phydat.h"
#include "saul.h"
#endif

#ifndef AIOT_SEND_INTERVAL_MS
#define AIOT_SEND_INTERVAL_MS   (5000U)
#endif

#define RETRY_MS            (5000U)
#define TOPIC_MAX           (AIOT_NODE_ID_MAX + 32U)
#define PAYLOAD_MAX         (AIOT_NAME_MAX * 2U + 16U)

enum {
    EV_CHECK = 0x4101,          /* publish node/check */
    EV_DISCOVER_RESOURCES,      /* publish the resource list */
    EV_DISCOVER_VALUES,         /* publish every value */
    EV_LED_SET,                 /* content.value: 0 or 1 */
    EV_POSITION_SET,            /* content.ptr: _position_text */
};

typedef struct {
    const char *name;
    /* the value text into out; < 0 when there is none */
    int (*value)(const void *arg, char *out, size_t size);
    const void *arg;
    bool present;
} resource_t;

static char _node_id[AIOT_NODE_ID_MAX + 1];
static kernel_pid_t _node_pid = KERNEL_PID_UNDEF;

static int _text(const char *text, char *out, size_t size)
{
    return aiot_copy_text(out, size, text, strlen(text));
}
static int _name_value(const void *a, char *o, size_t n) { (void)a; return _text(aiot_node_name(), o, n); }
static int _board_value(const void *a, char *o, size_t n) { (void)a; return _text(RIOT_BOARD, o, n); }
static int _mcu_value(const void *a, char *o, size_t n) { (void)a; return _text(RIOT_CPU, o, n); }
static int _os_value(const void *a, char *o, size_t n) { (void)a; return _text("riot", o, n); }
static int _led_value(const void *a, char *o, size_t n)
{
    (void)a;
    return _text(aiot_node_led() ? "1" : "0", o, n);
}
static int _position_value(const void *a, char *o, size_t n)
{
    (void)a;
    return aiot_node_position(o, n);
}

#ifdef MODULE_AIOT_SAUL
typedef struct {
    uint8_t saul_type;
    uint8_t unit;
    aiot_saul_format_t format;
} sensor_t;
static const sensor_t _temperature = { SAUL_SENSE_TEMP, UNIT_TEMP_C, aiot_format_temperature };
static const sensor_t _pressure = { SAUL_SENSE_PRESS, UNIT_PA, aiot_format_pressure };
static const sensor_t _humidity = { SAUL_SENSE_HUM, UNIT_PERCENT, aiot_format_humidity };
static int _sensor_value(const void *arg, char *out, size_t size)
{
    const sensor_t *s = arg;
    return aiot_saul_read(s->saul_type, s->unit, s->format, out, size);
}
#endif

enum { LED_RESOURCE = 4, POSITION_RESOURCE = 5, FIRST_SENSOR = 6 };   /* indexes below */
static resource_t _resources[] = {
    { "name", _name_value, NULL, true },
    { "board", _board_value, NULL, true },
    { "mcu", _mcu_value, NULL, true },
    { "os", _os_value, NULL, true },
    [LED_RESOURCE] = { "led", _led_value, NULL, true },
    [POSITION_RESOURCE] = { "position", _position_value, NULL, false },
#ifdef MODULE_AIOT_SAUL
    { "temperature", _sensor_value, &_temperature, false },
    { "pressure", _sensor_value, &_pressure, false },
    { "humidity", _sensor_value, &_humidity, false },
#endif
};

/* Which resources this node has: sensors whose SAUL device exists, the
 * position when one is compiled in. */
static void _probe_resources(void)
{
    char text[48];
    _resources[POSITION_RESOURCE].present = aiot_node_position(text, sizeof(text)) >= 0;
#ifdef MODULE_AIOT_SAUL
    for (unsigned i = FIRST_SENSOR; i < ARRAY_SIZE(_resources); ++i) {
        const sensor_t *s = _resources[i].arg;
        _resources[i].present = aiot_saul_exists(s->saul_type);
    }
#endif
}

/* ---- topic ids: every topic is registered once per connection ---------- */

typedef struct {
    char name[TOPIC_MAX];
    emcute_topic_t topic;
} registered_topic_t;

static registered_topic_t _registered[ARRAY_SIZE(_resources) + 2];
static char _position_text[64];     /* a position/set payload, for the node thread */
static unsigned _registered_count;

/* The registered topic @p name (registering it first), or NULL. */
static emcute_topic_t *_topic(const char *name, int *res)
{
    *res = EMCUTE_OK;
    for (unsigned i = 0; i < _registered_count; ++i) {
        if (strcmp(_registered[i].name, name) == 0) {
            return &_registered[i].topic;
        }
    }
    if (_registered_count == ARRAY_SIZE(_registered)) {
        *res = EMCUTE_OVERFLOW;
        return NULL;
    }
    registered_topic_t *slot = &_registered[_registered_count];
    strcpy(slot->name, name);   /* fits: every name comes from a TOPIC_MAX buffer */
    slot->topic.name = slot->name;
    *res = emcute_reg(&slot->topic);
    if (*res != EMCUTE_OK) {
        return NULL;
    }
    ++_registered_count;
    return &slot->topic;
}

/* Returns false when the gateway did not accept or answer (the caller then
 * reconnects); a message too big for emcute is only logged. */
static bool _publish(const char *topic_name, const char *payload)
{
    int res;
    emcute_topic_t *topic = _topic(topic_name, &res);
    if (topic != NULL) {
        res = emcute_pub(topic, payload, strlen(payload), EMCUTE_QOS_1);
    }
    if (res != EMCUTE_OK) {
        printf("aiot: publish to %s failed (%d)\n", topic_name, res);
    }
    return (res == EMCUTE_OK) || (res == EMCUTE_OVERFLOW);
}

static bool _publish_check(void)
{
    char payload[AIOT_NODE_ID_MAX + 16];
    aiot_mqtt_check_payload(payload, sizeof(payload), _node_id);
    return _publish("node/check", payload);
}

static bool _publish_value(const resource_t *res)
{
    char topic[TOPIC_MAX];
    char value[PAYLOAD_MAX / 2];
    char payload[PAYLOAD_MAX];
    if ((res->value(res->arg, value, sizeof(value)) < 0) ||
        (aiot_mqtt_node_topic(topic, sizeof(topic), _node_id, res->name) < 0) ||
        (aiot_mqtt_value_payload(payload, sizeof(payload), value) < 0)) {
        printf("aiot: no value of %s to send\n", res->name);
        return true;
    }
    return _publish(topic, payload);
}

static bool _publish_resources(void)
{
    const char *names[ARRAY_SIZE(_resources)];
    unsigned count = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(_resources); ++i) {
        if (_resources[i].present) {
            names[count++] = _resources[i].name;
        }
    }
    char topic[TOPIC_MAX];
    char payload[PAYLOAD_MAX];
    aiot_mqtt_node_topic(topic, sizeof(topic), _node_id, "resources");
    aiot_mqtt_resources_payload(payload, sizeof(payload), names, count);
    return _publish(topic, payload);
}

/* Every value, or only the sensors' (periodic values). */
static bool _publish_values(bool sensors_only)
{
    for (unsigned i = 0; i < ARRAY_SIZE(_resources); ++i) {
        if (!_resources[i].present || (sensors_only && (i < FIRST_SENSOR))) {
            continue;
        }
        if (!_publish_value(&_resources[i])) {
            return false;
        }
    }
    return true;
}

/* ---- subscriptions (called on emcute's thread) -------------------------- */

static void _on_publish(const emcute_topic_t *topic, void *data, size_t len)
{
    char endpoint[16];
    msg_t msg = { .type = 0 };
    switch (aiot_mqtt_classify(topic->name, _node_id, endpoint, sizeof(endpoint))) {
    case AIOT_MQTT_GATEWAY_CHECK:
        msg.type = EV_CHECK;
        break;
    case AIOT_MQTT_DISCOVER:
        switch (aiot_mqtt_parse_discover(data, len)) {
        case AIOT_DISCOVER_RESOURCES: msg.type = EV_DISCOVER_RESOURCES; break;
        case AIOT_DISCOVER_VALUES: msg.type = EV_DISCOVER_VALUES; break;
        default: printf("aiot: ignored discover request of %u bytes\n", (unsigned)len);
        }
        break;
    case AIOT_MQTT_SET:
        if ((strcmp(endpoint, "position") == 0) && _resources[POSITION_RESOURCE].present) {
            /* copied for the node thread; one change at a time */
            if (aiot_copy_text(_position_text, sizeof(_position_text), data, len) < 0) {
                printf("aiot: ignored position of %u bytes\n", (unsigned)len);
                break;
            }
            msg.type = EV_POSITION_SET;
            break;
        }
        if (strcmp(endpoint, "led") != 0) {
            printf("aiot: no writable resource '%s'\n", endpoint);
            break;
        }
        msg.content.value = (uint32_t)aiot_parse_switch(data, len);
        if ((int)msg.content.value < 0) {
            printf("aiot: ignored LED value of %u bytes (want 0 or 1)\n", (unsigned)len);
            break;
        }
        msg.type = EV_LED_SET;
        break;
    default:
        printf("aiot: ignored message on %s\n", topic->name);
    }
    if ((msg.type != 0) && (msg_try_send(&msg, _node_pid) != 1)) {
        puts("aiot: node busy, request dropped");
    }
}

static emcute_sub_t _subs[4];
static char _sub_topics[ARRAY_SIZE(_subs)][TOPIC_MAX];

/* ---- ending a session ---------------------------------------------------
 *
 * emcute forgets its gateway only when a DISCONNECT answers its own, and
 * emcute_con() must not be called while emcute still counts itself
 * connected (it would return with its lock held). A gateway that restarted
 * may never answer (rsmb and Paho's gateway ignore a DISCONNECT from a
 * client they do not know). So the node answers itself: a thread of lower
 * priority than the node thread sends a DISCONNECT to emcute's own port on
 * ::1 as soon as the node thread blocks in emcute_discon(), i.e. once emcute
 * waits for exactly that packet. emcute accepts it from any address. */

static char _forget_stack[THREAD_STACKSIZE_DEFAULT];
static kernel_pid_t _forget_pid = KERNEL_PID_UNDEF;

static void *_forget_thread(void *arg)
{
    (void)arg;
    msg_t msg;
    while (1) {
        msg_receive(&msg);
        sock_udp_ep_t self = { .family = AF_INET6, .port = CONFIG_EMCUTE_DEFAULT_PORT };
        memcpy(self.addr.ipv6, &ipv6_addr_loopback, sizeof(self.addr.ipv6));
        static const uint8_t disconnect[] = { 0x02, 0x18 };   /* Length 2, DISCONNECT */
        if (sock_udp_send(NULL, disconnect, sizeof(disconnect), &self) < 0) {
            puts("aiot: could not end the MQTT-SN session locally");
        }
    }
    return NULL;
}

static void _disconnect(void)
{
    msg_t msg = { .type = 0 };
    /* the helper runs once this thread blocks inside emcute_discon() */
    msg_try_send(&msg, _forget_pid);
    while (emcute_discon() == EMCUTE_TIMEOUT) {
        puts("aiot: MQTT-SN session not ended yet, trying again");
        msg_try_send(&msg, _forget_pid);
    }
}

static bool _connect(const sock_udp_ep_t *gw)
{
    sock_udp_ep_t remote = *gw;
    int res = emcute_con(&remote, true, NULL, NULL, 0, 0);
    if (res != EMCUTE_OK) {
        printf("aiot: MQTT-SN gateway not reachable (%d), retrying\n", res);
        return false;
    }
    _registered_count = 0;
    strcpy(_sub_topics[0], "gateway/check");
    aiot_mqtt_gateway_topic(_sub_topics[1], TOPIC_MAX, _node_id, "discover");
    aiot_mqtt_gateway_topic(_sub_topics[2], TOPIC_MAX, _node_id, "led/set");
    aiot_mqtt_gateway_topic(_sub_topics[3], TOPIC_MAX, _node_id, "position/set");
    unsigned subs = _resources[POSITION_RESOURCE].present ? 4 : 3;
    for (unsigned i = 0; i < subs; ++i) {
        _subs[i].cb = _on_publish;
        _subs[i].topic.name = _sub_topics[i];
        /* emcute returns the topic id instead of EMCUTE_OK when the
         * subscription is still in its list from an earlier session */
        if (emcute_sub(&_subs[i], EMCUTE_QOS_1) < 0) {
            printf("aiot: could not subscribe to %s\n", _sub_topics[i]);
            _disconnect();
            return false;
        }
    }
    puts("aiot: connected to the MQTT-SN gateway");
    return _publish_check();
}

/* Handles one event; false when the gateway is gone. */
static bool _handle(const msg_t *msg)
{
    switch (msg->type) {
    case EV_CHECK:
        return _publish_check();
    case EV_DISCOVER_RESOURCES:
        return _publish_resources();
    case EV_DISCOVER_VALUES:
        return _publish_values(false);
    case EV_POSITION_SET:
        if (aiot_node_set_position(_position_text, strlen(_position_text)) != 0) {
            puts("aiot: refused a position (want {\"lat\":..,\"lng\":..})");
            return true;
        }
        puts("aiot: position changed");
        return _publish_value(&_resources[POSITION_RESOURCE]);
    case EV_LED_SET:
        aiot_node_set_led((int)msg->content.value);
        printf("aiot: LED %s\n", aiot_node_led() ? "on" : "off");
        return _publish_value(&_resources[LED_RESOURCE]);
    default:
        return true;
    }
}

static char _emcute_stack[THREAD_STACKSIZE_DEFAULT];
static char _node_stack[THREAD_STACKSIZE_DEFAULT + 2 * TOPIC_MAX + 3 * PAYLOAD_MAX];
static msg_t _queue[8];

static void *_emcute_thread(void *arg)
{
    (void)arg;
    emcute_run(CONFIG_EMCUTE_DEFAULT_PORT, _node_id);
    return NULL;
}

static void *_node_thread(void *arg)
{
    const sock_udp_ep_t *gw = arg;
    /* set here too: this thread runs before thread_create() returns */
    _node_pid = thread_getpid();
    msg_init_queue(_queue, ARRAY_SIZE(_queue));
    if (!aiot_node_wait_address(gw)) {
        puts("aiot: no usable address yet, trying anyway");
    }
    const uint32_t check_ms = AIOT_ALIVE_INTERVAL_S * 1000U;
    bool sensors = false;
    for (unsigned i = FIRST_SENSOR; i < ARRAY_SIZE(_resources); ++i) {
        sensors = sensors || _resources[i].present;
    }
    while (1) {
        if (!_connect(gw)) {
            ztimer_sleep(ZTIMER_MSEC, RETRY_MS);
            continue;
        }
        uint32_t next_check = ztimer_now(ZTIMER_MSEC) + check_ms;
        uint32_t next_values = ztimer_now(ZTIMER_MSEC) + AIOT_SEND_INTERVAL_MS;
        bool up = true;
        while (up) {
            uint32_t now = ztimer_now(ZTIMER_MSEC);
            int32_t left = (int32_t)(next_check - now);
            int32_t values_left = (int32_t)(next_values - now);
            if (sensors && (values_left < left)) {
                left = values_left;
            }
            msg_t msg;
            if ((left <= 0) ||
                (ztimer_msg_receive_timeout(ZTIMER_MSEC, &msg, (uint32_t)left) < 0)) {
                now = ztimer_now(ZTIMER_MSEC);
                if ((int32_t)(next_check - now) <= 0) {
                    up = _publish_check();
                    next_check = ztimer_now(ZTIMER_MSEC) + check_ms;
                }
                else if (sensors) {
                    up = _publish_values(true);
                    next_values = ztimer_now(ZTIMER_MSEC) + AIOT_SEND_INTERVAL_MS;
                }
            }
            else {
                up = _handle(&msg);
            }
        }
        puts("aiot: lost the MQTT-SN gateway, reconnecting");
        _disconnect();
    }
    return NULL;
}

static sock_udp_ep_t _gateway;

int main(void)
{
    puts("aiot MQTT-SN node");
#ifdef AIOT_NODE_ID
    if (!aiot_mqtt_valid_id(AIOT_NODE_ID) ||
        (strlen(AIOT_NODE_ID) >= sizeof(_node_id))) {
        printf("aiot: NODE_ID '%s' is not usable in topics\n", AIOT_NODE_ID);
        return 1;
    }
    strcpy(_node_id, AIOT_NODE_ID);
#else
    strcpy(_node_id, aiot_node_uid());
#endif
    if (aiot_node_gateway(&_gateway) != 0) {
        printf("aiot: BROKER_ADDR '%s' is not an IPv6 address\n", AIOT_BROKER_ADDR);
        return 1;
    }
    printf("aiot: node %s, MQTT-SN gateway ", _node_id);
    aiot_node_print_gateway(&_gateway);
    puts("");
    aiot_node_set_led(0);
    _probe_resources();
    _forget_pid = thread_create(_forget_stack, sizeof(_forget_stack), THREAD_PRIORITY_MAIN + 1,
                                0, _forget_thread, NULL, "aiot_forget");
    /* emcute's thread must have opened its socket before the first request:
     * it runs first, having a higher priority than main */
    thread_create(_emcute_stack, sizeof(_emcute_stack), THREAD_PRIORITY_MAIN - 1,
                  0, _emcute_thread, NULL, "emcute");
    _node_pid = thread_create(_node_stack, sizeof(_node_stack),
                              THREAD_PRIORITY_MAIN - 1, 0, _node_thread,
                              &_gateway, "aiot_mqttsn");
    aiot_node_idle();
    return 0;
}
