/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for --resume files, which may be anything a killed or foreign run left:
 * any bytes give no id, or an id that is a JSON string or number, never a crash. */
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "resume.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int malformed;
    char *id = fetch_resume_done_id((const char *)data, size, &malformed);

    if (id != NULL) {
        cJSON *v = cJSON_Parse(id);
        if (malformed || !(cJSON_IsString(v) || cJSON_IsNumber(v)))
            abort(); /* an id is a JSON string or number, as the input's were */
        struct fetch_idset s = {0};
        if (fetch_idset_add(&s, id) != 1 || !fetch_idset_has(&s, id))
            abort();
        fetch_idset_free(&s);
        cJSON_Delete(v);
        free(id);
    }
    return 0;
}
