#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "aiot_node.h"
#include "aiot_proto.h"
#include "board.h"
#include "luid.h"
#include "mutex.h"
#include "net/gnrc/netif.h"
#include "net/ipv6/addr.h"
#include "net/sock/util.h"
#include "thread.h"
#include "ztimer.h"
#if AIOT_SHELL
#include "shell.h"
#endif

#define POLL_MS     (100U)

static char _uid[AIOT_UID_HEX_LEN + 1];
static char _name[AIOT_NAME_MAX + 1] = AIOT_APPLICATION_NAME;
static mutex_t _name_lock = MUTEX_INIT;
static int _led;

const char *aiot_node_uid(void)
{
    if (_uid[0] == '\0') {
        uint8_t id[AIOT_UID_HEX_LEN / 2];
        /* luid_base() is stable across calls, luid_get() is not */
        luid_base(id, sizeof(id));
        aiot_hex_upper(_uid, sizeof(_uid), id, sizeof(id));
    }
    return _uid;
}

int aiot_node_gateway(sock_udp_ep_t *ep)
{
    char text[IPV6_ADDR_MAX_STR_LEN + 16];
    int n = snprintf(text, sizeof(text), "[%s]:%u", AIOT_BROKER_ADDR,
                     (unsigned)AIOT_BROKER_PORT);
    if ((n < 0) || ((size_t)n >= sizeof(text))) {
        return -EINVAL;
    }
    /* The text is a build-time constant, so the parse either always works
     * or never does. A native64 node under heavy load was still seen to
     * fail it once at start-up (its interrupts are host signals that can
     * disturb the running thread): a few tries tell such a glitch from a
     * bad BROKER_ADDR, and a glitch is reported. */
    int tries = 0;
    bool parsed = false;
    while (!parsed && (tries < 3)) {
        ++tries;
        parsed = (sock_udp_str2ep(ep, text) == 0) && (ep->family == AF_INET6);
    }
    if (!parsed) {
        return -EINVAL;
    }
    if (tries > 1) {
        printf("aiot: gateway address parsed only at try %d\n", tries);
    }
    if ((ep->netif == SOCK_ADDR_ANY_NETIF) &&
        ipv6_addr_is_link_local((const ipv6_addr_t *)ep->addr.ipv6) &&
        (gnrc_netif_numof() == 1)) {
        ep->netif = (uint16_t)gnrc_netif_iter(NULL)->pid;
    }
    return 0;
}

static gnrc_netif_t *_netif_towards(const sock_udp_ep_t *gw)
{
    if (gw->netif != SOCK_ADDR_ANY_NETIF) {
        return gnrc_netif_get_by_pid((kernel_pid_t)gw->netif);
    }
    return gnrc_netif_iter(NULL);
}

static bool _has_valid_address(gnrc_netif_t *netif, bool link_local)
{
    ipv6_addr_t addrs[CONFIG_GNRC_NETIF_IPV6_ADDRS_NUMOF];
    uint8_t flags[CONFIG_GNRC_NETIF_IPV6_ADDRS_NUMOF];
    int n_addrs = gnrc_netapi_get(netif->pid, NETOPT_IPV6_ADDR, 0, addrs,
                                  sizeof(addrs));
    int n_flags = gnrc_netapi_get(netif->pid, NETOPT_IPV6_ADDR_FLAGS, 0,
                                  flags, sizeof(flags));
    if ((n_addrs <= 0) || (n_flags <= 0)) {
        return false;
    }
    unsigned count = (unsigned)n_addrs / sizeof(ipv6_addr_t);
    if ((unsigned)n_flags < count) {
        count = (unsigned)n_flags;
    }
    for (unsigned i = 0; i < count; ++i) {
        bool valid = (flags[i] & GNRC_NETIF_IPV6_ADDRS_FLAGS_STATE_MASK) ==
                     GNRC_NETIF_IPV6_ADDRS_FLAGS_STATE_VALID;
        if (valid && (ipv6_addr_is_link_local(&addrs[i]) == link_local)) {
            return true;
        }
    }
    return false;
}

#ifdef AIOT_NODE_ADDR
/* NODE_ADDR (e.g. "2001:db8::2/64"): a fixed address for networks without
 * router advertisements (and MQTT-SN gateways that refuse link-local). */
static void _add_fixed_address(gnrc_netif_t *netif)
{
    ipv6_addr_t addr;
    int prefix_len = ipv6_prefix_from_str(&addr, AIOT_NODE_ADDR);
    if (prefix_len <= 0) {
        prefix_len = 128;
        if (ipv6_addr_from_str(&addr, AIOT_NODE_ADDR) == NULL) {
            printf("aiot: NODE_ADDR '%s' is not an IPv6 address\n", AIOT_NODE_ADDR);
            return;
        }
    }
    if (gnrc_netif_ipv6_addr_add(netif, &addr, (unsigned)prefix_len,
                                 GNRC_NETIF_IPV6_ADDRS_FLAGS_STATE_VALID) < 0) {
        printf("aiot: could not add address %s\n", AIOT_NODE_ADDR);
    }
}
#endif

bool aiot_node_wait_address(const sock_udp_ep_t *gw)
{
    bool link_local = ipv6_addr_is_link_local((const ipv6_addr_t *)gw->addr.ipv6);
#ifdef AIOT_NODE_ADDR
    gnrc_netif_t *fixed = _netif_towards(gw);
    if (fixed != NULL) {
        _add_fixed_address(fixed);
    }
#endif
    for (uint32_t waited = 0; waited < AIOT_ADDRESS_TIMEOUT_MS;
         waited += POLL_MS) {
        gnrc_netif_t *netif = _netif_towards(gw);
        if ((netif != NULL) && _has_valid_address(netif, link_local)) {
            return true;
        }
        ztimer_sleep(ZTIMER_MSEC, POLL_MS);
    }
    return false;
}

const char *aiot_node_name(void)
{
    return _name;
}

int aiot_node_set_name(const void *text, size_t len)
{
    mutex_lock(&_name_lock);
    int res = aiot_copy_text(_name, sizeof(_name), text, len);
    mutex_unlock(&_name_lock);
    return (res < 0) ? res : 0;
}

#ifdef AIOT_POSITION
static aiot_position_t _position;
static int _position_state;     /* 0: not parsed yet, 1: valid, -1: bad AIOT_POSITION */
static mutex_t _position_lock = MUTEX_INIT;

int aiot_node_position(char *out, size_t size)
{
    mutex_lock(&_position_lock);
    if (_position_state == 0) {
        _position_state = (aiot_parse_position(AIOT_POSITION, strlen(AIOT_POSITION),
                                               &_position) == 0) ? 1 : -1;
        if (_position_state < 0) {
            printf("aiot: POSITION '%s' is not <lat>,<lng>: no position\n", AIOT_POSITION);
        }
    }
    int res = (_position_state > 0) ? aiot_format_position(out, size, &_position)
                                    : -ENOENT;
    mutex_unlock(&_position_lock);
    return res;
}

int aiot_node_set_position(const void *text, size_t len)
{
    aiot_position_t p;
    if (aiot_parse_position(text, len, &p) != 0) {
        return -EINVAL;
    }
    mutex_lock(&_position_lock);
    _position = p;
    _position_state = 1;
    mutex_unlock(&_position_lock);
    return 0;
}
#else
int aiot_node_position(char *out, size_t size)
{
    (void)out;
    (void)size;
    return -ENOENT;
}

int aiot_node_set_position(const void *text, size_t len)
{
    (void)text;
    (void)len;
    return -ENOTSUP;
}
#endif

void aiot_node_print_gateway(const sock_udp_ep_t *gw)
{
    char addr[IPV6_ADDR_MAX_STR_LEN];
    ipv6_addr_to_str(addr, (const ipv6_addr_t *)gw->addr.ipv6, sizeof(addr));
    if (gw->netif != SOCK_ADDR_ANY_NETIF) {
        printf("[%s%%%u]:%u", addr, (unsigned)gw->netif, (unsigned)gw->port);
    }
    else {
        printf("[%s]:%u", addr, (unsigned)gw->port);
    }
}

void aiot_node_idle(void)
{
#if AIOT_SHELL
    static char line[SHELL_DEFAULT_BUFSIZE];
    shell_run(NULL, line, sizeof(line));
#endif
    while (1) {
        thread_sleep();
    }
}

void aiot_node_set_led(int on)
{
    _led = on ? 1 : 0;
#if defined(LED0_ON) && defined(LED0_OFF)
    if (_led) {
        LED0_ON;
    }
    else {
        LED0_OFF;
    }
#endif
}

int aiot_node_led(void)
{
    return _led;
}
