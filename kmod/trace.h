/* SPDX-License-Identifier: GPL-2.0 */
/*
 * trace.h - tracepoints of the respool trace system.
 *
 * trace-cmd record -e respool  (or bpftrace -e 'tracepoint:respool:*')
 * Every event carries the id of its pool (pool-get names it).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM respool

#if !defined(_RESPOOL_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _RESPOOL_TRACE_H

#include <linux/tracepoint.h>

/* Export the enum values, so that trace-cmd and perf can print names. */
TRACE_DEFINE_ENUM(RESPOOL_SRC_PCPU);
TRACE_DEFINE_ENUM(RESPOOL_SRC_RESERVE);
TRACE_DEFINE_ENUM(RESPOOL_SRC_FRESH);
TRACE_DEFINE_ENUM(RESPOOL_SRC_HANDOFF);
TRACE_DEFINE_ENUM(RESPOOL_RELEASE_EVICT);
TRACE_DEFINE_ENUM(RESPOOL_RELEASE_RESERVE_MAX);
TRACE_DEFINE_ENUM(RESPOOL_RELEASE_IDLE);
TRACE_DEFINE_ENUM(RESPOOL_RELEASE_SHRINK);
TRACE_DEFINE_ENUM(RESPOOL_RELEASE_DRAIN);
TRACE_DEFINE_ENUM(RESPOOL_RELEASE_CAPACITY);
TRACE_DEFINE_ENUM(RESPOOL_RELEASE_PINNED);
TRACE_DEFINE_ENUM(RESPOOL_TAKEBACK_WAITER);
TRACE_DEFINE_ENUM(RESPOOL_TAKEBACK_CAPACITY);
TRACE_DEFINE_ENUM(RESPOOL_TAKEBACK_SHRINK);
TRACE_DEFINE_ENUM(RESPOOL_TAKEBACK_IDLE);
TRACE_DEFINE_ENUM(RESPOOL_TAKEBACK_DRAIN);

#define respool_show_source(src)				\
	__print_symbolic(src,					\
			 { RESPOOL_SRC_PCPU, "pcpu" },		\
			 { RESPOOL_SRC_RESERVE, "reserve" },	\
			 { RESPOOL_SRC_FRESH, "fresh" },	\
			 { RESPOOL_SRC_HANDOFF, "handoff" })

#define respool_show_reason(why)					\
	__print_symbolic(why,						\
			 { RESPOOL_RELEASE_EVICT, "evict" },		\
			 { RESPOOL_RELEASE_RESERVE_MAX, "reserve_max" },\
			 { RESPOOL_RELEASE_IDLE, "idle" },		\
			 { RESPOOL_RELEASE_SHRINK, "shrink" },		\
			 { RESPOOL_RELEASE_DRAIN, "drain" },		\
			 { RESPOOL_RELEASE_CAPACITY, "capacity" },	\
			 { RESPOOL_RELEASE_PINNED, "pinned" })

#define respool_show_takeback(why)					\
	__print_symbolic(why,						\
			 { RESPOOL_TAKEBACK_WAITER, "waiter" },		\
			 { RESPOOL_TAKEBACK_CAPACITY, "capacity" },	\
			 { RESPOOL_TAKEBACK_SHRINK, "shrink" },		\
			 { RESPOOL_TAKEBACK_IDLE, "idle" },		\
			 { RESPOOL_TAKEBACK_DRAIN, "drain" })

TRACE_EVENT(respool_alloc,
	TP_PROTO(u32 pool, u64 client, u64 size, u64 block_size, int src, bool zeroed),
	TP_ARGS(pool, client, size, block_size, src, zeroed),
	TP_STRUCT__entry(
		__field(u32, pool)
		__field(u64, client)
		__field(u64, size)
		__field(u64, block_size)
		__field(int, src)
		__field(bool, zeroed)
	),
	TP_fast_assign(
		__entry->pool = pool;
		__entry->client = client;
		__entry->size = size;
		__entry->block_size = block_size;
		__entry->src = src;
		__entry->zeroed = zeroed;
	),
	TP_printk("pool=%u client=%llu size=%llu block=%llu from=%s zeroed=%d", __entry->pool,
		  __entry->client, __entry->size, __entry->block_size,
		  respool_show_source(__entry->src), __entry->zeroed)
);

TRACE_EVENT(respool_free,
	TP_PROTO(u32 pool, u64 client, u64 size, u64 block_size),
	TP_ARGS(pool, client, size, block_size),
	TP_STRUCT__entry(
		__field(u32, pool)
		__field(u64, client)
		__field(u64, size)
		__field(u64, block_size)
	),
	TP_fast_assign(
		__entry->pool = pool;
		__entry->client = client;
		__entry->size = size;
		__entry->block_size = block_size;
	),
	TP_printk("pool=%u client=%llu size=%llu block=%llu", __entry->pool,
		  __entry->client, __entry->size, __entry->block_size)
);

/* An exported block: its client (the exporter) and its size. */
DECLARE_EVENT_CLASS(respool_export_class,
	TP_PROTO(u32 pool, u64 client, u64 block_size),
	TP_ARGS(pool, client, block_size),
	TP_STRUCT__entry(
		__field(u32, pool)
		__field(u64, client)
		__field(u64, block_size)
	),
	TP_fast_assign(
		__entry->pool = pool;
		__entry->client = client;
		__entry->block_size = block_size;
	),
	TP_printk("pool=%u client=%llu block=%llu", __entry->pool,
		  __entry->client, __entry->block_size)
);

/* A block left its file as a dma-buf (RESPOOL_IOC_EXPORT). */
DEFINE_EVENT(respool_export_class, respool_export,
	TP_PROTO(u32 pool, u64 client, u64 block_size),
	TP_ARGS(pool, client, block_size)
);

/* An exported block's last reference went; a respool_free follows. */
DEFINE_EVENT(respool_export_class, respool_export_return,
	TP_PROTO(u32 pool, u64 client, u64 block_size),
	TP_ARGS(pool, client, block_size)
);

TRACE_EVENT(respool_release,
	TP_PROTO(u32 pool, u64 block_size, int why),
	TP_ARGS(pool, block_size, why),
	TP_STRUCT__entry(
		__field(u32, pool)
		__field(u64, block_size)
		__field(int, why)
	),
	TP_fast_assign(
		__entry->pool = pool;
		__entry->block_size = block_size;
		__entry->why = why;
	),
	TP_printk("pool=%u block=%llu why=%s", __entry->pool, __entry->block_size,
		  respool_show_reason(__entry->why))
);

TRACE_EVENT(respool_wait_begin,
	TP_PROTO(u32 pool, u64 client, u64 need, unsigned int waiters),
	TP_ARGS(pool, client, need, waiters),
	TP_STRUCT__entry(
		__field(u32, pool)
		__field(u64, client)
		__field(u64, need)
		__field(unsigned int, waiters)
	),
	TP_fast_assign(
		__entry->pool = pool;
		__entry->client = client;
		__entry->need = need;
		__entry->waiters = waiters;
	),
	TP_printk("pool=%u client=%llu need=%llu waiters=%u", __entry->pool, __entry->client,
		  __entry->need, __entry->waiters)
);

TRACE_EVENT(respool_wait_end,
	TP_PROTO(u32 pool, u64 client, u64 need, u64 ns, long ret),
	TP_ARGS(pool, client, need, ns, ret),
	TP_STRUCT__entry(
		__field(u32, pool)
		__field(u64, client)
		__field(u64, need)
		__field(u64, ns)
		__field(long, ret)
	),
	TP_fast_assign(
		__entry->pool = pool;
		__entry->client = client;
		__entry->need = need;
		__entry->ns = ns;
		__entry->ret = ret;
	),
	TP_printk("pool=%u client=%llu need=%llu waited_ns=%llu ret=%ld", __entry->pool,
		  __entry->client, __entry->need, __entry->ns, __entry->ret)
);

TRACE_EVENT(respool_handoff,
	TP_PROTO(u32 pool, u64 client, u64 need, u64 block_size, int src),
	TP_ARGS(pool, client, need, block_size, src),
	TP_STRUCT__entry(
		__field(u32, pool)
		__field(u64, client)
		__field(u64, need)
		__field(u64, block_size)
		__field(int, src)
	),
	TP_fast_assign(
		__entry->pool = pool;
		__entry->client = client;
		__entry->need = need;
		__entry->block_size = block_size;
		__entry->src = src;
	),
	TP_printk("pool=%u client=%llu need=%llu block=%llu from=%s", __entry->pool,
		  __entry->client, __entry->need, __entry->block_size,
		  respool_show_source(__entry->src))
);

TRACE_EVENT(respool_takeback,
	TP_PROTO(u32 pool, u64 client, u32 handle, u64 block_size, int why),
	TP_ARGS(pool, client, handle, block_size, why),
	TP_STRUCT__entry(
		__field(u32, pool)
		__field(u64, client)
		__field(u32, handle)
		__field(u64, block_size)
		__field(int, why)
	),
	TP_fast_assign(
		__entry->pool = pool;
		__entry->client = client;
		__entry->handle = handle;
		__entry->block_size = block_size;
		__entry->why = why;
	),
	TP_printk("pool=%u client=%llu handle=%u block=%llu why=%s", __entry->pool,
		  __entry->client, __entry->handle, __entry->block_size,
		  respool_show_takeback(__entry->why))
);

#endif /* _RESPOOL_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
