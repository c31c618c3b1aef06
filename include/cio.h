/* cio.h — Python asyncio's programming model in C. One header for all. */
#ifndef CIO_H
#define CIO_H

#include "cio/base.h"
#include "cio/error.h"
#include "cio/loop.h"
#include "cio/task.h"
#include "cio/time.h"
#include "cio/scope.h"
#include "cio/group.h"
#include "cio/gather.h"
#include "cio/lock.h"
#include "cio/semaphore.h"
#include "cio/event.h"
#include "cio/condition.h"
#include "cio/barrier.h"
#include "cio/queue.h"
#include "cio/socket.h"
#include "cio/thread.h"
#include "cio/dns.h"
#include "cio/tls.h"
#include "cio/stream.h"
#include "cio/server.h"
#include "cio/process.h"
#include "cio/signal.h"
#include "cio/file.h"
#include "cio/http.h"
#include "cio/debug.h"
#include "cio/log.h"
#include "cio/stats.h"

#endif
