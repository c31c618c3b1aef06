/* test_scope.c — cancel scopes: deadlines and timeouts, level-triggered
 * cancellation, nesting, shields, wait_for, shield, moving deadlines, task
 * cancellation, and timeouts racing wake-ups. Every timing claim is checked
 * on the virtual clock with cio_now().
 */
#include "helpers.h"
#include "crash.h"
#include "core/internal.h"

static size_t armed_timers(void) { return cio_loop_current()->timers.count; }

/* ---- timeouts and deadlines --------------------------------------------- */

static int timeout_main(void *arg)
{
    (void)arg;
    cio_scope s;
    cio_scope_enter(&s, cio_deadline_after(5 * CIO_SEC));
    cr_assert(!cio_scope_cancelled(&s));
    cr_assert_eq(cio_sleep(10 * CIO_SEC), -ECANCELED);
    cr_assert_eq(cio_now(), 5 * CIO_SEC, "woken at the deadline, not later");
    cr_assert(cio_scope_cancelled(&s));
    cr_assert(cio_scope_timed_out(&s));
    cr_assert_eq(cio_scope_leave(&s), -ETIMEDOUT);
    /* Left: blocking works again. */
    cr_assert(!cio_cancelled());
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    cr_assert_eq(cio_now(), 6 * CIO_SEC);
    return 0;
}

Test(scope, timeout_cancels_at_the_deadline_and_reports_etimedout)
{
    cr_assert_eq(run_virtual(timeout_main, NULL), 0);
}

static int timeout_at_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    cio_scope s;
    cio_scope_enter(&s, 3 * CIO_SEC);         /* absolute: timeout_at */
    cr_assert_eq(cio_sleep_until(10 * CIO_SEC), -ECANCELED);
    cr_assert_eq(cio_now(), 3 * CIO_SEC);
    cr_assert_eq(cio_scope_leave(&s), -ETIMEDOUT);
    return 0;
}

Test(scope, absolute_deadline)
{
    cr_assert_eq(run_virtual(timeout_at_main, NULL), 0);
}

static int not_expired_main(void *arg)
{
    (void)arg;
    cio_scope s;
    cio_scope_enter(&s, cio_deadline_after(5 * CIO_SEC));
    cr_assert_eq(armed_timers(), 1);
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    cr_assert_eq(cio_scope_leave(&s), 0);
    cr_assert(!cio_scope_cancelled(&s));
    cr_assert_eq(armed_timers(), 0, "leaving disarms the deadline");
    /* Sleeping past the old deadline is not disturbed by it. */
    cr_assert_eq(cio_sleep(10 * CIO_SEC), 0);
    cr_assert_eq(cio_now(), 11 * CIO_SEC);
    cr_assert(!cio_scope_cancelled(&s));
    return 0;
}

Test(scope, a_scope_left_in_time_returns_zero_and_disarms)
{
    cr_assert_eq(run_virtual(not_expired_main, NULL), 0);
}

static int past_deadline_main(void *arg)
{
    int64_t offset = (int64_t)(intptr_t)arg;
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    cio_scope s;
    cio_scope_enter(&s, cio_now() + offset);
    cr_assert(cio_scope_cancelled(&s), "a past deadline cancels at once");
    cr_assert(cio_scope_timed_out(&s));
    cr_assert(cio_cancelled());
    cr_assert_eq(cio_sleep(CIO_SEC), -ECANCELED);
    cr_assert_eq(cio_yield(), -ECANCELED);
    cr_assert_eq(cio_now(), CIO_SEC, "without waiting");
    cr_assert_eq(armed_timers(), 0);
    cr_assert_eq(cio_scope_leave(&s), -ETIMEDOUT);
    return 0;
}

Test(scope, a_deadline_in_the_past_cancels_at_once)
{
    cr_assert_eq(run_virtual(past_deadline_main, (void *)(intptr_t)-1), 0);
}

Test(scope, a_deadline_equal_to_now_cancels_at_once)
{
    cr_assert_eq(run_virtual(past_deadline_main, (void *)(intptr_t)0), 0);
}

Test(scope, a_deadline_at_the_dawn_of_time_cancels_at_once)
{
    cr_assert_eq(run_virtual(past_deadline_main, (void *)(intptr_t)(-CIO_SEC)), 0);
}

/* ---- level-triggered ----------------------------------------------------- */

static int quick(void *arg)
{
    (void)arg;
    return 11;
}

static int level_main(void *arg)
{
    (void)arg;
    cio_task *t = spawn(quick, NULL, "quick");
    cio_scope s;
    cio_scope_enter(&s, CIO_NEVER);
    cio_scope_cancel(&s);
    int64_t t0 = cio_now();
    /* Every blocking call, however often, returns -ECANCELED at once. */
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(cio_sleep(CIO_SEC), -ECANCELED);
        cr_assert_eq(cio_sleep(0), -ECANCELED);
        cr_assert_eq(cio_sleep_until(CIO_NEVER), -ECANCELED);
        cr_assert_eq(cio_yield(), -ECANCELED);
        cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
        cr_assert_eq(cio_wait(&t, 1, CIO_ALL_COMPLETED, CIO_NEVER), -ECANCELED);
        cio_as_completed ac;
        cr_assert_eq(cio_as_completed_init(&ac, &t, 1), 0);
        cio_task *out;
        cr_assert_eq(cio_as_completed_next(&ac, &out), -ECANCELED);
        cio_as_completed_destroy(&ac);
        cr_assert(cio_cancelled());
    }
    cr_assert_eq(cio_now(), t0, "no call waited");
    cr_assert(!cio_task_done(t), "and nothing else ran");
    cr_assert_eq(cio_scope_leave(&s), -ECANCELED);
    cr_assert(!cio_cancelled());
    cr_assert_eq(cio_task_join(t, NULL), 11, "joinable once the scope is left");
    return 0;
}

Test(scope, cancellation_is_level_triggered_until_the_scope_is_left)
{
    cr_assert_eq(run_virtual(level_main, NULL), 0);
}

static int sleep_in_scope(void *arg)
{
    cio_scope *s = arg;
    cio_scope_enter(s, CIO_NEVER);
    int rc = cio_sleep(100 * CIO_SEC);
    cr_assert_eq(rc, -ECANCELED);
    cr_assert_eq(cio_now(), 2 * CIO_SEC);
    cr_assert_eq(cio_sleep(CIO_SEC), -ECANCELED, "still cancelled");
    return cio_scope_leave(s);
}

static int cancel_other_main(void *arg)
{
    (void)arg;
    cio_scope s;
    cio_task *t = spawn(sleep_in_scope, &s, "sleeper");
    cr_assert_eq(cio_sleep(2 * CIO_SEC), 0);
    cio_scope_cancel(&s);               /* any task may cancel any open scope */
    cio_scope_cancel(&s);               /* twice is harmless */
    cr_assert(cio_scope_cancelled(&s));
    cr_assert(!cio_scope_timed_out(&s));
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED, "leave reported cancel");
    return 0;
}

Test(scope, another_task_cancels_a_scope_and_wakes_its_sleeper)
{
    cr_assert_eq(run_virtual(cancel_other_main, NULL), 0);
}

static int first_reason_main(void *arg)
{
    (void)arg;
    /* Cancelled first, then the deadline passes: still a cancellation. */
    cio_scope a;
    cio_scope_enter(&a, cio_deadline_after(CIO_SEC));
    cio_scope_cancel(&a);
    cr_assert_eq(armed_timers(), 0, "a cancelled scope needs no timer");
    cr_assert_eq(cio_yield(), -ECANCELED);
    cr_assert_eq(cio_scope_leave(&a), -ECANCELED);
    /* Timed out first, then cancelled: still a timeout. */
    cio_scope b;
    cio_scope_enter(&b, cio_deadline_after(CIO_SEC));
    cr_assert_eq(cio_sleep(2 * CIO_SEC), -ECANCELED);
    cio_scope_cancel(&b);
    cr_assert(cio_scope_timed_out(&b));
    cr_assert_eq(cio_scope_leave(&b), -ETIMEDOUT);
    return 0;
}

Test(scope, the_first_reason_to_cancel_is_the_one_reported)
{
    cr_assert_eq(run_virtual(first_reason_main, NULL), 0);
}

Test(scope, a_scope_outside_any_task_is_inert)
{
    cio_scope s;
    cio_scope_enter(&s, 0);
    cio_scope_cancel(&s);
    cr_assert_eq(cio_scope_leave(&s), 0);
    cr_assert(!cio_cancelled());
}

/* ---- nesting -------------------------------------------------------------- */

static int inner_timeout_main(void *arg)
{
    (void)arg;
    cio_scope outer, inner;
    cio_scope_enter(&outer, cio_deadline_after(10 * CIO_SEC));
    cio_scope_enter(&inner, cio_deadline_after(CIO_SEC));
    cr_assert_eq(cio_sleep(5 * CIO_SEC), -ECANCELED);
    cr_assert_eq(cio_now(), CIO_SEC);
    cr_assert_eq(cio_scope_leave(&inner), -ETIMEDOUT);
    cr_assert(!cio_scope_cancelled(&outer), "the inner timeout stays inside");
    cr_assert_eq(cio_sleep(2 * CIO_SEC), 0);
    cr_assert_eq(cio_scope_leave(&outer), 0);
    cr_assert_eq(cio_now(), 3 * CIO_SEC);
    return 0;
}

Test(scope, inner_timeout_inside_an_outer_one)
{
    cr_assert_eq(run_virtual(inner_timeout_main, NULL), 0);
}

static int outer_reaches_inner_main(void *arg)
{
    (void)arg;
    cio_scope outer, inner;
    cio_scope_enter(&outer, cio_deadline_after(CIO_SEC));
    cio_scope_enter(&inner, cio_deadline_after(5 * CIO_SEC)); /* later */
    cr_assert_eq(cio_sleep(10 * CIO_SEC), -ECANCELED);
    cr_assert_eq(cio_now(), CIO_SEC, "the earlier, outer deadline wins");
    cr_assert(!cio_scope_cancelled(&inner));
    cr_assert(cio_cancelled());
    /* Not the inner scope's own cancellation: not reported by it... */
    cr_assert_eq(cio_scope_leave(&inner), 0);
    cr_assert_eq(armed_timers(), 0, "the inner deadline is disarmed");
    /* ...and it stays in force after the inner scope is left. */
    cr_assert_eq(cio_sleep(CIO_SEC), -ECANCELED);
    cr_assert_eq(cio_scope_leave(&outer), -ETIMEDOUT);
    cr_assert_eq(cio_now(), CIO_SEC);
    return 0;
}

Test(scope, outer_deadline_earlier_than_inner_reaches_inside)
{
    cr_assert_eq(run_virtual(outer_reaches_inner_main, NULL), 0);
}

static int nested_sleeper(void *arg)
{
    cio_scope *outer = arg;
    cio_scope inner, innermost;
    cio_scope_enter(outer, CIO_NEVER);
    cio_scope_enter(&inner, CIO_NEVER);
    cio_scope_enter(&innermost, cio_deadline_after(50 * CIO_SEC));
    int rc = cio_sleep(100 * CIO_SEC);
    int64_t woke = cio_now();
    cr_assert_eq(cio_scope_leave(&innermost), 0);
    cr_assert_eq(cio_scope_leave(&inner), 0);
    cr_assert_eq(cio_scope_leave(outer), -ECANCELED);
    cr_assert_eq(woke, 3 * CIO_SEC);
    return rc;
}

static int outer_cancel_main(void *arg)
{
    (void)arg;
    cio_scope outer;
    cio_task *t = spawn(nested_sleeper, &outer, "nested");
    cr_assert_eq(cio_sleep(3 * CIO_SEC), 0);
    cio_scope_cancel(&outer);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    return 0;
}

Test(scope, cancelling_an_outer_scope_reaches_the_innermost_wait)
{
    cr_assert_eq(run_virtual(outer_cancel_main, NULL), 0);
}

static int misnested(void *arg)
{
    (void)arg;
    cio_scope a, b;
    cio_scope_enter(&a, CIO_NEVER);
    cio_scope_enter(&b, CIO_NEVER);
    int rc = cio_scope_leave(&a);       /* not the innermost: refused */
    (void)rc;
    return 0;
}

static void run_misnested(void *arg)
{
    (void)arg;
    cio_run(misnested, NULL);
}

Test(scope, leaving_a_scope_that_is_not_innermost_aborts)
{
    child_result r;
    run_in_child(run_misnested, NULL, &r);
    cr_assert_eq(r.signal, SIGABRT, "exit %d, stderr: %s", r.exit_code, r.err);
    cr_assert_str_eq(r.err, "cio: task 'main' left a cancel scope that is not "
                            "its innermost (scopes must nest)\n");
}

/* ---- shields ---------------------------------------------------------- */

static int shield_main(void *arg)
{
    (void)arg;
    cio_scope outer, shield;
    cio_scope_enter(&outer, cio_deadline_after(CIO_SEC));
    cio_scope_enter_shielded(&shield, CIO_NEVER);
    /* The outer deadline passes while we sleep in the shield. */
    cr_assert_eq(cio_sleep(3 * CIO_SEC), 0);
    cr_assert_eq(cio_now(), 3 * CIO_SEC);
    cr_assert(cio_scope_cancelled(&outer));
    cr_assert(!cio_cancelled(), "outer cancellation does not reach inside");
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_scope_leave(&shield), 0);
    /* Outside the shield the outer cancellation is in force. */
    cr_assert(cio_cancelled());
    cr_assert_eq(cio_sleep(CIO_SEC), -ECANCELED);
    cr_assert_eq(cio_scope_leave(&outer), -ETIMEDOUT);
    cr_assert_eq(cio_now(), 3 * CIO_SEC);
    return 0;
}

Test(scope, a_shield_keeps_outer_cancellation_out_until_left)
{
    cr_assert_eq(run_virtual(shield_main, NULL), 0);
}

static int shield_after_cancel_main(void *arg)
{
    (void)arg;
    cio_scope outer, shield;
    cio_scope_enter(&outer, CIO_NEVER);
    cio_scope_cancel(&outer);
    /* Cleanup after cancellation: a shield entered late still protects. */
    cio_scope_enter_shielded(&shield, CIO_NEVER);
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    cr_assert_eq(cio_scope_leave(&shield), 0);
    cr_assert_eq(cio_sleep(CIO_SEC), -ECANCELED);
    cr_assert_eq(cio_scope_leave(&outer), -ECANCELED);
    cr_assert_eq(cio_now(), CIO_SEC);
    return 0;
}

Test(scope, a_shield_entered_after_cancellation_protects_cleanup)
{
    cr_assert_eq(run_virtual(shield_after_cancel_main, NULL), 0);
}

static int shield_own_deadline_main(void *arg)
{
    (void)arg;
    cio_scope outer, shield;
    cio_scope_enter(&outer, CIO_NEVER);
    cio_scope_cancel(&outer);
    cio_scope_enter_shielded(&shield, cio_deadline_after(2 * CIO_SEC));
    cr_assert_eq(cio_sleep(5 * CIO_SEC), -ECANCELED, "its own deadline counts");
    cr_assert_eq(cio_now(), 2 * CIO_SEC);
    cr_assert_eq(cio_scope_leave(&shield), -ETIMEDOUT);
    cio_scope_enter_shielded(&shield, CIO_NEVER);
    cio_scope_cancel(&shield);
    cr_assert_eq(cio_sleep(CIO_SEC), -ECANCELED, "and so does its own cancel");
    cr_assert_eq(cio_scope_leave(&shield), -ECANCELED);
    cr_assert_eq(cio_yield(), -ECANCELED, "the outer cancel is in force again");
    cr_assert_eq(cio_scope_leave(&outer), -ECANCELED);
    return 0;
}

Test(scope, a_shield_is_still_cancelled_by_its_own_deadline_and_cancel)
{
    cr_assert_eq(run_virtual(shield_own_deadline_main, NULL), 0);
}

static int inner_scope_in_shield_main(void *arg)
{
    (void)arg;
    cio_scope outer, shield, inner;
    cio_scope_enter(&outer, CIO_NEVER);
    cio_scope_cancel(&outer);
    cio_scope_enter_shielded(&shield, CIO_NEVER);
    cio_scope_enter(&inner, cio_deadline_after(CIO_SEC));
    /* A plain scope inside the shield: protected from outside, but its own
     * deadline still works. */
    cr_assert(!cio_cancelled());
    cr_assert_eq(cio_sleep(5 * CIO_SEC), -ECANCELED);
    cr_assert_eq(cio_now(), CIO_SEC);
    cr_assert_eq(cio_scope_leave(&inner), -ETIMEDOUT);
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    cr_assert_eq(cio_scope_leave(&shield), 0);
    cr_assert_eq(cio_yield(), -ECANCELED, "the outer cancel is in force again");
    cr_assert_eq(cio_scope_leave(&outer), -ECANCELED);
    return 0;
}

Test(scope, scopes_nested_inside_a_shield)
{
    cr_assert_eq(run_virtual(inner_scope_in_shield_main, NULL), 0);
}

static int shielded_task(void *arg)
{
    (void)arg;
    cio_scope shield;
    cio_scope_enter_shielded(&shield, CIO_NEVER);
    int rc = cio_sleep(2 * CIO_SEC);
    cr_assert_eq(rc, 0, "task cancellation does not reach a shield");
    cr_assert_eq(cio_now(), 2 * CIO_SEC);
    cr_assert_eq(cio_scope_leave(&shield), 0);
    cr_assert(cio_task_cancel_requested(cio_task_current()));
    return cio_sleep(CIO_SEC);          /* -ECANCELED at once */
}

static int cancel_shielded_main(void *arg)
{
    (void)arg;
    cio_task *t = spawn(shielded_task, NULL, "shielded");
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    cr_assert_eq(cio_now(), 2 * CIO_SEC);
    return 0;
}

Test(scope, cancelling_a_task_parked_in_a_shield_waits_for_the_shield)
{
    cr_assert_eq(run_virtual(cancel_shielded_main, NULL), 0);
}

static int scope_cancel_in_shield(void *arg)
{
    cio_scope *outer = arg;
    cio_scope shield;
    cio_scope_enter(outer, CIO_NEVER);
    cio_scope_enter_shielded(&shield, CIO_NEVER);
    cr_assert_eq(cio_sleep(2 * CIO_SEC), 0);
    cr_assert_eq(cio_scope_leave(&shield), 0);
    cr_assert_eq(cio_sleep(CIO_SEC), -ECANCELED);
    return cio_scope_leave(outer);
}

static int cancel_outer_of_shield_main(void *arg)
{
    (void)arg;
    cio_scope outer;
    cio_task *t = spawn(scope_cancel_in_shield, &outer, "s");
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    cio_scope_cancel(&outer);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    cr_assert_eq(cio_now(), 2 * CIO_SEC);
    return 0;
}

Test(scope, cancelling_a_scope_outside_a_shield_does_not_wake_inside)
{
    cr_assert_eq(run_virtual(cancel_outer_of_shield_main, NULL), 0);
}

/* ---- cio_wait_for and cio_shield ------------------------------------------ */

static int sleep_then(void *arg)
{
    int64_t ns = (int64_t)(intptr_t)arg;
    int rc = cio_sleep(ns);
    return rc < 0 ? rc : 42;
}

static int ignore_cancel(void *arg)
{
    (void)arg;
    int rc = cio_sleep(10 * CIO_SEC);
    cr_assert_eq(rc, -ECANCELED);
    return 7;                           /* swallows it */
}

static int own_etimedout(void *arg)
{
    (void)arg;
    return -ETIMEDOUT;
}

static int wait_for_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_wait_for(sleep_then, (void *)(intptr_t)(10 * CIO_SEC),
                              CIO_SEC), -ETIMEDOUT);
    cr_assert_eq(cio_now(), CIO_SEC);
    cr_assert(!cio_cancelled(), "the timeout does not leak out");
    cr_assert_eq(cio_wait_for(sleep_then, (void *)(intptr_t)CIO_SEC,
                              10 * CIO_SEC), 42, "fn's status when in time");
    cr_assert_eq(cio_now(), 2 * CIO_SEC);
    cr_assert_eq(armed_timers(), 0);
    cr_assert_eq(cio_wait_for(ignore_cancel, NULL, CIO_SEC), 7,
                 "fn's status when it does not return -ECANCELED");
    cr_assert_eq(cio_now(), 3 * CIO_SEC);
    cr_assert_eq(cio_wait_for(own_etimedout, NULL, CIO_SEC), -ETIMEDOUT);
    cr_assert_eq(cio_wait_for(quick, NULL, 0), 11, "no block, no timeout");
    cr_assert_eq(cio_wait_for(sleep_then, (void *)(intptr_t)CIO_SEC, 0),
                 -ETIMEDOUT, "a zero timeout expires at the first wait");
    cr_assert_eq(cio_wait_for(sleep_then, (void *)(intptr_t)CIO_SEC, -5),
                 -ETIMEDOUT);
    cr_assert_eq(cio_wait_for(sleep_then, (void *)(intptr_t)CIO_SEC, CIO_NEVER), 42);
    cr_assert_eq(cio_now(), 4 * CIO_SEC);
    return 0;
}

Test(scope, wait_for_returns_etimedout_only_for_its_own_timeout)
{
    cr_assert_eq(run_virtual(wait_for_main, NULL), 0);
}

static int wait_for_task(void *arg)
{
    (void)arg;
    return cio_wait_for(sleep_then, (void *)(intptr_t)(10 * CIO_SEC), 5 * CIO_SEC);
}

static int wait_for_outer_cancel_main(void *arg)
{
    (void)arg;
    cio_task *t = spawn(wait_for_task, NULL, "w");
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED,
                 "an outside cancellation is not a timeout");
    cr_assert_eq(cio_now(), CIO_SEC);
    return 0;
}

Test(scope, wait_for_passes_an_outside_cancellation_through)
{
    cr_assert_eq(run_virtual(wait_for_outer_cancel_main, NULL), 0);
}

/* The timeout and an outside cancellation at the same instant: the outside
 * cancellation is in force after wait_for, so it is what wait_for reports
 * (asyncio.wait_for and trio agree: the timeout does not swallow it). */
static int wait_for_tie_task(void *arg)
{
    cio_scope *outer = arg;
    cio_scope_enter(outer, CIO_SEC);
    int rc = cio_wait_for(sleep_then, (void *)(intptr_t)(10 * CIO_SEC), CIO_SEC);
    cr_assert_eq(cio_now(), CIO_SEC);
    cr_assert(cio_cancelled());
    int why = cio_scope_leave(outer);
    cr_assert_eq(why, -ETIMEDOUT);
    return rc;
}

static int wait_for_tie_main(void *arg)
{
    (void)arg;
    cio_scope outer;
    cio_task *t = spawn(wait_for_tie_task, &outer, "tie");
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    return 0;
}

Test(scope, wait_for_reports_an_outer_cancellation_that_ties_with_its_timeout)
{
    cr_assert_eq(run_virtual(wait_for_tie_main, NULL), 0);
}

static int outer_deadline_later_armed(void *arg)
{
    cio_scope *outer = arg;
    cr_assert_eq(cio_yield(), 0);
    cio_scope_set_deadline(outer, CIO_SEC);     /* armed after wait_for's */
    return 0;
}

static int wait_for_tie2_task(void *arg)
{
    cio_scope *outer = arg;
    cio_scope_enter(outer, CIO_NEVER);
    int rc = cio_wait_for(sleep_then, (void *)(intptr_t)(10 * CIO_SEC), CIO_SEC);
    int why = cio_scope_leave(outer);
    cr_assert_eq(why, -ETIMEDOUT);
    return rc;
}

static int wait_for_tie2_main(void *arg)
{
    (void)arg;
    cio_scope outer;
    cio_task *t = spawn(wait_for_tie2_task, &outer, "tie");
    cio_task *m = spawn(outer_deadline_later_armed, &outer, "mover");
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED,
                 "the timeout fired first, but the outer one is in force too");
    cr_assert_eq(cio_task_join(m, NULL), 0);
    return 0;
}

Test(scope, wait_for_reports_an_outer_cancellation_that_follows_its_timeout)
{
    cr_assert_eq(run_virtual(wait_for_tie2_main, NULL), 0);
}

static int shield_fn_task(void *arg)
{
    (void)arg;
    int rc = cio_shield(sleep_then, (void *)(intptr_t)(3 * CIO_SEC));
    cr_assert_eq(rc, 42, "the shielded function ran to its end");
    cr_assert_eq(cio_now(), 3 * CIO_SEC);
    cr_assert(cio_cancelled(), "the cancellation is still in force after");
    return cio_yield();
}

static int shield_fn_main(void *arg)
{
    (void)arg;
    cio_task *t = spawn(shield_fn_task, NULL, "sh");
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED);
    return 0;
}

Test(scope, cio_shield_runs_fn_to_completion_despite_cancellation)
{
    cr_assert_eq(run_virtual(shield_fn_main, NULL), 0);
}

static int shield_not_cancelled_main(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_shield(sleep_then, (void *)(intptr_t)CIO_SEC), 42);
    cr_assert(!cio_cancelled());
    cr_assert_eq(cio_shield(own_etimedout, NULL), -ETIMEDOUT, "fn's status");
    return 0;
}

Test(scope, cio_shield_returns_fns_status)
{
    cr_assert_eq(run_virtual(shield_not_cancelled_main, NULL), 0);
}

/* ---- moving deadlines ------------------------------------------------- */

static int deadline_mover(void *arg)
{
    cio_scope *s = arg;
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    cio_scope_set_deadline(s, 2 * CIO_SEC);     /* from 10 s to 2 s */
    return 0;
}

static int set_earlier_main(void *arg)
{
    (void)arg;
    cio_scope s;
    cio_scope_enter(&s, 10 * CIO_SEC);
    cio_task *t = spawn(deadline_mover, &s, "mover");
    cr_assert_eq(cio_sleep(100 * CIO_SEC), -ECANCELED);
    cr_assert_eq(cio_now(), 2 * CIO_SEC);
    cr_assert_eq(cio_scope_leave(&s), -ETIMEDOUT);
    cr_assert_eq(cio_task_join(t, NULL), 0);
    return 0;
}

Test(scope, set_deadline_earlier_from_another_task)
{
    cr_assert_eq(run_virtual(set_earlier_main, NULL), 0);
}

static int set_later_main(void *arg)
{
    (void)arg;
    cio_scope s;
    cio_scope_enter(&s, 2 * CIO_SEC);
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    cio_scope_set_deadline(&s, 5 * CIO_SEC);
    cr_assert_eq(armed_timers(), 1, "moved, not duplicated");
    cr_assert_eq(cio_sleep(100 * CIO_SEC), -ECANCELED);
    cr_assert_eq(cio_now(), 5 * CIO_SEC);
    cr_assert_eq(cio_scope_leave(&s), -ETIMEDOUT);
    /* Removing the deadline. */
    cio_scope_enter(&s, 6 * CIO_SEC);
    cio_scope_set_deadline(&s, CIO_NEVER);
    cr_assert_eq(armed_timers(), 0);
    cr_assert_eq(cio_sleep(100 * CIO_SEC), 0);
    cr_assert_eq(cio_scope_leave(&s), 0);
    return 0;
}

Test(scope, set_deadline_later_and_never)
{
    cr_assert_eq(run_virtual(set_later_main, NULL), 0);
}

static int past_mover(void *arg)
{
    cio_scope *s = arg;
    cr_assert_eq(cio_sleep(3 * CIO_SEC), 0);
    cio_scope_set_deadline(s, CIO_SEC);         /* already past */
    cr_assert(cio_scope_timed_out(s), "cancelled at once");
    return 0;
}

static int set_past_main(void *arg)
{
    (void)arg;
    cio_scope s;
    cio_scope_enter(&s, CIO_NEVER);
    cio_task *t = spawn(past_mover, &s, "mover");
    cr_assert_eq(cio_sleep(100 * CIO_SEC), -ECANCELED);
    cr_assert_eq(cio_now(), 3 * CIO_SEC);
    cr_assert_eq(cio_scope_leave(&s), -ETIMEDOUT);
    /* The same on oneself. */
    cio_scope_enter(&s, CIO_NEVER);
    cio_scope_set_deadline(&s, cio_now());
    cr_assert(cio_cancelled());
    cr_assert_eq(cio_scope_leave(&s), 0, "it interrupted nothing");
    cio_scope_enter(&s, CIO_NEVER);
    cio_scope_set_deadline(&s, cio_now());
    cr_assert_eq(cio_yield(), -ECANCELED);
    cr_assert_eq(cio_scope_leave(&s), -ETIMEDOUT);
    cr_assert_eq(cio_task_join(t, NULL), 0);
    return 0;
}

Test(scope, set_deadline_into_the_past_cancels_at_once)
{
    cr_assert_eq(run_virtual(set_past_main, NULL), 0);
}

static int set_after_cancel_main(void *arg)
{
    (void)arg;
    cio_scope s;
    cio_scope_enter(&s, cio_deadline_after(CIO_SEC));
    cr_assert_eq(cio_sleep(2 * CIO_SEC), -ECANCELED);
    /* Moving the deadline of a scope already cancelled does not undo it. */
    cio_scope_set_deadline(&s, 100 * CIO_SEC);
    cr_assert(cio_cancelled());
    cr_assert_eq(armed_timers(), 0);
    cr_assert_eq(cio_scope_leave(&s), -ETIMEDOUT);
    cio_scope_set_deadline(&s, 0);              /* left: ignored */
    cr_assert(!cio_cancelled());
    return 0;
}

Test(scope, set_deadline_does_not_uncancel)
{
    cr_assert_eq(run_virtual(set_after_cancel_main, NULL), 0);
}

/* ---- task cancellation is its outermost scope ------------------------- */

static int deep_scopes_task(void *arg)
{
    (void)arg;
    cio_scope a, b;
    cio_scope_enter(&a, CIO_NEVER);
    cio_scope_enter(&b, cio_deadline_after(50 * CIO_SEC));
    int rc = cio_sleep(100 * CIO_SEC);
    cr_assert_eq(rc, -ECANCELED);
    cr_assert_eq(cio_now(), CIO_SEC);
    cr_assert(!cio_scope_cancelled(&b) && !cio_scope_cancelled(&a));
    cr_assert_eq(cio_scope_leave(&b), 0, "not b's own cancellation");
    cr_assert_eq(cio_scope_leave(&a), 0);
    cr_assert(cio_cancelled(), "the task stays cancelled");
    return 5;
}

static int task_cancel_main(void *arg)
{
    (void)arg;
    cio_task *t = spawn(deep_scopes_task, NULL, "deep");
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    cr_assert(!cio_task_cancel_requested(t));
    cio_task_cancel(t);
    cr_assert(cio_task_cancel_requested(t));
    cr_assert_eq(cio_task_join(t, NULL), 5);
    return 0;
}

Test(scope, cancelling_a_task_cancels_its_outermost_scope)
{
    cr_assert_eq(run_virtual(task_cancel_main, NULL), 0);
}

static int self_cancel_main(void *arg)
{
    (void)arg;
    cio_scope s;
    cio_scope_enter(&s, CIO_NEVER);
    cio_task_cancel(cio_task_current());
    cr_assert_eq(cio_yield(), -ECANCELED);
    cr_assert_eq(cio_scope_leave(&s), 0);
    cr_assert(cio_cancelled(), "a task's own cancellation cannot be left");
    return 0;
}

Test(scope, a_task_may_cancel_itself)
{
    cr_assert_eq(run_virtual(self_cancel_main, NULL), 0);
}

/* ---- returning with a scope still open -------------------------------- */

static int forgets_to_leave(void *arg)
{
    cio_scope *s = arg;
    cio_scope_enter(s, cio_deadline_after(CIO_SEC));
    return 0;                   /* the scope's deadline is still armed */
}

static int forget_main(void *arg)
{
    (void)arg;
    cio_scope s;
    cio_task *t;
    if (cio_task_spawn(&t, forgets_to_leave, &s,
                       &(cio_task_opts){ .name = "forgetful" }) < 0)
        return 1;
    return cio_sleep(2 * CIO_SEC);
}

static void run_forget(void *arg)
{
    (void)arg;
    cio_loop_options o = { .virtual_clock = true };
    int rc = cio_run_with(&o, forget_main, NULL);
    fprintf(stderr, "returned %d\n", rc);
}

Test(scope, a_task_that_returns_with_a_scope_open_is_refused)
{
    child_result r;
    run_in_child(run_forget, NULL, &r);
    cr_assert_eq(r.signal, SIGABRT, "exit %d, stderr: %s", r.exit_code, r.err);
    cr_assert_str_eq(r.err, "cio: task 'forgetful' returned with a cancel "
                            "scope still open (every cio_scope_enter needs "
                            "its cio_scope_leave)\n");
}

/* ---- races between wake-ups, deadlines and cancellation ---------------- */

static int sleep_at_deadline_main(void *arg)
{
    (void)arg;
    /* The scope's timer was armed first; equal deadlines fire FIFO, so
     * the cancellation settles the sleep before its own timer fires. */
    cio_scope s;
    cio_scope_enter(&s, CIO_SEC);
    cr_assert_eq(cio_sleep_until(CIO_SEC), -ECANCELED);
    cr_assert_eq(cio_now(), CIO_SEC);
    cr_assert_eq(cio_scope_leave(&s), -ETIMEDOUT);
    cr_assert_eq(cio_wait_for(sleep_then, (void *)(intptr_t)CIO_SEC, CIO_SEC),
                 -ETIMEDOUT, "wait_for of a sleep exactly as long");
    cr_assert_eq(cio_now(), 2 * CIO_SEC);
    return 0;
}

Test(scope, a_sleep_ending_exactly_at_the_deadline_is_cancelled)
{
    cr_assert_eq(run_virtual(sleep_at_deadline_main, NULL), 0);
}

static int rearm_at(void *arg)
{
    cio_scope *s = arg;
    cr_assert_eq(cio_yield(), 0);
    cio_scope_set_deadline(s, CIO_SEC);     /* now armed after the sleep */
    return 0;
}

static int sleep_wins_main(void *arg)
{
    (void)arg;
    cio_scope s;
    cio_scope_enter(&s, CIO_NEVER);
    cio_task *t = spawn(rearm_at, &s, "rearm");
    /* The sleep's timer is armed first this time: it wins the tie, the
     * sleep completes, and the deadline still cancels the scope. */
    cr_assert_eq(cio_sleep_until(CIO_SEC), 0);
    cr_assert_eq(cio_now(), CIO_SEC);
    cr_assert(cio_cancelled(), "the deadline passed too");
    cr_assert_eq(cio_yield(), -ECANCELED);
    cr_assert_eq(cio_scope_leave(&s), -ETIMEDOUT);
    cr_assert_eq(cio_task_join(t, NULL), 0);
    return 0;
}

Test(scope, a_sleep_armed_before_an_equal_deadline_completes)
{
    cr_assert_eq(run_virtual(sleep_wins_main, NULL), 0);
}

/* The core's waiters directly: wake, cancel and deadline in every order. */
struct race {
    cio_waitlist list;
    cio_waiter w[2];
    int rc[2];
    int64_t woke[2];
    cio_scope scope[2];
    int64_t deadline;   /* waiter 0's own deadline */
    int64_t wake_at;    /* when waker_at wakes the first waiter */
};

static int race_waiter(void *arg)
{
    struct race *r = arg;
    int i = r->w[0].task ? 1 : 0;   /* the second to start is waiter 1 */
    r->w[i].task = cio_task_current();
    cio_scope_enter(&r->scope[i], CIO_NEVER);
    r->rc[i] = cio_wait_park(&r->w[i], &r->list, i == 0 ? r->deadline : CIO_NEVER);
    r->woke[i] = cio_now();
    return cio_scope_leave(&r->scope[i]);
}

static void race_init(struct race *r, int64_t deadline)
{
    memset(r, 0, sizeof *r);
    cio_waitlist_init(&r->list);
    cio_waiter_init(&r->w[0]);
    cio_waiter_init(&r->w[1]);
    r->deadline = deadline;
}

static int wake_then_cancel_main(void *arg)
{
    (void)arg;
    struct race r;
    race_init(&r, CIO_NEVER);
    cio_task *a = spawn(race_waiter, &r, "a");
    cio_task *b = spawn(race_waiter, &r, "b");
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    cr_assert_eq(r.list.count, 2);
    /* The wake comes first: it settles waiter 0 with its result... */
    cr_assert(cio_waitlist_wake_first(&r.list, 77));
    /* ...and a cancel that follows before the task runs cannot undo it. */
    cio_task_cancel(a);
    cr_assert(!cio_wait_wake(&r.w[0], 78), "already settled");
    cr_assert_eq(r.list.count, 1);
    cr_assert_eq(cio_task_join(a, NULL), 0);
    cr_assert_eq(r.rc[0], 77, "the wait returns the hand-over");
    /* Waiter 1 is untouched by all of it. */
    cr_assert_eq(r.list.count, 1);
    cr_assert(cio_waitlist_wake_first(&r.list, 5));
    cr_assert_eq(cio_task_join(b, NULL), 0);
    cr_assert_eq(r.rc[1], 5);
    return 0;
}

Test(scope, a_wake_that_comes_first_beats_a_later_cancel)
{
    cr_assert_eq(run_virtual(wake_then_cancel_main, NULL), 0);
}

static int cancel_then_wake_main(void *arg)
{
    (void)arg;
    struct race r;
    race_init(&r, CIO_NEVER);
    cio_task *a = spawn(race_waiter, &r, "a");
    cio_task *b = spawn(race_waiter, &r, "b");
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    /* The cancel comes first: waiter 0 leaves the list at once... */
    cio_scope_cancel(&r.scope[0]);
    cr_assert_eq(r.list.count, 1);
    cr_assert(!cio_wait_wake(&r.w[0], 77));
    /* ...so the next wake goes to the next waiter: nothing is lost. */
    cr_assert(cio_waitlist_wake_first(&r.list, 77));
    cr_assert_eq(r.list.count, 0);
    cr_assert_eq(cio_task_join(a, NULL), -ECANCELED);
    cr_assert_eq(r.rc[0], -ECANCELED);
    cr_assert_eq(cio_task_join(b, NULL), 0);
    cr_assert_eq(r.rc[1], 77);
    return 0;
}

Test(scope, a_cancel_that_comes_first_passes_the_wake_on)
{
    cr_assert_eq(run_virtual(cancel_then_wake_main, NULL), 0);
}

static int waker_at(void *arg)
{
    struct race *r = arg;
    cr_assert_eq(cio_sleep_until(r->wake_at), 0);
    /* Runs after every timer due at this instant has fired. */
    return cio_waitlist_wake_first(&r->list, 77) ? 1 : 0;
}

static int deadline_then_wake_main(void *arg)
{
    (void)arg;
    struct race r;
    race_init(&r, CIO_SEC);
    r.wake_at = CIO_SEC;
    cio_task *a = spawn(race_waiter, &r, "a");      /* deadline 1 s */
    cio_task *b = spawn(race_waiter, &r, "b");      /* no deadline */
    cio_task *w = spawn(waker_at, &r, "waker");     /* wakes at 1 s */
    cr_assert_eq(cio_task_join(w, NULL), 1, "the wake found a waiter");
    cr_assert_eq(cio_task_join(a, NULL), 0);
    cr_assert_eq(r.rc[0], -ETIMEDOUT, "the deadline settled waiter 0 first");
    cr_assert_eq(r.woke[0], CIO_SEC);
    cr_assert_eq(cio_task_join(b, NULL), 0);
    cr_assert_eq(r.rc[1], 77, "so the wake went to waiter 1");
    return 0;
}

Test(scope, a_deadline_that_comes_first_passes_the_wake_on)
{
    cr_assert_eq(run_virtual(deadline_then_wake_main, NULL), 0);
}

static int wake_before_deadline_main(void *arg)
{
    (void)arg;
    struct race r;
    race_init(&r, CIO_SEC + 1);
    cio_task *a = spawn(race_waiter, &r, "a");      /* deadline 1 s + 1 ns */
    cio_task *b = spawn(race_waiter, &r, "b");
    r.wake_at = CIO_SEC;
    cio_task *w = spawn(waker_at, &r, "waker");     /* wakes at 1 s */
    cr_assert_eq(cio_task_join(w, NULL), 1);
    cr_assert_eq(cio_task_join(a, NULL), 0);
    cr_assert_eq(r.rc[0], 77, "one nanosecond early is in time");
    cr_assert_eq(r.woke[0], CIO_SEC);
    cio_task_cancel(b);
    cr_assert_eq(cio_task_join(b, NULL), 0);
    cr_assert_eq(r.rc[1], -ECANCELED);
    cr_assert_eq(cio_now(), CIO_SEC, "waiter 0's deadline was disarmed");
    cr_assert_eq(armed_timers(), 0);
    return 0;
}

Test(scope, a_wake_just_before_the_deadline_is_in_time)
{
    cr_assert_eq(run_virtual(wake_before_deadline_main, NULL), 0);
}

static int wake_then_deadline_main(void *arg)
{
    (void)arg;
    struct race r;
    race_init(&r, CIO_NEVER);
    cio_task *a = spawn(race_waiter, &r, "a");
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    /* Woken, then its scope's deadline passes before it runs. */
    cr_assert(cio_waitlist_wake_first(&r.list, 9));
    cio_scope_set_deadline(&r.scope[0], cio_now());
    cr_assert_eq(cio_task_join(a, NULL), 0,
                 "the deadline passed but interrupted nothing (asyncio.timeout)");
    cr_assert(cio_scope_timed_out(&r.scope[0]), "though the scope did time out");
    cr_assert_eq(r.rc[0], 9, "and the wait returned its hand-over");
    return 0;
}

Test(scope, a_deadline_after_the_wake_does_not_undo_it)
{
    cr_assert_eq(run_virtual(wake_then_deadline_main, NULL), 0);
}

static int scope_and_waiter_deadline_main(void *arg)
{
    (void)arg;
    /* A wait's own deadline and its scope's deadline at the same instant:
     * whichever was armed first settles it. */
    cio_scope s;
    cio_waiter w;
    cio_waiter_init(&w);
    cio_scope_enter(&s, 2 * CIO_SEC);
    cr_assert_eq(cio_wait_park(&w, NULL, 2 * CIO_SEC), -ECANCELED);
    cr_assert_eq(cio_scope_leave(&s), -ETIMEDOUT);
    cr_assert_eq(cio_now(), 2 * CIO_SEC);
    cio_waiter_init(&w);
    cr_assert_eq(cio_wait_park(&w, NULL, cio_now()), -ETIMEDOUT,
                 "a wait whose deadline is now does not park");
    cr_assert_eq(cio_now(), 2 * CIO_SEC);
    return 0;
}

Test(scope, a_wait_deadline_equal_to_the_scope_deadline)
{
    cr_assert_eq(run_virtual(scope_and_waiter_deadline_main, NULL), 0);
}

/* cio_task_join racing a cancellation of the joiner. The rule: a joiner
 * that is cancelled gets -ECANCELED and the target is left joinable (done
 * or not) — even when the target's wake-up came first, since nothing is
 * handed over that could be lost: the status stays in the target. So a
 * caller that sees -ECANCELED with cio_cancelled() true knows the target was
 * not freed, and can cancel and re-join it in a shield. */
struct join_race {
    cio_task *target, *joiner;
    int rc;
    bool cancelled_after;
};

static int join_target(void *arg)
{
    (void)arg;
    return cio_sleep_until(CIO_SEC) < 0 ? -1 : 3;
}

static int racing_joiner(void *arg)
{
    struct join_race *j = arg;
    j->rc = cio_task_join(j->target, NULL);
    j->cancelled_after = cio_cancelled();
    return 0;
}

static int cancel_joiner_at_1s(void *arg)
{
    struct join_race *j = arg;
    cr_assert_eq(cio_sleep_until(CIO_SEC), 0);
    cio_task_cancel(j->joiner);
    return 0;
}

static int join_race_main(void *arg)
{
    bool cancel_first = arg != NULL;
    struct join_race j = { 0 };
    cio_task *c = NULL;
    /* Timers at the same instant fire in arming order, and tasks arm in
     * spawn order: spawning the canceller first makes it run first. */
    if (cancel_first)
        c = spawn(cancel_joiner_at_1s, &j, "canceller");
    j.target = spawn(join_target, NULL, "target");
    j.joiner = spawn(racing_joiner, &j, "joiner");
    if (!cancel_first)
        c = spawn(cancel_joiner_at_1s, &j, "canceller");
    cr_assert_eq(cio_task_join(j.joiner, NULL), 0);
    cr_assert_eq(cio_task_join(c, NULL), 0);
    cr_assert_eq(cio_now(), CIO_SEC);
    cr_assert(j.cancelled_after);
    cr_assert_eq(j.rc, -ECANCELED);
    cr_assert(cio_task_done(j.target), "left joinable, and done");
    cr_assert_eq(cio_task_join(j.target, NULL), 3, "its status is not lost");
    return 0;
}

Test(scope, a_joiner_cancelled_before_the_target_ends_leaves_it_joinable)
{
    cr_assert_eq(run_virtual(join_race_main, (void *)1), 0);
}

Test(scope, a_joiner_cancelled_after_the_wake_leaves_it_joinable)
{
    cr_assert_eq(run_virtual(join_race_main, NULL), 0);
}

static int join_done_cancelled_main(void *arg)
{
    (void)arg;
    cio_task *t = spawn(quick, NULL, "quick");
    cr_assert_eq(cio_yield(), 0);
    cr_assert(cio_task_done(t));
    cio_scope s;
    cio_scope_enter(&s, CIO_NEVER);
    cio_scope_cancel(&s);
    cr_assert_eq(cio_task_join(t, NULL), -ECANCELED, "a checkpoint even when done");
    cr_assert_eq(cio_scope_leave(&s), -ECANCELED);
    cr_assert_eq(cio_task_join(t, NULL), 11);
    return 0;
}

Test(scope, joining_a_finished_task_while_cancelled_leaves_it_joinable)
{
    cr_assert_eq(run_virtual(join_done_cancelled_main, NULL), 0);
}
