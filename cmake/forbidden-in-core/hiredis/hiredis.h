/* On the core's include path only: the core knows no engine (CONTRIBUTING.md). */
#error "src/core must not include <hiredis/hiredis.h>: it belongs in src/redis"
