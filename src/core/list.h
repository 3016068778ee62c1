/* SPDX-License-Identifier: Apache-2.0 */
/* The one intrusive list: a circular doubly linked node embedded in what it links, as
 * libuv's uv__queue. An empty list is its own head; a node not in a list points to
 * itself, so removing it twice is harmless. Header only: every layer of the library may
 * use it (the tool, which sees public headers only, uses <sys/queue.h>). */
#ifndef CIO_LIST_H
#define CIO_LIST_H

#include <stddef.h>

struct cio_node {
    struct cio_node *next, *prev;
};

/* The struct of type `type` whose member `field` is the node n. */
#define cio_list_entry(n, type, field) ((type *)(void *)((char *)(n)-offsetof(type, field)))

static inline void cio_list_init(struct cio_node *n)
{
    n->next = n->prev = n;
}

static inline int cio_list_empty(const struct cio_node *head)
{
    return head->next == head;
}

/* Whether a node is in a list (one made by cio_list_init or removed is not). */
static inline int cio_list_linked(const struct cio_node *n)
{
    return n->next != n;
}

/* The first node, or NULL when empty. */
static inline struct cio_node *cio_list_first(const struct cio_node *head)
{
    return head->next != head ? head->next : NULL;
}

static inline void cio_list_remove(struct cio_node *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = n->prev = n;
}

/* Puts n after at (at the front when at is the head). */
static inline void cio_list_insert_after(struct cio_node *at, struct cio_node *n)
{
    n->next = at->next;
    n->prev = at;
    at->next->prev = n;
    at->next = n;
}

static inline void cio_list_push_back(struct cio_node *head, struct cio_node *n)
{
    cio_list_insert_after(head->prev, n);
}

static inline void cio_list_push_front(struct cio_node *head, struct cio_node *n)
{
    cio_list_insert_after(head, n);
}

/* Removes and returns the first node, or NULL when empty. */
static inline struct cio_node *cio_list_pop(struct cio_node *head)
{
    struct cio_node *n = cio_list_first(head);

    if (n != NULL)
        cio_list_remove(n);
    return n;
}

/* Moves every node of `from` to the end of `to`; from is then empty. */
static inline void cio_list_move_all(struct cio_node *from, struct cio_node *to)
{
    if (cio_list_empty(from))
        return;
    from->next->prev = to->prev;
    to->prev->next = from->next;
    from->prev->next = to;
    to->prev = from->prev;
    cio_list_init(from);
}

/* Walks the nodes; n may not be removed inside (use cio_list_pop or keep next). */
#define cio_list_each(n, head) for ((n) = (head)->next; (n) != (head); (n) = (n)->next)

#endif
