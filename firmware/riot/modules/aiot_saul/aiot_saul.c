#include <errno.h>

#include "aiot_saul.h"
#include "phydat.h"
#include "saul.h"
#include "saul_reg.h"

int aiot_saul_read(uint8_t saul_type, uint8_t unit, aiot_saul_format_t format,
                   char *out, size_t size)
{
    saul_reg_t *dev = saul_reg_find_type(saul_type);
    if (dev == NULL) {
        return -ENODEV;
    }
    phydat_t data;
    int dims = saul_reg_read(dev, &data);
    if (dims <= 0) {
        return -EIO;
    }
    int scale = data.scale;
    if ((unit == UNIT_PA) && (data.unit == UNIT_BAR)) {
        scale += 5;     /* 1 bar = 10^5 Pa */
    }
    else if (data.unit != unit) {
        return -EPROTO;
    }
    return format(out, size, data.val[0], scale);
}

int aiot_saul_exists(uint8_t saul_type)
{
    return saul_reg_find_type(saul_type) != NULL;
}
