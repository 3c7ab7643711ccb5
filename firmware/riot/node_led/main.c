/*
 * aiot LED node: a CoAP node with the common resources (/name, /board,
 * /mcu, /os) and /led: GET gives "0" or "1"; PUT "0"/"1" switches LED0,
 * answers 2.04 Changed and posts "led:<v>" to the gateway's /server.
 */
#include <stdio.h>

#include "aiot_coap.h"
#include "aiot_node.h"
#include "aiot_proto.h"
#include "container.h"

static ssize_t _led_handler(coap_pkt_t *pdu, uint8_t *buf, size_t len,
                            coap_request_ctx_t *ctx)
{
    (void)ctx;
    if (coap_get_method(pdu) == COAP_METHOD_PUT) {
        int value = aiot_parse_switch(pdu->payload, pdu->payload_len);
        if (value < 0) {
            printf("aiot: refused LED value of %u bytes (want 0 or 1)\n",
                   (unsigned)pdu->payload_len);
            return gcoap_response(pdu, buf, len, COAP_CODE_BAD_REQUEST);
        }
        aiot_node_set_led(value);
        printf("aiot: LED %s\n", value ? "on" : "off");
        ssize_t res = gcoap_response(pdu, buf, len, COAP_CODE_CHANGED);
        aiot_coap_send_value("led", value ? "1" : "0");
        return res;
    }
    return aiot_coap_reply_text(pdu, buf, len, aiot_node_led() ? "1" : "0");
}

static const coap_resource_t _resources[] = {
    { "/led", COAP_GET | COAP_PUT, _led_handler, NULL },
};

static gcoap_listener_t _listener = {
    .resources = _resources,
    .resources_len = ARRAY_SIZE(_resources),
    .tl_type = GCOAP_SOCKET_TYPE_UNDEF,
};

int main(void)
{
    puts("aiot LED node");
    aiot_node_set_led(0);
    gcoap_register_listener(&_listener);
    aiot_coap_start();
    aiot_node_idle();
    return 0;
}
