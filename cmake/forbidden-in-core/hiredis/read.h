/* On the core's include path only: the core knows no engine (CONTRIBUTING.md). */
#error "src/core must not include <hiredis/read.h>: it belongs in src/redis"
