/* MQTT node topics and JSON payloads (PROTOCOL.md section 5). */
#include <string.h>

#include "aiot_proto.h"
#include "aiot_writer.h"

bool aiot_mqtt_valid_id(const char *id)
{
    if (id == NULL) {
        return false;
    }
    size_t n = strlen(id);
    if ((n == 0) || (n > AIOT_NODE_ID_MAX)) {
        return false;
    }
    for (size_t i = 0; i < n; ++i) {
        unsigned char c = (unsigned char)id[i];
        if ((c < 0x20) || (c == 0x7f) || (c == '/') || (c == '+') ||
            (c == '#')) {
            return false;
        }
    }
    return true;
}

static void _put_escaped(aiot_writer_t *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (; *s != '\0'; ++s) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '"':  aiot_put_str(w, "\\\""); break;
        case '\\': aiot_put_str(w, "\\\\"); break;
        case '\b': aiot_put_str(w, "\\b"); break;
        case '\f': aiot_put_str(w, "\\f"); break;
        case '\n': aiot_put_str(w, "\\n"); break;
        case '\r': aiot_put_str(w, "\\r"); break;
        case '\t': aiot_put_str(w, "\\t"); break;
        default:
            if (c < 0x20) {
                aiot_put_str(w, "\\u00");
                aiot_put_char(w, hex[c >> 4]);
                aiot_put_char(w, hex[c & 0x0f]);
            }
            else {
                aiot_put_char(w, (char)c);
            }
        }
    }
}

int aiot_json_escape(char *out, size_t size, const char *s)
{
    if (s == NULL) {
        return aiot_invalid(out, size);
    }
    aiot_writer_t w;
    aiot_writer_init(&w, out, size);
    _put_escaped(&w, s);
    return aiot_writer_finish(&w);
}

static int _topic(char *out, size_t size, const char *root,
                  const char *node_id, const char *tail)
{
    if (!aiot_mqtt_valid_id(node_id) || (tail == NULL) || (tail[0] == '\0') ||
        (strpbrk(tail, "+#") != NULL)) {
        return aiot_invalid(out, size);
    }
    aiot_writer_t w;
    aiot_writer_init(&w, out, size);
    aiot_put_str(&w, root);
    aiot_put_str(&w, node_id);
    aiot_put_char(&w, '/');
    aiot_put_str(&w, tail);
    return aiot_writer_finish(&w);
}

int aiot_mqtt_node_topic(char *out, size_t size, const char *node_id,
                         const char *resource)
{
    if ((resource != NULL) && (strchr(resource, '/') != NULL)) {
        return aiot_invalid(out, size);
    }
    return _topic(out, size, "node/", node_id, resource);
}

int aiot_mqtt_gateway_topic(char *out, size_t size, const char *node_id,
                            const char *suffix)
{
    return _topic(out, size, "gateway/", node_id, suffix);
}

static int _object(char *out, size_t size, const char *key, const char *text)
{
    if (text == NULL) {
        return aiot_invalid(out, size);
    }
    aiot_writer_t w;
    aiot_writer_init(&w, out, size);
    aiot_put_str(&w, "{\"");
    aiot_put_str(&w, key);
    aiot_put_str(&w, "\":\"");
    _put_escaped(&w, text);
    aiot_put_str(&w, "\"}");
    return aiot_writer_finish(&w);
}

int aiot_mqtt_check_payload(char *out, size_t size, const char *node_id)
{
    if (!aiot_mqtt_valid_id(node_id)) {
        return aiot_invalid(out, size);
    }
    return _object(out, size, "id", node_id);
}

int aiot_mqtt_value_payload(char *out, size_t size, const char *text)
{
    return _object(out, size, "value", text);
}

int aiot_mqtt_resources_payload(char *out, size_t size,
                                const char *const *names, size_t count)
{
    if ((names == NULL) && (count > 0)) {
        return aiot_invalid(out, size);
    }
    for (size_t i = 0; i < count; ++i) {
        if ((names[i] == NULL) || (names[i][0] == '\0') ||
            (strpbrk(names[i], "/+#") != NULL)) {
            return aiot_invalid(out, size);
        }
    }
    aiot_writer_t w;
    aiot_writer_init(&w, out, size);
    aiot_put_char(&w, '[');
    for (size_t i = 0; i < count; ++i) {
        if (i > 0) {
            aiot_put_char(&w, ',');
        }
        aiot_put_char(&w, '"');
        _put_escaped(&w, names[i]);
        aiot_put_char(&w, '"');
    }
    aiot_put_char(&w, ']');
    return aiot_writer_finish(&w);
}

/* If @p s starts with @p prefix, returns what follows it, else NULL. */
static const char *_after(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return (strncmp(s, prefix, n) == 0) ? s + n : NULL;
}

aiot_mqtt_topic_kind_t aiot_mqtt_classify(const char *topic,
                                          const char *node_id,
                                          char *endpoint,
                                          size_t endpoint_size)
{
    if (topic == NULL) {
        return AIOT_MQTT_OTHER;
    }
    if (strcmp(topic, "gateway/check") == 0) {
        return AIOT_MQTT_GATEWAY_CHECK;
    }
    if (!aiot_mqtt_valid_id(node_id)) {
        return AIOT_MQTT_OTHER;
    }
    const char *rest = _after(topic, "gateway/");
    rest = (rest != NULL) ? _after(rest, node_id) : NULL;
    rest = (rest != NULL) ? _after(rest, "/") : NULL;
    if (rest == NULL) {
        return AIOT_MQTT_OTHER;
    }
    if (strcmp(rest, "discover") == 0) {
        return AIOT_MQTT_DISCOVER;
    }
    static const char set[] = "/set";
    size_t n = strlen(rest);
    if ((n <= sizeof(set) - 1) ||
        (strcmp(rest + n - (sizeof(set) - 1), set) != 0)) {
        return AIOT_MQTT_OTHER;
    }
    size_t ep_len = n - (sizeof(set) - 1);
    if ((memchr(rest, '/', ep_len) != NULL) || (endpoint == NULL) ||
        (ep_len >= endpoint_size)) {
        return AIOT_MQTT_OTHER;
    }
    memcpy(endpoint, rest, ep_len);
    endpoint[ep_len] = '\0';
    return AIOT_MQTT_SET;
}

static bool _equals(const void *data, size_t len, const char *word)
{
    size_t n = strlen(word);
    return (len == n) && (memcmp(data, word, n) == 0);
}

aiot_discover_t aiot_mqtt_parse_discover(const void *data, size_t len)
{
    if (data == NULL) {
        return AIOT_DISCOVER_UNKNOWN;
    }
    if (_equals(data, len, "resources")) {
        return AIOT_DISCOVER_RESOURCES;
    }
    if (_equals(data, len, "values")) {
        return AIOT_DISCOVER_VALUES;
    }
    return AIOT_DISCOVER_UNKNOWN;
}
