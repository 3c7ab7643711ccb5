/*
 * aiot_node: the parts shared by every aiot RIOT node, CoAP or MQTT-SN.
 *
 * Build-time settings (set by firmware/riot/Makefile.aiot from the make
 * variables of the same name without the AIOT_ prefix):
 *   AIOT_BROKER_ADDR         the gateway's IPv6 address, e.g. "fe80::1"
 *   AIOT_BROKER_PORT         its UDP port
 *   AIOT_APPLICATION_NAME    the node's initial name
 *   AIOT_NODE_ADDR           optional fixed address, e.g. "2001:db8::2/64"
 */
#ifndef AIOT_NODE_H
#define AIOT_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/sock/udp.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef AIOT_BROKER_ADDR
#define AIOT_BROKER_ADDR        "fe80::1"
#endif
#ifndef AIOT_BROKER_PORT
#define AIOT_BROKER_PORT        (5683U)
#endif
#ifndef AIOT_APPLICATION_NAME
#define AIOT_APPLICATION_NAME   "RIOT node"
#endif
/** Longest node name, in bytes. */
#define AIOT_NAME_MAX           (48U)
/** How long aiot_node_wait_address() waits before giving up. */
#ifndef AIOT_ADDRESS_TIMEOUT_MS
#define AIOT_ADDRESS_TIMEOUT_MS (30000U)
#endif

/** The board's unique id (luid_base) as 16 uppercase hex digits. */
const char *aiot_node_uid(void);

/** The gateway endpoint from AIOT_BROKER_ADDR / AIOT_BROKER_PORT. A
 *  link-local address gets the interface when the node has only one.
 *  Returns 0, or a negative errno when the address does not parse. */
int aiot_node_gateway(sock_udp_ep_t *ep);

/** Adds AIOT_NODE_ADDR (if set) to the interface towards @p gw, then waits
 *  (up to AIOT_ADDRESS_TIMEOUT_MS) until that interface
 *  has a VALID address of the scope needed to reach it: link-local for a
 *  link-local gateway, else a global one. Before that, packets would leave
 *  with the unspecified source address. Returns false on timeout. */
bool aiot_node_wait_address(const sock_udp_ep_t *gw);

/** The current name (AIOT_APPLICATION_NAME until changed). */
const char *aiot_node_name(void);

/** Sets the name from @p len bytes of printable text. Returns 0, or
 *  AIOT_EINVAL / AIOT_ETRUNC (see aiot_proto.h); the name is unchanged on
 *  error. */
int aiot_node_set_name(const void *text, size_t len);

/**
 * @brief   The node's position as {"lat":..,"lng":..} into @p out.
 *
 * The position is compiled in (POSITION=<lat>,<lng>, make variable) and may
 * be changed while the node runs. Returns the length, -ENOENT when the node
 * has no position, or a negative value when @p out is too small.
 */
int aiot_node_position(char *out, size_t size);

/**
 * @brief   Sets the position from {"lat":..,"lng":..} or "<lat>,<lng>".
 *
 * Returns 0, -EINVAL for a bad position, -ENOTSUP without POSITION.
 */
int aiot_node_set_position(const void *text, size_t len);

/** Prints the gateway endpoint as "[addr%if]:port" (for logs). */
void aiot_node_print_gateway(const sock_udp_ep_t *gw);

/** Switches the board's LED0 (when it has one) and remembers the state. */
void aiot_node_set_led(int on);

/** The LED state set last: 0 or 1. */
int aiot_node_led(void);

/** What main() does once the node is set up: runs RIOT's shell when built
 *  with AIOT_SHELL=1, else sleeps. Never returns. */
void aiot_node_idle(void);

#ifdef __cplusplus
}
#endif

#endif /* AIOT_NODE_H */
