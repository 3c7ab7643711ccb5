/*
 * aiot MQTT-SN node (PROTOCOL.md section 5, through an MQTT-SN gateway).
 *
 * Publishes node/check {"id":"<id>"} at connect, every AIOT_ALIVE_INTERVAL_S
 * and whenever the gateway publishes gateway/check. Answers
 * gateway/<id>/discover "resources" with node/<id>/resources
 * ["name","board","mcu","os","led"] and "values" with one
 * node/<id>/<resource> {"value":"..."} per resource. gateway/<id>/led/set
 * "0"/"1" switches LED0 and publishes the new node/<id>/led value.
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
#include "thread.h"
#include "ztimer.h"

#define RETRY_MS            (5000U)
#define TOPIC_MAX           (AIOT_NODE_ID_MAX + 32U)
#define PAYLOAD_MAX         (AIOT_NAME_MAX * 2U + 16U)

enum {
    EV_CHECK = 0x4101,          /* publish node/check */
    EV_DISCOVER_RESOURCES,      /* publish the resource list */
    EV_DISCOVER_VALUES,         /* publish every value */
    EV_LED_SET,                 /* content.value: 0 or 1 */
};

typedef struct {
    const char *name;
    const char *(*value)(void);
} resource_t;

static char _node_id[AIOT_NODE_ID_MAX + 1];
static kernel_pid_t _node_pid = KERNEL_PID_UNDEF;

static const char *_name_value(void) { return aiot_node_name(); }
static const char *_board_value(void) { return RIOT_BOARD; }
static const char *_mcu_value(void) { return RIOT_CPU; }
static const char *_os_value(void) { return "riot"; }
static const char *_led_value(void) { return aiot_node_led() ? "1" : "0"; }

enum { LED_RESOURCE = 4 };   /* index of "led" below */
static const resource_t _resources[] = {
    { "name", _name_value },
    { "board", _board_value },
    { "mcu", _mcu_value },
    { "os", _os_value },
    [LED_RESOURCE] = { "led", _led_value },
};

/* ---- topic ids: every topic is registered once per connection ---------- */

typedef struct {
    char name[TOPIC_MAX];
    emcute_topic_t topic;
} registered_topic_t;

static registered_topic_t _registered[ARRAY_SIZE(_resources) + 2];
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
    char payload[PAYLOAD_MAX];
    if ((aiot_mqtt_node_topic(topic, sizeof(topic), _node_id, res->name) < 0) ||
        (aiot_mqtt_value_payload(payload, sizeof(payload), res->value()) < 0)) {
        printf("aiot: value of %s does not fit a message, not sent\n", res->name);
        return true;
    }
    return _publish(topic, payload);
}

static bool _publish_resources(void)
{
    const char *names[ARRAY_SIZE(_resources)];
    for (unsigned i = 0; i < ARRAY_SIZE(_resources); ++i) {
        names[i] = _resources[i].name;
    }
    char topic[TOPIC_MAX];
    char payload[PAYLOAD_MAX];
    aiot_mqtt_node_topic(topic, sizeof(topic), _node_id, "resources");
    aiot_mqtt_resources_payload(payload, sizeof(payload), names, ARRAY_SIZE(names));
    return _publish(topic, payload);
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

static emcute_sub_t _subs[3];
static char _sub_topics[ARRAY_SIZE(_subs)][TOPIC_MAX];

/* emcute forgets its gateway only when the gateway answers DISCONNECT, and
 * emcute_con() must not be called while emcute still counts itself
 * connected (it would return with its lock held). So keep asking until the
 * gateway is back and answers. */
static void _disconnect(void)
{
    while (emcute_discon() == EMCUTE_TIMEOUT) {
        puts("aiot: MQTT-SN gateway silent, asking again to disconnect");
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
    for (unsigned i = 0; i < ARRAY_SIZE(_subs); ++i) {
        _subs[i].cb = _on_publish;
        _subs[i].topic.name = _sub_topics[i];
        if (emcute_sub(&_subs[i], EMCUTE_QOS_1) != EMCUTE_OK) {
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
        for (unsigned i = 0; i < ARRAY_SIZE(_resources); ++i) {
            if (!_publish_value(&_resources[i])) {
                return false;
            }
        }
        return true;
    case EV_LED_SET:
        aiot_node_set_led((int)msg->content.value);
        printf("aiot: LED %s\n", aiot_node_led() ? "on" : "off");
        return _publish_value(&_resources[LED_RESOURCE]);
    default:
        return true;
    }
}

static char _emcute_stack[THREAD_STACKSIZE_DEFAULT];
static char _node_stack[THREAD_STACKSIZE_DEFAULT + 2 * TOPIC_MAX + 2 * PAYLOAD_MAX];
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
    while (1) {
        if (!_connect(gw)) {
            ztimer_sleep(ZTIMER_MSEC, RETRY_MS);
            continue;
        }
        uint32_t next_check = ztimer_now(ZTIMER_MSEC) + check_ms;
        bool up = true;
        while (up) {
            uint32_t now = ztimer_now(ZTIMER_MSEC);
            int32_t left = (int32_t)(next_check - now);
            msg_t msg;
            if ((left <= 0) ||
                (ztimer_msg_receive_timeout(ZTIMER_MSEC, &msg, (uint32_t)left) < 0)) {
                up = _publish_check();
                next_check = ztimer_now(ZTIMER_MSEC) + check_ms;
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
