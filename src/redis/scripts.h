/* SPDX-License-Identifier: Apache-2.0 */
/* The shared limiter's Lua scripts, for their tests: the paced (GCRA) and the window
 * limiter. (The library's public part is concurio/redis.h.) */
#ifndef CIO_REDIS_SCRIPTS_H
#define CIO_REDIS_SCRIPTS_H

extern const char cio__gcra_lua[], cio__window_lua[];

#endif
