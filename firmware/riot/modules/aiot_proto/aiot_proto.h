/*
 * aiot_proto: the text an aiot node puts on the wire (PROTOCOL.md sections 4
 * and 5), in portable C11 with no RIOT dependency, so that the host unit
 * tests exercise exactly the code the firmware runs.
 *
 * Every function writing text takes an output buffer and its size and
 * always leaves a NUL-terminated string there (when size > 0). It returns the
 * length written (without the NUL), or:
 *   AIOT_ETRUNC  the text does not fit; the buffer then holds "" (a node
 *                never sends a cut message),
 *   AIOT_EINVAL  an argument is invalid (NULL, a bad identifier, ...); the
 *                buffer holds "".
 */
#ifndef AIOT_PROTO_H
#define AIOT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    AIOT_ETRUNC = -1,   /**< output buffer too small */
    AIOT_EINVAL = -2,   /**< invalid argument */
};

/** Hex characters of an 8-byte unique id (RIOT luid), without the NUL. */
#define AIOT_UID_HEX_LEN        (16U)
/** Longest MQTT node id the helpers accept (bytes, without the NUL). */
#define AIOT_NODE_ID_MAX        (64U)

/* ---- CoAP node (PROTOCOL.md section 4) --------------------------------- */

/** @p n bytes as uppercase hex ("0A1B..."); needs size >= 2 * n + 1. */
int aiot_hex_upper(char *out, size_t size, const uint8_t *bytes, size_t n);

/** Payload POSTed to the gateway's /alive: "reset:<uid>" when @p reset,
 *  else "alive:<uid>". @p uid must be non-empty and contain no ':'. */
int aiot_beacon_payload(char *out, size_t size, bool reset, const char *uid);

/** Payload POSTed to /server: "<resource>:<value>". @p resource must be a
 *  non-empty name without ':' or '/' (the gateway splits at the first ':'). */
int aiot_server_payload(char *out, size_t size, const char *resource,
                        const char *value);

/** Decimal text of value * 10^scale with @p decimals digits after the point
 *  (rounded half away from zero, at most 6), followed by @p unit (may be
 *  NULL). Example: (2345, -2, 1, "C") -> "23.5C". */
int aiot_format_fixed(char *out, size_t size, int32_t value, int scale,
                      unsigned decimals, const char *unit);

/* The value formats of the sensor nodes (the dashboard strips the unit).
 * value * 10^scale is in the SI-style unit RIOT's SAUL reports. */
/** degrees Celsius -> "23.4°C" (one decimal). */
int aiot_format_temperature(char *out, size_t size, int32_t value, int scale);
/** Pascal -> "1013hPa" (whole hectopascals). */
int aiot_format_pressure(char *out, size_t size, int32_t value, int scale);
/** percent -> "45%" (whole percent). */
int aiot_format_humidity(char *out, size_t size, int32_t value, int scale);
/** lux -> "312lx" (whole lux). */
int aiot_format_illuminance(char *out, size_t size, int32_t value, int scale);

/** parts per million -> "412ppm" (whole ppm; CCS811 eCO2). */
int aiot_format_eco2(char *out, size_t size, int32_t value, int scale);
/** parts per billion -> "15ppb" (whole ppb; CCS811 TVOC). */
int aiot_format_tvoc(char *out, size_t size, int32_t value, int scale);

/** A position in millionths of a degree. */
typedef struct {
    int32_t lat_e6;     /**< -90000000 .. 90000000 */
    int32_t lng_e6;     /**< -180000000 .. 180000000 */
} aiot_position_t;

/** Parses a position: the JSON object {"lat":<number>,"lng":<number>}
 *  ("lon" for "lng" too; keys in any order; spaces allowed) or the text
 *  "<lat>,<lng>". Numbers are decimal with at most 6 fraction digits.
 *  Returns 0, or -1 (and leaves @p pos alone) for anything else or a
 *  position out of range. */
int aiot_parse_position(const void *data, size_t len, aiot_position_t *pos);
/** {"lat":48.7146,"lng":2.2056} (trailing zeros of the fractions dropped). */
int aiot_format_position(char *out, size_t size, const aiot_position_t *pos);

/** value * 10^scale expressed in units of 10^target_scale, rounded half
 *  away from zero and clamped to the int32_t range. */
int32_t aiot_rescale(int32_t value, int scale, int target_scale);

/** One 3-axis sample, already in the unit the IMU payload uses. */
typedef struct {
    int32_t v[3];
} aiot_vec3_t;

/** IMU value: [{"type":"acc","values":[x,y,z]},{"type":"mag",...},
 *  {"type":"gyro",...}] (acc in mg, mag in mGs, gyro in dps). A NULL
 *  vector is sent as [0,0,0], so the three entries keep their positions. */
int aiot_format_imu(char *out, size_t size, const aiot_vec3_t *acc,
                    const aiot_vec3_t *mag, const aiot_vec3_t *gyro);

/** Parses an on/off write ("0"/"1", optionally quoted as "\"1\"", or
 *  {"value":"1"}, surrounding blanks ignored). Returns 0, 1 or AIOT_EINVAL. */
int aiot_parse_switch(const void *data, size_t len);

/** Copies @p len bytes of printable text (no control characters, no NUL)
 *  into @p dst and NUL-terminates it. Returns the length, AIOT_ETRUNC when it
 *  does not fit, AIOT_EINVAL for forbidden bytes; @p dst is left unchanged
 *  on error. */
int aiot_copy_text(char *dst, size_t size, const void *src, size_t len);

/* ---- MQTT / MQTT-SN node (PROTOCOL.md section 5) ------------------------ */

/** True when @p id can be used inside topics: 1..AIOT_NODE_ID_MAX bytes,
 *  no '/', '+', '#', no control characters. */
bool aiot_mqtt_valid_id(const char *id);

/** @p s as the inside of a JSON string: '"' and '\\' escaped, control
 *  characters as \uXXXX (or \n, \t, ...), UTF-8 bytes kept as they are. */
int aiot_json_escape(char *out, size_t size, const char *s);

/** "node/<id>/<resource>" (resource "resources" gives the resources topic). */
int aiot_mqtt_node_topic(char *out, size_t size, const char *node_id,
                         const char *resource);
/** "gateway/<id>/<suffix>", e.g. suffix "discover" or "led/set". */
int aiot_mqtt_gateway_topic(char *out, size_t size, const char *node_id,
                            const char *suffix);
/** The node/check payload: {"id":"<node_id>"}. */
int aiot_mqtt_check_payload(char *out, size_t size, const char *node_id);
/** A resource value as a JSON string: {"value":"<text>"}. */
int aiot_mqtt_value_payload(char *out, size_t size, const char *text);
/** The reply to discover "resources": ["name","os",...]. */
int aiot_mqtt_resources_payload(char *out, size_t size,
                                const char *const *names, size_t count);

/** What a message received by node @p node_id asks for. */
typedef enum {
    AIOT_MQTT_OTHER = 0,        /**< not for this node */
    AIOT_MQTT_GATEWAY_CHECK,    /**< gateway/check: publish node/check */
    AIOT_MQTT_DISCOVER,         /**< gateway/<id>/discover */
    AIOT_MQTT_SET,              /**< gateway/<id>/<endpoint>/set */
} aiot_mqtt_topic_kind_t;

/** Classifies @p topic. For AIOT_MQTT_SET the endpoint is copied into
 *  @p endpoint (NUL-terminated); an endpoint that does not fit, is empty or
 *  contains '/' makes the topic AIOT_MQTT_OTHER. */
aiot_mqtt_topic_kind_t aiot_mqtt_classify(const char *topic,
                                          const char *node_id,
                                          char *endpoint,
                                          size_t endpoint_size);

typedef enum {
    AIOT_DISCOVER_UNKNOWN = 0,
    AIOT_DISCOVER_RESOURCES,    /**< payload "resources" */
    AIOT_DISCOVER_VALUES,       /**< payload "values" */
} aiot_discover_t;

/** Parses the payload of gateway/<id>/discover. */
aiot_discover_t aiot_mqtt_parse_discover(const void *data, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* AIOT_PROTO_H */
