/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Trace events of virt_enable: every per-CPU hardware transition and every
 * reference operation.  Under /sys/kernel/tracing/events/virt_enable/.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM virt_enable

#if !defined(_VIRT_ENABLE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _VIRT_ENABLE_TRACE_H

#include <linux/tracepoint.h>

#include "internal.h"

TRACE_DEFINE_ENUM(VE_WHY_REFERENCE);
TRACE_DEFINE_ENUM(VE_WHY_ROLLBACK);
TRACE_DEFINE_ENUM(VE_WHY_HOTPLUG);
TRACE_DEFINE_ENUM(VE_WHY_SUSPEND);
TRACE_DEFINE_ENUM(VE_WHY_RESUME);
TRACE_DEFINE_ENUM(VE_WHY_SHUTDOWN);
TRACE_DEFINE_ENUM(VE_WHY_EMERGENCY);
TRACE_DEFINE_ENUM(VE_REF_SYSTEM);
TRACE_DEFINE_ENUM(VE_REF_PERMANENT);
TRACE_DEFINE_ENUM(VE_REF_CPU);

#define ve_show_reason(why)					\
	__print_symbolic(why,					\
			 { VE_WHY_REFERENCE, "reference" },	\
			 { VE_WHY_ROLLBACK, "rollback" },	\
			 { VE_WHY_HOTPLUG, "hotplug" },		\
			 { VE_WHY_SUSPEND, "suspend" },		\
			 { VE_WHY_RESUME, "resume" },		\
			 { VE_WHY_SHUTDOWN, "shutdown" },	\
			 { VE_WHY_EMERGENCY, "emergency" })

#define ve_show_kind(kind)					\
	__print_symbolic(kind,					\
			 { VE_REF_SYSTEM, "system" },		\
			 { VE_REF_PERMANENT, "permanent" },	\
			 { VE_REF_CPU, "cpu" })

/*
 * virt_enable_cpu - a CPU's hardware was switched, or switching it failed
 * @cpu: the CPU.
 * @on: turned on (true) or off.
 * @why: the cause: a reference, the rollback of a failed request, CPU
 *	hotplug, suspend, resume, shutdown or an emergency.
 * @result: 0, or the error; a failed enable leaves the hardware off, a
 *	failed disable leaves it on.
 */
TRACE_EVENT(virt_enable_cpu,
	TP_PROTO(unsigned int cpu, bool on, enum ve_reason why, const char *by,
		 int result),
	TP_ARGS(cpu, on, why, by, result),

	TP_STRUCT__entry(
		__field(unsigned int, cpu)
		__field(bool, on)
		__field(int, why)
		__array(char, by, MODULE_NAME_LEN)
		__field(int, result)
	),

	TP_fast_assign(
		__entry->cpu = cpu;
		__entry->on = on;
		__entry->why = why;
		strscpy(__entry->by, by, MODULE_NAME_LEN);
		__entry->result = result;
	),

	TP_printk("cpu=%u %s why=%s by=%s result=%d", __entry->cpu,
		  __entry->on ? "on" : "off", ve_show_reason(__entry->why),
		  __entry->by, __entry->result)
);

/*
 * virt_enable_ref - a reference was taken or put, or the request refused
 * @user: the user's name.
 * @kind: system, permanent or cpu.
 * @get: get (true) or put.
 * @cpu: the CPU of a per-CPU reference, -1 for the others.
 * @result: 0, or the error returned.
 */
TRACE_EVENT(virt_enable_ref,
	TP_PROTO(const char *user, enum ve_ref_kind kind, bool get, int cpu,
		 int result),
	TP_ARGS(user, kind, get, cpu, result),

	TP_STRUCT__entry(
		__array(char, user, VIRT_ENABLE_NAME_LEN)
		__field(int, kind)
		__field(bool, get)
		__field(int, cpu)
		__field(int, result)
	),

	TP_fast_assign(
		strscpy(__entry->user, user, VIRT_ENABLE_NAME_LEN);
		__entry->kind = kind;
		__entry->get = get;
		__entry->cpu = cpu;
		__entry->result = result;
	),

	TP_printk("user=\"%s\" %s %s cpu=%d result=%d", __entry->user,
		  __entry->get ? "get" : "put", ve_show_kind(__entry->kind),
		  __entry->cpu, __entry->result)
);

#endif /* _VIRT_ENABLE_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE virt_enable_trace
#include <trace/define_trace.h>
