/* On the core's include path only: the core knows no engine (CONTRIBUTING.md). */
#error "src/core must not include <curl/easy.h>: it belongs in src/http"
