/* On the core's include path only: the core knows no engine (CONTRIBUTING.md). */
#error "src/core must not include <event2/http.h>: it belongs in the tests"
