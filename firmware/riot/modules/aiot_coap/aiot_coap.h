/*
 * aiot_coap: the CoAP behaviour every aiot CoAP node shares (PROTOCOL.md
 * section 4).
 *   - resources GET /board, /mcu, /os and GET/PUT /name;
 *   - a beacon thread: once the node has a usable address it POSTs
 *     "reset:<uid>" to the gateway's /alive, then "alive:<uid>" every
 *     AIOT_ALIVE_INTERVAL_S seconds.
 */
#ifndef AIOT_COAP_H
#define AIOT_COAP_H

#include <stddef.h>
#include <sys/types.h>

#include "net/gcoap.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef AIOT_ALIVE_INTERVAL_S
#define AIOT_ALIVE_INTERVAL_S   (30U)
#endif

/** Registers the common resources and starts the beacon thread. */
void aiot_coap_start(void);

/** Blocks until the beacon has sent the reset (so a sensor loop does not
 *  post values before the gateway knows the node). */
void aiot_coap_wait_announced(void);

/** POSTs @p text (text/plain, NON, no answer awaited) to @p path on the
 *  gateway. Thread-safe. Returns 0 or a negative errno. */
int aiot_coap_post(const char *path, const char *text);

/** POSTs "<resource>:<value>" to the gateway's /server. */
int aiot_coap_send_value(const char *resource, const char *value);

/** Writes a 2.05 Content text/plain response with @p text (for GET
 *  handlers); a text too long for the buffer gives 5.00 instead. */
ssize_t aiot_coap_reply_text(coap_pkt_t *pdu, uint8_t *buf, size_t len,
                             const char *text);

#ifdef __cplusplus
}
#endif

#endif /* AIOT_COAP_H */
