/* report.h — what a loop closing in debug mode prints (cio/stats.h): the
 * tasks never joined and the task statistics. (Open handles are reported by
 * cio_handle_close_all, failures never retrieved by the loop in any mode.)
 */
#ifndef CIO_DEBUG_REPORT_H
#define CIO_DEBUG_REPORT_H

typedef struct cio_loop cio_loop;

/* Called by cio_loop_close in debug mode once every task has ended. */
void cio_debug_report_close(cio_loop *L);

#endif
