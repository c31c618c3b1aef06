/* test_queue.c — placeholder, being written. */
#include <criterion/criterion.h>
