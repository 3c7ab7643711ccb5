#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "aiot_coap.h"
#include "aiot_node.h"
#include "aiot_proto.h"
#include "container.h"
#include "mutex.h"
#include "thread.h"
#include "ztimer.h"

static sock_udp_ep_t _gateway;
static bool _gateway_ok;
static mutex_t _send_lock = MUTEX_INIT;
static bool _send_failing;      /* guarded by _send_lock */
static uint8_t _send_buf[CONFIG_GCOAP_PDU_BUF_SIZE];
static mutex_t _announced = MUTEX_INIT_LOCKED;
static char _beacon_stack[THREAD_STACKSIZE_DEFAULT];

ssize_t aiot_coap_reply_text(coap_pkt_t *pdu, uint8_t *buf, size_t len,
                             const char *text)
{
    size_t n = strlen(text);
    gcoap_resp_init(pdu, buf, len, COAP_CODE_CONTENT);
    coap_opt_add_format(pdu, COAP_FORMAT_TEXT);
    ssize_t hdr = coap_opt_finish(pdu, COAP_OPT_FINISH_PAYLOAD);
    if ((hdr < 0) || (pdu->payload_len < n)) {
        return gcoap_response(pdu, buf, len, COAP_CODE_INTERNAL_SERVER_ERROR);
    }
    memcpy(pdu->payload, text, n);
    return hdr + (ssize_t)n;
}

static ssize_t _board_handler(coap_pkt_t *pdu, uint8_t *buf, size_t len,
                              coap_request_ctx_t *ctx)
{
    (void)ctx;
    return aiot_coap_reply_text(pdu, buf, len, RIOT_BOARD);
}

static ssize_t _mcu_handler(coap_pkt_t *pdu, uint8_t *buf, size_t len,
                            coap_request_ctx_t *ctx)
{
    (void)ctx;
    return aiot_coap_reply_text(pdu, buf, len, RIOT_CPU);
}

static ssize_t _os_handler(coap_pkt_t *pdu, uint8_t *buf, size_t len,
                           coap_request_ctx_t *ctx)
{
    (void)ctx;
    return aiot_coap_reply_text(pdu, buf, len, "riot");
}

static ssize_t _name_handler(coap_pkt_t *pdu, uint8_t *buf, size_t len,
                             coap_request_ctx_t *ctx)
{
    (void)ctx;
    if (coap_get_method(pdu) == COAP_METHOD_PUT) {
        if ((pdu->payload_len == 0) ||
            (aiot_node_set_name(pdu->payload, pdu->payload_len) != 0)) {
            printf("aiot: refused a name of %u bytes (1..%u printable bytes)\n",
                   (unsigned)pdu->payload_len, (unsigned)AIOT_NAME_MAX);
            return gcoap_response(pdu, buf, len, COAP_CODE_BAD_REQUEST);
        }
        printf("aiot: name set to '%s'\n", aiot_node_name());
        return gcoap_response(pdu, buf, len, COAP_CODE_CHANGED);
    }
    return aiot_coap_reply_text(pdu, buf, len, aiot_node_name());
}

#ifdef AIOT_POSITION
/* {"lat":..,"lng":..}: GET, and PUT (JSON or "<lat>,<lng>") to move it */
static ssize_t _position_handler(coap_pkt_t *pdu, uint8_t *buf, size_t len,
                                 coap_request_ctx_t *ctx)
{
    (void)ctx;
    if (coap_get_method(pdu) == COAP_METHOD_PUT) {
        if (aiot_node_set_position(pdu->payload, pdu->payload_len) != 0) {
            printf("aiot: refused a position of %u bytes (want {\"lat\":..,\"lng\":..})\n",
                   (unsigned)pdu->payload_len);
            return gcoap_response(pdu, buf, len, COAP_CODE_BAD_REQUEST);
        }
        puts("aiot: position changed");
        return gcoap_response(pdu, buf, len, COAP_CODE_CHANGED);
    }
    char text[48];
    if (aiot_node_position(text, sizeof(text)) < 0) {
        return gcoap_response(pdu, buf, len, COAP_CODE_INTERNAL_SERVER_ERROR);
    }
    return aiot_coap_reply_text(pdu, buf, len, text);
}
#endif

/* sorted by path, as gcoap requires */
static const coap_resource_t _resources[] = {
    { "/board", COAP_GET, _board_handler, NULL },
    { "/mcu", COAP_GET, _mcu_handler, NULL },
    { "/name", COAP_GET | COAP_PUT, _name_handler, NULL },
    { "/os", COAP_GET, _os_handler, NULL },
#ifdef AIOT_POSITION
    { "/position", COAP_GET | COAP_PUT, _position_handler, NULL },
#endif
};

static gcoap_listener_t _listener = {
    .resources = _resources,
    .resources_len = ARRAY_SIZE(_resources),
    .tl_type = GCOAP_SOCKET_TYPE_UNDEF,
    .link_encoder = NULL,
    .next = NULL,
    .request_matcher = NULL,
};

/* -1: no answer seen yet; log when the gateway starts or stops answering */
static int _gateway_answering = -1;

static void _beacon_reply(const gcoap_request_memo_t *memo, coap_pkt_t *pdu,
                          const sock_udp_ep_t *remote)
{
    (void)remote;
    if (memo->state == GCOAP_MEMO_RESP) {
        unsigned code = coap_get_code_decimal(pdu);
        if (code != 204) {
            printf("aiot: gateway answered the beacon with %u.%02u\n",
                   code / 100, code % 100);
        }
        else if (_gateway_answering != 1) {
            puts("aiot: gateway answered the beacon");
        }
        _gateway_answering = 1;
    }
    else if (memo->state == GCOAP_MEMO_TIMEOUT) {
        if (_gateway_answering != 0) {
            puts("aiot: no answer from the gateway to the beacon");
        }
        _gateway_answering = 0;
    }
}

static int _send(const char *path, const char *text, gcoap_resp_handler_t handler)
{
    if (!_gateway_ok) {
        return -ENOTCONN;   /* said once, at start */
    }
    size_t n = strlen(text);
    coap_pkt_t pdu;
    int res = -ENOBUFS;
    mutex_lock(&_send_lock);
    if (gcoap_req_init(&pdu, _send_buf, sizeof(_send_buf), COAP_METHOD_POST,
                       path) == 0) {
        coap_pkt_set_type(&pdu, COAP_TYPE_NON);
        coap_opt_add_format(&pdu, COAP_FORMAT_TEXT);
        ssize_t hdr = coap_opt_finish(&pdu, COAP_OPT_FINISH_PAYLOAD);
        if ((hdr >= 0) && (pdu.payload_len >= n)) {
            memcpy(pdu.payload, text, n);
            ssize_t sent = gcoap_req_send(_send_buf, (size_t)hdr + n, &_gateway,
                                          NULL, handler, NULL,
                                          GCOAP_SOCKET_TYPE_UNDEF);
            res = (sent > 0) ? 0 : -EAGAIN;
        }
    }
    /* log when sending starts or stops failing, not once per message */
    if ((res != 0) && !_send_failing) {
        printf("aiot: could not send '%s' to %s (%d)\n", text, path, res);
    }
    else if ((res == 0) && _send_failing) {
        puts("aiot: sending works again");
    }
    _send_failing = (res != 0);
    mutex_unlock(&_send_lock);
    return res;
}

int aiot_coap_post(const char *path, const char *text)
{
    return _send(path, text, NULL);
}

int aiot_coap_send_value(const char *resource, const char *value)
{
    char payload[CONFIG_GCOAP_PDU_BUF_SIZE];
    if (aiot_server_payload(payload, sizeof(payload), resource, value) < 0) {
        printf("aiot: value of %s does not fit a message, not sent\n", resource);
        return -EMSGSIZE;
    }
    return aiot_coap_post("/server", payload);
}

static void _beacon(bool reset)
{
    char payload[sizeof("reset:") + AIOT_UID_HEX_LEN];
    if (aiot_beacon_payload(payload, sizeof(payload), reset, aiot_node_uid()) > 0) {
        _send("/alive", payload, _beacon_reply);
    }
}

static void *_beacon_thread(void *arg)
{
    (void)arg;
    if (!aiot_node_wait_address(&_gateway)) {
        puts("aiot: no usable address yet, sending anyway");
    }
    _beacon(true);
    mutex_unlock(&_announced);
    while (1) {
        ztimer_sleep(ZTIMER_MSEC, AIOT_ALIVE_INTERVAL_S * 1000U);
        _beacon(false);
    }
    return NULL;
}

void aiot_coap_wait_announced(void)
{
    mutex_lock(&_announced);
    mutex_unlock(&_announced);
}

void aiot_coap_start(void)
{
    _gateway_ok = (aiot_node_gateway(&_gateway) == 0);
    printf("aiot: node %s, name '%s', gateway ", aiot_node_uid(), aiot_node_name());
    if (_gateway_ok) {
        aiot_node_print_gateway(&_gateway);
        puts("");
    }
    else {
        printf("'%s' is not an IPv6 address: nothing will be sent\n",
               AIOT_BROKER_ADDR);
    }
    gcoap_register_listener(&_listener);
    thread_create(_beacon_stack, sizeof(_beacon_stack), THREAD_PRIORITY_MAIN - 1,
                  0, _beacon_thread, NULL, "aiot_beacon");
}
