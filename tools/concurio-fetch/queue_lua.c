/* SPDX-License-Identifier: Apache-2.0 */
/* Queue mode's Lua scripts (see queue.h): the decisions that must be atomic in Redis. */
#include "queue.h"

/* At items' ends, (line, record, id) each: the first record of a line wins, every end
 * acknowledges. Returns, for each, 1 when its line had a record already. */
static const char done_lua[] =
    "local out, ids = {}, {}\n"
    "for i = 1, #ARGV - 2, 3 do\n"
    "  local was = redis.call('SETBIT', KEYS[1], ARGV[i], 1)\n"
    "  if was == 0 then redis.call('XADD', KEYS[2], '*', 'r', ARGV[i + 1]) end\n"
    "  ids[#ids + 1] = ARGV[i + 2]\n"
    "  out[#out + 1] = was\n"
    "end\n"
    "if #ids > 0 then redis.call('XACK', KEYS[3], 'workers', unpack(ids)) end\n"
    "return out\n";

/* Takes over items idle for ARGV[2] ms, from cursor ARGV[3]; returns the next cursor,
 * then {id, deliveries, fields} for each (the count includes this delivery), and
 * {id, -1} for each pending item deleted from the stream. */
static const char claim_lua[] =
    "local r = redis.call('XAUTOCLAIM', KEYS[1], 'workers', ARGV[1], ARGV[2], ARGV[3],\n"
    "                     'COUNT', ARGV[4])\n"
    "local out = {r[1]}\n"
    "for _, e in ipairs(r[2]) do\n"
    "  local p = redis.call('XPENDING', KEYS[1], 'workers', e[1], e[1], 1)\n"
    "  local n = 0\n"
    "  if p[1] then n = p[1][4] end\n"
    "  out[#out + 1] = {e[1], n, e[2]}\n"
    "end\n"
    "for _, id in ipairs(r[3] or {}) do out[#out + 1] = {id, -1} end\n"
    "return out\n";

/* Keeps the worker ARGV[1]'s items from being taken over (their idle time starts again);
 * returns those that are no longer its own. */
static const char refresh_lua[] =
    "local lost = {}\n"
    "for i = 2, #ARGV do\n"
    "  local p = redis.call('XPENDING', KEYS[1], 'workers', ARGV[i], ARGV[i], 1)\n"
    "  if p[1] and p[1][2] == ARGV[1] then\n"
    "    redis.call('XCLAIM', KEYS[1], 'workers', ARGV[1], 0, ARGV[i], 'JUSTID')\n"
    "  else\n"
    "    lost[#lost + 1] = ARGV[i]\n"
    "  end\n"
    "end\n"
    "return lost\n";

const char *const fetch_queue_scripts[] = {done_lua, claim_lua, refresh_lua, NULL};

/* The quota stored unless one is: returns what is stored (empty: none, none given). */
const char fetch_queue_config_lua[] =
    "local cur = redis.call('HMGET', KEYS[1], 'rate', 'burst', 'mode')\n"
    "if cur[1] then return cur end\n"
    "if ARGV[1] == '' then return {} end\n"
    "redis.call('HSET', KEYS[1], 'rate', ARGV[1], 'burst', ARGV[2], 'mode', ARGV[3])\n"
    "return {ARGV[1], ARGV[2], ARGV[3]}\n";

const char fetch_queue_count_lua[] =
    "local c = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
    "local n = tonumber(ARGV[1])\n"
    "if n > c then redis.call('SET', KEYS[1], ARGV[1]) return n end\n"
    "return c\n";
